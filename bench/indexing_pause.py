"""Chat speed while documents are being indexed: the run gives way to the reply.

    .venv/bin/python bench/indexing_pause.py [--rounds 3] [--pdf-pages 300] [--tokens 192]

The window's own workers on one QThread, as the app runs them: the inference worker with
SmolLM2-135M-Instruct, and the indexing worker embedding a large PDF with all-MiniLM-L6-v2.
Alternates replies asked for with no indexing under way (A) and replies asked for while a
run is embedding (B: the run stops after its batch, the reply is written, the run goes
on), and prints the reply speed of each and the ratio mean(B) / mean(A) (target >= 0.95).
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal  # noqa: E402

from app.backends.base import ReplyStats  # noqa: E402
from app.backends.llama.factory import LlamaBackendFactory  # noqa: E402
from app.config.policy import Policy  # noqa: E402
from app.config.settings import Settings  # noqa: E402
from app.conversations.opener import open_conversations  # noqa: E402
from app.documents.index import DocumentIndex  # noqa: E402
from app.gui.workers.indexing_worker import IndexingOutcome, IndexingProgress, IndexingWorker, IndexRequest  # noqa: E402
from app.gui.workers.inference_worker import InferenceWorker, ReplyRequest  # noqa: E402
from app.library.model_library import ModelLibrary, starter_model_file  # noqa: E402
from app.platform.paths import resolve_paths  # noqa: E402
from bench.documents import COMMON, ENGLISH  # noqa: E402
from tests.documents.made_documents import write_pdf  # noqa: E402
from tests.embedding_model import minilm_gguf  # noqa: E402

QUESTION = "Write a long, detailed essay about the history of lighthouses."


class Driver(QObject):
    """Sends the workers their requests from the main thread, as the window does."""

    load = Signal(int, str, object, bool)
    generate = Signal(object)
    index = Signal(object)
    close_index = Signal()
    shutdown = Signal()


def wait(app: QCoreApplication, done: Callable[[], bool], seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        app.processEvents()
        time.sleep(0.002)
        if time.monotonic() > deadline:
            raise SystemExit("timed out")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pdf-pages", type=int, default=300)
    parser.add_argument("--tokens", type=int, default=192)
    arguments = parser.parse_args()
    app = QCoreApplication(sys.argv)
    with tempfile.TemporaryDirectory() as folder:
        paths = resolve_paths(Path(folder) / "data")
        paths.ensure()
        library = ModelLibrary(paths.models_dir)
        starter = starter_model_file()
        assert starter is not None, "the starter model is not installed: run ./hearth.sh test once"
        chat_model = library.add(starter, copy=False)
        library.add(minilm_gguf(REPO / "test-models"), copy=False)
        rng = random.Random(5)
        book = Path(folder) / "book"
        book.mkdir()
        write_pdf(book / "book.pdf", [
            "\n".join(" ".join(rng.choice(COMMON) if rng.random() < 0.35 else rng.choice(ENGLISH) for _ in range(10)) for _ in range(40))
            for _ in range(arguments.pdf_pages)
        ])
        index = DocumentIndex(paths.documents_index)
        index.add_source(index.create_collection("Book"), book)
        index.close()

        thread = QThread()
        inference = InferenceWorker(paths, LlamaBackendFactory())
        indexing = IndexingWorker(inference, paths.documents_index, library, Policy())
        inference.moveToThread(thread)
        indexing.moveToThread(thread)
        driver = Driver()
        driver.load.connect(inference.load_model)
        driver.generate.connect(inference.generate)
        driver.index.connect(indexing.index)
        driver.close_index.connect(indexing.shutdown)
        driver.shutdown.connect(inference.shutdown)
        thread.start()

        settings = Settings()
        settings.sampling.max_tokens = arguments.tokens
        settings.sampling.seed = 1
        settings.sampling.temperature = 0.0
        loaded: list[object] = []
        inference.model_loaded.connect(lambda _id, facts: loaded.append(facts))
        inference.model_failed.connect(lambda _id, message: sys.exit(message))
        inference.wanted_load = 1
        driver.load.emit(1, str(library.file_of(chat_model)), settings, False)
        wait(app, lambda: bool(loaded))

        store = open_conversations(paths)
        replies: list[ReplyStats] = []
        inference.finished.connect(lambda _id, stats: replies.append(stats))
        progress: list[IndexingProgress] = []
        indexing.progressed.connect(progress.append)
        outcomes: list[IndexingOutcome] = []
        indexing.finished.connect(outcomes.append)

        def reply(request_id: int) -> float:
            conversation = store.create_conversation("Bench")
            question = store.add_message(conversation, None, "user", QUESTION)
            before = len(replies)
            inference.chat_waiting.set()  # as the chat session does, before it queues the request
            driver.generate.emit(ReplyRequest(request_id, question, copy.deepcopy(settings), "auto", frozenset()))
            wait(app, lambda: len(replies) > before)
            return replies[-1].tokens_per_second

        reply(0)  # warm up
        alone: list[float] = []
        beside: list[float] = []
        for round_number in range(arguments.rounds):
            alone.append(reply(1 + 2 * round_number))  # no run under way
            indexing.paused.clear()
            driver.index.emit(IndexRequest("Book", copy.deepcopy(settings)))
            seen = len(progress)
            wait(app, lambda seen=seen: len(progress) >= seen + 2)  # type: ignore[misc]  # the run is embedding
            beside.append(reply(2 + 2 * round_number))  # the run gives way, then goes on
            finished = len(outcomes)
            indexing.paused.set()
            wait(app, lambda finished=finished: len(outcomes) > finished)  # type: ignore[misc]  # it stopped after its batch
            if not outcomes[-1].stopped:
                raise SystemExit("the PDF was indexed before the rounds ended: give --pdf-pages more")
        print(f"reply speed (SmolLM2, {arguments.tokens} tokens, greedy), with no indexing: "
              + ", ".join(f"{speed:.1f}" for speed in alone) + " tokens/s")
        print("  asked for while a run embeds a "
              f"{arguments.pdf_pages}-page PDF (all-MiniLM-L6-v2): " + ", ".join(f"{speed:.1f}" for speed in beside) + " tokens/s")
        print(f"  ratio {statistics.mean(beside) / statistics.mean(alone):.3f} (target >= 0.95)")
        indexing.closing.set()
        driver.close_index.emit()
        driver.shutdown.emit()  # on the worker's thread, which it then ends
        thread.wait()
        store.close()


if __name__ == "__main__":
    main()
