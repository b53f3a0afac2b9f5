"""Searching every conversation from the sidebar: each search goes to the store reader's
thread (it grows with the whole history), and only the answer to the latest one is shown."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from app.gui.workers.store_reader import StoreReader

PAGE = 50  # hits shown for a search: more than fit the sidebar, and one index read (bench/search.py)


class HistorySearch(QObject):
    found = Signal(str, object)  # the text searched for, list[SearchHit]
    failed = Signal(str)  # plain message
    request_search = Signal(int, str, int)  # request id, text, limit: to the reader's thread

    def __init__(self, reader: StoreReader) -> None:
        super().__init__()
        self._latest = 0
        self._reader = reader
        self.request_search.connect(reader.search)
        reader.searched.connect(self._on_searched)
        reader.search_failed.connect(self._on_failed)

    def find(self, text: str) -> None:
        """Search for `text`; an answer to an earlier search still on its way is dropped."""
        self._latest += 1
        self._reader.wanted_search = self._latest  # one still queued is skipped
        self.request_search.emit(self._latest, text, PAGE)

    def cancel(self) -> None:
        """Nothing is being searched for any more (the field was cleared)."""
        self._latest += 1
        self._reader.wanted_search = self._latest

    def _on_searched(self, request_id: int, text: str, hits: object) -> None:
        if request_id == self._latest:
            self.found.emit(text, hits)

    def _on_failed(self, request_id: int, message: str) -> None:
        if request_id == self._latest:
            self.failed.emit(message)
