"""File → Print… and Save as PDF…, through the real window on the fake backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QMenu, QMessageBox

from app.gui.main_window import MainWindow
from app.gui.shortcuts_sheet import ShortcutsSheet
from app.gui.widgets.composer import composer_keys
from tests.fakes import FAKE_REPLY
from tests.gui import test_conversation_transfer

FAKE_TEXT = "".join(FAKE_REPLY).replace("**", "")  # "Hello from the fake engine."
window = test_conversation_transfer.window  # the same window, on the fake backend with a model loaded
send = test_conversation_transfer.send


def pdf_text(path: Path) -> str:
    """The text a PDF reader finds on the file's pages."""
    document = pypdfium2.PdfDocument(path)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def shown_boxes(window: MainWindow) -> list[QMessageBox]:
    return [box for box in window.findChildren(QMessageBox) if box.isVisible()]


def test_print_and_save_as_pdf_are_in_the_file_menu_and_the_shortcuts_sheet(qtbot: Any, window: MainWindow) -> None:
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    assert isinstance(file_menu, QMenu)
    texts = [a.text() for a in file_menu.actions()]
    assert "&Print…" in texts and "Save as PD&F…" in texts
    actions = window.print_actions
    assert actions.print_shown.shortcut().toString() == "Ctrl+P"
    assert not actions.print_shown.isEnabled() and not actions.save_pdf.isEnabled()  # nothing to print yet
    send(qtbot, window, "Hello there")
    assert actions.print_shown.isEnabled() and actions.save_pdf.isEnabled()
    sheet = ShortcutsSheet(window.menuBar(), [("Message box", composer_keys())], window)
    assert ("Print…", "Ctrl+P") in sheet.rows()
    sheet.deleteLater()


def test_save_as_pdf_writes_the_conversation_where_the_user_chose(qtbot: Any, window: MainWindow, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    send(qtbot, window, "Which river runs through Lisbon?")
    asked: list[str] = []

    def choose(parent: object, title: str, suggested: str, filters: str) -> tuple[str, str]:
        asked.append(suggested)
        return str(tmp_path / "my chat"), filters

    monkeypatch.setattr("app.gui.conversation_print.QFileDialog.getSaveFileName", choose)
    window.print_actions.save_pdf.trigger()
    qtbot.waitUntil(lambda: "Saved" in window.statusBar().currentMessage(), timeout=10000)
    assert Path(asked[0]).name == "Which river runs through Lisbon_.pdf"  # named as the export names it
    pdf = tmp_path / "my chat.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "Which river runs through Lisbon?" in text and FAKE_TEXT in text
    assert not shown_boxes(window)


def test_print_sends_the_conversation_to_the_printer_chosen_in_the_dialog(qtbot: Any, window: MainWindow, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    send(qtbot, window, "Print me, please")
    printed = tmp_path / "printed.pdf"

    class PrintDialog(QPrintDialog):  # the system's dialog, where "Print to file" is chosen
        def exec(self) -> int:
            self.printer().setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            self.printer().setOutputFileName(str(printed))
            return QDialog.DialogCode.Accepted.value

    monkeypatch.setattr("app.gui.conversation_print.QPrintDialog", PrintDialog)
    window.print_actions.print_shown.trigger()
    qtbot.waitUntil(lambda: "Sent to the printer" in window.statusBar().currentMessage(), timeout=10000)
    text = pdf_text(printed)
    assert "Print me, please" in text and FAKE_TEXT in text


def test_a_pdf_that_cannot_be_written_is_said_plainly_and_nothing_is_lost(qtbot: Any, window: MainWindow, tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    send(qtbot, window, "Keep this safe")
    taken = tmp_path / "taken.pdf"
    taken.mkdir()  # a folder holds the name: the file cannot be written there
    (taken / "inside.txt").write_text("mine")
    monkeypatch.setattr("app.gui.conversation_print.QFileDialog.getSaveFileName", lambda *a, **k: (str(taken), ""))
    window.print_actions.save_pdf.trigger()
    qtbot.waitUntil(lambda: bool(shown_boxes(window)), timeout=10000)
    (box,) = shown_boxes(window)
    assert box.windowTitle() == "The PDF could not be saved"
    assert box.text().startswith(f"Hearth could not write {taken} (") and "Choose another folder" in box.text()
    assert "Something went wrong" not in box.text()
    assert not list(tmp_path.glob(".taken.pdf.*")), "no half-written file left behind"
    assert (taken / "inside.txt").read_text() == "mine"
    assert "Keep this safe" in window.chat_view.toPlainText()


def test_a_pdf_name_typed_without_its_ending_does_not_replace_a_file_unasked(
    qtbot: Any, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    send(qtbot, window, "Which river runs through Lisbon?")
    existing = tmp_path / "my chat.pdf"
    existing.write_bytes(b"%PDF- the report I made yesterday")
    asked: list[str] = []
    monkeypatch.setattr("app.gui.conversation_print.QFileDialog.getSaveFileName", lambda *a, **k: (str(tmp_path / "my chat"), ""))
    monkeypatch.setattr("app.gui.conversation_print.confirm", lambda _w, title, text, action: asked.append(text) or False)
    window.print_actions.save_pdf.trigger()
    assert asked == ["my chat.pdf already exists. Replace it with this conversation?"]
    assert existing.read_bytes() == b"%PDF- the report I made yesterday"
