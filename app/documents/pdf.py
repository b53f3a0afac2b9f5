"""PDF text by page, with pypdfium2 (PDFium: Apache/BSD, where PyMuPDF is AGPL).
A page without a text layer is counted, so the warning can name how many look scanned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pypdfium2
import pypdfium2.raw as pdfium_c

from app.documents.blocks import Block, ExtractReport, PlaceKind
from app.platform.errors import DocumentError
from app.platform.i18n import _


def read_pdf(path: Path, report: ExtractReport) -> Iterator[Block]:
    try:
        document = pypdfium2.PdfDocument(path)
    except pypdfium2.PdfiumError as error:
        if error.err_code == pdfium_c.FPDF_ERR_PASSWORD:
            raise DocumentError(_("{file}: it is protected by a password, so it was skipped").format(file=path.name)) from error
        raise DocumentError(_("{file}: it is damaged or not a PDF").format(file=path.name)) from error
    try:
        report.pages = len(document)
        for index in range(len(document)):
            page = document[index]
            text_page = page.get_textpage()
            text = text_page.get_text_range().replace("\r\n", "\n").strip()
            text_page.close()
            page.close()
            if not text:
                report.pages_without_text += 1
                continue
            for paragraph in text.split("\n\n"):
                if paragraph.strip():
                    yield Block(paragraph.strip(), PlaceKind.PAGE, index + 1)
    finally:
        document.close()
