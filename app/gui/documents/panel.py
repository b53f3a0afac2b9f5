"""The Documents window: collections of the user's files, what is in each, and the
indexing under way. A view of the DocumentsController (app/gui/controllers/documents.py)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.documents.extract import SUFFIXES
from app.gui.controllers.documents import DocumentsController
from app.gui.dialogs import confirm
from app.gui.documents.texts import DocumentsTexts

NAME_ROLE = Qt.ItemDataRole.UserRole


def dropped_paths(mime: QMimeData) -> list[Path]:
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]


class DocumentsPanel(QWidget):
    def __init__(self, controller: DocumentsController, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.controller = controller
        self.texts = DocumentsTexts(self)
        self.setWindowTitle(self.tr("Documents"))
        self.setObjectName("documentsPanel")
        self.setAcceptDrops(True)
        self.resize(860, 560)

        self.collections_list = QListWidget()
        self.collections_list.setAccessibleName(self.tr("Collections"))
        self.new_button = self._button(self.tr("New collection…"))
        self.remove_button = self._button(self.tr("Remove collection…"))
        self.chosen_title = QLabel()
        self.chosen_title.setObjectName("chosenCollection")
        self.chosen_title.setWordWrap(True)
        font = self.chosen_title.font()
        font.setBold(True)
        self.chosen_title.setFont(font)
        self.files_list = QListWidget()
        self.files_list.setAccessibleName(self.tr("Files in the collection"))
        self.files_list.setWordWrap(True)
        self.files_list.setAlternatingRowColors(True)  # a long sentence wraps: where a row ends shows
        for widget in (self.collections_list, self.files_list):
            widget.setSpacing(2)
        self.add_files_button = self._button(self.tr("Add files…"))
        self.add_folder_button = self._button(self.tr("Add folder…"))
        self.refresh_button = self._button(self.tr("Refresh"))
        self.refresh_button.setToolTip(self.tr("Look for files added, changed or deleted since the last indexing"))
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setAccessibleName(self.tr("Indexing progress"))
        self.progress.setTextVisible(False)
        self.pause_button = self._button(self.tr("Pause"))
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.embedder_note = QLabel()
        self.embedder_note.setWordWrap(True)
        self.message = QLabel()
        self.message.setObjectName("documentsMessage")
        self.message.setWordWrap(True)
        self._layout()
        self._connect()
        self._show_collections()
        self._show_contents()
        self._show_indexing()

    def _button(self, text: str) -> QPushButton:
        button = QPushButton(text)
        button.setAccessibleName(text.rstrip("…"))
        return button

    def _layout(self) -> None:
        left = QVBoxLayout()
        heading = QLabel(self.tr("Collections"))
        heading.setBuddy(self.collections_list)
        left.addWidget(heading)
        left.addWidget(self.collections_list, 1)
        left.addWidget(self.new_button)
        left.addWidget(self.remove_button)
        right = QVBoxLayout()
        right.addWidget(self.chosen_title)
        right.addWidget(self.files_list, 1)
        buttons = QHBoxLayout()
        for button in (self.add_files_button, self.add_folder_button, self.refresh_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        right.addLayout(buttons)
        right.addWidget(self.problems)
        lists = QHBoxLayout()
        lists.addLayout(left, 1)
        lists.addLayout(right, 2)
        indexing = QHBoxLayout()
        indexing.addWidget(self.progress, 1)
        indexing.addWidget(self.pause_button)
        whole = QVBoxLayout(self)
        whole.addLayout(lists, 1)
        whole.addWidget(self.status)
        whole.addLayout(indexing)
        whole.addWidget(self.embedder_note)
        whole.addWidget(self.message)

    def _connect(self) -> None:
        controller = self.controller
        self.new_button.clicked.connect(self.new_collection)
        self.remove_button.clicked.connect(self.remove_collection)
        self.add_files_button.clicked.connect(self.choose_files)
        self.add_folder_button.clicked.connect(self.choose_folder)
        self.refresh_button.clicked.connect(controller.refresh)
        self.pause_button.clicked.connect(lambda: controller.resume() if controller.paused else controller.pause())
        self.collections_list.currentItemChanged.connect(self._on_current)
        controller.collections_changed.connect(self._show_collections)
        controller.collections_changed.connect(self._show_indexing)
        controller.contents_changed.connect(self._show_contents)
        controller.indexing_changed.connect(self._show_indexing)
        controller.message.connect(self.message.setText)

    # What the user does ------------------------------------------------------------------

    def new_collection(self) -> None:
        name, ok = QInputDialog.getText(self, self.tr("New collection"), self.tr("Name of the collection:"))
        if ok:
            self.controller.create(name)

    def remove_collection(self) -> None:
        name = self.controller.chosen
        if name is None:
            return
        if confirm(self, self.tr("Remove collection"), self.tr(
            "Remove “{name}”? Its index is deleted; your files stay where they are. Replies already written from it "
            "keep the passages they quoted, as their sources.").format(name=name), self.tr("Remove")):
            self.controller.remove(name)

    def choose_files(self) -> None:
        patterns = " ".join(f"*{suffix}" for suffix in sorted(SUFFIXES))
        chosen, _filter = QFileDialog.getOpenFileNames(self, self.tr("Add files"), "", self.tr("Documents ({patterns})").format(
            patterns=patterns))
        self.controller.add([Path(name) for name in chosen])

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Add folder"))
        if folder:
            self.controller.add([Path(folder)])

    def _on_current(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        self.controller.choose(item.data(NAME_ROLE) if item is not None else None)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_paths(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.controller.add(paths)

    # What the controller reports ---------------------------------------------------------

    def _show_collections(self) -> None:
        controller = self.controller
        self.collections_list.blockSignals(True)
        self.collections_list.clear()
        for summary in controller.collections:
            item = QListWidgetItem(self.texts.collection_row(summary))
            item.setData(NAME_ROLE, summary.name)
            self.collections_list.addItem(item)
            if summary.name == controller.chosen:
                self.collections_list.setCurrentItem(item)
        self.collections_list.blockSignals(False)
        self._enable()

    def _show_contents(self) -> None:
        contents = self.controller.contents
        self.files_list.clear()
        if contents is None:
            self.chosen_title.setText(self.tr("Make a collection, then add files or folders to it (or drop them here)."))
        else:
            self.chosen_title.setText(contents.name)
            found = {summary.path for summary in contents.files}
            for summary in contents.files:
                item = QListWidgetItem(self.texts.file_row(summary))
                item.setToolTip(str(summary.path))
                self.files_list.addItem(item)
            for source in contents.sources:
                if source.path not in found and not any(path.is_relative_to(source.path) for path in found):
                    text = self.tr("{path} (not read yet)") if source.present else self.tr("{path} (no longer there)")
                    self.files_list.addItem(QListWidgetItem(text.format(path=source.path)))
        self._show_problems()
        self._enable()

    def _show_problems(self) -> None:
        """What the last run found that no file row says: a folder that could not be read,
        a file that vanished or may not be read."""
        chosen, contents = self.controller.chosen, self.controller.contents
        problems = self.controller.problems.get(chosen, ()) if chosen is not None else ()
        listed: tuple[str, ...] = ()
        if contents is not None:
            listed = (*(summary.path.name for summary in contents.files if summary.problem),
                      *(str(source.path) for source in contents.sources if not source.present))
        problems = tuple(problem for problem in problems if not problem.startswith(listed))
        self.problems.setText("\n".join(problems))
        self.problems.setVisible(bool(problems))

    def _show_indexing(self) -> None:
        controller = self.controller
        self.status.setText(self.texts.indexing(controller))
        progress = controller.progress
        running = controller.indexing is not None or bool(controller.queue)
        self.progress.setVisible(running)
        if progress is not None and progress.files_total:
            self.progress.setRange(0, progress.files_total)
            self.progress.setValue(progress.files_done)
        else:
            self.progress.setRange(0, 0)  # busy: looking for what changed
        self.pause_button.setText(self.tr("Resume") if controller.paused else self.tr("Pause"))
        self.pause_button.setAccessibleName(self.pause_button.text())
        self.pause_button.setVisible(running or controller.paused)
        self.embedder_note.setText("" if controller.has_embedder else self.tr(
            "No embedding model is installed, so these documents are found by their words only. "
            "Add one in the model library, and Hearth also finds passages that say the same in other words."))
        self.embedder_note.setVisible(bool(self.embedder_note.text()))
        self._show_problems()

    def _enable(self) -> None:
        chosen = self.controller.chosen is not None
        for button in (self.remove_button, self.add_files_button, self.add_folder_button, self.refresh_button):
            button.setEnabled(chosen)
