"""What the Documents panel shows of the index, read and changed off the GUI thread.

Each call opens its own connection to the index (SQLite in WAL mode lets it read while the
indexing worker writes) and closes it again: these run on the thread pool
(app/gui/ops.py), and a connection belongs to the thread that made it. They take turns:
two connections making a new index file at once fail ("database is locked", 2 times in
100 here, while one switches the new file to WAL), and the panel's first read and its
first new collection do just that. The indexing worker opens the file only once a
collection is in it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

from app.documents.embedder_loading import embedder_to_index_with
from app.documents.index import Collection, DocumentIndex
from app.library.model_library import ModelLibrary
from app.platform.errors import HearthError


@dataclass(frozen=True)
class CollectionSummary:
    name: str
    files: int
    passages: int
    unfinished: int  # files not indexed to their end yet


@dataclass(frozen=True)
class FileSummary:
    path: Path
    complete: bool
    problem: str | None
    passages: int  # stored so far


@dataclass(frozen=True)
class SourceSummary:
    path: Path
    present: bool  # False: moved or deleted since it was added


@dataclass(frozen=True)
class CollectionContents:
    name: str
    sources: tuple[SourceSummary, ...]  # the files and folders the user added
    files: tuple[FileSummary, ...]  # the files found in them, by path


_one_at_a_time = Lock()


@contextmanager
def _opened(index_path: Path) -> Iterator[DocumentIndex]:
    with _one_at_a_time:
        index = DocumentIndex(index_path)
        try:
            yield index
        finally:
            index.close()


@dataclass(frozen=True)
class PanelView:
    """The collections and the chosen one's contents, read in one go so that they agree."""

    collections: list[CollectionSummary]
    contents: CollectionContents | None


def read_view(index_path: Path, chosen: str | None) -> PanelView:
    """The panel's view; no file is made where there is no index yet (the window reads
    this as it opens)."""
    if not index_path.exists():
        return PanelView([], None)
    with _opened(index_path) as index:
        summaries = []
        for collection in index.collections():
            records = index.files(collection).values()
            summaries.append(CollectionSummary(
                collection.name, len(records), index.chunk_count(collection), sum(not record.complete for record in records)))
        if chosen is None or chosen not in {summary.name for summary in summaries}:
            return PanelView(summaries, None)
        collection = index.collection(chosen)
        files = sorted(index.files(collection).values(), key=lambda record: str(record.path))
        contents = CollectionContents(
            chosen, tuple(SourceSummary(source, source.exists()) for source in index.sources(collection)),
            tuple(FileSummary(record.path, record.complete, record.problem, record.chunks_done) for record in files),
        )
        return PanelView(summaries, contents)


def collections_with_work(index_path: Path, library: ModelLibrary, chosen_embedder: str) -> list[str]:
    """The collections an indexing run has work in: one stopped (quit, kill, pause) before
    it was done, or passages waiting for the vectors of the embedding model a run would use
    (`chosen_embedder`, the setting; another was chosen, or one installed). None, and no
    file made, where there is no index yet."""
    if not index_path.exists():
        return []
    with _opened(index_path) as index:
        return [collection.name for collection in index.collections() if _has_work(index, collection, library, chosen_embedder)]


def _has_work(index: DocumentIndex, collection: Collection, library: ModelLibrary, chosen_embedder: str) -> bool:
    if any(not record.complete for record in index.files(collection).values()):
        return True
    try:
        entry = embedder_to_index_with(library, chosen_embedder, collection.embedder)
    except HearthError:  # the chosen model is not installed: the panel's run says so
        return False
    return entry is not None and (entry.sha256 != collection.embedder or index.waiting_for_vectors(collection))


def create_collection(index_path: Path, name: str) -> str:
    """Makes the collection; a duplicate name raises StorageError with the sentence to show."""
    with _opened(index_path) as index:
        return index.create_collection(name).name


def add_sources(index_path: Path, name: str, sources: list[Path]) -> str:
    with _opened(index_path) as index:
        collection = index.collection(name)
        for source in sources:
            index.add_source(collection, source.resolve())
        return name
