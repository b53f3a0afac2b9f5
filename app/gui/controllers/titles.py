"""Generated titles: after a conversation's first reply, the loaded model titles it.

The title is a request queued on the inference worker after the reply (llama.cpp is called
from one thread), written by app/chat/titles.py. It never delays the user: asking for a
reply sets the worker's `title_cancel` at once, from this thread, so a title still queued
is skipped and one being written stops; the first words remain the title.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.chat.titles import TitleRequest, is_greeting
from app.conversations.store import ConversationStore, Message, Role, Status
from app.gui.controllers.app_settings import AppSettings
from app.gui.controllers.chat_session import ChatSession
from app.gui.controllers.model_loader import ModelLoader
from app.gui.workers.inference_worker import InferenceWorker


class TitleWriter(QObject):
    request_title = Signal(object)  # TitleRequest, to the worker's thread
    titled = Signal(int)  # a conversation id: it has its generated title, shown in the list

    def __init__(
        self, session: ChatSession, store: ConversationStore, worker: InferenceWorker, loader: ModelLoader, settings: AppSettings
    ) -> None:
        super().__init__(session)
        self._session, self._store, self._worker, self._loader, self._settings = session, store, worker, loader, settings
        self._shut_down = False
        self.request_title.connect(worker.write_title)
        session.reply_started.connect(self._give_way)
        session.reply_saved.connect(self._on_reply_saved)
        worker.titled.connect(self._on_titled)

    def _give_way(self) -> None:
        self._worker.title_cancel.set()

    def _on_reply_saved(self, reply: Message, branch: tuple[int, int]) -> None:
        if self._shut_down or reply.role != Role.ASSISTANT or reply.status != Status.COMPLETE or branch[0] != 1:
            return
        question = self._message(reply.parent_id)
        opening = self._message(question.parent_id) if question is not None else None
        if question is None or (question.parent_id is not None and (opening is None or not is_greeting(opening))):
            return  # not the first reply (a greeting before the question does not count)
        preference = self._settings.current().preferences_of(self._loader.model_id).prompt_format
        self._worker.title_cancel.clear()
        self.request_title.emit(TitleRequest(reply.id, preference))

    def _message(self, message_id: int | None) -> Message | None:
        """From the thread shown when it is there (no statement on the GUI thread each turn), else from the store."""
        if message_id is None:
            return None
        return self._session.shown_message(message_id) or self._store.message(message_id)

    def _on_titled(self, reply_id: int, _title: str) -> None:
        if self._shut_down:
            return
        reply = self._store.message(reply_id)
        self._session.conversations.refresh()
        if reply is not None:
            self.titled.emit(reply.conversation_id)

    def shutdown(self) -> None:
        """Stop a title being written and ignore what the worker still sends (the store closes next)."""
        self._shut_down = True
        self._worker.title_cancel.set()
