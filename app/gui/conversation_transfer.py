"""File → Export and Import of conversations: the file dialogs, and the work off the GUI
thread (it opens its own store there: SQLite connections are not shared between threads).

An import shows its progress in a dialog and the new conversations in the list when it
is done; a file that could not be imported is named in one box at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMainWindow, QProgressDialog

from app.chat.export import ALL_CONVERSATIONS_FILE, ExportFormat, export_to_file, safe_file_stem
from app.conversations.opener import open_conversations
from app.conversations.transfer.importer import ImportResult, import_conversations
from app.gui.controllers.chat_session import ChatSession
from app.gui.dialogs import present_error, show_error
from app.gui.ops import Report, run_in_background
from app.platform.paths import AppPaths

PROGRESS_STEPS = 1000  # the dialog's range: bytes do not fit a QProgressBar's int for a 4 GB file


@dataclass(frozen=True)
class TransferActions:
    export_one: QAction
    export_all: QAction
    import_files: QAction
    import_folder: QAction


class ConversationTransfer(QObject):
    def __init__(self, window: QMainWindow, paths: AppPaths, session: ChatSession, actions: TransferActions) -> None:
        super().__init__(window)
        self._window, self._paths, self._session = window, paths, session
        self.progress: QProgressDialog | None = None
        actions.export_one.triggered.connect(self.export_shown)
        actions.export_all.triggered.connect(self.export_all)
        actions.import_files.triggered.connect(self.import_files)
        actions.import_folder.triggered.connect(self.import_folder)

    # Export ----------------------------------------------------------------

    def export_shown(self) -> None:
        """The shown conversation, as Markdown, an HTML page or Hearth JSON (the chosen filter)."""
        conversation_id = self._session.conversation_id
        if conversation_id is None:
            return
        filters = {
            self.tr("Markdown (*.md)"): ExportFormat.MARKDOWN,
            self.tr("Web page (*.html)"): ExportFormat.HTML,
            self.tr("Hearth conversation file, with every branch (*.json)"): ExportFormat.JSON,
        }
        stem = safe_file_stem(self._session.title())
        path, chosen = QFileDialog.getSaveFileName(
            self._window, self.tr("Export conversation"), str(Path.home() / f"{stem}.md"), ";;".join(filters))
        if path:
            export_format = filters.get(chosen) or _format_of(Path(path))
            self._export(_with_suffix(Path(path), export_format), export_format, [conversation_id])

    def export_all(self) -> None:
        path, _chosen = QFileDialog.getSaveFileName(
            self._window, self.tr("Export all conversations"), str(Path.home() / ALL_CONVERSATIONS_FILE),
            self.tr("Hearth conversation file (*.json)"))
        if path:
            self._export(_with_suffix(Path(path), ExportFormat.JSON), ExportFormat.JSON, None)

    def _export(self, path: Path, export_format: ExportFormat, ids: list[int] | None) -> None:
        """Write the conversations `ids` (None: all of them, oldest first) to `path`."""

        def work() -> Path:
            store = open_conversations(self._paths)
            try:
                chosen = ids if ids is not None else [s.id for s in reversed(store.list_conversations())]
                export_to_file(store, export_format, chosen, path)
            finally:
                store.close()
            return path

        run_in_background(self, work, on_success=lambda written: self._window.statusBar().showMessage(
            self.tr("Saved {file}").format(file=written), 10_000))

    # Import ----------------------------------------------------------------

    def import_files(self) -> None:
        path, _chosen = QFileDialog.getOpenFileName(
            self._window, self.tr("Import conversations"), str(Path.home()),
            self.tr("Hearth or ChatGPT conversations (*.json *.zip)"))
        if path:
            self.import_path(Path(path))

    def import_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self._window, self.tr("Import conversations from a folder"),
                                                str(Path.home()))
        if path:
            self.import_path(Path(path))

    def import_path(self, path: Path) -> None:
        """Import off the GUI thread, with a progress dialog; the list shows the result."""
        progress = QProgressDialog(self.tr("Importing conversations from {name}…").format(name=path.name),
                                   "", 0, PROGRESS_STEPS, self._window)
        progress.setCancelButton(None)
        progress.setWindowTitle(self.tr("Import conversations"))
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setValue(0)
        progress.show()  # at once: QProgressDialog would wait for its first estimate
        self.progress = progress

        def work(report: Report) -> ImportResult:
            store = open_conversations(self._paths)
            try:
                return import_conversations(store, path, report)
            finally:
                store.close()

        def step(done: int, total: int) -> None:
            progress.setValue(PROGRESS_STEPS * done // total if total else PROGRESS_STEPS)

        run_in_background(self, work, on_success=self._imported, on_failure=self._import_failed, on_progress=step)

    def _imported(self, result: ImportResult) -> None:
        self._close_progress()
        if self._session.conversation_id is None:
            self._session.conversations.refresh()
            self._session.open_latest()
        else:
            self._session.conversations.refresh()
        said = [self.tr("Imported %n conversation(s).", "", result.count.added)]
        if result.count.extended:
            said.append(self.tr("%n conversation(s) already here gained new messages.", "", result.count.extended))
        said.append(self.tr("%n were already here.", "", result.count.already_there))
        self._window.statusBar().showMessage(" ".join(said), 20_000)
        if result.problems:
            show_error(self._window, self.tr("Some conversations were not imported"), "\n\n".join(result.problems))

    def _import_failed(self, error: Exception) -> None:
        self._close_progress()
        present_error(self._window, self.tr("The conversations could not be imported"), error)

    def _close_progress(self) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None


def _format_of(path: Path) -> ExportFormat:
    return {".html": ExportFormat.HTML, ".htm": ExportFormat.HTML, ".json": ExportFormat.JSON}.get(
        path.suffix.lower(), ExportFormat.MARKDOWN)


def _with_suffix(path: Path, export_format: ExportFormat) -> Path:
    """The chosen name, with the format's extension if the user left it off."""
    return path if path.suffix.lower().lstrip(".") in (export_format.value, "htm") else path.with_name(
        f"{path.name}.{export_format.value}")
