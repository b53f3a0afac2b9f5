"""Brings a collection's index up to date with its files: new and changed files are read,
chunked, embedded and stored batch by batch; unchanged ones are left alone; deleted ones
are dropped. A run that is stopped (pause, quit) or killed resumes after the last batch it
stored: finished files are never embedded again, and neither are a file's stored chunks
while the file is unchanged (chunking is deterministic, so its first chunks are skipped).
Stored chunks without a vector (the collection's embedding model changed, or there was none)
are embedded from their stored text, without reading the file again.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from app.documents.blocks import ExtractReport
from app.documents.chunking import Chunk, chunk_blocks
from app.documents.embedders import Embedder
from app.documents.extract import extract, is_supported
from app.documents.index import Collection, DocumentIndex, FileRecord
from app.library.model_library import sha256_of
from app.platform.errors import DocumentError
from app.platform.i18n import _

# Chunks embedded per call (and stored per transaction). The llama backend embeds a batch in
# one decode; 32 chunks of ~250 tokens fit its 8,192-token batch, and a kill loses at most 32.
BATCH_CHUNKS = 32


@dataclass(frozen=True)
class IndexProgress:
    files_done: int
    files_total: int
    chunks_done: int  # stored by this run
    seconds_left: float | None  # None until there is a rate to go by
    current: Path | None


@dataclass
class IndexOutcome:
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0
    embedded_again: int = 0  # unchanged files whose stored chunks were given vectors
    problems: list[str] = field(default_factory=list)  # one sentence each, naming the file
    stopped: bool = False


def _never() -> bool:
    return False


def _ignore(_progress: IndexProgress) -> None:
    return None


def _regular(path: Path) -> bool:
    """A regular file, or a link to one: a FIFO would block the run, a device read without end."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def find_files(sources: list[Path]) -> tuple[list[Path], list[str]]:
    """The supported files under the sources (files or folders), each once, and a sentence
    for each source or folder that could not be read. A folder reached twice (a symlink
    loop, or two links to one folder) is walked once."""
    found: dict[Path, None] = {}
    problems: list[str] = []
    seen_folders: set[tuple[int, int]] = set()
    for source in sources:
        try:
            info = source.stat()
        except OSError:
            problems.append(_("{file}: it is no longer there").format(file=source))
            continue
        if stat.S_ISREG(info.st_mode):
            found[source] = None
            continue
        for folder, folders, files in os.walk(source, followlinks=True, onerror=lambda error: problems.append(_folder_problem(error))):
            try:
                folder_info = os.stat(folder)
            except OSError:
                folders[:] = []
                continue
            if (folder_info.st_dev, folder_info.st_ino) in seen_folders:
                folders[:] = []
                continue
            seen_folders.add((folder_info.st_dev, folder_info.st_ino))
            folders[:] = sorted(name for name in folders if not name.startswith("."))
            for name in sorted(files):
                path = Path(folder) / name
                # Hidden files, and the lock files Office leaves beside an open document.
                if not name.startswith((".", "~$")) and is_supported(path) and _regular(path):
                    found[path] = None
    return list(found), problems


def _folder_problem(error: OSError) -> str:
    return _("{folder}: the folder could not be read ({reason})").format(folder=error.filename, reason=error.strerror or error)


class Indexer:
    """Runs on the indexing worker's thread (or the command line); `should_stop` is
    checked between batches, `on_progress` called after each."""

    def __init__(self, index: DocumentIndex, embedder: Embedder | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.index = index
        self.embedder = embedder
        self.clock = clock

    def run(
        self,
        collection: Collection,
        should_stop: Callable[[], bool] = _never,
        on_progress: Callable[[IndexProgress], None] = _ignore,
    ) -> IndexOutcome:
        outcome = IndexOutcome()
        if self.embedder is not None and collection.embedder != self.embedder.identity:
            dimension = len(self.embedder.embed_documents(["dimension"])[0])
            collection = self.index.use_embedder(collection, self.embedder.identity, dimension)
        paths, outcome.problems = find_files(self.index.sources(collection))
        records = self.index.files(collection)
        present = set(paths)
        gone = [record.id for path, record in records.items() if path not in present]
        self.index.drop_files(collection, gone)
        outcome.removed = len(gone)
        unembedded = self.index.chunks_without_vectors(collection) if self.embedder is not None else {}
        work = []
        for path in paths:
            job = self._plan(collection, path, records.get(path), unembedded, outcome)
            if job is not None:
                work.append(job)
            if should_stop():  # hashing a large new folder gives way too
                outcome.stopped = True
                return outcome
        total_bytes = sum(job.size for job in work) or 1
        started, bytes_done = self.clock(), 0
        on_progress(IndexProgress(0, len(work), 0, None, None))
        for files_done, job in enumerate(work):
            for _stored in self._index_file(collection, job, outcome):
                elapsed = self.clock() - started
                rate = bytes_done / elapsed if bytes_done and elapsed > 0 else None
                left = (total_bytes - bytes_done) / rate if rate else None
                on_progress(IndexProgress(files_done, len(work), outcome.chunks, left, job.path))
                if should_stop():
                    outcome.stopped = True
                    return outcome
            bytes_done += job.size
            elapsed = self.clock() - started
            left = (total_bytes - bytes_done) * elapsed / bytes_done if bytes_done and elapsed > 0 else None
            on_progress(IndexProgress(files_done + 1, len(work), outcome.chunks, left, None))
        return outcome

    def _plan(
        self, collection: Collection, path: Path, record: FileRecord | None, unembedded: dict[int, int], outcome: IndexOutcome,
    ) -> _FileJob | None:
        """What indexing `path` needs, or None where it is up to date (or could not be looked at)."""
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):  # it was a file when the folder was walked
                outcome.problems.append(_("{file}: it is not a file Hearth can read").format(file=path.name))
                return None
            if record is not None and record.complete and (record.size, record.mtime_ns) == (info.st_size, info.st_mtime_ns):
                return self._unchanged(record, unembedded, outcome)
            sha256 = sha256_of(path)
        except PermissionError:
            outcome.problems.append(_("{file}: Hearth has no permission to read it").format(file=path.name))
            return None
        except OSError as error:
            outcome.problems.append(_("{file}: it could not be read ({reason})").format(file=path.name, reason=error.strerror or error))
            return None
        if record is not None and record.sha256 == sha256 and record.size == info.st_size:
            self.index.touch_file(record.id, info.st_mtime_ns)
            if record.complete:
                return self._unchanged(record, unembedded, outcome)
            return _FileJob(path, record.id, info.st_size, record.chunks_done, unembedded.get(record.id, 0))
        file_id = self.index.start_file(collection, path, info.st_size, info.st_mtime_ns, sha256)
        return _FileJob(path, file_id, info.st_size, 0)

    @staticmethod
    def _unchanged(record: FileRecord, unembedded: dict[int, int], outcome: IndexOutcome) -> _FileJob | None:
        """An up-to-date file: nothing to do, unless stored chunks of it await their vectors."""
        if unembedded.get(record.id, 0):
            return _FileJob(record.path, record.id, record.size, record.chunks_done, unembedded[record.id], complete=True)
        outcome.unchanged += 1
        return None

    def _index_file(self, collection: Collection, job: _FileJob, outcome: IndexOutcome) -> Iterator[int]:
        """Stores the file's chunks batch by batch, yielding after each batch stored."""
        yield from self._embed_stored(collection, job, outcome)
        if job.complete:
            outcome.embedded_again += 1
            return
        report = ExtractReport()
        ordinal = job.chunks_done
        try:
            chunks = chunk_blocks(extract(job.path, report))
            for _skipped in range(job.chunks_done):
                next(chunks, None)
            for batch in _batches(chunks):
                vectors = None
                if self.embedder is not None:
                    vectors = np.asarray(self.embedder.embed_documents([embedded_text(chunk) for chunk in batch]), dtype=np.float32)
                self.index.add_chunks(collection, job.file_id, ordinal, batch, vectors)
                ordinal += len(batch)
                outcome.chunks += len(batch)
                yield len(batch)
        except DocumentError as error:
            self.index.fail_file(collection, job.file_id, str(error))
            outcome.problems.append(str(error))
            return
        warning = report.warning()
        if warning is not None:
            outcome.problems.append(f"{job.path.name}: {warning}")
        self.index.finish_file(job.file_id, report.pages, report.pages_without_text, warning)
        outcome.indexed += 1

    def _embed_stored(self, collection: Collection, job: _FileJob, outcome: IndexOutcome) -> Iterator[int]:
        """Embeds the file's stored chunks that have no vector, batch by batch."""
        if self.embedder is None:
            return
        for _batch in range(-(-job.unembedded // BATCH_CHUNKS)):
            batch = self.index.stored_without_vectors(job.file_id, BATCH_CHUNKS)
            if not batch:
                return
            vectors = np.asarray(self.embedder.embed_documents([embedded_text(chunk) for chunk in batch]), dtype=np.float32)
            self.index.set_vectors(collection, [chunk.id for chunk in batch], vectors)
            outcome.chunks += len(batch)
            yield len(batch)


@dataclass(frozen=True)
class _FileJob:
    path: Path
    file_id: int
    size: int
    chunks_done: int
    unembedded: int = 0  # stored chunks without a vector
    complete: bool = False  # read already: only those chunks are left to embed


def embedded_text(chunk: Chunk) -> str:
    """The chunk as the embedder reads it: under its headings, which say what it is about."""
    return " > ".join(chunk.headings) + "\n" + chunk.text if chunk.headings else chunk.text


def _batches(chunks: Iterator[Chunk]) -> Iterator[list[Chunk]]:
    batch: list[Chunk] = []
    for chunk in chunks:
        batch.append(chunk)
        if len(batch) == BATCH_CHUNKS:
            yield batch
            batch = []
    if batch:
        yield batch
