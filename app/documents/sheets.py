"""Spreadsheets: XLSX (openpyxl in read-only mode, which streams rows) by sheet, and CSV.
Each row is one block, its cells joined by " | "; a sheet's name is its heading."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from pathlib import Path

import openpyxl

from app.documents.blocks import Block, PlaceKind
from app.documents.text_files import MAX_LINE, detect_encoding
from app.documents.zip_guard import check_unzipped_size


def _row_text(cells: Iterable[object]) -> str:
    return " | ".join(str(cell).strip() for cell in cells if cell is not None and str(cell).strip())


def read_xlsx(path: Path) -> Iterator[Block]:
    check_unzipped_size(path)
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for number, sheet in enumerate(workbook.worksheets, start=1):
            for row in sheet.iter_rows(values_only=True):
                if text := _row_text(row):
                    yield Block(text, PlaceKind.SHEET, number, (sheet.title,))
    finally:
        workbook.close()


def read_csv(path: Path) -> Iterator[Block]:
    """Rows from lines of at most MAX_LINE characters (a 1 GB single line is read in
    pieces, never held as one row). A record with a field over csv's field limit (128 KB
    by default; a quoted field may span lines) is left out, and the rest are read."""
    with path.open(encoding=detect_encoding(path), errors="replace", newline="") as stream:
        rows = csv.reader(iter(lambda: stream.readline(MAX_LINE), ""))
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except csv.Error:
                continue
            if text := _row_text(row):
                yield Block(text)
