"""Saving a growing reply's text when the next token is slow to come.

A reply is saved as it grows (store.GrowingReply), at most `interval` seconds behind what
was shown, but only when a token arrives: the thread that writes the reply is inside
llama.cpp between two tokens. With a slow model (a token every few seconds) the text shown
could go unsaved for as long as the wait for the next token, and a crash or a power cut
then lost it; the audit measured 1.06 s with a 0.5 s interval (issue 12).

LateSaves writes that text from a thread of its own, with its own connection (SQLite
connections are not shared between threads), once no token has come for `interval`; while
tokens flow, the reply's own saves keep within it. A save of the
reply's own thread always wins: it first takes back what waits here, under the lock that a
late write holds, so an older text never lands after a newer one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from app.conversations.store import ConversationStore
from app.platform.errors import HearthError

log = logging.getLogger(__name__)


class LateSaves:
    def __init__(self, open_store: Callable[[], ConversationStore]) -> None:
        """`open_store()` opens the connection this thread writes with, on it, at its first save."""
        self._open_store = open_store
        self._changed = threading.Condition()
        # message id -> (its text as it is when written, when to write it)
        self._waiting: dict[int, tuple[Callable[[], str], float]] = {}
        self._thread: threading.Thread | None = None
        self._closed = False

    def save_at(self, message_id: int, text: Callable[[], str], due: float) -> None:
        """Save `text()` as the message's content at `due` (time.monotonic), unless taken back
        before: called then, not now, so a reply asking at every token joins its text once.
        The thread is woken only when the message was not waiting already: a reply asks at
        every token, for the same time, until it saves."""
        with self._changed:
            if self._closed:
                return
            waiting = message_id in self._waiting
            self._waiting[message_id] = (text, due)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="late-saves", daemon=True)
                self._thread.start()
            if not waiting:
                self._changed.notify()

    def take_back(self, message_id: int) -> None:
        """Nothing waits for `message_id` any more; returns after a late write of it under way."""
        with self._changed:
            self._waiting.pop(message_id, None)

    def close(self) -> None:
        """Write nothing more, and end the thread (what waits is not written: its reply's own
        thread saves it when it finishes)."""
        with self._changed:
            self._closed = True
            self._waiting.clear()
            self._changed.notify()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        store: ConversationStore | None = None
        with self._changed:
            while not self._closed:
                now = time.monotonic()
                due = [(key, text) for key, (text, when) in self._waiting.items() if when <= now]
                if not due:
                    later = min((when for _text, when in self._waiting.values()), default=None)
                    self._changed.wait(None if later is None else later - now)
                    continue
                for key, text in due:
                    del self._waiting[key]
                    try:  # under the lock: the reply's own save waits for this one
                        store = store or self._open_store()
                        store.update_message(key, text())
                    except HearthError as error:  # its own thread saves it at its next token
                        log.warning("a reply's text could not be saved early: %s", error)
        if store is not None:
            store.close()
