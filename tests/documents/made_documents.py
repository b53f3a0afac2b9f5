"""Documents written by the tests, with known facts in known places."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import openpyxl
import pptx
from odf import opendocument
from odf import text as odf_text


def _pdf_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def write_pdf(path: Path, pages: list[str | None], *, encrypted: bool = False) -> Path:
    """A PDF with one page per entry, its text in Helvetica; None is a page with only a
    drawn rectangle (no text layer, like a scan). `encrypted` adds a standard security
    handler whose user password is not empty, so the file cannot be opened without one."""
    objects: list[str] = []
    page_ids = [3 + 2 * index for index in range(len(pages))]
    font_id = 3 + 2 * len(pages)
    objects.append("<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{' '.join(f'{i} 0 R' for i in page_ids)}] /Count {len(pages)} >>")
    for page_id, text in zip(page_ids, pages, strict=True):
        if text is None:
            content = "0 0 0 rg 72 72 300 400 re f"
        else:
            lines = text.split("\n")
            shown = " ".join(f"({_pdf_string(line)}) Tj 0 -16 Td" for line in lines)
            content = f"BT /F1 12 Tf 72 720 Td {shown} ET"
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page_id + 1} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>"
        )
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content}\nendstream")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    trailer_extra = ""
    if encrypted:
        objects.append(f"<< /Filter /Standard /V 1 /R 2 /O <{'ab' * 32}> /U <{'cd' * 32}> /P -4 >>")
        trailer_extra = f" /Encrypt {len(objects)} 0 R /ID [<{'01' * 16}> <{'01' * 16}>]"
    body = b"%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += "".join(f"{offset:010d} 00000 n \n" for offset in offsets).encode()
    body += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(body)
    return path


def write_docx(path: Path) -> Path:
    document = docx.Document()
    document.add_heading("Staff handbook", level=1)
    document.add_paragraph("Welcome to the company.")
    document.add_heading("Overtime", level=2)
    document.add_paragraph("Overtime is paid at one and a half times the hourly rate.")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Night shift"
    table.rows[0].cells[1].text = "double rate"
    document.add_heading("Holidays", level=2)
    document.add_paragraph("Every employee has twenty-five days of paid holiday.")
    document.save(str(path))
    return path


def write_pptx(path: Path) -> Path:
    presentation = pptx.Presentation()
    for title, body in (("Cells", "The mitochondria makes energy for the cell."), ("Plants", "Chlorophyll makes leaves green.")):
        slide = presentation.slides.add_slide(presentation.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = body
    presentation.save(str(path))
    return path


def write_xlsx(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.title = "Budget"
    first.append(["Item", "Cost"])
    first.append(["Printer paper", 120])
    second = workbook.create_sheet("Staff")
    second.append(["Name", "Room"])
    second.append(["Ada Lovelace", "B12"])
    workbook.save(path)
    return path


def write_odt(path: Path) -> Path:
    document = opendocument.OpenDocumentText()
    document.text.addElement(odf_text.H(outlinelevel=1, text="Field trip"))
    document.text.addElement(odf_text.P(text="The bus leaves at eight from the main gate."))
    document.save(str(path))
    return path


def write_epub(path: Path) -> Path:
    container = (
        '<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">'
        '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>'
    )
    package = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><manifest>'
        '<item id="one" href="one.xhtml" media-type="application/xhtml+xml"/>'
        '<item id="two" href="two.xhtml" media-type="application/xhtml+xml"/>'
        '</manifest><spine><itemref idref="one"/><itemref idref="two"/></spine></package>'
    )
    chapter = '<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>{title}</h1><p>{text}</p></body></html>'
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
        archive.writestr("META-INF/container.xml", container)
        archive.writestr("OEBPS/content.opf", package)
        archive.writestr("OEBPS/one.xhtml", chapter.format(title="The voyage", text="The ship sailed from Bristol."))
        archive.writestr("OEBPS/two.xhtml", chapter.format(title="The storm", text="A storm broke the main mast."))
    return path


def write_zip_bomb(path: Path, unpacked_bytes: int) -> Path:
    """A DOCX-named zip whose one member unpacks to `unpacked_bytes` of zeros."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive, archive.open("word/document.xml", "w") as member:
        block = b"\0" * (1024 * 1024)
        for _ in range(unpacked_bytes // len(block)):
            member.write(block)
    return path
