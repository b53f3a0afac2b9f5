"""Deleting without fear. A message deleted (with what follows it) can be taken back from
the undo bar (Ctrl+Z or Undo) until the next thing deleted. A conversation goes to the
Trash, and the undo bar offers to bring it back at once; the Trash dialog restores it later, or deletes it
for good. At start, what has been in the Trash longer than TRASH_DAYS is deleted, off the
GUI thread (it removes whole conversations and their search index entries). A conversation
deleted for good loses its saved KV state too (the token ids of all of it, its text); one in
the Trash keeps it, to be restored.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from app.config.settings import Settings
from app.conversations.store import ConversationStore
from app.gui.controllers.chat_session import ChatSession
from app.gui.ops import run_in_background
from app.gui.trash_dialog import TrashDialog, with_store
from app.gui.widgets.undo_bar import UndoBar
from app.platform.paths import AppPaths
from app.platform.saved_states import empty_saved_states, forget_saved_states

log = logging.getLogger(__name__)


class ConversationTrash(QObject):
    def __init__(self, session: ChatSession, paths: AppPaths, undo_bar: UndoBar, window: QWidget) -> None:
        super().__init__(window)
        self._session, self._paths, self._undo_bar, self._window = session, paths, undo_bar, window
        self.dialog: TrashDialog | None = None  # the Trash shown, kept from the garbage collector

    def delete_shown(self) -> None:
        """Move the shown conversation to the Trash and offer to undo that."""
        conversation_id, title = self._session.conversation_id, self._session.title()
        if conversation_id is not None and self._session.delete():
            self._undo_bar.offer(self.tr("“{title}” moved to Trash.").format(title=title),
                                 lambda: self._session.restore(conversation_id))

    def delete_message(self, message_id: int) -> None:
        """Delete a shown message and what follows it (and its conversation's saved KV
        state), and offer to undo that."""
        deleted = self._session.delete_message(message_id)
        if deleted is not None:
            # The saved KV state holds the deleted text; it is only a cache (one prompt read again).
            kv_states, key = self._paths.kv_states, deleted.conversation_uuid
            run_in_background(self, lambda: forget_saved_states(kv_states, [key]),
                              on_failure=lambda error: log.warning("saved state not deleted: %s", error))
            self._undo_bar.offer(self.tr("Message deleted, with %n after it.", "", deleted.count - 1) if deleted.count > 1
                                 else self.tr("Message deleted."), lambda: self._session.restore_messages(deleted))

    def open_trash(self) -> TrashDialog:
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = TrashDialog(self._paths, self._window)
        self.dialog.restore_requested.connect(self._restore)
        self.dialog.open()
        return self.dialog

    def _restore(self, conversation_id: int) -> None:
        self._undo_bar.dismiss()  # what it offers may be this very conversation
        self._session.restore(conversation_id)

    def empty_old(self) -> None:
        """Delete for good what went to the Trash more than TRASH_DAYS ago, and their saved
        KV states, in the background."""
        kv_states = self._paths.kv_states

        def empty(store: ConversationStore) -> int:
            removed = store.empty_trash()
            forget_saved_states(kv_states, removed)
            return len(removed)

        run_in_background(
            self, with_store(self._paths, empty),
            on_success=lambda count: log.info("emptied %d conversations from the Trash", count) if count else None,
            on_failure=lambda error: log.warning("emptying the Trash failed: %s", error),
        )

    def follow_settings(self, settings: Settings) -> None:
        """With saved KV states turned off (saved_state_mb 0), delete those saved before, in
        the background: at start and when the setting changes, loaded model or not (the
        engine empties the folder at each load too)."""
        if settings.engine.saved_state_mb <= 0:
            kv_states = self._paths.kv_states
            run_in_background(
                self, lambda: empty_saved_states(kv_states),
                on_success=lambda count: log.info("deleted %d saved KV state files", count) if count else None,
                on_failure=lambda error: log.warning("deleting the saved KV states failed: %s", error),
            )
