"""The window's side of summarising the oldest messages: the notice that offers it, the Chat
menu's action, and what the status bar says while it runs (the work: app/gui/controllers/summaries.py)."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QBoxLayout, QLabel, QStatusBar, QWidget

from app.conversations.store import ConversationStore
from app.gui.controllers.app_settings import AppSettings
from app.gui.controllers.chat_session import ChatSession
from app.gui.controllers.model_loader import ModelLoader
from app.gui.controllers.summaries import ConversationSummaries
from app.gui.dialogs import show_error
from app.gui.widgets.left_out_notice import LeftOutNotice
from app.gui.workers.inference_worker import InferenceWorker


class SummaryActions(QObject):
    def __init__(
        self, window: QWidget, notices: QBoxLayout, before: QWidget, action: QAction, status: QStatusBar, speed: QLabel,
        session: ChatSession, store: ConversationStore, worker: InferenceWorker, loader: ModelLoader, settings: AppSettings,
    ) -> None:
        """`notices`: the layout the notice goes into, above `before` (the chat), `speed`: the status
        bar's label that says how a reply goes, which says how the summary goes too."""
        super().__init__(window)
        self._window, self._action, self._status, self._speed, self._session = window, action, status, speed, session
        self.summaries = ConversationSummaries(session, store, worker, loader, settings)
        self.notice = LeftOutNotice()
        notices.insertWidget(notices.indexOf(before), self.notice)
        self.notice.summarise_button.clicked.connect(self.summaries.summarise)
        self.notice.dismiss_button.clicked.connect(self.summaries.decline)
        action.triggered.connect(self.summaries.summarise)
        self.summaries.offer.connect(self.notice.show_offer)
        self.summaries.progress.connect(self._on_progress)
        self.summaries.done.connect(self._on_done)
        self.summaries.failed.connect(self._on_failed)
        session.state_changed.connect(self._update)
        self._update()

    def _update(self) -> None:
        self._action.setEnabled(self.summaries.left_out() is not None and self._session.can_reply)

    def _on_progress(self, done: int, total: int) -> None:
        if total > 1:
            self._speed.setText(self.tr("Summarising the oldest messages: part {done} of {total}…").format(
                done=min(done + 1, total), total=total))
        else:
            self._speed.setText(self.tr("Summarising the oldest messages…"))

    def _on_done(self, text: str) -> None:
        self._speed.clear()
        self._status.showMessage(text, 15_000)

    def _on_failed(self, title: str, message: str) -> None:
        self._speed.clear()
        show_error(self._window, title, message)
