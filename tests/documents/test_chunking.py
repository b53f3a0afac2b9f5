"""Chunks follow structure, stay near their size, never split a word and know their place."""

from __future__ import annotations

import itertools
import re
import tracemalloc
from pathlib import Path

from app.documents.blocks import Block, ExtractReport, PlaceKind
from app.documents.chunking import PARAGRAPH_BREAK, chunk_blocks
from app.documents.extract import extract


def place_text(blocks: list[Block]) -> str:
    return PARAGRAPH_BREAK.join(block.text for block in blocks)


def test_chunks_are_near_their_size_overlap_and_never_split_a_word() -> None:
    words = [f"word{index}" for index in range(3000)]
    blocks = [Block(" ".join(words[start : start + 40]), PlaceKind.PAGE, 1) for start in range(0, 3000, 40)]
    chunks = list(chunk_blocks(blocks))
    text = place_text(blocks)
    assert all(500 <= len(chunk.text) <= 1000 for chunk in chunks[:-1])
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert re.fullmatch(r"word\d+", chunk.text.split()[0]) and re.fullmatch(r"word\d+", chunk.text.split()[-1])
        assert chunk.start == 0 or text[chunk.start - 1].isspace()
        assert chunk.end == len(text) or text[chunk.end].isspace()
    for first, second in itertools.pairwise(chunks):
        assert 0 < first.end - second.start <= 130
    assert {word for chunk in chunks for word in chunk.text.split()} == set(words)


def test_a_chunk_never_spans_two_pages_or_two_sections() -> None:
    blocks = [
        Block("Page one text.", PlaceKind.PAGE, 1),
        Block("Page two text.", PlaceKind.PAGE, 2),
        Block("Overtime rules.", headings=("Handbook", "Overtime")),
        Block("More on overtime.", headings=("Handbook", "Overtime")),
        Block("Holiday rules.", headings=("Handbook", "Holidays")),
    ]
    chunks = list(chunk_blocks(blocks))
    assert [(c.text, c.kind, c.number, c.headings) for c in chunks] == [
        ("Page one text.", PlaceKind.PAGE, 1, ()),
        ("Page two text.", PlaceKind.PAGE, 2, ()),
        ("Overtime rules.\n\nMore on overtime.", PlaceKind.WHOLE, 0, ("Handbook", "Overtime")),
        ("Holiday rules.", PlaceKind.WHOLE, 0, ("Handbook", "Holidays")),
    ]
    assert (chunks[1].start, chunks[3].start) == (0, len("Overtime rules.\n\nMore on overtime.\n\n"))


def test_a_chunk_ends_at_a_paragraph_or_sentence_where_it_can() -> None:
    paragraph = "A short sentence here. " * 30
    blocks = [Block(paragraph.strip()), Block(paragraph.strip())]
    chunks = list(chunk_blocks(blocks))
    assert all(chunk.text.endswith(".") for chunk in chunks)


def test_only_a_word_longer_than_a_chunk_is_cut() -> None:
    url = "https://example.org/" + "x" * 2500
    chunks = list(chunk_blocks([Block(f"See {url} for more.")]))
    assert "".join(chunk.text for chunk in chunks).replace(" ", "").startswith("See" + url[:900])
    assert len(chunks) >= 3 and all(len(chunk.text) <= 1000 for chunk in chunks)


def test_a_large_text_file_is_read_and_chunked_in_constant_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    line = "the quick brown fox jumps over the lazy dog " * 500  # 22 KB without a line break
    with path.open("w") as stream:
        for number in range(1000):  # 22 MB
            stream.write(line + ("\n\n" if number % 7 == 0 else " "))
    tracemalloc.start()
    count = sum(1 for _chunk in chunk_blocks(extract(path, ExtractReport())))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count > 20_000
    # A 22 MB file read whole would be 22 MB (44 MB as str); streamed, the peak is what
    # one line and one paragraph hold.
    assert peak < 2 * 1024 * 1024, peak
