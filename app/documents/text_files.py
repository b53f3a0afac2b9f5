"""Plain text, Markdown and reStructuredText, read as a stream: a 1 GB file is read a line
at a time (each line at most MAX_LINE characters) in constant memory."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

import charset_normalizer

from app.documents.blocks import Block, Outline

# The encoding is guessed from the start of the file; charset-normalizer needs about
# 16 KB to tell the legacy single-byte encodings apart, 64 KB leaves room for a long header.
SNIFF_BYTES = 64 * 1024
# A line without line breaks (minified text, a log dumped on one line) is cut here.
MAX_LINE = 16 * 1024
# A paragraph is flushed at this size even without a blank line: the chunker splits it anyway.
MAX_PARAGRAPH = 8 * 1024

# Legacy encodings by how much text is written in them (Windows Western, then Central European...).
_MOST_USED = ("cp1252", "cp1251", "cp1250", "shift_jis", "gb18030", "big5", "euc_kr", "iso8859_15")

_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:.])\1{2,}\s*$")


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without a byte order mark) where the start of the file decodes as
    UTF-8; otherwise charset-normalizer's best guess; UTF-8 when it has none."""
    with path.open("rb") as stream:
        head = stream.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        matches = charset_normalizer.from_bytes(head)
        best = matches.best()
        if best is None:
            return "utf-8"
        # French written in cp1252 scores the same for cp1250, cp1252, cp1257 and iso8859_10
        # (charset-normalizer 3.5, which then picks cp1250); among equals, the most used wins.
        tied = {match.encoding for match in matches if (match.chaos, match.coherence) == (best.chaos, best.coherence)}
        return next((encoding for encoding in _MOST_USED if encoding in tied), best.encoding)


def _lines(stream: TextIO) -> Iterator[str]:
    """The stream's lines; a line longer than MAX_LINE comes in pieces cut between words
    (the word a piece ends in is carried over to the next)."""
    carry = ""
    while piece := stream.readline(MAX_LINE):
        text = carry + piece
        carry = ""
        if piece.endswith("\n") or len(piece) < MAX_LINE:
            yield text.rstrip("\r\n")
            continue
        space = text.rfind(" ")
        if space <= 0:
            yield text  # a single word longer than a line: only the chunker may cut it
        else:
            yield text[:space]
            carry = text[space + 1 :]
    if carry:
        yield carry


def read_text(path: Path, style: str) -> Iterator[Block]:
    """Paragraphs (split at blank lines) under their headings; `style` is "markdown",
    "rst" or "plain"."""
    with path.open(encoding=detect_encoding(path), errors="replace", newline=None) as stream:
        yield from _paragraphs(_lines(stream), style)


def _paragraphs(lines: Iterator[str], style: str) -> Iterator[Block]:
    outline = Outline()
    rst_levels: list[str] = []
    pending: list[str] = []
    size = 0

    def enter(level: int, title: str) -> Block:
        outline.enter(level, title)
        return Block(title, headings=outline.path)

    for line in lines:
        if style == "markdown" and (match := _MARKDOWN_HEADING.match(line)):
            if pending:
                yield Block("\n".join(pending), headings=outline.path)
                pending, size = [], 0
            yield enter(len(match.group(1)), match.group(2))
            continue
        underline = _RST_UNDERLINE.match(line) if style == "rst" else None
        if underline and pending and len(line.rstrip()) >= len(pending[-1].rstrip()) and pending[-1].strip():
            title = pending.pop().strip()
            if pending and _RST_UNDERLINE.match(pending[-1]):
                pending.pop()  # the overline of an overlined title
            if pending:
                yield Block("\n".join(pending), headings=outline.path)
            pending, size = [], 0
            if underline.group(1) not in rst_levels:
                rst_levels.append(underline.group(1))
            yield enter(rst_levels.index(underline.group(1)) + 1, title)
            continue
        if not line.strip():
            if pending:
                yield Block("\n".join(pending), headings=outline.path)
                pending, size = [], 0
            continue
        pending.append(line)
        size += len(line)
        if size >= MAX_PARAGRAPH:
            yield Block("\n".join(pending), headings=outline.path)
            pending, size = [], 0
    if pending:
        yield Block("\n".join(pending), headings=outline.path)
