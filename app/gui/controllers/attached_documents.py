"""Which collections of the user's documents the shown conversation is answered from, and
what they will cost the next question.

Before a chat begins its choice waits in the chat session (`documents_for_new_chat`) and
is saved with the conversation when the first message is sent; after, it is the
conversation's own (the store's `attached_documents`). The collections to choose from
come from the documents index, read off the GUI thread. Going through every document is
chosen for the next question only (the chat session's `every_document_next`).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.backends.base import ModelFacts, ReplyStats
from app.chat.every_document import looks_like_every_document
from app.chat.grounding import TOKENS_PER_PASSAGE, passage_count
from app.conversations.store import ConversationStore
from app.gui.controllers.app_settings import AppSettings
from app.gui.controllers.chat_session import ChatSession
from app.gui.controllers.model_loader import ModelLoader
from app.platform.errors import HearthError


class AttachedDocuments(QObject):
    changed = Signal()  # the shown conversation's collections, or those to choose from, changed
    error = Signal(str, str)  # title, plain message

    def __init__(self, session: ChatSession, store: ConversationStore, loader: ModelLoader, settings: AppSettings) -> None:
        super().__init__(session)
        self._session, self._store, self._settings = session, store, settings
        self._available: list[str] = []
        self._context_length = 0  # the loaded model's
        self._prompt_speed: float | None = None  # tokens/s the engine read the last prompt at
        # The shown conversation's, read from the store when it changes: the hint under the
        # message box asks for them at every keystroke.
        self._names: list[str] = []
        self._names_of: int | None = None
        session.state_changed.connect(self._on_state_changed)
        loader.loaded.connect(self._on_loaded)
        session.reply_finished.connect(self._on_reply_finished)

    @property
    def available(self) -> list[str]:
        """The collections there are, as last read."""
        return list(self._available)

    def set_available(self, names: list[str]) -> None:
        self._available = list(names)
        self.changed.emit()

    def names(self) -> list[str]:
        """The collections attached to the shown conversation (or to the chat not begun);
        none once the window is closing, or where the store cannot say (its notice tells why)."""
        conversation_id = self._session.conversation_id
        if conversation_id is None or self._session.shut_down:
            return list(self._session.documents_for_new_chat)
        if conversation_id != self._names_of:
            try:
                self._names = self._store.attached_documents(conversation_id)
            except HearthError:
                self._names = []
            self._names_of = conversation_id
        return list(self._names)

    def _on_state_changed(self) -> None:
        self._names_of = None  # another conversation, or the one shown was just begun
        self.changed.emit()

    def set_attached(self, name: str, attached: bool) -> None:
        if self._session.shut_down:
            return
        names = [other for other in self.names() if other != name] + ([name] if attached else [])
        conversation_id = self._session.conversation_id
        if conversation_id is None:
            self._session.documents_for_new_chat = names
        else:
            try:
                self._store.set_attached_documents(conversation_id, names)
            except HearthError as exc:
                self.error.emit(self.tr("Not saved"), str(exc))
                return
            self._names, self._names_of = names, conversation_id
        if not names:
            self._session.every_document_next = False
        self.changed.emit()

    @property
    def every_document(self) -> bool:
        return self._session.every_document_next

    def set_every_document(self, chosen: bool) -> None:
        self._session.every_document_next = chosen and bool(self.names())
        self.changed.emit()

    def hint(self, typed: str) -> str:
        """The line under the message box about the documents: what the next question brings
        along and how long its first word may take here, or the suggestion to go through
        every document; '' without documents attached."""
        names = self.names()
        if not names:
            return ""
        if self.every_document:
            return self.tr("The next question goes through every part of {names}, then answers from notes (slower).").format(
                names=", ".join(names))
        passages = passage_count(self._settings.current().documents.passages, self._context_length or 4096)
        tokens = passages * TOKENS_PER_PASSAGE
        sentences = [self.tr("Each question brings up to %n passages of {names} (about {tokens} tokens).", "", passages).format(
            names=", ".join(names), tokens=tokens)]
        if self._prompt_speed:
            sentences.append(self.tr("Reading them takes about {seconds:.0f} s on this computer.").format(
                seconds=max(1.0, tokens / self._prompt_speed)))
        if looks_like_every_document(typed):
            sentences.append(self.tr("About every document? Documents → Go through every document answers it better."))
        return " ".join(sentences)

    def _on_loaded(self, facts: ModelFacts) -> None:
        self._context_length = facts.context_length
        self._prompt_speed = None  # another model reads at another speed
        self.changed.emit()

    def _on_reply_finished(self, stats: ReplyStats) -> None:
        read = stats.prompt_tokens - stats.prompt_tokens_reused
        # A prompt of a few tokens is read too fast to time: its speed says little.
        if read >= 64 and stats.time_to_first_token > 0:
            self._prompt_speed = read / stats.time_to_first_token
            self.changed.emit()
