"""A reply's Details: what produced it, in plain words the user can copy, and Reproduce.

Not modal: the conversation stays usable while a reply is written again on the worker.
"""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.chat.provenance import describe
from app.chat.reproduce import Reproduction
from app.conversations.store import Message
from app.gui.controllers.chat_session import ChatSession
from app.gui.widgets.chat_view import stats_line


class ProvenanceDialog(QDialog):
    def __init__(self, session: ChatSession, message: Message, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._session = session
        self._message = message
        self.setWindowTitle(self.tr("Details of this reply"))
        # The speed is always here, also where Settings hide it under the replies.
        self.details = QPlainTextEdit("\n".join(filter(None, (describe(message.provenance), stats_line(message.stats)))))
        self.details.setReadOnly(True)
        self.details.setAccessibleName(self.tr("Details"))
        self.details.setAccessibleDescription(self.tr("What wrote this reply: the model, its settings and the seed."))
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextInteractionFlags(self.outcome.textInteractionFlags().TextSelectableByMouse)
        self.copy_button = QPushButton(self.tr("Copy details"))
        self.copy_button.clicked.connect(self._copy)
        self.reproduce_button = QPushButton(self.tr("Reproduce"))
        self.reproduce_button.setToolTip(self.tr(
            "Write this reply again with the same model, seed and settings, and say whether it comes out identical."
        ))
        self.reproduce_button.clicked.connect(self._reproduce)
        close = QPushButton(self.tr("Close"))
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for button in (self.copy_button, self.reproduce_button):
            buttons.addWidget(button)
        buttons.addStretch()
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.details, 1)
        layout.addWidget(self.outcome)
        layout.addLayout(buttons)
        self.resize(640, 360)
        self._asked = False  # this dialog's Reproduce is running
        self._listening = True  # connected to the session, until closed
        session.reproduced.connect(self._on_reproduced)
        session.state_changed.connect(self._update)
        self._update()

    def _update(self) -> None:
        self.reproduce_button.setEnabled(bool(self._message.provenance) and self._session.can_reply)

    def _copy(self) -> None:
        text = self.details.toPlainText()
        if self.outcome.text():
            text += "\n\n" + self.outcome.text()
        QGuiApplication.clipboard().setText(text)

    def _reproduce(self) -> None:
        if self._session.reproduce(self._message.id):
            self._asked = True
            self.outcome.setText(self.tr("Writing the reply again…"))

    def _on_reproduced(self, outcome: Reproduction) -> None:
        if self._asked and outcome.message_id == self._message.id:
            self._asked = False
            self.outcome.setText(outcome.describe())

    def done(self, result: int) -> None:
        """Closed, however (Close, Escape, the title bar): a Reproduce still running is
        stopped, since nobody is left to read its outcome, and the session is let go. Not
        closeEvent: Escape hides a dialog without one."""
        if self._asked:
            self._asked = False
            self._session.stop()
        if self._listening:
            self._listening = False
            self._session.reproduced.disconnect(self._on_reproduced)
            self._session.state_changed.disconnect(self._update)
        super().done(result)
