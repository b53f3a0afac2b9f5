"""Exporting conversations to files: Markdown and HTML (one file per conversation, the
shown thread) and Hearth JSON (one file, every branch: the format that imports back).

Files are written to a temporary name and renamed, so an export stopped half way never
leaves a truncated file under the name the user chose.
"""

from __future__ import annotations

import enum
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from app.chat.export_html import conversation_html
from app.chat.export_markdown import conversation_markdown
from app.conversations.store import ConversationStore
from app.conversations.transfer.hearth_json import tree_of, write_hearth_json
from app.conversations.transfer.tree import ConversationTree
from app.platform.errors import HearthError
from app.platform.i18n import _

ALL_CONVERSATIONS_FILE = "hearth-conversations.json"
_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]+')


class ExportFormat(enum.StrEnum):
    MARKDOWN = "md"
    JSON = "json"
    HTML = "html"


def export_to_file(store: ConversationStore, export_format: ExportFormat, conversation_ids: Sequence[int],
                   path: Path) -> None:
    """Write the conversations to `path`. Markdown and HTML hold one conversation."""
    if export_format is ExportFormat.JSON:
        _write(path, lambda out: write_hearth_json(_trees(store, conversation_ids), out))
        return
    if len(conversation_ids) != 1:
        raise ValueError("Markdown and HTML files hold one conversation each")
    text = (conversation_markdown(store, conversation_ids[0]) if export_format is ExportFormat.MARKDOWN
            else conversation_html(store, conversation_ids[0]))
    _write(path, lambda out: out.write(text))


def export_to_folder(store: ConversationStore, export_format: ExportFormat, conversation_ids: Sequence[int],
                     folder: Path) -> list[Path]:
    """Write the conversations into `folder`: JSON as one file (its conversation's name
    for a single one, else ALL_CONVERSATIONS_FILE), Markdown and HTML one file each.
    An existing file is not replaced: the new one gets a free name. Returns the files."""
    folder.mkdir(parents=True, exist_ok=True)
    if export_format is ExportFormat.JSON:
        name = (file_stem(store, conversation_ids[0]) if len(conversation_ids) == 1
                else Path(ALL_CONVERSATIONS_FILE).stem)
        path = _free_name(folder, name, export_format.value)
        export_to_file(store, export_format, conversation_ids, path)
        return [path]
    written = []
    for conversation_id in conversation_ids:
        path = _free_name(folder, file_stem(store, conversation_id), export_format.value)
        export_to_file(store, export_format, [conversation_id], path)
        written.append(path)
    return written


def file_stem(store: ConversationStore, conversation_id: int) -> str:
    """A file name for the conversation: its title, safe on every system, and the start
    of its UUID (two conversations may share a title)."""
    conversation = store.conversation(conversation_id)
    if conversation is None:
        raise LookupError(conversation_id)
    return f"{safe_file_stem(conversation.title)} ({conversation.uuid[:8]})"


def safe_file_stem(title: str) -> str:
    """`title` as a file name that every system accepts."""
    return _UNSAFE.sub("_", " ".join(title.split()))[:60].strip(" .") or "conversation"


def _trees(store: ConversationStore, conversation_ids: Sequence[int]) -> Iterator[ConversationTree]:
    for conversation_id in conversation_ids:
        yield tree_of(store, conversation_id)


def _free_name(folder: Path, stem: str, suffix: str) -> Path:
    path, number = folder / f"{stem}.{suffix}", 2
    while path.exists():
        path, number = folder / f"{stem} {number}.{suffix}", number + 1
    return path


def _write(path: Path, fill: Callable[..., object]) -> None:
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            fill(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise HearthError(_("Hearth could not write {file} ({reason}).").format(
            file=path, reason=exc.strerror or exc)) from exc
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
