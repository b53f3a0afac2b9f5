"""Messages already read, shown a page per turn of the event loop.

A search hit thousands of messages up is read down to in one go (off the GUI thread), but
laying all of that out at once would freeze the window for seconds (0.3 ms a message
here). The chat session shows the hit's page first, and hands the rest to this, which
gives it back a page at a time, oldest first, each added below in its own turn of the
event loop (adding at the end lays out only what is added; at the top, all below again).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from app.conversations.store import Message

Deliver = Callable[[list[Message]], None]  # a page, oldest first


class PacedPages(QObject):
    def __init__(self, parent: QObject, page: int) -> None:
        super().__init__(parent)
        self._page = page
        self._waiting: list[Message] = []
        self._deliver: Deliver | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._next)

    @property
    def pending(self) -> bool:
        return bool(self._waiting)

    def start(self, messages: list[Message], deliver: Deliver) -> None:
        """Give `messages` (oldest first) to `deliver` a page at a time, in order."""
        self._waiting, self._deliver = list(messages), deliver
        self._timer.start()

    def cancel(self) -> None:
        self._timer.stop()
        self._waiting, self._deliver = [], None

    def _next(self) -> None:
        page, self._waiting = self._waiting[: self._page], self._waiting[self._page :]
        deliver = self._deliver
        if not self._waiting:
            self.cancel()
        if deliver is not None and page:
            deliver(page)
