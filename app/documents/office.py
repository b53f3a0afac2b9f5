"""Word-processor and presentation files: DOCX (python-docx), ODT (odfpy), PPTX
(python-pptx). Headings are kept as the path above each paragraph; slides are numbered."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docx
import pptx
from docx.table import Table
from odf import opendocument, teletype

from app.documents.blocks import Block, Outline, PlaceKind
from app.documents.zip_guard import check_unzipped_size

_HEADING_STYLE = re.compile(r"^(?:Heading|Title)\s*(\d*)$")


def read_docx(path: Path) -> Iterator[Block]:
    check_unzipped_size(path)
    document = docx.Document(str(path))
    outline = Outline()
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            for row in item.rows:
                cells = [cell.text.strip() for cell in row.cells]
                if any(cells):
                    yield Block(" | ".join(cells), headings=outline.path)
            continue
        text = item.text.strip()
        if not text:
            continue
        style = item.style.name if item.style is not None and item.style.name else ""
        if match := _HEADING_STYLE.match(style):
            outline.enter(int(match.group(1) or 0), text)
        yield Block(text, headings=outline.path)


def read_odt(path: Path) -> Iterator[Block]:
    check_unzipped_size(path)
    document = opendocument.load(str(path))
    outline = Outline()
    for element in _in_order(document.text):
        text = teletype.extractText(element).strip()
        if not text:
            continue
        if element.qname[1] == "h":
            outline.enter(int(element.getAttribute("outlinelevel") or 1), text)
        yield Block(text, headings=outline.path)


def _in_order(node: Any) -> Iterator[Any]:
    """The headings and paragraphs under `node` in document order (a paragraph inside a
    list or a table is found; one inside another paragraph is read with it)."""
    for child in node.childNodes:
        if child.nodeType == child.ELEMENT_NODE and child.qname[1] in ("h", "p"):
            yield child
        elif child.nodeType == child.ELEMENT_NODE:
            yield from _in_order(child)


def read_pptx(path: Path) -> Iterator[Block]:
    check_unzipped_size(path)
    presentation = pptx.Presentation(str(path))
    for number, slide in enumerate(presentation.slides, start=1):
        title_shape = slide.shapes.title
        title = title_shape.text_frame.text.strip() if title_shape is not None and title_shape.has_text_frame else ""
        headings = (title,) if title else ()
        for shape in slide.shapes:
            if shape.has_text_frame:
                for paragraph in shape.text_frame.paragraphs:
                    text = "".join(run.text for run in paragraph.runs).strip()
                    if text:
                        yield Block(text, PlaceKind.SLIDE, number, headings)
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            notes = slide.notes_slide.notes_text_frame.text.strip()
            if notes:
                yield Block(notes, PlaceKind.SLIDE, number, headings)
