"""The folder of saved KV states: what the model has read of each conversation, kept
between runs so that a long conversation reopened is not read again from its start.

One state file per conversation (llama.cpp's sequence state file: magic, version, token
count, the tokens, then the cache) and beside it a small JSON record of what wrote it: the
model file and engine options (the tag), the file's size and CRC-32. A state reaches
llama.cpp only when its record matches the model loaded now and the file is whole, so a
truncated, damaged or foreign file is deleted, never read. The folder stays under a size
limit: the states used longest ago are deleted first.

No llama.cpp here (kv_state.py does the reading and writing), so the rules are tested
without a model.
"""

from __future__ import annotations

import json
import logging
import os
import struct
import zlib
from collections.abc import Mapping
from pathlib import Path

from app.platform.atomic import write_atomically
from app.platform.saved_states import PART_SUFFIX, RECORD_SUFFIX, STATE_SUFFIX, state_stem

log = logging.getLogger(__name__)

# llama.cpp's sequence state file begins with these three little-endian uint32 values,
# followed by the token ids (int32).
HEADER = struct.Struct("<III")
TOKEN = struct.Struct("<i")
_CHUNK = 1 << 20


class KvStateFolder:
    """Saved states in `folder`, at most `limit_bytes` in all, for the model and engine
    options `tag` describes; a state holds at most `max_tokens` tokens (the context)."""

    def __init__(self, folder: Path, limit_bytes: int, tag: Mapping[str, object], magic: int, version: int, max_tokens: int) -> None:
        self.folder = folder
        self.limit_bytes = limit_bytes
        self.tag = dict(tag)
        self._magic = magic
        self._version = version
        self._max_tokens = max_tokens

    def _stem(self, key: str) -> Path:
        return self.folder / state_stem(key)  # the one naming, shared with app/platform/saved_states.py

    def state_path(self, key: str) -> Path:
        return self._stem(key).with_suffix(STATE_SUFFIX)

    def part_path(self, key: str) -> Path:
        """Where a new state is written before keep() puts it in place."""
        return self._stem(key).with_suffix(STATE_SUFFIX + PART_SUFFIX)

    def _record_path(self, key: str) -> Path:
        return self._stem(key).with_suffix(RECORD_SUFFIX)

    def saved_tokens(self, key: str) -> list[int] | None:
        """The tokens of `key`'s saved state when it is whole and was written for this tag;
        otherwise None, and whatever was there is deleted."""
        state = self.state_path(key)
        if not state.exists():
            self._record_path(key).unlink(missing_ok=True)
            return None
        try:
            tokens = self._checked_tokens(key, state)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.info("saved KV state for a conversation ignored and deleted: %s", exc)
            tokens = None
        if tokens is None:
            self.forget(key)
        return tokens

    def _checked_tokens(self, key: str, state: Path) -> list[int] | None:
        record = json.loads(self._record_path(key).read_text(encoding="utf-8"))
        if record["key"] != key or record["tag"] != self.tag:
            raise ValueError("written for another model, other engine options or another conversation")
        size = state.stat().st_size
        if size != record["size"]:
            raise ValueError(f"{size} bytes, not the {record['size']} written")
        with state.open("rb") as handle:
            magic, version, count = HEADER.unpack(handle.read(HEADER.size))
            if (magic, version) != (self._magic, self._version):
                raise ValueError(f"header {magic:08x} {version}, not {self._magic:08x} {self._version}")
            if not 0 < count <= self._max_tokens or HEADER.size + count * TOKEN.size >= size:
                raise ValueError(f"{count} tokens in {size} bytes, for a context of {self._max_tokens}")
            head = handle.read(count * TOKEN.size)
            crc = zlib.crc32(head, zlib.crc32(HEADER.pack(magic, version, count)))
            while chunk := handle.read(_CHUNK):
                crc = zlib.crc32(chunk, crc)
        if crc != record["crc32"]:
            raise ValueError("its checksum differs: the file was changed or damaged")
        return [token for (token,) in TOKEN.iter_unpack(head)]

    def saved_start(self, key: str) -> str:
        """What names the oldest turn kept in the prompt of `key`'s state ('' not recorded);
        ask after saved_tokens, which checks the record."""
        try:
            start = json.loads(self._record_path(key).read_text(encoding="utf-8")).get("start", "")
        except (OSError, ValueError, AttributeError):
            return ""
        return start if isinstance(start, str) else ""

    def keep(self, key: str, written: int, start: str = "") -> None:
        """Put the state llama.cpp wrote to part_path(key) in place (`written`: the bytes it
        said it wrote; 0 when it failed), recording `start` (what names its prompt's oldest
        kept turn), then keep the folder within the limit."""
        part = self.part_path(key)
        try:
            size = part.stat().st_size
            if written <= 0 or size != written:
                raise OSError(f"llama.cpp wrote {written} bytes, the file has {size}")
            crc = 0
            with part.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    crc = zlib.crc32(chunk, crc)
            self.forget(key)
            os.replace(part, self.state_path(key))
            record = {"key": key, "tag": self.tag, "size": size, "crc32": crc, "start": start}
            write_atomically(self._record_path(key), json.dumps(record).encode("utf-8"))
        except OSError as exc:
            log.warning("the KV state of a conversation was not saved: %s", exc)
            part.unlink(missing_ok=True)
            self.forget(key)
            return
        self.trim(keep=key)

    def used(self, key: str) -> None:
        """`key`'s state was just used: it is the last to go when the folder is trimmed."""
        try:
            os.utime(self.state_path(key))
        except OSError as exc:
            log.info("could not mark a saved KV state as used: %s", exc)

    def forget(self, key: str) -> None:
        for path in (self.state_path(key), self._record_path(key)):
            path.unlink(missing_ok=True)

    def total_bytes(self) -> int:
        return sum(size for _mtime, size, _path in self._states())

    def _states(self) -> list[tuple[float, int, Path]]:
        found = []
        for path in self.folder.glob("*" + STATE_SUFFIX):
            try:
                status = path.stat()
            except OSError:
                continue
            found.append((status.st_mtime, status.st_size, path))
        return found

    def trim(self, keep: str | None = None) -> None:
        """Delete the states used longest ago until the rest fit within the limit; `keep`'s
        state stays unless it alone is over the limit. Leftover parts of an interrupted save
        go too."""
        for part in self.folder.glob("*" + STATE_SUFFIX + PART_SUFFIX):
            if keep is None or part != self.part_path(keep):
                part.unlink(missing_ok=True)
        kept_path = self.state_path(keep) if keep is not None else None
        states = self._states()
        total = sum(size for _mtime, size, _path in states)
        # The state used longest ago first; the one just saved last.
        for _mtime, size, path in sorted(states, key=lambda s: (s[2] == kept_path, s[0])):
            if total <= self.limit_bytes:
                break
            path.unlink(missing_ok=True)
            path.with_suffix(RECORD_SUFFIX).unlink(missing_ok=True)
            total -= size
        for record in self.folder.glob("*" + RECORD_SUFFIX):
            if not record.with_suffix(STATE_SUFFIX).exists():
                record.unlink(missing_ok=True)
