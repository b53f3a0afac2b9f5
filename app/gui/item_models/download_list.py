"""The download queue as a list model: a manager object in front of the download worker.

Unfinished downloads from an earlier run are listed as paused and wait for
Resume: starting them by themselves would open a connection at start-up.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass
from enum import Enum
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from app.gui.ops import run_in_background
from app.gui.workers.download_worker import DownloadWorker
from app.library.downloads import Downloader, DownloadJob, Progress

Index = QModelIndex | QPersistentModelIndex
JobIdRole = Qt.ItemDataRole.UserRole + 1
FractionRole = Qt.ItemDataRole.UserRole + 2  # 0..1, or -1 while downloading a file of unknown size
StatusRole = Qt.ItemDataRole.UserRole + 3
StateRole = Qt.ItemDataRole.UserRole + 4

log = logging.getLogger(__name__)


class DownloadState(Enum):
    """A download's place in the queue; the words the user reads are the queue's."""

    WAITING = "waiting"
    DOWNLOADING = "downloading"
    PAUSING = "pausing"
    PAUSED = "paused"
    CANCELLING = "cancelling"
    FAILED = "failed"


@dataclass
class DownloadRow:
    job: DownloadJob  # the GUI's copy: the worker gets its own (see _start)
    state: DownloadState
    done: int = 0
    size: int = 0
    status: str = ""


class DownloadQueue(QAbstractListModel):
    """Downloads in order. The worker gets one job at a time, each run with its own
    stop event, so pausing or cancelling a waiting download takes effect at once."""

    start_requested = Signal(object, object)  # DownloadJob copy, its stop event (to the worker, queued)
    model_added = Signal(object)  # the verified ModelEntry
    download_failed = Signal(str, str)  # label, plain message

    def __init__(self, worker: DownloadWorker) -> None:
        super().__init__()
        self._worker = worker  # kept alive here: nothing else holds it
        self._downloader: Downloader = worker.downloader
        self._rows: list[DownloadRow] = []
        self._running: DownloadRow | None = None
        self._stop = threading.Event()
        self._state_labels = {
            DownloadState.WAITING: self.tr("Waiting for the downloads before it"),
            DownloadState.DOWNLOADING: self.tr("Downloading"),
            DownloadState.PAUSING: self.tr("Pausing…"),
            DownloadState.PAUSED: self.tr("Paused"),
            DownloadState.CANCELLING: self.tr("Cancelling…"),
            DownloadState.FAILED: self.tr("Failed"),
        }
        self.start_requested.connect(worker.run_job)
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        worker.stopped.connect(self._on_stopped)
        for job in self._downloader.pending():
            have = self._downloader.bytes_on_disk(job)
            self._rows.append(DownloadRow(job, DownloadState.PAUSED, have, job.size, self._paused_text(have, job.size)))

    # -- what the view and the window use ----------------------------------------

    def enqueue(self, job: DownloadJob) -> bool:
        """Queue a download; False when the same file is already in the queue."""
        if any(row.job.is_same_file(job) for row in self._rows):
            return False
        self.beginInsertRows(QModelIndex(), len(self._rows), len(self._rows))
        self._rows.append(DownloadRow(job, DownloadState.WAITING, size=job.size))
        self.endInsertRows()
        self._start_next()
        return True

    def pause(self, job_id: str) -> None:
        row = self._row(job_id)
        if row is None:
            return
        if row is self._running:
            if row.state is not DownloadState.CANCELLING:
                self._stop.set()
                self._set(row, DownloadState.PAUSING)
        elif row.state is DownloadState.WAITING:
            self._set(row, DownloadState.PAUSED, self._paused_text(row.done, row.size))

    def resume(self, job_id: str) -> None:
        row = self._row(job_id)
        if row is not None and row.state in (DownloadState.PAUSED, DownloadState.FAILED):
            self._set(row, DownloadState.WAITING, "")
            self._start_next()

    def cancel(self, job_id: str) -> None:
        row = self._row(job_id)
        if row is None or row.state is DownloadState.CANCELLING:
            return
        if row is self._running:
            self._stop.set()
            self._set(row, DownloadState.CANCELLING)
        else:
            self._drop(row)

    def set_hub_endpoint(self, endpoint: str) -> None:
        """Downloads started from now on use this Hub (a plain attribute the worker reads)."""
        self._downloader.endpoint = endpoint

    def pause_all(self) -> None:
        for row in list(self._rows):
            self.pause(row.job.id)

    def state_of(self, job_id: str) -> DownloadState | None:
        row = self._row(job_id)
        return row.state if row else None

    # -- QAbstractListModel --------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return row.job.label
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.job.label}\n{row.job.source}"
        if role == JobIdRole:
            return row.job.id
        if role == StatusRole:
            state = self._state_labels[row.state]
            return self.tr("{state} · {status}").format(state=state, status=row.status) if row.status else state
        if role == StateRole:
            return row.state.name
        if role == FractionRole:
            if row.size:
                return row.done / row.size
            return -1.0 if row.state is DownloadState.DOWNLOADING else 0.0
        return None

    # -- the worker's answers ------------------------------------------------------

    def _on_progress(self, job_id: str, progress: Progress) -> None:
        row = self._row(job_id)
        if row is None or row.state in (DownloadState.PAUSING, DownloadState.CANCELLING):
            return
        if progress.phase == "downloading":
            row.done, row.size = progress.done, progress.total or row.size
        self._set(row, DownloadState.DOWNLOADING, progress.summary())

    def _on_finished(self, job_id: str, entry: object) -> None:
        row = self._row(job_id)
        if row is not None:
            self._remove(row)
        self._run_ended()
        self.model_added.emit(entry)

    def _on_failed(self, job_id: str, message: str) -> None:
        row = self._row(job_id)
        if row is not None and row.state is DownloadState.CANCELLING:
            self._drop(row)
        elif row is not None:
            row.done = self._downloader.bytes_on_disk(row.job)
            self._set(row, DownloadState.FAILED, message)
            self.download_failed.emit(row.job.label, message)
        self._run_ended()

    def _on_stopped(self, job_id: str) -> None:
        row = self._row(job_id)
        if row is not None and row.state is DownloadState.CANCELLING:
            self._drop(row)
        elif row is not None:
            row.done = self._downloader.bytes_on_disk(row.job)
            self._set(row, DownloadState.PAUSED, self._paused_text(row.done, row.size))
        self._run_ended()

    def _run_ended(self) -> None:
        self._running = None
        self._start_next()

    def _start_next(self) -> None:
        if self._running is not None:
            return
        row = next((r for r in self._rows if r.state is DownloadState.WAITING), None)
        if row is None:
            return
        self._running, self._stop = row, threading.Event()
        # The worker gets its own copy (it fills in URL, size and ETag, and saves them).
        self.start_requested.emit(dataclasses.replace(row.job), self._stop)

    # -- rows ------------------------------------------------------------------

    def _row(self, job_id: str) -> DownloadRow | None:
        return next((r for r in self._rows if r.job.id == job_id), None)

    def _set(self, row: DownloadRow, state: DownloadState, status: str | None = None) -> None:
        row.state = state
        if status is not None:
            row.status = status
        index = self.index(self._rows.index(row), 0)
        self.dataChanged.emit(index, index)

    def _drop(self, row: DownloadRow) -> None:
        """Cancel for good: delete what was downloaded (off this thread: it may be gigabytes)."""
        job, downloader = row.job, self._downloader
        run_in_background(self, lambda: downloader.discard(job),
                          on_failure=lambda error: log.warning("the cancelled download %s was not deleted: %s", job.label, error))
        self._remove(row)

    def _remove(self, row: DownloadRow) -> None:
        position = self._rows.index(row)
        self.beginRemoveRows(QModelIndex(), position, position)
        del self._rows[position]
        self.endRemoveRows()

    def _paused_text(self, have: int, size: int) -> str:
        if not have:
            return self.tr("Not started")
        if not size:
            return self.tr("{have:,.1f} MB downloaded").format(have=have / 1e6)
        return self.tr("{have:,.1f} of {size:,.1f} MB downloaded").format(have=have / 1e6, size=size / 1e6)
