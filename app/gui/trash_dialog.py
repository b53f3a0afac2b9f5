"""The Trash: the conversations the user deleted, to restore or to delete for good.

What it holds grows with the user's history, and deleting a long conversation for good
removes every message (and its search index entries) and its saved KV state, so the reads
and that delete run off the GUI thread, each on a connection of its own. Restoring is one row and goes through the
chat session, which then shows the conversation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout, QWidget

from app.conversations.opener import open_conversations
from app.conversations.store import TRASH_DAYS, ConversationStore, TrashedConversation
from app.gui.dialogs import confirm
from app.gui.ops import run_in_background
from app.platform.paths import AppPaths
from app.platform.saved_states import forget_saved_states

T = TypeVar("T")


def with_store(paths: AppPaths, work: Callable[[ConversationStore], T]) -> Callable[[], T]:
    """`work` on a store opened (and closed) on the thread that runs it."""

    def run() -> T:
        store = open_conversations(paths)
        try:
            return work(store)
        finally:
            store.close()

    return run


class TrashDialog(QDialog):
    restore_requested = Signal(int)  # a conversation id: take it out of the Trash and show it
    loaded = Signal()  # the list shows what the Trash holds now

    def __init__(self, paths: AppPaths, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._paths = paths
        self.setWindowTitle(self.tr("Trash"))
        self.explanation = QLabel(self.tr(
            "Deleted conversations stay here for %n days, then Hearth deletes them for good.", "", TRASH_DAYS))
        self.explanation.setWordWrap(True)
        self.items = QListWidget()
        self.empty = QLabel(self.tr("The Trash is empty."))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        self.restore_button = QPushButton(self.tr("Restore"))
        self.delete_button = QPushButton(self.tr("Delete forever…"))
        close = QPushButton(self.tr("Close"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.delete_button)
        buttons.addStretch()
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.explanation)
        layout.addWidget(self.items, 1)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)
        self.resize(460, 360)
        self.restore_button.clicked.connect(self._restore)
        self.delete_button.clicked.connect(self._delete_forever)
        close.clicked.connect(self.close)
        self.items.currentRowChanged.connect(self._update)
        self.items.itemDoubleClicked.connect(self._restore)
        self._update()
        self.reload()

    def reload(self) -> None:
        run_in_background(self, with_store(self._paths, lambda store: store.trashed_conversations()), on_success=self._show)

    def _show(self, trashed: list[TrashedConversation]) -> None:
        self.items.clear()
        for conversation in trashed:
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(conversation.deleted_at))
            item = QListWidgetItem(self.tr("{title} · deleted {when}").format(title=conversation.title, when=when))
            item.setData(Qt.ItemDataRole.UserRole, conversation.id)
            item.setData(Qt.ItemDataRole.UserRole + 1, conversation.title)
            self.items.addItem(item)
        if trashed:
            self.items.setCurrentRow(0)
        self.items.setVisible(bool(trashed))
        self.empty.setVisible(not trashed)
        self._update()
        self.loaded.emit()

    def _chosen(self) -> QListWidgetItem | None:
        return self.items.currentItem()

    def _update(self) -> None:
        chosen = self._chosen() is not None
        self.restore_button.setEnabled(chosen)
        self.delete_button.setEnabled(chosen)

    def _restore(self) -> None:
        item = self._chosen()
        if item is not None:
            self.restore_requested.emit(item.data(Qt.ItemDataRole.UserRole))
            self.reload()

    def _delete_forever(self) -> None:
        item = self._chosen()
        if item is None:
            return
        conversation_id: int = item.data(Qt.ItemDataRole.UserRole)
        if confirm(self, self.tr("Delete forever"),
                   self.tr("Delete “{title}” and all its messages for good? This cannot be undone.").format(
                       title=item.data(Qt.ItemDataRole.UserRole + 1)),
                   self.tr("Delete forever")):
            # Its saved KV state too: the token ids of the whole conversation, its text.
            run_in_background(self, with_store(self._paths, lambda store: forget_saved_states(
                                  self._paths.kv_states, store.delete_forever(conversation_id))),
                              on_success=lambda _count: self.reload())
