"""A bar that offers to take back what was just done: "“Trip” moved to Trash · Undo".

`offer(text, undo)` shows `text` with an Undo button for UNDO_SECONDS; the button or
Ctrl+Z (`undo_action`, active in the whole window while the bar shows; a text field with
the focus keeps Ctrl+Z for its own typing) calls `undo` once. A newer offer replaces the one shown: only the last thing done can be taken
back from here (the Trash keeps the rest).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton

UNDO_SECONDS = 10


class UndoBar(QFrame):
    def __init__(self) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.undo_button = QPushButton(self.tr("Undo"))
        self.close_button = QToolButton()
        self.close_button.setText("×")  # a symbol, not a word
        self.close_button.setToolTip(self.tr("Dismiss"))
        self.close_button.setAutoRaise(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 3, 3, 3)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.undo_button)
        layout.addWidget(self.close_button)
        self.undo_action = QAction(self.tr("Undo"), self)
        self.undo_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        self.undo_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.undo_action.setEnabled(False)
        self.addAction(self.undo_action)
        self._undo: Callable[[], object] | None = None
        self._expiry = QTimer(self)
        self._expiry.setSingleShot(True)
        self._expiry.setInterval(UNDO_SECONDS * 1000)
        self._expiry.timeout.connect(self.dismiss)
        self.undo_button.clicked.connect(self.undo)
        self.close_button.clicked.connect(self.dismiss)
        self.undo_action.triggered.connect(self.undo)
        self.hide()

    @property
    def offered(self) -> bool:
        return self._undo is not None

    def offer(self, text: str, undo: Callable[[], object]) -> None:
        """Show `text` and an Undo that calls `undo`, for UNDO_SECONDS."""
        self._undo = undo
        self.text.setText(text)
        self.undo_action.setEnabled(True)
        self.show()
        self._expiry.start()

    def undo(self) -> None:
        """Take back what is offered, once; nothing when nothing is."""
        undo = self._undo
        self.dismiss()
        if undo is not None:
            undo()

    def dismiss(self) -> None:
        self._undo = None
        self._expiry.stop()
        self.undo_action.setEnabled(False)
        self.hide()
