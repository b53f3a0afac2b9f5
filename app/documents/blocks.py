"""What extraction gives the chunker: blocks of text with their place in the document."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.platform.i18n import _, ngettext


class PlaceKind(enum.StrEnum):
    """Where in a file a block is, as the sources under a reply name it."""

    PAGE = "page"  # PDF
    SLIDE = "slide"  # PPTX
    SHEET = "sheet"  # XLSX (the sheet's name is the first heading)
    CHAPTER = "chapter"  # EPUB, in reading order
    WHOLE = "whole"  # a file without pages (DOCX, ODT, text, HTML, CSV)


def place_label(kind: PlaceKind, number: int, headings: tuple[str, ...], last: int = 0) -> str:
    """'page 3', 'slide 2', 'sheet Budget', 'chapter 4'; from `number` to `last` where that
    is later: 'pages 3–5'; '' for a file without pages."""
    if last > number and kind in (PlaceKind.PAGE, PlaceKind.SLIDE, PlaceKind.CHAPTER):
        spans = {PlaceKind.PAGE: _("pages {first}–{last}"), PlaceKind.SLIDE: _("slides {first}–{last}"),
                 PlaceKind.CHAPTER: _("chapters {first}–{last}")}
        return spans[kind].format(first=number, last=last)
    if kind is PlaceKind.PAGE:
        return _("page {number}").format(number=number)
    if kind is PlaceKind.SLIDE:
        return _("slide {number}").format(number=number)
    if kind is PlaceKind.SHEET:
        return _("sheet {name}").format(name=headings[0] if headings else number)
    if kind is PlaceKind.CHAPTER:
        return _("chapter {number}").format(number=number)
    return ""


@dataclass(frozen=True)
class Block:
    """One paragraph (or table row, or heading's text) of a file. `number` counts pages,
    slides, sheets or chapters from 1 (0 for PlaceKind.WHOLE); `headings` is the path of
    headings above the block, outermost first."""

    text: str
    kind: PlaceKind = PlaceKind.WHOLE
    number: int = 0
    headings: tuple[str, ...] = ()


class Outline:
    """The path of headings above the text read so far: a heading closes those at its
    level and below."""

    def __init__(self) -> None:
        self._headings: list[tuple[int, str]] = []

    def enter(self, level: int, title: str) -> None:
        while self._headings and self._headings[-1][0] >= level:
            self._headings.pop()
        self._headings.append((level, title))

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(title for _level, title in self._headings)


@dataclass
class ExtractReport:
    """What an extractor learnt while reading, for the warnings shown beside the file."""

    pages: int = 0
    pages_without_text: int = 0

    def warning(self) -> str | None:
        """A plain sentence about pages that cannot be searched, or None."""
        if not self.pages_without_text:
            return None
        return ngettext(
            "{blank} of {pages} pages has no text: it looks scanned and cannot be searched",
            "{blank} of {pages} pages have no text: they look scanned and cannot be searched",
            self.pages_without_text,
        ).format(blank=self.pages_without_text, pages=self.pages)
