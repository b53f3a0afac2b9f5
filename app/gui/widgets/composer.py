"""The message box: Enter sends, Shift+Enter starts a new line.

It can also hold an earlier message being edited: what it held before waits aside and
comes back when the edit is sent or cancelled (Esc), so nothing typed is lost.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication, QEvent, QMimeData, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QTextCursor, QTextOption
from PySide6.QtWidgets import QPlainTextEdit, QWidget

# Qt's word-boundary line breaking takes ~30 s on a 1 MB run without spaces (a pasted
# minified file); breaking anywhere lays the same text out in a fraction of a second.
_UNBREAKABLE_RUN = re.compile(r"\S{2000}")


def composer_keys() -> list[tuple[str, str]]:
    """The keys the message box itself answers (what they do, the keys), for the
    shortcuts sheet; keyPressEvent is where they are handled."""
    def tr(text: str) -> str:
        return QCoreApplication.translate("Composer", text)

    return [
        (tr("Send the message"), tr("Enter")),
        (tr("Start a new line"), tr("Shift+Enter")),
        (tr("Edit your last message (in an empty message box)"), tr("Up")),
        (tr("Cancel editing a message"), tr("Esc")),
    ]


def quoted(text: str) -> str:
    """`text` as a Markdown quote ("> " before each line), followed by an empty line."""
    return "\n".join(f"> {line}" if line else ">" for line in text.strip("\n").splitlines()) + "\n\n"


class Composer(QPlainTextEdit):
    submitted = Signal(str)
    edit_last_requested = Signal()  # Up in an empty box: the window finds the last message
    editing_changed = Signal(bool)  # an edit began (True) or ended

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setAccessibleName(self.tr("Message"))
        self.setAccessibleDescription(self.tr("Write your message. Enter sends it; Shift+Enter adds a new line."))
        self.setMaximumHeight(140)
        self.textChanged.connect(self._restore_word_wrap)
        self._editing: int | None = None
        self._draft = ""  # what the box held before the edit began

    @property
    def editing(self) -> int | None:
        """The id of the message being edited; None when the box holds a new message."""
        return self._editing

    def begin_edit(self, message_id: int, text: str) -> None:
        """Put a message's text in the box to be edited; what was typed waits aside."""
        if self._editing is None:
            self._draft = self.toPlainText()
        self._editing = message_id
        self.setPlainText(text)
        self.moveCursor(QTextCursor.MoveOperation.End)
        self.setFocus()
        self.editing_changed.emit(True)

    def end_edit(self) -> None:
        """Leave the edit (sent or cancelled) and give back what the box held before it."""
        if self._editing is None:
            return
        self._editing = None
        self.setPlainText(self._draft)
        self._draft = ""
        self.moveCursor(QTextCursor.MoveOperation.End)
        self.editing_changed.emit(False)

    def add_quote(self, text: str) -> None:
        """Quote `text` at the end of what is typed, and type on below it."""
        before = self.toPlainText()
        separator = "" if not before or before.endswith("\n\n") else ("\n" if before.endswith("\n") else "\n\n")
        self.moveCursor(QTextCursor.MoveOperation.End)
        self.insertPlainText(separator + quoted(text))
        self.setFocus()

    def insertFromMimeData(self, source: QMimeData) -> None:
        if source.hasText() and _UNBREAKABLE_RUN.search(source.text()):
            self.setWordWrapMode(QTextOption.WrapMode.WrapAnywhere)
        super().insertFromMimeData(source)

    def _restore_word_wrap(self) -> None:
        if self.document().isEmpty():
            self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)

    def event(self, event: QEvent) -> bool:
        """Esc cancels an edit here before the window's Stop shortcut (also Esc) takes it.
        Ctrl+Z undoes typing here while there is typing to undo; then it goes to the window
        (the undo bar: a deleted message or conversation, with the focus back here after a click)."""
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            if self._editing is not None and event.key() == Qt.Key.Key_Escape:
                event.accept()
                return True
            if event.matches(QKeySequence.StandardKey.Undo) and not self.document().isUndoAvailable():
                event.ignore()
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            text = self.toPlainText()
            if text.strip():
                self.submitted.emit(text)
            event.accept()
            return
        if event.key() == Qt.Key.Key_Escape and self._editing is not None:
            self.end_edit()
            event.accept()
            return
        if event.key() == Qt.Key.Key_Up and self.document().isEmpty() and not event.modifiers():
            self.edit_last_requested.emit()
            event.accept()
            return
        super().keyPressEvent(event)
