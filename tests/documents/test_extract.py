"""Text comes out of every supported format with its place; bad files are named with a sentence."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from app.documents import zip_guard
from app.documents.blocks import Block, ExtractReport, PlaceKind
from app.documents.extract import extract
from app.platform.errors import DocumentError
from tests.documents import made_documents


def read(path: Path) -> tuple[list[Block], ExtractReport]:
    report = ExtractReport()
    return list(extract(path, report)), report


def test_a_pdf_gives_text_by_page_and_counts_the_pages_without_text(tmp_path: Path) -> None:
    path = made_documents.write_pdf(tmp_path / "report.pdf", ["Introduction", None, "The budget is 4,200 euros.", None])
    blocks, report = read(path)
    assert [(b.kind, b.number, b.text) for b in blocks] == [(PlaceKind.PAGE, 1, "Introduction"), (PlaceKind.PAGE, 3, "The budget is 4,200 euros.")]
    assert (report.pages, report.pages_without_text) == (4, 2)
    assert report.warning() == "2 of 4 pages have no text: they look scanned and cannot be searched"
    assert ExtractReport(pages=3).warning() is None


def test_a_password_protected_pdf_is_named_and_skipped(tmp_path: Path) -> None:
    path = made_documents.write_pdf(tmp_path / "salaries.pdf", ["secret"], encrypted=True)
    with pytest.raises(DocumentError, match=r"^salaries\.pdf: it is protected by a password"):
        read(path)


def test_a_docx_keeps_its_headings(tmp_path: Path) -> None:
    blocks, _report = read(made_documents.write_docx(tmp_path / "handbook.docx"))
    overtime = next(b for b in blocks if b.text.startswith("Overtime is paid"))
    assert overtime.headings == ("Staff handbook", "Overtime")
    assert next(b for b in blocks if b.text.startswith("Every employee")).headings == ("Staff handbook", "Holidays")
    assert any(b.text == "Night shift | double rate" for b in blocks)


def test_a_pptx_gives_text_by_slide_under_its_title(tmp_path: Path) -> None:
    blocks, _report = read(made_documents.write_pptx(tmp_path / "biology.pptx"))
    chlorophyll = next(b for b in blocks if "Chlorophyll" in b.text)
    assert (chlorophyll.kind, chlorophyll.number, chlorophyll.headings) == (PlaceKind.SLIDE, 2, ("Plants",))


def test_an_xlsx_gives_rows_by_sheet(tmp_path: Path) -> None:
    blocks, _report = read(made_documents.write_xlsx(tmp_path / "office.xlsx"))
    ada = next(b for b in blocks if "Ada" in b.text)
    assert (ada.text, ada.kind, ada.number, ada.headings) == ("Ada Lovelace | B12", PlaceKind.SHEET, 2, ("Staff",))


def test_odt_epub_html_csv_and_text_files(tmp_path: Path) -> None:
    odt, _ = read(made_documents.write_odt(tmp_path / "trip.odt"))
    assert Block("The bus leaves at eight from the main gate.", headings=("Field trip",)) in odt
    epub, _ = read(made_documents.write_epub(tmp_path / "novel.epub"))
    assert Block("A storm broke the main mast.", PlaceKind.CHAPTER, 2, ("The storm",)) in epub
    html = tmp_path / "page.html"
    html.write_text("<html><head><script>var hidden = 1;</script></head><body><h1>Rules</h1><p>No running &amp; no shouting.</p></body></html>")
    assert [b.text for b in read(html)[0]] == ["Rules", "No running & no shouting."]
    csv_file = tmp_path / "rooms.csv"
    csv_file.write_text("room,teacher\nB12,Ms Okafor\n")
    assert [b.text for b in read(csv_file)[0]] == ["room | teacher", "B12 | Ms Okafor"]
    markdown = tmp_path / "notes.md"
    markdown.write_text("# Notes\n\nFirst paragraph.\n\n## Detail\n\nSecond\nparagraph.\n")
    assert read(markdown)[0][-1] == Block("Second\nparagraph.", headings=("Notes", "Detail"))
    rst = tmp_path / "guide.rst"
    rst.write_text("Guide\n=====\n\nIntro text.\n\nInstall\n-------\n\nRun the installer.\n")
    assert read(rst)[0][-1] == Block("Run the installer.", headings=("Guide", "Install"))


def test_a_text_file_in_a_legacy_encoding_is_read(tmp_path: Path) -> None:
    path = tmp_path / "lettre.txt"
    path.write_bytes("Les élèves déjeunent à midi dans la cantine, près du préau.\n".encode("cp1252") * 20)
    assert read(path)[0][0].text.startswith("Les élèves déjeunent à midi")


def test_a_zip_bomb_is_refused_with_a_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real cap is 512 MB; the same check at 8 MB keeps the test's bomb small.
    monkeypatch.setattr(zip_guard, "MAX_UNZIPPED_BYTES", 8 * 1024 * 1024)
    path = made_documents.write_zip_bomb(tmp_path / "bomb.docx", 16 * 1024 * 1024)
    assert path.stat().st_size < 100_000
    with pytest.raises(DocumentError, match=r"^bomb\.docx: it would unpack to 16 MB, more than a document holds"):
        read(path)


@pytest.mark.parametrize("name", ["broken.docx", "broken.pptx", "broken.xlsx", "broken.odt", "broken.epub", "broken.pdf"])
def test_a_corrupt_file_is_named_and_skipped(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"this is not what the name says" * 10)
    with pytest.raises(DocumentError, match=rf"^{name.replace('.', '[.]')}: it is damaged"):
        read(path)


def test_a_zip_missing_its_parts_is_named(tmp_path: Path) -> None:
    path = tmp_path / "empty.epub"
    with made_documents.zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/epub+zip")
    with pytest.raises(DocumentError, match=r"^empty\.epub: it is damaged"):
        read(path)


def test_an_unreadable_file_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "private.txt"
    path.write_text("secret")
    path.chmod(0)
    if sys.platform == "win32" or os.geteuid() == 0:  # permissions do not stop root: refuse as the system would
        opened = Path.open

        def refuse(self: Path, *args: object, **kwargs: object) -> object:
            if self == path:
                raise PermissionError(13, "Permission denied")
            return opened(self, *args, **kwargs)  # type: ignore[call-overload]

        monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(DocumentError, match=r"^private\.txt: Hearth has no permission to read it"):
        read(path)


def test_an_unsupported_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8")
    with pytest.raises(DocumentError, match=r"^photo\.jpg: Hearth cannot read this kind of file"):
        read(path)


def test_a_line_longer_than_a_read_is_cut_between_words(tmp_path: Path) -> None:
    path = tmp_path / "one-line.txt"
    words = [f"w{number}" for number in range(20_000)]
    path.write_text(" ".join(words))
    assert [word for block in read(path)[0] for word in block.text.split()] == words


def test_a_csv_with_a_huge_field_or_a_huge_line_keeps_its_other_rows(tmp_path: Path) -> None:
    import csv

    limit = csv.field_size_limit()
    huge_field = tmp_path / "notes.csv"
    huge_field.write_text('room,teacher\n"' + "x" * 200_000 + '",Ms Long\nB12,Ms Okafor\n')
    blocks, _report = read(huge_field)  # the long row is kept or left out by csv's limit; never the file
    assert blocks[0].text == "room | teacher" and blocks[-1].text == "B12 | Ms Okafor"
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(["cell"] * 100_000) + "\nB12,Ms Okafor\n")  # 500 KB on one line
    blocks, _report = read(wide)
    assert blocks[-1].text == "B12 | Ms Okafor" and len(blocks) > 1, "the line came in pieces"
    assert csv.field_size_limit() == limit, "the process's csv limit is left alone"
