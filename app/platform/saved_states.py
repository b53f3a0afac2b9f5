"""The names of the saved KV state files (app/backends/llama/kv_store.py: what the model has
read of each conversation, in `AppPaths.kv_states`), in one place, and deleting them.

A state holds the token ids of the whole conversation, which decode to its text, so when a
conversation is deleted for good its state goes too, and when saved states are turned off
(`saved_state_mb` 0) the folder is emptied rather than left. Here, not in the llama
backend, so that the front ends can delete them without llama.cpp, and both agree on the
names.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)

STATE_SUFFIX = ".kvstate"
RECORD_SUFFIX = ".json"
PART_SUFFIX = ".part"
_SUFFIXES = (STATE_SUFFIX, STATE_SUFFIX + PART_SUFFIX, RECORD_SUFFIX)


def state_stem(key: str) -> str:
    """The file name, less its suffix, of the state of the conversation `key`
    (ChatRequest.conversation_key: its uuid): not the key itself, which is not a file name
    on every system."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def state_files(folder: Path, key: str) -> list[Path]:
    """Every file `key`'s state may have in `folder`: the state, a part being written, its record."""
    stem = folder / state_stem(key)
    return [stem.with_suffix(suffix) for suffix in _SUFFIXES]


def forget_saved_states(folder: Path, keys: Iterable[str]) -> int:
    """Delete the saved states of the conversations `keys` (deleted for good). How many
    files went; one that cannot be deleted is logged, not raised: the conversation is gone
    already."""
    return _delete(path for key in keys for path in state_files(folder, key))


def empty_saved_states(folder: Path) -> int:
    """Delete every saved state in `folder` (saved states were turned off). How many files went."""
    if not folder.is_dir():
        return 0
    return _delete(path for suffix in _SUFFIXES for path in folder.glob("*" + suffix))


def _delete(paths: Iterable[Path]) -> int:
    deleted = 0
    for path in paths:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("a saved KV state could not be deleted: %s", exc)
            continue
        deleted += 1
    return deleted
