"""The sidebar's list of conversations, newest activity first."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt

from app.conversations.store import ConversationStore, ConversationSummary

ConversationIdRole = Qt.ItemDataRole.UserRole + 1

Index = QModelIndex | QPersistentModelIndex


class ConversationListModel(QAbstractListModel):
    def __init__(self, store: ConversationStore) -> None:
        super().__init__()
        self._store = store
        self._rows: list[ConversationSummary] = []
        self.refresh()

    def refresh(self) -> None:
        self.beginResetModel()
        self._rows = self._store.list_conversations()
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return row.title
        if role == ConversationIdRole:
            return row.id
        return None

    def first_id(self) -> int | None:
        """The conversation with the newest activity, if any."""
        return self._rows[0].id if self._rows else None

    def row_of(self, conversation_id: int) -> int:
        return next((i for i, r in enumerate(self._rows) if r.id == conversation_id), -1)
