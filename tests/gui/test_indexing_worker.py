"""The indexing worker on its own thread beside an inference worker: it gives way to what
the chat queued, resumes where it stopped, and reports failures in plain words."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, Signal, Slot

from app.config.policy import Policy
from app.config.settings import Settings
from app.documents.index import DocumentIndex
from app.gui.workers.indexing_worker import IndexingOutcome, IndexingProgress, IndexingWorker, IndexRequest
from app.gui.workers.inference_worker import InferenceWorker
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.fakes import FakeBackendFactory, FakeEmbeddingBackend
from tests.gguf_factory import write_gguf

WAIT_MS = 30_000  # a limit for a loaded machine, not a speed asked for


class Reply(QObject):
    """Stands in for the inference worker's generate slot: notes its turn, clears chat_waiting."""

    def __init__(self, inference: InferenceWorker, log: list[str]) -> None:
        super().__init__()
        self._inference, self._log = inference, log

    @Slot()
    def generate(self) -> None:
        self._inference.chat_waiting.clear()
        self._log.append("reply")


class Asker(QObject):
    """The GUI thread's side, as the documents controller asks: a queued signal."""

    index = Signal(IndexRequest)


class Running:
    def __init__(self, paths: AppPaths, embedding: FakeEmbeddingBackend) -> None:
        self.library = ModelLibrary(paths.models_dir)
        self.inference = InferenceWorker(paths, FakeBackendFactory(embedding=embedding), Policy())
        self.worker = IndexingWorker(self.inference, paths.documents_index, self.library, Policy())
        self.log: list[str] = []
        self.reply = Reply(self.inference, self.log)
        self.outcomes: list[IndexingOutcome] = []
        self.progress: list[IndexingProgress] = []
        self.worker.finished.connect(self.outcomes.append)
        self.worker.progressed.connect(self.progress.append)
        self.asker = Asker()
        self.asker.index.connect(self.worker.index)
        self.thread = QThread()
        for worker in (self.inference, self.worker, self.reply):
            worker.moveToThread(self.thread)
        self.thread.start()

    def index(self, name: str, settings: Settings | None = None) -> None:
        self.asker.index.emit(IndexRequest(name, settings or Settings()))

    def stop(self) -> None:
        self.worker.closing.set()
        QMetaObject.invokeMethod(self.worker, "shutdown", Qt.ConnectionType.QueuedConnection)
        QMetaObject.invokeMethod(self.inference, "shutdown", Qt.ConnectionType.QueuedConnection)
        assert self.thread.wait(WAIT_MS)


@pytest.fixture
def embedding() -> FakeEmbeddingBackend:
    return FakeEmbeddingBackend()


@pytest.fixture
def running(qapp, paths: AppPaths, embedding: FakeEmbeddingBackend) -> Iterator[Running]:
    started = Running(paths, embedding)
    yield started
    started.stop()


def collection_of(paths: AppPaths, tmp_path: Path, files: int) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    for number in range(files):
        (folder / f"note{number}.txt").write_text(f"Note {number} about tide number {number}.\n", encoding="utf-8")
    index = DocumentIndex(paths.documents_index)
    index.add_source(index.create_collection("Notes"), folder)
    index.close()


def install_embedder(running: Running, tmp_path: Path) -> None:
    running.library.add(write_gguf(tmp_path / "embedders" / "Words-Embed.Q4_1.gguf", architecture="bert", chat_template=None), copy=False)


def test_a_reply_queued_while_indexing_runs_before_the_rest_of_the_files(
    qtbot, running: Running, paths: AppPaths, tmp_path: Path, embedding: FakeEmbeddingBackend
) -> None:
    install_embedder(running, tmp_path)
    collection_of(paths, tmp_path, 3)
    holding, released = threading.Event(), threading.Event()

    def before(texts: Sequence[str]) -> None:
        if list(texts) == ["dimension"]:
            return
        running.log.append("embed")
        if not holding.is_set():
            holding.set()
            released.wait(WAIT_MS / 1000)

    embedding.before_embed = before
    running.index("Notes")
    qtbot.waitUntil(holding.is_set, timeout=WAIT_MS)
    running.inference.chat_waiting.set()  # as the chat session does, before it queues the reply
    QMetaObject.invokeMethod(running.reply, "generate", Qt.ConnectionType.QueuedConnection)
    released.set()
    qtbot.waitUntil(lambda: bool(running.outcomes), timeout=WAIT_MS)
    assert running.log == ["embed", "reply", "embed", "embed"]
    (outcome,) = running.outcomes
    assert (outcome.indexed, outcome.passages, outcome.stopped, outcome.keyword_only) == (3, 3, False, False)
    assert running.progress[-1].files_done == running.progress[-1].files_total == 3


def test_pause_stops_after_the_batch_and_the_next_run_goes_on(
    qtbot, running: Running, paths: AppPaths, tmp_path: Path, embedding: FakeEmbeddingBackend
) -> None:
    install_embedder(running, tmp_path)
    collection_of(paths, tmp_path, 2)
    embedding.before_embed = lambda texts: running.worker.paused.set() if list(texts) != ["dimension"] else None
    running.index("Notes")
    qtbot.waitUntil(lambda: bool(running.outcomes), timeout=WAIT_MS)
    assert running.outcomes[0].stopped and running.outcomes[0].passages == 1
    embedding.before_embed = None
    running.worker.paused.clear()
    running.index("Notes")
    qtbot.waitUntil(lambda: len(running.outcomes) == 2, timeout=WAIT_MS)
    assert not running.outcomes[1].stopped and running.outcomes[1].passages == 1
    assert len([text for text in embedding.embedded if text != "dimension"]) == 2


def test_without_an_embedding_model_the_index_is_by_words(qtbot, running: Running, paths: AppPaths, tmp_path: Path) -> None:
    collection_of(paths, tmp_path, 1)
    running.index("Notes")
    qtbot.waitUntil(lambda: bool(running.outcomes), timeout=WAIT_MS)
    assert running.outcomes[0].keyword_only and running.outcomes[0].passages == 1 and not running.outcomes[0].failure


def test_a_chat_model_chosen_as_embedder_is_refused_in_plain_words(
    qtbot, running: Running, paths: AppPaths, tmp_path: Path, smollm_path: Path
) -> None:
    chat_model = running.library.add(smollm_path, copy=False)
    collection_of(paths, tmp_path, 1)
    settings = Settings()
    settings.documents.embedder = chat_model.id
    running.index("Notes", settings)
    qtbot.waitUntil(lambda: bool(running.outcomes), timeout=WAIT_MS)
    assert running.outcomes[0].failure == f"{smollm_path.name} is a chat model, not an embedding model."
