"""The worker that runs one model download at a time, on its own thread.

The download queue (app/gui/item_models/download_list.py) hands it one job at a time
with that run's own stop event. Pause and cancel set the event from the GUI
thread, because this thread's event loop is busy while a download runs.
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import QObject, Signal, Slot

from app.library.downloads import Downloader, DownloadJob, Progress
from app.platform.errors import HearthError, described

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.25


class DownloadWorker(QObject):
    progress = Signal(str, object)  # job id, Progress
    finished = Signal(str, object)  # job id, the new ModelEntry
    failed = Signal(str, str)  # job id, plain message
    stopped = Signal(str)  # job id: paused or cancelled; the queue knows which

    def __init__(self, downloader: Downloader) -> None:
        super().__init__()
        self.downloader = downloader

    @Slot(object, object)
    def run_job(self, job: DownloadJob, stop: threading.Event) -> None:
        job = self.downloader.latest(job)  # a resumed Hub download keeps its commit and ETag
        last = [0.0]

        def report(progress: Progress) -> None:
            now = time.monotonic()
            if progress.phase != "downloading" or now - last[0] >= PROGRESS_INTERVAL:
                last[0] = now
                self.progress.emit(job.id, progress)

        try:
            entry = self.downloader.run(job, report, stop)
        except HearthError as exc:
            self.failed.emit(job.id, str(exc))
        except Exception as exc:
            log.exception("download %s failed", job.id)
            self.failed.emit(job.id, self.tr("The download stopped unexpectedly: {error}").format(error=described(exc)))
        else:
            if entry is None:
                self.stopped.emit(job.id)
            else:
                self.finished.emit(job.id, entry)
