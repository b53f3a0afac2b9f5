"""The choice a full context gives: leave the oldest messages out (what every reply does
then, the default) or have the loaded model summarise them (app/chat/summary.py).

A controller: it knows from the shown conversation's last reply how many messages that
reply left out, offers the choice (again only once more is left out than was turned
down), and runs the summary on the
inference worker's thread; the chat session is held (nothing can be sent) while it runs,
and shows the conversation again, with its summary, once it is kept.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.chat.summary import SUMMARY_KEY, covered_count, is_summary
from app.conversations.store import ConversationStore, Message, Role
from app.gui.controllers.app_settings import AppSettings
from app.gui.controllers.chat_session import ChatSession
from app.gui.controllers.model_loader import ModelLoader
from app.gui.workers.inference_worker import InferenceWorker, SummaryRequest
from app.platform.errors import HearthError


class ConversationSummaries(QObject):
    offer = Signal(int)  # messages the last reply left out (0: nothing to offer now)
    progress = Signal(int, int)  # parts summarised, parts in all
    done = Signal(str)  # a plain sentence: what happened
    failed = Signal(str, str)  # title, plain message
    request_summary = Signal(object)  # SummaryRequest, to the worker's thread

    def __init__(
        self, session: ChatSession, store: ConversationStore, worker: InferenceWorker, loader: ModelLoader, settings: AppSettings
    ) -> None:
        super().__init__(session)
        self._session, self._store, self._worker, self._loader, self._settings = session, store, worker, loader, settings
        self._request_id = 0
        self._running = 0  # the request the worker is answering; 0: none
        # Turned down: (conversation, messages then left out). Offered again there only once a
        # reply leaves out more (the next step of app/backends/llama/prompting.py), not after
        # every reply, which at a full context all leave some out.
        self._declined: tuple[int, int] | None = None
        self.request_summary.connect(worker.summarise)
        worker.summary_progress.connect(self._on_progress)
        worker.summarised.connect(self._on_summarised)
        session.state_changed.connect(self._offer)

    @property
    def running(self) -> bool:
        return self._running != 0

    def left_out(self) -> tuple[Message, int] | None:
        """The shown conversation's last reply and how many messages it left out, when it is
        the last message shown and left some out."""
        shown = self._session.shown_messages()
        last = shown[-1] if shown else None
        if last is None or last.role != Role.ASSISTANT:
            return None
        count = int(last.stats.get("omitted_turns", 0))
        return (last, count) if count > 0 else None

    def decline(self) -> None:
        """Leave them out: the offer comes back only once a reply leaves out more."""
        found = self.left_out()
        self._declined = (found[0].conversation_id, found[1]) if found is not None else None
        self.offer.emit(0)

    def summarise(self) -> bool:
        """Summarise what the last reply left out; False when it cannot start now."""
        found = self.left_out()
        if found is None or self.running or not self._session.can_reply:
            return False
        reply, count = found
        self._request_id += 1
        self._running = self._request_id
        self._session.hold(True)
        preference = self._settings.current().preferences_of(self._loader.model_id).prompt_format
        self._worker.before_chat_request()
        self.request_summary.emit(SummaryRequest(self._request_id, reply.id, count, preference))
        self.offer.emit(0)
        return True

    def edit(self, summary_id: int, text: str) -> bool:
        """Keep `text` as a new version of the summary `summary_id` (beside it, as an edited
        question is); the model reads the version shown. False when nothing was saved."""
        summary = self._session.shown_message(summary_id)
        if summary is None or not is_summary(summary) or not text.strip() or not self._session.can_change:
            return False
        record = {SUMMARY_KEY: summary.provenance[SUMMARY_KEY], "model": summary.provenance.get("model", ""), "edited": True}
        try:
            self._store.add_message(summary.conversation_id, summary.parent_id, Role.SYSTEM, text.strip(), provenance=record)
        except HearthError as error:
            self.failed.emit(self.tr("Not saved"), str(error))
            return False
        self._session.refresh()
        return True

    def _offer(self) -> None:
        """Offer the choice for what the shown conversation's last reply left out, unless it
        was turned down, or the conversation is being read (what is shown is the old page)."""
        found = self.left_out()
        if found is None or self.running or self._session.reading:
            self.offer.emit(0)
            return
        reply, count = found
        declined = self._declined is not None and self._declined[0] == reply.conversation_id and count <= self._declined[1]
        self.offer.emit(0 if declined else count)

    def _on_progress(self, request_id: int, done: int, total: int) -> None:
        if request_id == self._running:
            self.progress.emit(done, total)

    def _on_summarised(self, request_id: int, summary_id: int, message: str) -> None:
        if request_id != self._running or self._session.shut_down:  # closing: the store is closed next
            return
        self._running = 0
        if summary_id:
            self._session.refresh()  # read first: the old page's last reply would offer the choice again
        self._session.hold(False)
        if message:
            self.failed.emit(self.tr("No summary was written"), message)
        elif summary_id:
            summary = self._store.message(summary_id)
            count = covered_count(summary) if summary is not None else 0
            self.done.emit(self.tr(
                "The oldest %n messages are summarised: the model now reads the summary instead of them. "
                "They are still saved, and the summary can be edited.", "", count))
        else:
            self.done.emit(self.tr("Summarising was stopped; nothing was changed."))
