"""sha256 on a second thread, for copies and downloads that must not slow down."""

from __future__ import annotations

import hashlib
import queue
import threading


class ParallelHasher:
    """The sha256 of the `length` bytes given so far, computed on a second thread
    while the next blocks are read (hashlib releases the GIL), so hashing does not
    slow a fast download or copy down. A download keeps one across retries, so a
    dropped connection does not mean re-reading the whole part file."""

    def __init__(self) -> None:
        self.length = 0
        self._digest = hashlib.sha256()
        self._blocks: queue.Queue[bytes | None] = queue.Queue(maxsize=8)  # at most 8 blocks waiting in memory
        self._thread: threading.Thread | None = None

    def restart(self, digest: hashlib._Hash | None = None, length: int = 0) -> None:
        self.finish()
        self._digest, self.length = digest or hashlib.sha256(), length

    def add(self, block: bytes) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
            self._thread.start()
        self._blocks.put(block)
        self.length += len(block)

    def digest(self) -> hashlib._Hash:
        self.finish()
        return self._digest

    def finish(self) -> None:
        """Wait until every block given so far is hashed, and stop the thread."""
        if self._thread is not None:
            self._blocks.put(None)
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while (block := self._blocks.get()) is not None:
            self._digest.update(block)
