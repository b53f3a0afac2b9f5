"""Importing conversations from a file, a folder or a .zip: Hearth's own JSON files and
ChatGPT data exports.

Each file is read twice, streamed: first only checked, so a file with a problem adds
nothing, then added in batches (a write lock held through a whole 1 GB file would
make the window's own writes wait past SQLite's timeout). Should Hearth stop half way,
importing again adds the rest: what is already there is recognised by UUID.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from app.conversations.store import ConversationStore
from app.conversations.transfer.chatgpt import read_chatgpt
from app.conversations.transfer.hearth_json import read_hearth_json
from app.conversations.transfer.json_stream import ImportFileError, Opener, Progress, first_character
from app.conversations.transfer.tree import AddedCount, ConversationTree
from app.platform.errors import HearthError
from app.platform.i18n import _

# Messages added per transaction (whole conversations, at least one): 2,200 held the write
# lock 244 ms a batch (median; 463 ms at worst) with search indexing, long enough to
# hold up a reply being saved; 500 hold it 50 ms (median; 75 ms at the 90th percentile,
# measured while another import loaded the machine).
BATCH_MESSAGES = 500
_CHATGPT_NAME = re.compile(r"(^|/)conversations(-\d+)?\.json$")
Report = Callable[[int, int], None]  # report(done, total) in bytes read, both passes together


@dataclass(frozen=True)
class ImportSource:
    name: str  # as the user is told about it
    opener: Opener
    size: int


@dataclass
class ImportResult:
    count: AddedCount = field(default_factory=AddedCount)
    problems: list[str] = field(default_factory=list)  # one sentence per file not imported


def import_conversations(store: ConversationStore, path: Path, report: Report | None = None) -> ImportResult:
    """Import everything importable at `path`. A file with a problem is named in
    `problems` and adds nothing; the others are imported all the same."""
    sources = sources_at(path)
    total = 2 * sum(source.size for source in sources) or 1
    done = 0
    result = ImportResult()
    for source in sources:
        try:
            for _tree in _read(source, _progress(report, done, total)):
                pass
            for batch in _batches(_read(source, _progress(report, done + source.size, total))):
                result.count += store.add_conversation_trees(batch)
        except ImportFileError as exc:
            result.problems.append(str(exc))
        done += 2 * source.size
        if report is not None:
            report(done, total)
    return result


def _batches(trees: Iterator[ConversationTree]) -> Iterator[list[ConversationTree]]:
    batch: list[ConversationTree] = []
    size = 0
    for tree in trees:
        batch.append(tree)
        size += len(tree.messages)
        if size >= BATCH_MESSAGES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def _progress(report: Report | None, base: int, total: int) -> Progress | None:
    return None if report is None else lambda position: report(base + position, total)


def _read(source: ImportSource, progress: Progress | None) -> Iterator[ConversationTree]:
    if first_character(source.opener) == "[":
        return read_chatgpt(source.name, source.opener, progress)
    return read_hearth_json(source.name, source.opener, progress)


def sources_at(path: Path) -> list[ImportSource]:
    """The files to import at `path`: the file itself, or in a folder or a .zip the
    ChatGPT conversation files, else every .json file."""
    if not path.exists():
        raise HearthError(_("There is no file or folder {path}.").format(path=path))
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() == ".json")
        chosen = [p for p in files if _CHATGPT_NAME.search(p.name)] or files
        sources = [ImportSource(str(p), _file_opener(p), p.stat().st_size) for p in chosen]
    elif zipfile.is_zipfile(path):
        sources = _zip_sources(path)
    else:
        sources = [ImportSource(str(path), _file_opener(path), path.stat().st_size)]
    if not sources:
        raise HearthError(_("There are no conversation files (.json) in {path}.").format(path=path))
    return sources


def _file_opener(path: Path) -> Opener:
    return lambda: path.open("rb")


def _zip_sources(path: Path) -> list[ImportSource]:
    try:
        with zipfile.ZipFile(path) as archive:
            members = sorted((i for i in archive.infolist() if i.filename.lower().endswith(".json")),
                             key=lambda i: i.filename)
    except (zipfile.BadZipFile, OSError) as exc:
        raise HearthError(_("{file} is not a readable .zip file ({reason}).").format(file=path, reason=exc)) from exc
    chosen = [i for i in members if _CHATGPT_NAME.search(i.filename)] or members
    return [ImportSource(f"{path}:{i.filename}", _member_opener(path, i.filename), i.file_size) for i in chosen]


def _member_opener(path: Path, member: str) -> Opener:
    return lambda: _open_member(path, member)


def _open_member(path: Path, member: str) -> IO[bytes]:
    """One member of a .zip as a stream. The archive is closed at once: zipfile keeps
    its file open until the member is closed too."""
    with zipfile.ZipFile(path) as archive:
        return archive.open(member)
