"""Which collections of the user's documents the shown conversation is answered from.

Before a chat begins its choice waits in the chat session (`documents_for_new_chat`) and
is saved with the conversation when the first message is sent; after, it is the
conversation's own (the store's `attached_documents`). The collections to choose from
come from the documents index, read off the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.conversations.store import ConversationStore
from app.gui.controllers.chat_session import ChatSession
from app.platform.errors import HearthError


class AttachedDocuments(QObject):
    changed = Signal()  # the shown conversation's collections, or those to choose from, changed
    error = Signal(str, str)  # title, plain message

    def __init__(self, session: ChatSession, store: ConversationStore) -> None:
        super().__init__(session)
        self._session, self._store = session, store
        self._available: list[str] = []
        session.state_changed.connect(self.changed)

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
        try:
            return self._store.attached_documents(conversation_id)
        except HearthError:
            return []

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
        self.changed.emit()
