"""Start plain-Python work off the GUI thread and hear back on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from app.gui.workers.background import BackgroundTask


def run_task(
    owner: QObject,
    work: Callable[..., Any],
    on_success: Callable[[Any], None],
    on_failure: Callable[[str], None],
    on_progress: Callable[[int, int], None] | None = None,
) -> BackgroundTask:
    """Run `work` on the thread pool. The callbacks must be bound methods of QObjects
    living on the GUI thread: they then run there, whereas a lambda would run on the
    pool thread. With `on_progress`, `work` is called with a report(done, total)
    function. The task belongs to `owner` and deletes itself when done."""
    task = BackgroundTask((lambda: work(task.report)) if on_progress else work, owner)
    task.succeeded.connect(on_success)
    task.failed.connect(on_failure)
    if on_progress is not None:
        task.progress.connect(on_progress)
    task.finished.connect(task.deleteLater)
    task.start()
    return task
