"""Reading a large JSON file one item at a time, in constant memory, with errors that
name the file, the entry and (for broken JSON) the line.

ijson's C backend says what is wrong but not where; when it fails, the file is read
again with ijson's pure-Python parser, which gives the character position, to turn it
into a line (slower, but only on the error path).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import IO, Any

import ijson
import ijson.backends.python as python_parser

from app.platform.errors import HearthError
from app.platform.i18n import _

Opener = Callable[[], IO[bytes]]  # opens the file (or the .zip member) from its start
Progress = Callable[[int], None]  # bytes of the file read so far


class ImportFileError(HearthError):
    """An import file that is not what it should be; nothing from it was imported."""


def file_error(name: str, entry: str, problem: str) -> ImportFileError:
    return ImportFileError(_("{file}, {entry}: {problem} Nothing from this file was imported.").format(
        file=name, entry=entry, problem=problem))


class _CountingReader:
    """The file as ijson reads it, telling `progress` how far it got."""

    def __init__(self, handle: IO[bytes], progress: Progress | None) -> None:
        self._handle, self._progress, self.position = handle, progress, 0

    def read(self, size: int = -1) -> bytes:
        data = self._handle.read(size)
        self.position += len(data)
        if self._progress is not None:
            self._progress(self.position)
        return data


def stream_items(name: str, opener: Opener, prefix: str, progress: Progress | None = None) -> Iterator[Any]:
    """The items at `prefix` (ijson's notation: "item" for a top-level array's items),
    floats as float; broken JSON raises ImportFileError with its line."""
    with opener() as handle:
        try:
            # 64 KiB reads: ijson's default (16 KiB) parsed a 200 MB export 4 % slower here.
            yield from ijson.items(_CountingReader(handle, progress), prefix, use_float=True, buf_size=65536)
        except ijson.JSONError as exc:
            raise _syntax_error(name, opener) from exc


def first_values(opener: Opener, keys: tuple[str, ...]) -> dict[str, Any]:
    """The top-level scalars named `keys`, read until all are found (a file's header)."""
    found: dict[str, Any] = {}
    with opener() as handle:
        try:
            for prefix, event, value in ijson.parse(handle, use_float=True):
                if prefix in keys and event in ("string", "number", "integer", "double", "boolean", "null"):
                    found[prefix] = value
                    if len(found) == len(keys):
                        break
        except ijson.JSONError:
            pass  # reported with its line when the items are read
    return found


def first_character(opener: Opener) -> str:
    """The file's first character that is not white space ('' for an empty file)."""
    with opener() as handle:
        while chunk := handle.read(4096):
            stripped = chunk.lstrip()
            if stripped:
                return stripped[:1].decode("latin-1")
    return ""


def _syntax_error(name: str, opener: Opener) -> ImportFileError:
    """The parser's own words (yajl's) are left out: the line says where to look."""
    line = _error_line(opener)
    problem = _("this is not valid JSON (line {line}).").format(line=line) if line else _(
        "this is not valid JSON.")
    return ImportFileError(_("{file}: {problem} Nothing from this file was imported.").format(
        file=name, problem=problem))


def _error_line(opener: Opener) -> int | None:
    """The line of the first JSON error, from the pure-Python parser's position (in
    characters of the decoded text)."""
    with opener() as handle:
        position: int | None = None
        try:
            for _event in python_parser.basic_parse(handle):
                pass
        except python_parser.UnexpectedSymbol as exc:
            position = int(str(exc).rsplit(" at ", 1)[1])
        except ijson.JSONError:
            position = None  # ran out of text: the last line
        except UnicodeDecodeError:
            return None
    with opener() as handle:
        return _line_at(io.TextIOWrapper(handle, encoding="utf-8", errors="replace"), position)


def _line_at(text: IO[str], position: int | None) -> int:
    """The 1-based line holding character `position` (None: the last line)."""
    line, seen = 1, 0
    while chunk := text.read(1 << 20):
        if position is not None and seen + len(chunk) > position:
            return line + chunk.count("\n", 0, position - seen)
        line += chunk.count("\n")
        seen += len(chunk)
    return line
