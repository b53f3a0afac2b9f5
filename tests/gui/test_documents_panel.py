"""The Documents panel on fake backends: collections made, files added by button and by
drop, indexed on the inference thread with progress shown, paused and resumed, giving way
to a reply, removed; what the user reads in the panel is what is checked."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog, QInputDialog, QListWidget

from app.config.policy import Policy
from app.config.settings import Settings
from app.documents.index import DocumentIndex
from app.documents.indexer import Indexer
from app.gui.app import create_window
from app.gui.controllers.documents import DocumentsController
from app.gui.documents import panel as panel_module
from app.gui.documents.panel import DocumentsPanel
from app.gui.main_window import MainWindow
from app.gui.workers.indexing_worker import IndexingOutcome, IndexingProgress, IndexingWorker
from app.gui.workers.inference_worker import InferenceWorker
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.documents.made_documents import write_docx, write_pdf
from tests.fakes import FakeBackend, FakeBackendFactory, FakeEmbeddingBackend
from tests.gguf_factory import write_gguf
from tests.gui.waits import reply_shown, thread_shown

WAIT_MS = 30_000  # a limit for a loaded machine, not a speed asked for


def rows(widget: QListWidget) -> list[str]:
    return [widget.item(row).text() for row in range(widget.count())]


def write_notes(folder: Path, count: int) -> list[Path]:
    """`count` small text files, each one passage with words of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    subjects = ["volcanoes erupt lava", "glaciers carve valleys", "rivers carry silt", "deserts bloom rarely"]
    notes = []
    for number in range(1, count + 1):
        note = folder / f"note{number}.txt"
        note.write_text(f"Note {number}: {subjects[number % len(subjects)]}.\n", encoding="utf-8")
        notes.append(note)
    return notes


@pytest.fixture
def embedding_backend() -> FakeEmbeddingBackend:
    return FakeEmbeddingBackend()


@pytest.fixture
def open_window(qtbot, paths: AppPaths, smollm_path: Path, fake_backend: FakeBackend, embedding_backend: FakeEmbeddingBackend,
                tmp_path: Path, english_plurals) -> Iterator[Callable[..., MainWindow]]:
    created: list[MainWindow] = []

    def make(with_embedder: bool = True, before_shown: Callable[[MainWindow], object] = lambda _window: None) -> MainWindow:
        library = ModelLibrary(paths.models_dir)
        library.add(smollm_path, copy=False)
        if with_embedder:
            library.add(write_gguf(tmp_path / "embedders" / "Words-Embed.Q4_1.gguf", architecture="bert", chat_template=None), copy=False)
        window = create_window(paths, FakeBackendFactory(fake_backend, embedding_backend))
        before_shown(window)
        qtbot.addWidget(window)
        window.show()
        created.append(window)
        qtbot.waitUntil(lambda: window.loader.ready and thread_shown(window), timeout=WAIT_MS)
        return window

    yield make
    for window in created:
        if window.isVisible():
            window.close()


def new_collection(qtbot, panel: DocumentsPanel, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: (name, True))
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)


def add_files(qtbot, panel: DocumentsPanel, monkeypatch: pytest.MonkeyPatch, files: Sequence[Path]) -> None:
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *args, **kwargs: ([str(file) for file in files], ""))
    qtbot.mouseClick(panel.add_files_button, Qt.MouseButton.LeftButton)


def up_to_date(panel: DocumentsPanel, row: str) -> bool:
    return panel.status.text() == "Every collection is up to date." and row in rows(panel.collections_list)


def made(qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch, name: str = "Geography") -> DocumentsPanel:
    window.documents_action.trigger()  # File > Documents…
    panel = window.documents_panel
    assert panel is not None and panel.isVisible() and panel.windowTitle() == "Documents"
    new_collection(qtbot, panel, monkeypatch, name)
    qtbot.waitUntil(lambda: panel.chosen_title.text() == name and panel.add_files_button.isEnabled(), timeout=WAIT_MS)
    return panel


class Hold:
    """Holds the first batch of passages in the embedder (on the inference thread) until released."""

    def __init__(self, backend: FakeEmbeddingBackend) -> None:
        self.holding, self.released = threading.Event(), threading.Event()
        backend.before_embed = self

    def __call__(self, texts: Sequence[str]) -> None:
        if list(texts) != ["dimension"] and not self.holding.is_set():
            self.holding.set()
            self.released.wait(WAIT_MS / 1000)


def test_a_new_collection_indexes_its_files_with_progress_and_counts(qtbot, open_window, monkeypatch, tmp_path: Path) -> None:
    window = open_window()
    panel = made(qtbot, window, monkeypatch)
    seen: list[str] = []
    window.collections.indexing_changed.connect(lambda: seen.append(panel.status.text()))
    files = [*write_notes(tmp_path / "docs", 2), write_docx(tmp_path / "docs" / "handbook.docx")]
    add_files(qtbot, panel, monkeypatch, files)
    qtbot.waitUntil(lambda: up_to_date(panel, "Geography — 3 files, 5 passages"), timeout=WAIT_MS)
    assert any(text.startswith("Indexing “Geography”: ") and " of 3 files · " in text for text in seen), seen
    assert rows(panel.files_list) == ["handbook.docx · 3 passages", "note1.txt · 1 passage", "note2.txt · 1 passage"]
    assert not panel.embedder_note.isVisible() and not panel.problems.isVisible()
    file_menu = window.menuBar().actions()[0].menu()
    assert window.documents_action in file_menu.actions() and window.documents_action.shortcut().toString() == "Ctrl+Shift+D"


def test_a_corrupt_file_is_named_and_the_rest_are_indexed(qtbot, open_window, monkeypatch, tmp_path: Path) -> None:
    window = open_window()
    panel = made(qtbot, window, monkeypatch)
    notes = write_notes(tmp_path / "docs", 1)
    broken = tmp_path / "docs" / "broken.docx"
    scanned = write_pdf(tmp_path / "docs" / "scanned.pdf", ["Page one has words.", None, None])
    broken.write_bytes(b"this is not a zip archive")
    add_files(qtbot, panel, monkeypatch, [broken, scanned, *notes])
    qtbot.waitUntil(lambda: up_to_date(panel, "Geography — 3 files, 2 passages"), timeout=WAIT_MS)
    broken_row, note_row, scanned_row = rows(panel.files_list)
    assert broken_row.startswith("broken.docx — skipped: ") and "broken.docx" not in broken_row.removeprefix("broken.docx")
    assert scanned_row == "scanned.pdf · 1 passage — 2 of 3 pages have no text: they look scanned and cannot be searched"
    assert note_row == "note1.txt · 1 passage"
    assert not panel.problems.isVisible()  # each is said on its file's row, not twice


def test_a_file_that_is_gone_is_dropped_and_said_to_be_gone(qtbot, open_window, monkeypatch, tmp_path: Path) -> None:
    window = open_window()
    panel = made(qtbot, window, monkeypatch)
    kept, gone = write_notes(tmp_path / "docs", 2)
    add_files(qtbot, panel, monkeypatch, [kept, gone])
    qtbot.waitUntil(lambda: up_to_date(panel, "Geography — 2 files, 2 passages"), timeout=WAIT_MS)
    gone.unlink()
    qtbot.mouseClick(panel.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: up_to_date(panel, "Geography — 1 file, 1 passage"), timeout=WAIT_MS)
    assert rows(panel.files_list) == ["note1.txt · 1 passage", f"{gone} (no longer there)"]


def test_pause_stops_after_a_batch_and_resume_embeds_only_what_is_left(
    qtbot, open_window, monkeypatch, tmp_path: Path, embedding_backend: FakeEmbeddingBackend
) -> None:
    window = open_window()
    panel = made(qtbot, window, monkeypatch)
    hold = Hold(embedding_backend)
    add_files(qtbot, panel, monkeypatch, write_notes(tmp_path / "docs", 3))
    qtbot.waitUntil(hold.holding.is_set, timeout=WAIT_MS)
    assert panel.pause_button.text() == "Pause" and panel.pause_button.isEnabled()
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    hold.released.set()
    qtbot.waitUntil(lambda: "Geography — 3 files, 1 passage" in rows(panel.collections_list), timeout=WAIT_MS)
    assert panel.status.text() == "Paused. “Geography” goes on from here when you press Resume."
    assert panel.pause_button.text() == "Resume"
    assert rows(panel.files_list) == [
        "note1.txt · 1 passage (not finished: indexing goes on from here)", "note2.txt (waiting to be read)", "note3.txt (waiting to be read)",
    ]
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: up_to_date(panel, "Geography — 3 files, 3 passages"), timeout=WAIT_MS)
    passages = [text for text in embedding_backend.embedded if text != "dimension"]
    assert len(passages) == 3 and len(set(passages)) == 3  # the paused file's stored batch was not embedded again
    assert rows(panel.files_list) == ["note1.txt · 1 passage", "note2.txt · 1 passage", "note3.txt · 1 passage"]


def test_a_reply_asked_for_while_indexing_is_written_before_indexing_goes_on(
    qtbot, open_window, monkeypatch, tmp_path: Path, fake_backend: FakeBackend, embedding_backend: FakeEmbeddingBackend
) -> None:
    window = open_window()
    panel = made(qtbot, window, monkeypatch)
    hold = Hold(embedding_backend)
    replies_before: list[int] = []  # how many replies were asked of the chat model by each later batch

    def note(texts: Sequence[str]) -> None:
        held_before = hold.holding.is_set()
        hold(texts)
        if held_before and list(texts) != ["dimension"]:
            replies_before.append(len(fake_backend.requests))

    embedding_backend.before_embed = note
    add_files(qtbot, panel, monkeypatch, write_notes(tmp_path / "docs", 3))
    qtbot.waitUntil(hold.holding.is_set, timeout=WAIT_MS)
    window.send("Which rivers carry silt?")
    hold.released.set()
    qtbot.waitUntil(lambda: reply_shown(window) and up_to_date(panel, "Geography — 3 files, 3 passages"), timeout=WAIT_MS)
    assert "Hello from the fake engine." in window.chat_view.toPlainText()
    assert replies_before == [1, 1]  # both files after the held one were embedded after the reply


def test_removing_a_collection_asks_and_deletes_its_index(qtbot, open_window, monkeypatch, tmp_path: Path, paths: AppPaths) -> None:
    window = open_window()
    panel = made(qtbot, window, monkeypatch)
    add_files(qtbot, panel, monkeypatch, write_notes(tmp_path / "docs", 2))
    qtbot.waitUntil(lambda: up_to_date(panel, "Geography — 2 files, 2 passages"), timeout=WAIT_MS)
    asked: list[str] = []
    monkeypatch.setattr(panel_module, "confirm", lambda parent, title, text, action: asked.append(text) or True)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.collections_list.count() == 0, timeout=WAIT_MS)
    assert asked == ["Remove “Geography”? Its index is deleted; your files stay where they are. "
                     "Replies already written from it keep the passages they quoted, as their sources."]
    assert panel.message.text() == "Deleted the collection “Geography” and its index."
    assert rows(panel.files_list) == [] and not panel.remove_button.isEnabled()
    index = DocumentIndex(paths.documents_index)
    try:
        assert index.collections() == [] and index.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0] == 0
    finally:
        index.close()


def test_a_duplicate_or_empty_name_is_refused_in_plain_words(qtbot, open_window, monkeypatch) -> None:
    window = open_window()
    panel = made(qtbot, window, monkeypatch)
    new_collection(qtbot, panel, monkeypatch, "Geography")
    qtbot.waitUntil(lambda: panel.message.text() == "There is already a collection named “Geography”.", timeout=WAIT_MS)
    new_collection(qtbot, panel, monkeypatch, "   ")
    assert panel.message.text() == "Give the collection a name."
    assert rows(panel.collections_list) == ["Geography — 0 files, 0 passages"]


def test_a_dropped_folder_is_added_and_indexed(qtbot, open_window, monkeypatch, tmp_path: Path) -> None:
    window = open_window()
    panel = made(qtbot, window, monkeypatch)
    folder = tmp_path / "field notes"
    write_notes(folder, 2)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    drop = QDropEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    panel.dropEvent(drop)
    assert drop.isAccepted()
    qtbot.waitUntil(lambda: up_to_date(panel, "Geography — 2 files, 2 passages"), timeout=WAIT_MS)
    (folder / "note3.txt").write_text("Note 3: a new note about tides.\n", encoding="utf-8")
    qtbot.mouseClick(panel.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: up_to_date(panel, "Geography — 3 files, 3 passages"), timeout=WAIT_MS)
    assert rows(panel.files_list) == ["note1.txt · 1 passage", "note2.txt · 1 passage", "note3.txt · 1 passage"]


def test_without_an_embedding_model_it_indexes_words_and_says_what_a_model_adds(
    qtbot, open_window, monkeypatch, tmp_path: Path, embedding_backend: FakeEmbeddingBackend
) -> None:
    window = open_window(with_embedder=False)
    panel = made(qtbot, window, monkeypatch)
    add_files(qtbot, panel, monkeypatch, write_notes(tmp_path / "docs", 1))
    qtbot.waitUntil(lambda: up_to_date(panel, "Geography — 1 file, 1 passage"), timeout=WAIT_MS)
    assert panel.embedder_note.isVisible()
    assert "No embedding model is installed" in panel.embedder_note.text()
    assert "passages that say the same in other words" in panel.embedder_note.text()
    assert embedding_backend.loads == 0


def vectors_stored(paths: AppPaths, name: str) -> int:
    index = DocumentIndex(paths.documents_index)
    try:
        return len(index.vectors(index.collection(name))[0])
    finally:
        index.close()


def test_an_embedding_model_installed_later_embeds_the_passages_in_the_background(
    qtbot, open_window, monkeypatch, tmp_path: Path, paths: AppPaths, embedding_backend: FakeEmbeddingBackend
) -> None:
    window = open_window(with_embedder=False)
    panel = made(qtbot, window, monkeypatch)
    add_files(qtbot, panel, monkeypatch, write_notes(tmp_path / "docs", 2))
    qtbot.waitUntil(lambda: up_to_date(panel, "Geography — 2 files, 2 passages"), timeout=WAIT_MS)
    assert vectors_stored(paths, "Geography") == 0 and panel.embedder_note.isVisible()
    ModelLibrary(paths.models_dir).add(
        write_gguf(tmp_path / "embedders" / "Words-Embed.Q4_1.gguf", architecture="bert", chat_template=None), copy=False)
    window.library.models_changed.emit()  # as the Library window does when a model is added
    qtbot.waitUntil(lambda: vectors_stored(paths, "Geography") == 2, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: up_to_date(panel, "Geography — 2 files, 2 passages") and not panel.embedder_note.isVisible(),
                    timeout=WAIT_MS)
    assert embedding_backend.loads == 1


def test_indexing_stopped_by_a_quit_goes_on_when_hearth_starts_again(
    qtbot, open_window, monkeypatch, tmp_path: Path, paths: AppPaths
) -> None:
    index = DocumentIndex(paths.documents_index)
    index.add_source(index.create_collection("Geography"), tmp_path / "docs")
    write_notes(tmp_path / "docs", 2)
    geography = index.collection("Geography")
    Indexer(index, None).run(geography, should_stop=lambda: index.chunk_count(geography) > 0)  # quit after the first batch
    index.close()
    finished: list[IndexingOutcome] = []
    window = open_window(with_embedder=False, before_shown=lambda made: made.indexing_worker.finished.connect(finished.append))
    qtbot.waitUntil(lambda: bool(finished), timeout=WAIT_MS)  # the panel is not open: nothing but the start asked
    assert finished[0].collection == "Geography" and finished[0].passages == 1 and not finished[0].stopped
    panel = window.open_documents()
    qtbot.waitUntil(lambda: up_to_date(panel, "Geography — 2 files, 2 passages"), timeout=WAIT_MS)


def test_closing_while_indexing_stops_the_run_and_closes_the_window(
    qtbot, open_window, monkeypatch, tmp_path: Path, paths: AppPaths, embedding_backend: FakeEmbeddingBackend
) -> None:
    window = open_window()
    panel = made(qtbot, window, monkeypatch)
    hold = Hold(embedding_backend)
    add_files(qtbot, panel, monkeypatch, write_notes(tmp_path / "docs", 3))
    qtbot.waitUntil(hold.holding.is_set, timeout=WAIT_MS)
    threading.Timer(0.2, hold.released.set).start()  # the batch ends while the window waits for the thread
    window.close()
    assert not window.isVisible() and not panel.isVisible() and window._worker_thread.isFinished()
    index = DocumentIndex(paths.documents_index)
    try:
        (collection,) = index.collections()
        assert index.chunk_count(collection) == 1  # stopped after the held batch; the next run goes on from it
    finally:
        index.close()


def test_files_finishing_one_after_another_read_the_panel_again_at_most_once_a_second(
    qtbot, paths: AppPaths, monkeypatch: pytest.MonkeyPatch,
) -> None:
    inference = InferenceWorker(paths, FakeBackendFactory(), Policy())
    worker = IndexingWorker(inference, paths.documents_index, ModelLibrary(paths.models_dir), Policy())
    controller = DocumentsController(worker, paths.documents_index, ModelLibrary(paths.models_dir), Settings, inference)
    reads: list[None] = []
    monkeypatch.setattr(controller, "reload", lambda: reads.append(None))
    controller.indexing = "Geography"  # as when its run has begun
    for done in range(11):  # ten small files finish in one moment
        worker.progressed.emit(IndexingProgress("Geography", done, 10, done, None, None))
    assert reads == []
    qtbot.waitUntil(lambda: len(reads) == 1, timeout=WAIT_MS)  # one read, a second after the first file
    controller.shutdown()


def test_only_another_embedding_model_in_settings_looks_for_indexing_work(
    qtbot, paths: AppPaths, monkeypatch: pytest.MonkeyPatch,
) -> None:
    inference = InferenceWorker(paths, FakeBackendFactory(), Policy())
    worker = IndexingWorker(inference, paths.documents_index, ModelLibrary(paths.models_dir), Policy())
    controller = DocumentsController(worker, paths.documents_index, ModelLibrary(paths.models_dir), Settings, inference)
    controller.index_where_needed()  # as at start, with the embedding model setting empty
    looks: list[None] = []
    monkeypatch.setattr(controller, "index_where_needed", lambda: looks.append(None))
    warmer = Settings()
    warmer.sampling.temperature = 1.1
    controller.follow_settings(warmer)
    assert looks == []
    another = Settings()
    another.documents.embedder = "bge-small-en-v1.5"
    controller.follow_settings(another)
    assert looks == [None]
    controller.shutdown()
