"""Blocks into chunks of about CHUNK_CHARS that follow the document's structure.

A chunk never spans two pages, slides, sheets or chapters, nor two headings' sections; it
ends at a paragraph break where one falls in its second half, else at a sentence end, else
between words (a word longer than a whole chunk, such as a pasted URL, is the only thing
ever cut). Consecutive chunks of one section share about OVERLAP_CHARS, starting at a word.
The text is consumed as it comes: a 1 GB file without headings holds one chunk in memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from app.documents.blocks import Block, PlaceKind

# About 250 tokens for English: six passages fill 1,500 tokens of a 4,096-token context,
# and a MiniLM or nomic embedder (512 tokens at most) reads each chunk whole.
CHUNK_CHARS = 1000
OVERLAP_CHARS = 120
PARAGRAPH_BREAK = "\n\n"

_SENTENCE_END = re.compile(r"[.!?;:]\s")
_SPACE = re.compile(r"\s")


@dataclass(frozen=True)
class Chunk:
    """A passage and where it is: `start` and `end` are character offsets into the text of
    its page, slide, sheet or chapter (the whole file for PlaceKind.WHOLE), its blocks
    joined by PARAGRAPH_BREAK."""

    text: str
    kind: PlaceKind
    number: int
    headings: tuple[str, ...]
    start: int
    end: int


def _cut_point(buffer: str, size: int) -> int:
    """Where the chunk at the start of `buffer` (longer than `size`) ends."""
    window = buffer[: size + 1]
    half = size // 2
    paragraph = window.rfind(PARAGRAPH_BREAK, half)
    if paragraph > 0:
        return paragraph
    sentence_ends = [match.end() - 1 for match in _SENTENCE_END.finditer(window, half)]
    if sentence_ends:
        return sentence_ends[-1]
    spaces = [match.start() for match in _SPACE.finditer(window, 1)]
    return spaces[-1] if spaces else size


def _next_start(buffer: str, cut: int, overlap: int) -> int:
    """Where the next chunk starts: `overlap` before `cut`, moved forward to a word's start."""
    start = cut - overlap
    if start <= 0:
        return cut
    space = _SPACE.search(buffer, start, cut)
    if space is None:
        return cut
    word = re.compile(r"\S").search(buffer, space.end(), cut)
    return word.start() if word else cut


class _Section:
    """The text of one section not yet given out as chunks, from place offset `base`."""

    def __init__(self, kind: PlaceKind, number: int, headings: tuple[str, ...]) -> None:
        self.kind, self.number, self.headings = kind, number, headings
        self.buffer = ""
        self.base = 0

    def add(self, text: str, offset: int) -> None:
        if self.buffer:
            self.buffer += PARAGRAPH_BREAK + text
        else:
            self.buffer, self.base = text, offset

    def chunks(self, size: int, overlap: int, *, final: bool) -> Iterator[Chunk]:
        while len(self.buffer) > size or (final and self.buffer):
            cut = len(self.buffer) if len(self.buffer) <= size else _cut_point(self.buffer, size)
            yield from self._chunk(self.buffer[:cut], self.base)
            following = len(self.buffer) if cut == len(self.buffer) else _next_start(self.buffer, cut, overlap)
            self.buffer, self.base = self.buffer[following:], self.base + following

    def _chunk(self, text: str, base: int) -> Iterator[Chunk]:
        stripped = text.strip()
        if stripped:
            start = base + len(text) - len(text.lstrip())
            yield Chunk(stripped, self.kind, self.number, self.headings, start, start + len(stripped))


def chunk_blocks(blocks: Iterable[Block], size: int = CHUNK_CHARS, overlap: int = OVERLAP_CHARS) -> Iterator[Chunk]:
    """The chunks of a file's blocks, in order."""
    section: _Section | None = None
    offset = 0  # of the next block in its place's text
    for block in blocks:
        new_place = section is None or (block.kind, block.number) != (section.kind, section.number)
        if section is not None and (new_place or block.headings != section.headings):
            yield from section.chunks(size, overlap, final=True)
            section = None
        if new_place:
            offset = 0
        if section is None:
            section = _Section(block.kind, block.number, block.headings)
        section.add(block.text, offset)
        offset += len(block.text) + len(PARAGRAPH_BREAK)
        yield from section.chunks(size, overlap, final=False)
    if section is not None:
        yield from section.chunks(size, overlap, final=True)
