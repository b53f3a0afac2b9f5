"""File → Print… and Save as PDF…: the shown conversation as the HTML export writes it
(app/chat/export_html.py), laid out on pages by a QTextDocument.

The printer or the file is chosen on the GUI thread; reading the conversation, laying
it out and painting it happen on the thread pool (a long chat is seconds of layout). The
work opens its own store there, as the export does, and paints into the QPrinter or into
a QPdfWriter: QPainter may paint on both outside the GUI thread. A PDF is painted into
memory and then written atomically, so a failed save leaves any file already there whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject
from PySide6.QtGui import QAction, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QFileDialog, QMainWindow

from app.chat.export import safe_file_stem
from app.chat.export_html import conversation_html
from app.conversations.opener import open_conversations
from app.gui.controllers.chat_session import ChatSession
from app.gui.dialogs import confirm, present_error
from app.gui.ops import run_in_background
from app.platform.atomic import write_atomically
from app.platform.errors import HearthError
from app.platform.paths import AppPaths

RESOLUTION = 300  # dots per inch: sharp text; QPdfWriter's default 1200 only makes the layout slower


@dataclass(frozen=True)
class PrintActions:
    print_shown: QAction
    save_pdf: QAction


class ConversationPrint(QObject):
    def __init__(self, window: QMainWindow, paths: AppPaths, session: ChatSession, actions: PrintActions) -> None:
        super().__init__(window)
        self._window, self._paths, self._session = window, paths, session
        actions.print_shown.triggered.connect(self.print_shown)
        actions.save_pdf.triggered.connect(self.save_pdf)

    def print_shown(self) -> None:
        """The system's print dialog, then the shown conversation on the chosen printer."""
        conversation_id = self._session.conversation_id
        if conversation_id is None:
            return
        # The job holds its own printer while it prints on the pool: one the dialog owned was
        # deleted with the window when Hearth was closed mid-print.
        printer = QPrinter()
        printer.setDocName(self._session.title())
        dialog = QPrintDialog(printer, self._window)
        dialog.setWindowTitle(self.tr("Print conversation"))
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        dialog.deleteLater()
        if not accepted:
            return
        printer.setResolution(RESOLUTION)  # it lays out at the screen's otherwise
        refused = self.tr("The printer did not take the conversation. Check that it is on and connected, then try again.")

        def work() -> None:
            _document(self._read_html(conversation_id)).print_(printer)
            if printer.printerState() == QPrinter.PrinterState.Error:
                raise HearthError(refused)

        run_in_background(
            self, work,
            on_success=lambda _none: self._window.statusBar().showMessage(self.tr("Sent to the printer."), 10_000),
            on_failure=lambda error: present_error(self._window, self.tr("The conversation could not be printed"), error))

    def save_pdf(self) -> None:
        """The shown conversation as a PDF file, where the user chooses."""
        conversation_id = self._session.conversation_id
        if conversation_id is None:
            return
        title = self._session.title()
        path, _chosen = QFileDialog.getSaveFileName(
            self._window, self.tr("Save conversation as PDF"), str(Path.home() / f"{safe_file_stem(title)}.pdf"),
            self.tr("PDF document (*.pdf)"))
        if not path:
            return
        chosen = Path(path) if Path(path).suffix.lower() == ".pdf" else Path(f"{path}.pdf")
        # The dialog asked about the name typed; ".pdf" added, another file may have it.
        if chosen != Path(path) and chosen.exists() and not confirm(
                self._window, self.tr("Replace the file?"),
                self.tr("{file} already exists. Replace it with this conversation?").format(file=chosen.name), self.tr("Replace")):
            return
        cannot_write = self.tr("Hearth could not write {file} ({reason}). Choose another folder and try again.")

        def work() -> Path:
            data = pdf_bytes(self._read_html(conversation_id), title)
            try:
                write_atomically(chosen, data)
            except OSError as error:
                raise HearthError(cannot_write.format(file=chosen, reason=error.strerror or error)) from error
            return chosen

        run_in_background(
            self, work,
            on_success=lambda written: self._window.statusBar().showMessage(
                self.tr("Saved {file}").format(file=written), 10_000),
            on_failure=lambda error: present_error(self._window, self.tr("The PDF could not be saved"), error))

    def _read_html(self, conversation_id: int) -> str:
        """On the pool thread: the page the HTML export writes, read through a store of its own."""
        store = open_conversations(self._paths)
        try:
            return conversation_html(store, conversation_id)
        except LookupError:
            raise HearthError(self.tr("This conversation no longer exists: it was deleted meanwhile.")) from None
        finally:
            store.close()


def pdf_bytes(page: str, title: str) -> bytes:
    """`page` (HTML) laid out on A4 pages, as a PDF document titled `title`."""
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(RESOLUTION)
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setTitle(title)
    writer.setCreator("Hearth")  # a name: not translated
    _document(page).print_(writer)
    buffer.close()
    return bytes(data.data())


def _document(page: str) -> QTextDocument:
    document = QTextDocument()
    document.setHtml(page)
    return document

