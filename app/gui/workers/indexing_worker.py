"""Indexing the user's documents on the inference thread, giving way to the chat.

The IndexingWorker is moved to the same QThread as the InferenceWorker: llama.cpp is called
from that one thread (DESIGN.md, "One calling thread for llama.cpp"), and the embedding
model is the one the inference worker keeps loaded there (`inference_worker.embedders`).
A run stops after its current batch when the user pauses, when the chat session asks for
a reply (`inference_worker.chat_waiting`) or when the window closes. Stopped for the chat,
the worker queues its own slot again: Qt's queue is first in, first out, so the reply
asked for is already ahead of it and is written first; the run then resumes where it
stopped (the Indexer never embeds a finished file or a stored batch again).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.config.policy import Policy
from app.config.settings import Settings
from app.documents.embedder_loading import embedder_to_index_with
from app.documents.embedders import Embedder
from app.documents.index import Collection, DocumentIndex
from app.documents.indexer import Indexer, IndexProgress
from app.gui.workers.inference_worker import InferenceWorker
from app.library.model_library import ModelLibrary
from app.platform.errors import HearthError, described

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexRequest:
    collection: str
    settings: Settings  # a copy: the embedding model chosen and the engine's settings
    earlier: IndexingOutcome | None = None  # what the run did before it gave way to the chat


@dataclass(frozen=True)
class IndexingProgress:
    collection: str
    files_done: int
    files_total: int
    passages: int  # stored by this run
    seconds_left: float | None  # None until there is a rate to go by
    current_file: str | None  # the file's name


@dataclass(frozen=True)
class IndexingOutcome:
    collection: str
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    passages: int = 0
    problems: tuple[str, ...] = ()  # plain sentences, each naming its file
    stopped: bool = False  # paused, or the window closed: the next run goes on from here
    keyword_only: bool = False  # no embedding model: found by its words only
    failure: str = ""  # why the collection could not be indexed at all
    files_done: int = 0  # of the files the run had to read (read, or found unreadable)

    def then(self, later: IndexingOutcome) -> IndexingOutcome:
        """This part of a run followed by `later`, the part after it gave way to the chat
        (which finds this part's files unchanged, and may name the same problems again)."""
        return replace(
            later, indexed=self.indexed + later.indexed, unchanged=max(later.unchanged - self.files_done, 0) + self.unchanged,
            removed=self.removed + later.removed, passages=self.passages + later.passages,
            problems=tuple(dict.fromkeys(self.problems + later.problems)), files_done=self.files_done + later.files_done,
        )


class IndexingWorker(QObject):
    progressed = Signal(IndexingProgress)
    finished = Signal(IndexingOutcome)
    removed = Signal(str)  # the collection's name, its index deleted
    _resume = Signal(IndexRequest)  # queued to `index`: after the reply that is ahead in the queue

    def __init__(self, inference: InferenceWorker, index_path: Path, library: ModelLibrary, policy: Policy) -> None:
        super().__init__()
        self._inference = inference
        self._index_path = index_path
        self._library = library
        self._policy = policy
        self._index: DocumentIndex | None = None
        # Set from the GUI thread; checked between batches on the worker's thread.
        self.paused = threading.Event()
        self.closing = threading.Event()
        self.abandoned = threading.Event()  # the collection being indexed is to be removed
        self._resume.connect(self.index, Qt.ConnectionType.QueuedConnection)

    def _should_stop(self) -> bool:
        return (self.paused.is_set() or self._inference.chat_waiting.is_set() or self.closing.is_set()
                or self.abandoned.is_set())

    def _opened(self) -> DocumentIndex:
        # Opened on first use, so that the connection belongs to this worker's thread.
        if self._index is None:
            self._index = DocumentIndex(self._index_path)
        return self._index

    @Slot(IndexRequest)
    def index(self, request: IndexRequest) -> None:
        """Bring one collection up to date (call it queued)."""
        if self.closing.is_set():
            return
        name = request.collection
        earlier = request.earlier or IndexingOutcome(name)
        done = [0]  # files done by this part of the run, from its progress
        try:
            index = self._opened()
            collection = index.collection(name)
            embedder = self._embedder(collection, request.settings)
            result = Indexer(index, embedder).run(collection, self._should_stop, self._report(earlier, done))
        except HearthError as error:
            self.finished.emit(IndexingOutcome(name, failure=str(error)))
            return
        except Exception as error:
            log.exception("indexing a collection failed")
            self.finished.emit(IndexingOutcome(name, failure=self.tr(
                "Something went wrong while reading the documents: {error}").format(error=described(error))))
            return
        outcome = earlier.then(IndexingOutcome(
            name, result.indexed, result.unchanged, result.removed, result.chunks, tuple(result.problems),
            result.stopped, keyword_only=embedder is None, files_done=done[0],
        ))
        if result.stopped and self._inference.chat_waiting.is_set() and not self._stopped_by_user():
            self._resume.emit(replace(request, earlier=outcome))
            return
        self.finished.emit(outcome)

    def _stopped_by_user(self) -> bool:
        return self.paused.is_set() or self.closing.is_set() or self.abandoned.is_set()

    def _report(self, earlier: IndexingOutcome, done: list[int]) -> Callable[[IndexProgress], None]:
        """Progress as the user follows it: counted from the start of the run, across the
        parts it was cut into by replies."""
        def report(progress: IndexProgress) -> None:
            done[0] = progress.files_done
            self.progressed.emit(IndexingProgress(
                earlier.collection, earlier.files_done + progress.files_done, earlier.files_done + progress.files_total,
                earlier.passages + progress.chunks_done, progress.seconds_left,
                progress.current.name if progress.current is not None else None,
            ))
        return report

    def _embedder(self, collection: Collection, settings: Settings) -> Embedder | None:
        """The chosen model, else the one that built the collection, else the first installed;
        None (keyword search only) when there is none. A collection whose model is gone is
        embedded again with the one there is."""
        entry = embedder_to_index_with(self._library, settings.documents.embedder, collection.embedder)
        if entry is None:
            return None
        model_path = self._library.file_of(entry)
        if not self._policy.allows(*entry.names):
            raise HearthError(self.tr("Your administrator does not allow the model {model} on this computer.").format(
                model=model_path.name))
        return self._inference.embedders.get(model_path, entry.sha256, settings.engine)

    @Slot(str)
    def remove(self, name: str) -> None:
        """Delete a collection and its index (call it queued: after a run of it has stopped)."""
        self.abandoned.clear()
        try:
            index = self._opened()
            index.remove_collection(index.collection(name))
        except HearthError as error:
            self.finished.emit(IndexingOutcome(name, failure=str(error)))
            return
        self.removed.emit(name)

    @Slot()
    def shutdown(self) -> None:
        """Close the index; queue it before the inference worker's shutdown, which ends the thread."""
        if self._index is not None:
            self._index.close()
            self._index = None
