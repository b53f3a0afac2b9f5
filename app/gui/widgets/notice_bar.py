"""The bar above the chat that tells of something without a dialog, so the window stays
usable: a model that stopped Hearth last time (crash_notice.py), what happened to the
conversation file at start (store_notice.py), a model list repaired (main_window.py)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout


class NoticeBar(QFrame):
    """Its text at the left; its buttons in a column at the right, Dismiss the last."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(f"#{name} {{ background: palette(alternate-base); }}")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.dismiss_button = QPushButton(QCoreApplication.translate("NoticeBar", "Dismiss"))  # self.tr: the subclass's context
        self.dismiss_button.clicked.connect(self.hide)
        self._buttons = QVBoxLayout()
        self._buttons.addWidget(self.dismiss_button)
        self._buttons.addStretch()
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addLayout(self._buttons)
        self.hide()

    def add_button(self, text: str) -> QPushButton:
        """A button above Dismiss, below those added before it."""
        button = QPushButton(text)
        self._buttons.insertWidget(self._buttons.count() - 2, button)
        return button
