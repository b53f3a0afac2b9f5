"""Run one plain-Python call off the GUI thread and hear back through signals."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.platform.errors import HearthError

log = logging.getLogger(__name__)


class BackgroundTask(QObject):
    succeeded = Signal(object)
    failed = Signal(str)
    finished = Signal()  # after succeeded or failed
    progress = Signal(int, int)  # done, total: for work that reports it through `report`

    def __init__(self, work: Callable[[], Any], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work

    def report(self, done: int, total: int) -> None:
        """Progress from the work itself; safe from the pool thread (a queued signal)."""
        self.progress.emit(done, total)

    def start(self, pool: QThreadPool | None = None) -> None:
        (pool or QThreadPool.globalInstance()).start(QRunnable.create(self._run))

    def _run(self) -> None:
        try:
            result = self._work()
        except HearthError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:
            log.exception("background task failed")
            self.failed.emit(f"Something went wrong: {exc}")
        else:
            self.succeeded.emit(result)
        finally:
            self.finished.emit()
