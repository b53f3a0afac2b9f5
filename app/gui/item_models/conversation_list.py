"""The sidebar's list of conversations: pinned first, then newest activity first, under
date headings (Pinned, Today, Yesterday, Previous 7 days, Previous 30 days, then months),
all of them or those of one assistant (the filter). A filter never hides a conversation
opened after it was chosen (a new chat with another assistant): it is dropped then.

A heading is a row of its own that cannot be selected or reached by the keyboard: it has
no item flags, and QListView's cursor moves skip disabled rows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from PySide6.QtCore import QAbstractListModel, QDate, QLocale, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont

from app.conversations.date_groups import DateGroup, Period, grouped
from app.conversations.store import ConversationStore, ConversationSummary

ConversationIdRole = Qt.ItemDataRole.UserRole + 1
IsHeadingRole = Qt.ItemDataRole.UserRole + 2

Index = QModelIndex | QPersistentModelIndex


class ConversationListModel(QAbstractListModel):
    def __init__(
        self, store: ConversationStore, today: Callable[[], date] = date.today, shown: Callable[[], int | None] = lambda: None,
    ) -> None:
        """`today`: the local date, which decides the headings (a test passes its own);
        `shown`: the id of the open conversation, None when none is."""
        super().__init__()
        self._store, self._today, self._shown = store, today, shown
        self._rows: list[DateGroup | ConversationSummary] = []
        self.assistant_id: str | None = None  # the filter: None shows every conversation
        self._open_at_filter: int | None = None  # the conversation open when the filter was chosen
        self.assistants_in_use: list[str] = []
        self.refresh()

    def refresh(self) -> None:
        summaries = self._store.list_conversations(self.assistant_id)
        shown = self._shown()
        if (self.assistant_id is not None and shown not in (None, self._open_at_filter)
                and all(summary.id != shown for summary in summaries)):
            self.assistant_id = None
            summaries = self._store.list_conversations()
        self.beginResetModel()
        self._rows = list(grouped(summaries, self._today()))
        self.assistants_in_use = self._store.assistants_in_use()
        self.endResetModel()

    def show_assistant(self, assistant_id: str | None) -> None:
        """List only the conversations begun with `assistant_id`, or all of them (None)."""
        self.assistant_id, self._open_at_filter = assistant_id, self._shown()
        self.refresh()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if index.isValid() and 0 <= index.row() < len(self._rows) and isinstance(self._rows[index.row()], DateGroup):
            return Qt.ItemFlag.NoItemFlags
        return super().flags(index)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if isinstance(row, DateGroup):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.heading(row)
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
            return True if role == IsHeadingRole else None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return row.title
        if role == ConversationIdRole:
            return row.id
        if role == IsHeadingRole:
            return False
        return None

    def heading(self, group: DateGroup) -> str:
        """What the list calls `group`, in the user's language."""
        if group.period == Period.MONTH:
            return QLocale().toString(QDate(group.year, group.month, 1), "MMMM yyyy")
        return {
            Period.PINNED: self.tr("Pinned"),
            Period.TODAY: self.tr("Today"),
            Period.YESTERDAY: self.tr("Yesterday"),
            Period.PREVIOUS_7_DAYS: self.tr("Previous 7 days"),
            Period.PREVIOUS_30_DAYS: self.tr("Previous 30 days"),
        }[group.period]

    def _summaries(self) -> list[ConversationSummary]:
        return [row for row in self._rows if isinstance(row, ConversationSummary)]

    def titles(self) -> list[str]:
        """The conversations' titles in the order shown, headings left out."""
        return [summary.title for summary in self._summaries()]

    def first_id(self) -> int | None:
        """The conversation with the newest activity, if any (pinned or not)."""
        summaries = self._summaries()
        return max(summaries, key=lambda s: (s.updated_at, s.id)).id if summaries else None

    def row_of(self, conversation_id: int) -> int:
        return next((i for i, r in enumerate(self._rows) if isinstance(r, ConversationSummary) and r.id == conversation_id), -1)

    def is_pinned(self, conversation_id: int) -> bool:
        row = self.row_of(conversation_id)
        summary = self._rows[row] if row >= 0 else None
        return isinstance(summary, ConversationSummary) and summary.pinned
