"""The state of the Documents panel: the collections, the one chosen and its files, which
collection is being indexed and how far, the queue behind it, pause, and the problems the
last run of each collection found. The panel (app/gui/documents/panel.py) is a view of it.

Reads and small changes run on the thread pool, each with its own connection to the index
(app/gui/controllers/document_records.py); indexing runs on the inference thread
(app/gui/workers/indexing_worker.py), one collection after another.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMetaObject, QObject, Qt, QTimer, Signal

from app.config.settings import Settings
from app.documents.embedder_loading import installed_embedders
from app.gui.controllers import document_records as records
from app.gui.controllers.document_records import CollectionContents, CollectionSummary, PanelView
from app.gui.dialogs import error_message
from app.gui.ops import run_in_background
from app.gui.workers.indexing_worker import IndexingOutcome, IndexingProgress, IndexingWorker, IndexRequest
from app.library.model_library import ModelLibrary

# While a run finishes file after file, the panel reads them again at most this often: its
# list of 10,000 files takes 99 ms of the GUI thread to build here (1,000: 15 ms), and small
# files finish many times a second.
RELOAD_INTERVAL_MS = 1000


class DocumentsController(QObject):
    collections_changed = Signal()
    contents_changed = Signal()  # the chosen collection's files, or none chosen
    indexing_changed = Signal()  # progress, pause, the queue, a run's end
    message = Signal(str)  # a plain sentence for the panel: an error, or what just happened
    request_index = Signal(IndexRequest)  # to the worker's thread
    request_remove = Signal(str)

    def __init__(
        self, worker: IndexingWorker, index_path: Path, library: ModelLibrary, settings: Callable[[], Settings],
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._index_path = index_path
        self._library = library
        self._settings = settings
        self.collections: list[CollectionSummary] = []
        self.chosen: str | None = None
        self.contents: CollectionContents | None = None
        self.indexing: str | None = None  # the collection a run is under way for
        self.queue: list[str] = []  # the collections to index after it, in order
        self.paused = False
        self.progress: IndexingProgress | None = None
        self.problems: dict[str, tuple[str, ...]] = {}  # by collection: what its last run found
        self.has_embedder = True  # an embedding model is installed (read with the collections)
        self._reading = False  # a read of the index is under way
        self._read_again = False  # and another was asked for since it began
        self._removing: set[str] = set()  # asked to be deleted, not yet gone
        self._shut_down = False
        self._asked_embedder: str | None = None  # the embedding model setting the last look for work went by
        self._reload_soon = QTimer(self, singleShot=True, interval=RELOAD_INTERVAL_MS)
        self._reload_soon.timeout.connect(self.reload)
        self.request_index.connect(worker.index)
        self.request_remove.connect(worker.remove)
        worker.progressed.connect(self._on_progress)
        worker.finished.connect(self._on_finished)
        worker.removed.connect(self._on_removed)

    # Reading ---------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the collections' counts again, and the chosen one's files: one read at a
        time, and one more after it where more was asked for meanwhile (indexing asks after
        every file it finishes)."""
        if self._reading:
            self._read_again = True
            return
        self._reading, self._read_again = True, False
        chosen, library = self.chosen, self._library

        def work() -> tuple[PanelView, bool]:
            return records.read_view(self._index_path, chosen), bool(installed_embedders(library))

        run_in_background(self, work, on_success=lambda answer: self._show(chosen, *answer), on_failure=self._fail)

    def _show(self, chosen: str | None, view: PanelView, has_embedder: bool) -> None:
        self._reading = False
        if self._shut_down:
            return
        self.has_embedder = has_embedder
        self.collections = view.collections
        self.collections_changed.emit()
        if chosen == self.chosen:  # else the read asked for by the choice follows
            self.contents = view.contents
            self.contents_changed.emit()
        if self._read_again:
            self.reload()

    def _fail(self, error: Exception) -> None:
        self._reading = False
        if not self._shut_down:
            self.message.emit(error_message(error))

    # What the user does ----------------------------------------------------------------

    def choose(self, name: str | None) -> None:
        """Show a collection's files, and look for files added, changed or deleted since."""
        if name == self.chosen:
            return
        self.chosen = name
        self.reload()
        if name is not None:
            self.index(name)

    def create(self, name: str) -> None:
        name = name.strip()
        if not name:
            self.message.emit(self.tr("Give the collection a name."))
            return

        def made(made_name: str) -> None:
            self.message.emit(self.tr("Made the collection “{name}”. Add files or folders to it.").format(name=made_name))
            self.choose(made_name)

        run_in_background(self, lambda: records.create_collection(self._index_path, name), on_success=made,
                          on_failure=self._fail)

    def add(self, sources: list[Path]) -> None:
        """Add files and folders to the chosen collection, then index it."""
        name = self.chosen
        if name is None:
            self.message.emit(self.tr("Make or choose a collection first, then add files to it."))
            return
        if not sources:
            return

        def added(added_to: str) -> None:
            self.index(added_to, again=True)
            self.reload()

        run_in_background(self, lambda: records.add_sources(self._index_path, name, sources), on_success=added,
                          on_failure=self._fail)

    def index_where_needed(self) -> None:
        """Go on with the collections whose indexing was stopped by a quit or a kill, and embed
        again those built by another embedding model than the one now chosen or installed
        (asked at start, when another embedding model is chosen, and when models are installed)."""
        def resume(names: list[str]) -> None:
            for name in [] if self._shut_down else names:
                self.index(name)

        library, chosen = self._library, self._settings().documents.embedder
        self._asked_embedder = chosen
        run_in_background(self, lambda: records.collections_with_work(self._index_path, library, chosen),
                          on_success=resume, on_failure=self._fail)

    def follow_settings(self, settings: Settings) -> None:
        """Another embedding model chosen in Settings: the collections it has not embedded
        are embedded again; no other setting gives indexing work."""
        if settings.documents.embedder != self._asked_embedder:
            self.index_where_needed()

    def refresh(self) -> None:
        if self.chosen is not None:
            self.index(self.chosen, again=True)

    def index(self, name: str, again: bool = False) -> None:
        """Queue a run for `name`; `again`: also when a run of it is under way (it started
        before what was just added)."""
        if name in self.queue or (name == self.indexing and not again):
            return
        self.queue.append(name)
        self._next()
        self.indexing_changed.emit()

    def pause(self) -> None:
        self.paused = True
        self._worker.paused.set()
        self.indexing_changed.emit()

    def resume(self) -> None:
        self.paused = False
        self._worker.paused.clear()
        self._next()
        self.indexing_changed.emit()

    def remove(self, name: str) -> None:
        """Delete the collection and its index; a run of it stops after its batch first."""
        if name in self.queue:
            self.queue.remove(name)
        if name == self.indexing:
            self._worker.abandoned.set()
        self._removing.add(name)
        self.request_remove.emit(name)

    # The worker reports ------------------------------------------------------------------

    def _next(self) -> None:
        if self.indexing is not None or self.paused or not self.queue or self._shut_down:
            return
        self.indexing = self.queue.pop(0)
        self.progress = None
        self.request_index.emit(IndexRequest(self.indexing, copy.deepcopy(self._settings())))

    def _on_progress(self, progress: IndexingProgress) -> None:
        if not self._shut_down and progress.collection == self.indexing:
            finished_one = self.progress is not None and progress.files_done > self.progress.files_done
            self.progress = progress
            self.indexing_changed.emit()
            if finished_one and not self._reload_soon.isActive():
                self._reload_soon.start()

    def _on_finished(self, outcome: IndexingOutcome) -> None:
        if self._shut_down:
            return
        name = outcome.collection
        if name == self.indexing:
            self.indexing = None
        if outcome.failure:
            self._removing.discard(name)
            self.problems[name] = (outcome.failure,)
            self.message.emit(outcome.failure)
        elif outcome.stopped:
            if name not in self.queue and name not in self._removing:
                self.queue.insert(0, name)  # paused: Resume goes on from here
        else:
            # A run that found nothing to do keeps the sentences of the one that did the work.
            if outcome.problems or outcome.indexed or outcome.removed or name not in self.problems:
                self.problems[name] = outcome.problems
            self.progress = None
        self._next()
        self.indexing_changed.emit()
        self.reload()

    def _on_removed(self, name: str) -> None:
        if self._shut_down:
            return
        self._removing.discard(name)
        self.problems.pop(name, None)
        if self.chosen == name:
            self.chosen = None
        self.message.emit(self.tr("Deleted the collection “{name}” and its index.").format(name=name))
        self.reload()

    def shutdown(self) -> None:
        """Stop indexing after its batch and close the index, queued before the inference
        worker's own shutdown (which ends their shared thread); later reports are ignored."""
        self._shut_down = True
        self._reload_soon.stop()
        self._worker.closing.set()
        QMetaObject.invokeMethod(self._worker, "shutdown", Qt.ConnectionType.QueuedConnection)
