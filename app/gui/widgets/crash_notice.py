"""The bar above the chat that says which model stopped Hearth last time."""

from __future__ import annotations

from PySide6.QtCore import Signal, SignalInstance

from app.chat.crash_recovery import crash_notice
from app.gui.widgets.notice_bar import NoticeBar
from app.platform.crash_marker import EngineRun


class CrashNotice(NoticeBar):
    """It stays until answered or dismissed, or until a model loads (ModelChoice hides it)."""

    retry_in_safe_mode = Signal()
    choose_another = Signal()

    def __init__(self) -> None:
        super().__init__("crashNotice")
        self.safe_mode_button = self.add_button(self.tr("Try again in safe mode"))
        self.safe_mode_button.clicked.connect(lambda: self._answer(self.retry_in_safe_mode))
        self.other_button = self.add_button(self.tr("Choose another model…"))
        self.other_button.clicked.connect(lambda: self._answer(self.choose_another))

    def show_run(self, run: EngineRun, can_retry: bool) -> None:
        """`can_retry`: the model is still in the library (and safe mode has not failed too)."""
        self.text.setText(crash_notice(run))
        self.safe_mode_button.setVisible(can_retry and not run.safe_mode)
        self.show()

    def _answer(self, signal: SignalInstance) -> None:
        self.hide()
        signal.emit()
