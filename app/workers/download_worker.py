"""The worker that runs model downloads one after another, on its own thread.

Jobs arrive through a queued signal, so while one downloads the next waits in
this thread's event queue: that is the download queue. Pause and cancel set a
threading.Event from the GUI thread, because this thread's event loop is busy
while a download runs.
"""

from __future__ import annotations

import logging
import threading
import time

from PySide6.QtCore import QObject, Signal, Slot

from app.core.downloads import Downloader, DownloadJob, Progress
from app.core.errors import HearthError

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.25


class DownloadWorker(QObject):
    progress = Signal(str, object)  # job id, Progress
    finished = Signal(str, object)  # job id, the new ModelEntry
    failed = Signal(str, str)  # job id, plain message
    stopped = Signal(str)  # job id: paused or cancelled; the GUI knows which

    def __init__(self, downloader: Downloader) -> None:
        super().__init__()
        self.downloader = downloader
        self._lock = threading.Lock()
        self._stops: dict[str, threading.Event] = {}

    def stop_event(self, job_id: str) -> threading.Event:
        """The event that pauses `job_id`; callable from any thread."""
        with self._lock:
            return self._stops.setdefault(job_id, threading.Event())

    @Slot(object)
    def run_job(self, job: DownloadJob) -> None:
        stop = self.stop_event(job.id)
        if stop.is_set():  # paused or cancelled while it waited in the queue
            self._forget(job.id)
            self.stopped.emit(job.id)
            return
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
            self._forget(job.id)
            self.failed.emit(job.id, str(exc))
        except Exception as exc:  # noqa: BLE001 - shown to the user, details logged
            log.exception("download %s failed", job.id)
            self._forget(job.id)
            self.failed.emit(job.id, f"The download stopped unexpectedly: {exc}")
        else:
            self._forget(job.id)  # before telling the GUI, so a Resume gets a fresh event
            if entry is None:
                self.stopped.emit(job.id)
            else:
                self.finished.emit(job.id, entry)

    def _forget(self, job_id: str) -> None:
        with self._lock:
            self._stops.pop(job_id, None)
