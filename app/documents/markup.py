"""HTML and EPUB (a zip of XHTML chapters): their text by paragraph, under their headings.
Scripts, styles and other invisible elements are left out; nothing is fetched."""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

from app.documents.blocks import Block, Outline, PlaceKind
from app.documents.text_files import detect_encoding
from app.documents.zip_guard import check_unzipped_size

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_INVISIBLE = {"script", "style", "head", "template", "noscript", "svg"}
_BREAKS = {"p", "div", "li", "tr", "br", "section", "article", "blockquote", "pre", "table", "dd", "dt", "figcaption", "td", "th"}
# An HTML file is parsed in pieces of this size, so a large page never sits in memory twice.
_FEED_CHARS = 256 * 1024
_CONTAINER = "META-INF/container.xml"


class _TextParser(HTMLParser):
    """Collects (heading level or 0, text) pieces; a heading's own text is level > 0."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[tuple[int, str]] = []
        self._words: list[str] = []
        self._hidden = 0
        self._heading = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INVISIBLE:
            self._hidden += 1
        elif tag in _HEADINGS or tag in _BREAKS:
            self._flush()
            self._heading = _HEADINGS.get(tag, self._heading)

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _HEADINGS or tag in _BREAKS:
            self._flush()
            if tag in _HEADINGS:
                self._heading = 0

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._words.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._words).split())
        self._words = []
        if text:
            self.pieces.append((self._heading, text))

    def take(self) -> list[tuple[int, str]]:
        self._flush()
        pieces, self.pieces = self.pieces, []
        return pieces


class _Outline(Outline):
    def blocks(self, pieces: list[tuple[int, str]], kind: PlaceKind, number: int) -> Iterator[Block]:
        for level, text in pieces:
            if level:
                self.enter(level, text)
            yield Block(text, kind, number, self.path)


def read_html(path: Path) -> Iterator[Block]:
    parser = _TextParser()
    outline = _Outline()
    with path.open(encoding=detect_encoding(path), errors="replace") as stream:
        while piece := stream.read(_FEED_CHARS):
            parser.feed(piece)
            yield from outline.blocks(parser.take(), PlaceKind.WHOLE, 0)
    parser.close()
    yield from outline.blocks(parser.take(), PlaceKind.WHOLE, 0)


def _spine(archive: zipfile.ZipFile) -> list[str]:
    """The chapters' names in the archive, in reading order (the OPF package's spine)."""
    container = ElementTree.fromstring(archive.read(_CONTAINER))
    rootfile = next(element for element in container.iter() if element.tag.endswith("rootfile"))
    package_name = rootfile.attrib["full-path"]
    package = ElementTree.fromstring(archive.read(package_name))
    base = posixpath.dirname(package_name)
    items = {item.attrib["id"]: item.attrib["href"] for item in package.iter() if item.tag.endswith("}item") and "href" in item.attrib}
    order = [ref.attrib["idref"] for ref in package.iter() if ref.tag.endswith("}itemref")]
    return [posixpath.normpath(posixpath.join(base, items[ref])) for ref in order if ref in items]


def read_epub(path: Path) -> Iterator[Block]:
    check_unzipped_size(path)
    with zipfile.ZipFile(path) as archive:
        outline = _Outline()
        for number, name in enumerate(_spine(archive), start=1):
            parser = _TextParser()
            parser.feed(archive.read(name).decode("utf-8", errors="replace"))
            parser.close()
            yield from outline.blocks(parser.take(), PlaceKind.CHAPTER, number)
