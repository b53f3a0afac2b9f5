"""The left side of the window: a search field over the list of conversations.

The list shows which conversation is open and says which one the user chose, under date
headings. While the field holds text, the list gives way to what the search found (Ctrl+K
goes to the field, Esc clears it); choosing a hit opens its conversation at that message.
Above the list, once conversations were begun with two assistants or more: a filter by
assistant. Below the list: the bar that offers to undo a delete, and the way to the Trash. The list's
right-click menu (Pin, and the window's Rename and Delete) acts on the open conversation:
a right-click opens the one clicked.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, QPersistentModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAbstractTextDocumentLayout, QAction, QKeyEvent, QKeySequence, QPainter, QPalette, QShortcut, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.conversations.search import SearchHit
from app.gui.controllers.history_search import HistorySearch
from app.gui.item_models.conversation_list import ConversationIdRole, ConversationListModel
from app.gui.item_models.search_hits import HitHtmlRole, HitRole, SearchHitsModel
from app.gui.widgets.undo_bar import UndoBar

# Typing pauses shorter than this are one search: a search of a million messages takes
# 2-90 ms (bench/search.py), so one per keystroke would queue up behind a fast typist.
SEARCH_DELAY_MS = 150


class ConversationList(QListView):
    """The conversations, pinned first, then newest activity first, the open one highlighted."""

    chosen = Signal(int)  # a conversation id: the user picked another conversation

    def __init__(self, conversations: ConversationListModel, shown: Callable[[], int | None]) -> None:
        """`shown`: the id of the conversation open in the chat, None when none is."""
        super().__init__()
        self._conversations, self._shown = conversations, shown
        self.setModel(conversations)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        # One line each: without this the view asks every row for its size at each reset
        # (10,000 conversations: reset and paint 438 ms without, 94 ms with; bench/search.py).
        self.setUniformItemSizes(True)
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

    def moveCursor(self, cursor_action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier) -> QModelIndex:
        """Home and End go to the first and the last conversation: the first row is a heading
        (the up and down moves skip headings by themselves: they are disabled rows)."""
        if cursor_action == QAbstractItemView.CursorAction.MoveHome:
            return self._conversation_from(0, 1)
        if cursor_action == QAbstractItemView.CursorAction.MoveEnd:
            return self._conversation_from(self._conversations.rowCount() - 1, -1)
        return super().moveCursor(cursor_action, modifiers)

    def _conversation_from(self, row: int, step: int) -> QModelIndex:
        while 0 <= row < self._conversations.rowCount():
            index = self._conversations.index(row, 0)
            if index.data(ConversationIdRole) is not None:
                return index
            row += step
        return QModelIndex()

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and current.data(ConversationIdRole) not in (None, self._shown()):
            self.chosen.emit(current.data(ConversationIdRole))


class SearchField(QLineEdit):
    """Esc clears the field while it has text, even where Esc also stops a reply."""

    def event(self, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent)
                and event.key() == Qt.Key.Key_Escape and self.text()):
            event.accept()
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.text():
            self.clear()
        else:
            super().keyPressEvent(event)


class HitDelegate(QStyledItemDelegate):
    """Draws a hit's HTML (its conversation, who wrote it, the snippet with the matched
    words in bold) on two lines."""

    def _document(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QTextDocument:
        document = QTextDocument()
        document.setDefaultFont(option.font)
        document.setHtml(index.data(HitHtmlRole) or "")
        document.setTextWidth(max(40, option.rect.width()))
        return document

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        self.initStyleOption(option, index)
        option.text = ""
        style = option.widget.style() if option.widget else None
        if style is not None:
            style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        document = self._document(option, index)
        context = QAbstractTextDocumentLayout.PaintContext()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        group = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        context.palette.setColor(QPalette.ColorRole.Text, option.palette.color(group))
        painter.save()
        painter.translate(option.rect.topLeft())
        painter.setClipRect(0, 0, option.rect.width(), option.rect.height())
        document.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        self.initStyleOption(option, index)
        document = self._document(option, index)
        return QSize(int(document.idealWidth()), int(min(document.size().height(), 6 * option.fontMetrics.height())))


class ConversationSidebar(QWidget):
    chosen = Signal(int)  # a conversation id: the user picked another conversation in the list
    hit_chosen = Signal(int, object)  # conversation id, message id (None: found by its title)
    pin_requested = Signal(bool)  # pin (True) or unpin the open conversation
    trash_requested = Signal()  # the user wants to see the Trash

    def __init__(self, conversations: ConversationListModel, shown: Callable[[], int | None], search: HistorySearch) -> None:
        """`shown`: the id of the conversation open in the chat, None when none is."""
        super().__init__()
        self._search = search
        self.search_field = SearchField()
        self.search_field.setPlaceholderText(self.tr("Search all conversations (Ctrl+K)"))
        self.search_field.setClearButtonEnabled(True)
        self.search_field.setAccessibleName(self.tr("Search conversations"))
        clear = self.search_field.findChild(QToolButton)  # QLineEdit's own, made by setClearButtonEnabled
        if clear is not None:
            clear.setAccessibleName(self.tr("Clear search"))
        self.assistant_filter = QComboBox()
        self.assistant_filter.setAccessibleName(self.tr("Show the conversations of"))
        self.assistant_filter.view().setAccessibleName(self.tr("Assistants"))
        self.assistant_filter.setToolTip(self.tr("Show only the conversations begun with one assistant"))
        self._assistant_names: dict[str, str] = {}
        self.conversation_list = ConversationList(conversations, shown)
        self.conversation_list.setAccessibleName(self.tr("Conversations"))
        self.conversation_list.setAccessibleDescription(self.tr("Your conversations, the latest first. Enter opens one."))
        self.hits = SearchHitsModel()
        self.hits_view = QListView()
        self.hits_view.setModel(self.hits)
        self.hits_view.setAccessibleName(self.tr("Search results"))
        self.hits_view.setAccessibleDescription(self.tr("Messages that contain what you searched for."))
        self.hits_view.setItemDelegate(HitDelegate(self.hits_view))
        self.hits_view.setWordWrap(True)
        self.hits_view.setSpacing(2)
        self.hits_view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.hits_view.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)  # Rename/Delete act on the open one
        self.no_hits = QLabel()
        self.no_hits.setWordWrap(True)
        self.no_hits.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignHCenter)
        self.no_hits.setContentsMargins(6, 12, 6, 6)
        self.undo_bar = UndoBar()
        self.trash_button = QPushButton(self.tr("Trash…"))
        self.trash_button.setFlat(True)
        self.trash_button.setToolTip(self.tr("Deleted conversations: restore them, or delete them for good"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.search_field, self.assistant_filter, self.conversation_list, self.hits_view, self.no_hits, self.undo_bar):
            layout.addWidget(widget)
        layout.addWidget(self.trash_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.hits_view.hide()
        self.no_hits.hide()
        self._conversations, self._shown = conversations, shown
        self.pin_action = QAction(self.tr("&Pin to the top"), self)
        self.pin_action.setCheckable(True)
        self.pin_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.pin_action.triggered.connect(self.pin_requested)
        # This menu's Pin, and Rename and Delete (added by the window), show on the list;
        # their shortcuts work in the whole window.
        self.addAction(self.pin_action)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.trash_button.clicked.connect(self.trash_requested)
        conversations.modelReset.connect(self._show_pinned)
        conversations.modelReset.connect(self._show_assistant_filter)
        self.assistant_filter.activated.connect(lambda _index: conversations.show_assistant(self.assistant_filter.currentData()))
        self._show_assistant_filter()

        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.setInterval(SEARCH_DELAY_MS)
        self._delay.timeout.connect(self._find)
        self.search_field.textChanged.connect(self._on_text)
        self.search_field.returnPressed.connect(self._choose_first)
        self.search_field.installEventFilter(self)
        self.hits_view.clicked.connect(self._choose)
        self.hits_view.installEventFilter(self)
        self.conversation_list.chosen.connect(self.chosen)
        search.found.connect(self._show_hits)
        # The list is read again after each turn, rename and delete: so are the hits.
        conversations.modelReset.connect(self._find_again)
        search.failed.connect(self._show_failure)
        shortcut = QShortcut(QKeySequence("Ctrl+K"), self, context=Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(self.focus_search)

    def show_current(self) -> None:
        """Highlight the open conversation in the list, or none."""
        self.conversation_list.show_current()
        self._show_pinned()

    def _show_pinned(self) -> None:
        shown = self._shown()
        self.pin_action.setEnabled(shown is not None)
        self.pin_action.setChecked(shown is not None and self._conversations.is_pinned(shown))

    def name_assistants(self, names: dict[str, str]) -> None:
        """What the filter calls each assistant (by id): the shelf's names, read again on each change."""
        self._assistant_names = names
        self._show_assistant_filter()

    def _show_assistant_filter(self) -> None:
        in_use, chosen = self._conversations.assistants_in_use, self._conversations.assistant_id
        named = {assistant_id: self._assistant_names.get(assistant_id, assistant_id) for assistant_id in in_use}
        self.assistant_filter.clear()
        self.assistant_filter.addItem(self.tr("All conversations"), None)
        for assistant_id in sorted(named, key=lambda i: named[i].casefold()):
            self.assistant_filter.addItem(named[assistant_id], assistant_id)
        self.assistant_filter.setCurrentIndex(max(0, self.assistant_filter.findData(chosen)))
        # One assistant alone has nothing to tell apart; searching shows hits of every one.
        self.assistant_filter.setVisible((len(in_use) > 1 or chosen is not None) and not self.search_field.text().strip())

    def focus_search(self) -> None:
        self.search_field.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_field.selectAll()

    def _on_text(self, text: str) -> None:
        searching = bool(text.strip())
        self.conversation_list.setVisible(not searching)
        self._show_assistant_filter()
        if searching:
            self._delay.start()  # again: the search waits for a pause in the typing
        else:
            self._delay.stop()
            self._search.cancel()
            self.hits.show_hits([])
            self.hits_view.hide()
            self.no_hits.hide()

    def _find_again(self) -> None:
        if self.search_field.text().strip():
            self._delay.start()

    def _find(self) -> None:
        if self.search_field.text().strip():
            self._search.find(self.search_field.text())

    def _show_hits(self, text: str, hits: list[SearchHit]) -> None:
        if text != self.search_field.text():
            return  # typed on since; its own search is on its way
        self.hits.show_hits(hits)
        self.hits_view.setVisible(bool(hits))
        self.no_hits.setVisible(not hits)
        self.no_hits.setText(self.tr("No conversation mentions “{text}”.").format(text=text.strip()))

    def _show_failure(self, message: str) -> None:
        self.hits.show_hits([])
        self.hits_view.hide()
        self.no_hits.setText(self.tr("The search did not work: {reason}").format(reason=message))
        self.no_hits.show()

    def _choose(self, index: QModelIndex) -> None:
        hit: SearchHit | None = index.data(HitRole)
        if hit is not None:
            self.hit_chosen.emit(hit.conversation_id, hit.message_id)

    def _choose_first(self) -> None:
        current = self.hits_view.currentIndex()
        self._choose(current if current.isValid() else self.hits.index(0, 0))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Down from the field goes to the hits and Enter there opens one, so a keyboard
        can choose (not `activated`: a click would open the hit twice where a single click
        activates)."""
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return super().eventFilter(watched, event)
        if watched is self.search_field and event.key() == Qt.Key.Key_Down and self.hits.rowCount() and self.hits_view.isVisible():
            self.hits_view.setFocus()
            self.hits_view.setCurrentIndex(self.hits.index(0, 0))
            return True
        if watched is self.hits_view and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._choose(self.hits_view.currentIndex())
            return True
        return super().eventFilter(watched, event)
