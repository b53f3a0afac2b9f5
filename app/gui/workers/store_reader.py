"""The reads that grow with a person's history, on a thread of their own.

Opening a conversation reads a page of its messages (its end, or the page before what is
shown) and renders them; both grow with the page, and a page can reach far back (a search
hit), so neither runs on the GUI thread; nor does a search, which grows with the whole
history. The reader has its own connection (opened on its thread on first use:
SQLite connections are not shared between threads) and answers each request with the id
it came with, so the asker can tell a stale answer from the one it waits for. Reads of a
conversation the session no longer wants (`wanted`, set directly from the GUI thread) are
skipped, so clicking through long conversations does not queue a read of each, and
closing does not wait behind them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, Signal, Slot

from app.conversations.opener import open_conversations
from app.conversations.search import SearchHit
from app.conversations.store import BranchedThread, ConversationStore, Message
from app.platform.errors import HearthError
from app.platform.paths import AppPaths

log = logging.getLogger(__name__)

Prepare = Callable[[list[Message]], Any]  # work on a loaded thread's messages, on the reader's thread


@dataclass(frozen=True)
class PageRequest:
    """Which page of a conversation's shown branch to read (`ConversationStore.thread_page`)."""

    conversation_id: int
    limit: int  # messages
    before: int | None = None  # the first message shown: the page ends just above it; None: the newest
    reach: int | None = None  # read back at least to this message (a search hit), where it is on the branch


class StoreReader(QObject):
    thread_loaded = Signal(int, object, object)  # request id, BranchedThread (a page), what `prepare` returned
    failed = Signal(int, str)  # request id, plain message
    searched = Signal(int, str, object)  # request id, the text searched for, list[SearchHit]
    search_failed = Signal(int, str)  # request id, plain message (its own: the ids are the searcher's, not the session's)

    def __init__(self, paths: AppPaths) -> None:
        super().__init__()
        self._paths = paths
        self._store: ConversationStore | None = None
        self._thread: QThread | None = None  # kept referenced: an unreferenced QThread is deleted running
        # The read and the search their askers wait for (an int assignment is atomic); -1:
        # none, ever again.
        self.wanted = 0
        self.wanted_search = 0

    @classmethod
    def started(cls, paths: AppPaths) -> StoreReader:
        """A reader on its own, running thread (named "store")."""
        reader = cls(paths)
        thread = QThread()
        thread.setObjectName("store")
        reader.moveToThread(thread)
        reader._thread = thread
        thread.start()
        return reader

    def _opened(self) -> ConversationStore:
        if self._store is None:
            self._store = open_conversations(self._paths)
        return self._store

    @Slot(int, object, object)
    def load_thread(self, request_id: int, page: PageRequest, prepare: Prepare) -> None:
        if request_id != self.wanted:
            return
        conversation_id = page.conversation_id
        try:
            thread: BranchedThread = self._opened().thread_page(
                conversation_id, page.limit, before=page.before, reach=page.reach
            )
        except HearthError as exc:
            self.failed.emit(request_id, str(exc))
            return
        except Exception:  # a bug, or a row no release wrote: told, never a chat that never shows
            log.exception("reading conversation %s failed", conversation_id)
            self.failed.emit(request_id, self.tr("Hearth could not read it. The details are in its log."))
            return
        if request_id != self.wanted:
            return
        try:
            prepared = prepare(thread.messages)
        except Exception:  # the thread is shown all the same, prepared on the GUI thread
            log.exception("preparing conversation %s to be shown failed", conversation_id)
            prepared = None
        self.thread_loaded.emit(request_id, thread, prepared)

    @Slot(int, str, int)
    def search(self, request_id: int, text: str, limit: int) -> None:
        if request_id != self.wanted_search:
            return  # typed on since, or closing
        try:
            hits: list[SearchHit] = self._opened().search(text, limit)
        except HearthError as exc:
            self.search_failed.emit(request_id, str(exc))
            return
        except Exception:  # told, as a failed read is
            log.exception("searching for %r failed", text)
            self.search_failed.emit(request_id, self.tr("Hearth could not search. The details are in its log."))
            return
        self.searched.emit(request_id, text, hits)

    @Slot()
    def _close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    def stop(self) -> None:
        """From the GUI thread: close the connection (after the read under way; queued ones
        are skipped) and end the thread. Once is enough; again does nothing."""
        self.wanted = self.wanted_search = -1
        thread = self.thread()
        if thread is QThread.currentThread() or not thread.isRunning():
            return
        QMetaObject.invokeMethod(self, "_close", Qt.ConnectionType.BlockingQueuedConnection)
        thread.quit()
        thread.wait()
