"""The composer's Documents button, wired to the chat's attached collections (the names to
choose from are the Documents panel controller's, read again as the menu opens: the window
wires that), and "Open file" under a reply's sources."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QMainWindow

from app.conversations.store import ConversationStore
from app.documents.extract import is_supported
from app.gui.controllers.app_settings import AppSettings
from app.gui.controllers.attached_documents import AttachedDocuments
from app.gui.controllers.chat_session import ChatSession
from app.gui.controllers.model_loader import ModelLoader
from app.gui.dialogs import show_error
from app.gui.widgets.chat_view import ChatView
from app.gui.widgets.composer import Composer
from app.gui.widgets.documents_button import DocumentsButton


class AttachDocuments(QObject):
    attached_count = Signal(int)  # collections attached to the shown chat (the context meter counts their passages)

    def __init__(self, window: QMainWindow, store: ConversationStore, session: ChatSession,
                 loader: ModelLoader, settings: AppSettings, button: DocumentsButton, view: ChatView, hint: QLabel,
                 composer: Composer) -> None:
        super().__init__(window)
        self._window, self._button, self._hint, self._composer = window, button, hint, composer
        self.attached = AttachedDocuments(session, store, loader, settings)
        button.attach_requested.connect(self.attached.set_attached)
        button.every_document_requested.connect(self.attached.set_every_document)
        composer.textChanged.connect(self._show_hint)
        self.attached.changed.connect(self._show)
        self.attached.error.connect(lambda title, message: show_error(window, title, message))
        view.open_file_requested.connect(self.open_file)

    def open_file(self, path: str) -> None:
        """Open a source's file in the application the system chooses for it: only a document
        of a kind Hearth reads, on this computer. A reply's sources may come from an imported
        file: a network path would connect to another computer, a program would run."""
        if path.startswith(("\\\\", "//")) or not Path(path).is_absolute() or not is_supported(Path(path)):
            show_error(self._window, self.tr("Not opened"), self.tr(
                "{file} is not a document on this computer that Hearth reads, so it is not opened.").format(file=path))
            return
        if not Path(path).is_file():
            show_error(self._window, self.tr("File not found"), self.tr(
                "{file} is no longer there: it was moved or deleted since this reply was written.").format(file=path))
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(path))

    def _show(self) -> None:
        names = self.attached.names()
        self._button.show_choices(self.attached.available, names, self.attached.every_document)
        self.attached_count.emit(len(names))
        self._show_hint()

    def _show_hint(self) -> None:
        text = self.attached.hint(self._composer.toPlainText())
        self._hint.setText(text)
        self._hint.setVisible(bool(text))
