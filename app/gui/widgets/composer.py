"""The message box: Enter sends, Shift+Enter starts a new line."""

from __future__ import annotations

import re

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QKeyEvent, QTextOption
from PySide6.QtWidgets import QPlainTextEdit, QWidget

# Qt's word-boundary line breaking takes ~30 s on a 1 MB run without spaces (a pasted
# minified file); breaking anywhere lays the same text out in a fraction of a second.
_UNBREAKABLE_RUN = re.compile(r"\S{2000}")


class Composer(QPlainTextEdit):
    submitted = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setMaximumHeight(140)
        self.textChanged.connect(self._restore_word_wrap)

    def insertFromMimeData(self, source: QMimeData) -> None:
        if source.hasText() and _UNBREAKABLE_RUN.search(source.text()):
            self.setWordWrapMode(QTextOption.WrapMode.WrapAnywhere)
        super().insertFromMimeData(source)

    def _restore_word_wrap(self) -> None:
        if self.document().isEmpty():
            self.setWordWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            text = self.toPlainText()
            if text.strip():
                self.submitted.emit(text)
            event.accept()
            return
        super().keyPressEvent(event)
