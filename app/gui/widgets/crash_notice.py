"""The bar above the chat that says which model stopped Hearth last time."""

from __future__ import annotations

from PySide6.QtCore import Signal, SignalInstance
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout

from app.chat.crash_recovery import crash_notice
from app.platform.crash_marker import EngineRun


class CrashNotice(QFrame):
    """Not a dialog: the window stays usable, and the notice stays until answered."""

    retry_in_safe_mode = Signal()
    choose_another = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("crashNotice")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#crashNotice { background: palette(alternate-base); }")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.safe_mode_button = QPushButton(self.tr("Try again in safe mode"))
        self.safe_mode_button.clicked.connect(lambda: self._answer(self.retry_in_safe_mode))
        self.other_button = QPushButton(self.tr("Choose another model…"))
        self.other_button.clicked.connect(lambda: self._answer(self.choose_another))
        dismiss = QPushButton(self.tr("Dismiss"))
        dismiss.clicked.connect(self.hide)
        buttons = QVBoxLayout()
        for button in (self.safe_mode_button, self.other_button, dismiss):
            buttons.addWidget(button)
        buttons.addStretch()
        layout = QHBoxLayout(self)
        layout.addWidget(self.text, 1)
        layout.addLayout(buttons)
        self.hide()

    def show_run(self, run: EngineRun, can_retry: bool) -> None:
        """`can_retry`: the model is still in the library (and safe mode has not failed too)."""
        self.text.setText(crash_notice(run))
        self.safe_mode_button.setVisible(can_retry and not run.safe_mode)
        self.show()

    def _answer(self, signal: SignalInstance) -> None:
        self.hide()
        signal.emit()
