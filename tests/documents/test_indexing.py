"""The index brings collections up to date: new, changed and deleted files, resumable runs,
problems named per file, and hybrid retrieval that finds the passage on its page."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from app.documents.blocks import PlaceKind
from app.documents.embedders import Embedder, prefixes_for
from app.documents.index import DocumentIndex
from app.documents.indexer import Indexer, IndexProgress, find_files
from app.documents.retrieve import Retriever, reciprocal_rank_fusion
from app.platform.errors import StorageError
from tests.documents import made_documents
from tests.documents.word_embedder import word_embedder


@pytest.fixture
def index(tmp_path: Path) -> DocumentIndex:
    opened = DocumentIndex(tmp_path / "documents.sqlite3")
    yield opened
    opened.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "handbook"
    root.mkdir()
    made_documents.write_pdf(root / "report.pdf", ["Introduction to the year.", "Sales grew in the north.", "The budget for 2026 is 4,200 euros."])
    made_documents.write_docx(root / "handbook.docx")
    (root / "notes.md").write_text("# Notes\n\nThe fire drill is on Tuesday at ten.\n")
    return root


def test_a_folder_is_indexed_and_a_question_finds_its_file_and_page(index: DocumentIndex, folder: Path) -> None:
    collection = index.create_collection("Handbook")
    index.add_source(collection, folder)
    embedder, _counter = word_embedder()
    collection = index.use_embedder(collection, embedder.identity, 64)
    progress: list[IndexProgress] = []
    outcome = Indexer(index, embedder).run(collection, on_progress=progress.append)
    assert (outcome.indexed, outcome.unchanged, outcome.problems, outcome.stopped) == (3, 0, [], False)
    assert progress[-1].files_done == progress[-1].files_total == 3 and progress[-1].chunks_done == outcome.chunks
    passages = Retriever(index, embedder).search(collection, "What is the budget for 2026?")
    best = passages[0]
    assert (best.chunk.path.name, best.chunk.kind, best.chunk.number) == ("report.pdf", PlaceKind.PAGE, 3)
    assert best.by_keywords and best.by_meaning and best.rank == 1
    overtime = Retriever(index, embedder).search(collection, "overtime pay")[0]
    assert overtime.chunk.path.name == "handbook.docx" and overtime.chunk.headings == ("Staff handbook", "Overtime")


def test_only_changed_files_are_indexed_again_and_deleted_ones_dropped(index: DocumentIndex, folder: Path) -> None:
    collection = index.create_collection("Handbook")
    index.add_source(collection, folder)
    embedder, counter = word_embedder()
    collection = index.use_embedder(collection, embedder.identity, 64)
    Indexer(index, embedder).run(collection)
    counter.calls.clear()
    os.utime(folder / "report.pdf", ns=(time.time_ns(), time.time_ns() + 10**9))  # touched, same bytes
    (folder / "notes.md").write_text("# Notes\n\nThe fire drill moved to Thursday.\n")
    (folder / "handbook.docx").unlink()
    outcome = Indexer(index, embedder).run(collection)
    assert (outcome.indexed, outcome.unchanged, outcome.removed) == (1, 1, 1)
    assert all("Thursday" in text for text in counter.embedded)
    assert set(index.files(collection)) == {folder / "report.pdf", folder / "notes.md"}
    texts = [passage.chunk.text for passage in Retriever(index, embedder).search(collection, "overtime Tuesday", limit=20)]
    assert texts and not [text for text in texts if "overtime" in text.lower() or "Tuesday" in text]


def test_a_stopped_run_resumes_without_embedding_again(index: DocumentIndex, tmp_path: Path) -> None:
    root = tmp_path / "book"
    root.mkdir()
    (root / "long.txt").write_text("\n\n".join(f"Paragraph {n} tells of river {n} and its fish." * 12 for n in range(200)))
    collection = index.create_collection("Book")
    index.add_source(collection, root)
    embedder, counter = word_embedder()
    collection = index.use_embedder(collection, embedder.identity, 64)
    first = Indexer(index, embedder).run(collection, should_stop=lambda: index.chunk_count(collection) == 96)  # 3 batches
    assert first.stopped and first.chunks == 96
    done_first = list(counter.embedded)
    counter.calls.clear()
    second = Indexer(index, embedder).run(collection)
    assert not second.stopped and second.indexed == 1
    assert not set(done_first) & set(counter.embedded)
    assert index.chunk_count(collection) == first.chunks + second.chunks


def test_another_embedder_embeds_the_stored_passages_again_and_they_stay_found_meanwhile(
    index: DocumentIndex, folder: Path,
) -> None:
    collection = index.create_collection("Handbook")
    index.add_source(collection, folder)
    embedder, _ = word_embedder()
    Indexer(index, embedder).run(collection)
    passages = index.chunk_count(collection)
    other, counter = word_embedder(identity="another-model")
    stopped = Indexer(index, other).run(collection, should_stop=lambda: bool(counter.calls[1:]))  # after one batch
    collection = index.collection("Handbook")
    assert stopped.stopped and collection.embedder == "another-model"
    assert index.chunk_count(collection) == passages  # nothing dropped while it is embedded again
    ids, _vectors = index.vectors(collection)
    assert len(ids) == stopped.chunks < passages  # only the new model's vectors, never the old one's
    found = Retriever(index, other).search(collection, "What is the budget for 2026?")[0]
    assert (found.chunk.path.name, found.chunk.number) == ("report.pdf", 3)
    assert found.by_keywords and not found.by_meaning  # by its words until every passage has its vector
    counter.calls.clear()
    finished = Indexer(index, other).run(collection)
    assert (finished.indexed, finished.embedded_again + finished.unchanged, finished.stopped) == (0, 3, False)  # none read again
    assert finished.embedded_again == 2  # the first batch held all of one file's passages
    assert len(index.vectors(collection)[0]) == passages and len(counter.embedded) == passages - stopped.chunks
    best = Retriever(index, other).search(collection, "What is the budget for 2026?")[0]
    assert best.by_meaning and (best.chunk.path.name, best.chunk.number) == ("report.pdf", 3)


def test_a_stop_while_a_new_folder_is_looked_through_comes_before_any_file_is_read(
    index: DocumentIndex, folder: Path,
) -> None:
    collection = index.create_collection("Handbook")
    index.add_source(collection, folder)
    embedder, counter = word_embedder()
    first = Indexer(index, embedder).run(collection, should_stop=lambda: True)
    assert first.stopped and first.chunks == 0 and counter.calls == [["dimension"]]
    assert Indexer(index, embedder).run(collection).indexed == 3


def test_problems_are_named_and_the_rest_go_on(index: DocumentIndex, folder: Path) -> None:
    (folder / "broken.docx").write_bytes(b"not a docx")
    made_documents.write_pdf(folder / "scan.pdf", [None, None, "Only this page has text."])
    made_documents.write_pdf(folder / "locked.pdf", ["secret"], encrypted=True)
    (folder / "loop").symlink_to(folder, target_is_directory=True)
    (folder / "self").symlink_to(folder / "self")
    collection = index.create_collection("Handbook")
    index.add_source(collection, folder)
    index.add_source(collection, folder / "missing.txt")
    outcome = Indexer(index, None).run(collection)
    assert outcome.indexed == 4
    assert sorted(outcome.problems) == sorted([
        f"{folder / 'missing.txt'}: it is no longer there",
        "broken.docx: it is damaged or not the kind of file its name says",
        "locked.pdf: it is protected by a password, so it was skipped",
        "scan.pdf: 2 of 3 pages have no text: they look scanned and cannot be searched",
    ])
    assert index.files(collection)[folder / "scan.pdf"].pages_without_text == 2
    # Keyword search works without an embedder.
    assert Retriever(index, None).search(collection, "fire drill")[0].chunk.path.name == "notes.md"
    # The failed file is not read again until it changes.
    assert Indexer(index, None).run(collection).problems == [f"{folder / 'missing.txt'}: it is no longer there"]


def test_fts_syntax_in_a_question_never_errors(index: DocumentIndex, folder: Path) -> None:
    collection = index.create_collection("Handbook")
    index.add_source(collection, folder)
    Indexer(index, None).run(collection)
    retriever = Retriever(index, None)
    for question in ['"budget', "NEAR(budget", "budget*", "-budget ^2026", "budget: OR AND NOT", "(", "", "  ", "*"]:
        retriever.search(collection, question)
    assert retriever.search(collection, 'budget" OR "x')[0].chunk.path.name == "report.pdf"


def test_a_file_name_that_is_not_utf8_is_indexed(index: DocumentIndex, tmp_path: Path) -> None:
    root = tmp_path / "odd"
    root.mkdir()
    odd = Path(os.fsdecode(bytes(root) + b"/caf\xe9.txt"))
    odd.write_text("The coffee machine is on floor two.")
    collection = index.create_collection("Odd")
    index.add_source(collection, root)
    assert Indexer(index, None).run(collection).indexed == 1
    assert Retriever(index, None).search(collection, "coffee")[0].chunk.path == odd


def test_collections_are_named_and_removed_with_their_chunks(index: DocumentIndex, folder: Path) -> None:
    collection = index.create_collection("Handbook")
    with pytest.raises(StorageError, match="already a collection named “Handbook”"):
        index.create_collection("Handbook")
    index.add_source(collection, folder)
    Indexer(index, None).run(collection)
    index.remove_collection(collection)
    assert index.collections() == []
    assert index.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0] == 0
    assert index.db.execute("SELECT COUNT(*) FROM chunk_text WHERE chunk_text MATCH 'budget'").fetchone()[0] == 0
    with pytest.raises(StorageError, match="no collection named “Handbook”"):
        index.collection("Handbook")


def test_find_files_walks_a_symlink_loop_once(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.txt").write_text("one")
    (tmp_path / "a" / "back").symlink_to(tmp_path, target_is_directory=True)
    found, problems = find_files([tmp_path])
    assert found == [tmp_path / "a" / "one.txt"] and problems == []


def test_fusion_and_prefixes() -> None:
    assert [item for item, _ in reciprocal_rank_fusion([[1, 2, 3], [3, 1]])] == [1, 3, 2]
    assert prefixes_for("nomic-embed-text-v1.5.Q8_0.gguf").query == "search_query: "
    assert prefixes_for("all-MiniLM-L6-v2").document == ""
    seen: list[str] = []
    embedder = Embedder(lambda texts: [seen.extend(texts) or [1.0] for _ in texts], "x", prefixes_for("nomic-embed-text"))
    embedder.embed_documents(["a"])
    embedder.embed_query("b")
    assert seen == ["search_document: a", "search_query: b"]


def test_a_file_that_vanishes_during_indexing_is_named_and_dropped_next_time(index: DocumentIndex, tmp_path: Path) -> None:
    root = tmp_path / "notes"
    root.mkdir()
    (root / "a.txt").write_text("Apples grow on trees.")
    (root / "b.txt").write_text("Bananas grow in bunches.")
    collection = index.create_collection("Notes")
    index.add_source(collection, root)

    def remove_b(progress: IndexProgress) -> None:
        (root / "b.txt").unlink(missing_ok=True)

    outcome = Indexer(index, None).run(collection, on_progress=remove_b)
    assert (outcome.indexed, outcome.problems) == (1, ["b.txt: it is no longer there"])
    assert Retriever(index, None).search(collection, "apples")[0].chunk.path.name == "a.txt"
    again = Indexer(index, None).run(collection)
    assert (again.removed, again.problems) == (1, []) and set(index.files(collection)) == {root / "a.txt"}


def test_an_empty_file_a_fifo_and_a_link_to_a_device_are_no_trouble(index: DocumentIndex, folder: Path) -> None:
    """An empty file first in the folder divided the time left by zero; a FIFO named .txt
    would block the run for good and a link to /dev/zero would read without end."""
    (folder / "a-empty.txt").write_text("")
    os.mkfifo(folder / "b-pipe.txt")
    (folder / "c-zero.txt").symlink_to("/dev/zero")
    found, problems = find_files([folder])
    assert [path.name for path in found] == ["a-empty.txt", "handbook.docx", "notes.md", "report.pdf"]
    assert problems == []
    collection = index.create_collection("Handbook")
    index.add_source(collection, folder)
    embedder, _counter = word_embedder()
    collection = index.use_embedder(collection, embedder.identity, 64)
    outcome = Indexer(index, embedder).run(collection)
    assert (outcome.indexed, outcome.problems, outcome.stopped) == (4, [], False)
    assert Retriever(index, embedder).search(collection, "fire drill")[0].chunk.path.name == "notes.md"


def test_an_index_from_a_newer_hearth_is_refused_in_words(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "documents.sqlite3"
    DocumentIndex(path).close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(StorageError, match="written by a newer version of Hearth"):
        DocumentIndex(path)


def test_a_removed_collection_leaves_none_of_its_text_in_the_index_file(tmp_path: Path) -> None:
    folder = tmp_path / "private"
    folder.mkdir()
    (folder / "letter.md").write_text("# Letter\n\nThe password is Quokkaberry and the safe is behind the painting.\n")
    (folder / "other.md").write_text("# Other\n\nNothing to see.\n")
    path = tmp_path / "documents.sqlite3"
    index = DocumentIndex(path)
    kept = index.create_collection("Kept")
    index.add_source(kept, folder / "other.md")
    Indexer(index, None).run(kept)
    private = index.create_collection("Private")
    index.add_source(private, folder)
    Indexer(index, None).run(private)
    index.remove_collection(private)
    index.close()
    written = b"".join(file.read_bytes() for file in tmp_path.glob("documents.sqlite3*"))
    assert b"Nothing to see" in written  # what is kept is there, so the search below could find text
    assert b"uokkaberry" not in written.lower() and b"painting" not in written


def test_a_new_index_opened_by_several_at_once_opens_for_each(tmp_path: Path) -> None:
    """The window's panel, its menu and the inference thread may each open it first."""
    failures: list[Exception] = []

    def open_and_close(path: Path) -> None:
        try:
            DocumentIndex(path).close()
        except StorageError as error:
            failures.append(error)

    for attempt in range(100):  # "database is locked" in 3 of 100 before
        path = tmp_path / f"index-{attempt}.sqlite3"
        threads = [threading.Thread(target=open_and_close, args=(path,)) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []


def test_an_index_written_before_the_waiting_passages_index_is_brought_up_to_date(tmp_path: Path) -> None:
    path = tmp_path / "documents.sqlite3"
    DocumentIndex(path).close()
    with sqlite3.connect(path) as older:  # as version 1 wrote it
        older.execute("DROP INDEX chunks_without_vector")
        older.execute("PRAGMA user_version = 1")
    DocumentIndex(path).close()
    with sqlite3.connect(path) as opened:
        assert opened.execute("PRAGMA user_version").fetchone()[0] == 2
        assert opened.execute("SELECT COUNT(*) FROM sqlite_master WHERE name = 'chunks_without_vector'").fetchone()[0] == 1
