"""The list of conversations on the left: it shows which one is open and says which
one the user chose."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import QListView

from app.gui.item_models.conversation_list import ConversationIdRole, ConversationListModel


class ConversationSidebar(QListView):
    chosen = Signal(int)  # a conversation id: the user picked another conversation

    def __init__(self, conversations: ConversationListModel, shown: Callable[[], int | None]) -> None:
        """`shown`: the id of the conversation open in the chat, None when none is."""
        super().__init__()
        self._conversations, self._shown = conversations, shown
        self.setModel(conversations)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.selectionModel().currentChanged.connect(self._on_current)
        conversations.modelReset.connect(self._highlight)  # refreshing the list resets its selection

    def show_current(self) -> None:
        """Highlight the open conversation, or none."""
        if self._shown() is None:
            self.clearSelection()
            self.setCurrentIndex(self._conversations.index(-1, 0))
        else:
            self._highlight()

    def _highlight(self) -> None:
        shown = self._shown()
        row = self._conversations.row_of(shown) if shown is not None else -1
        if row >= 0:
            self.selectionModel().setCurrentIndex(
                self._conversations.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and current.data(ConversationIdRole) != self._shown():
            self.chosen.emit(current.data(ConversationIdRole))
