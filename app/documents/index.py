"""The documents index: one SQLite file (AppPaths.documents_index) holding collections,
the files and folders added to them, each file's chunks with their place, an FTS5 table
over the chunks (BM25) and each chunk's vector as a float32 blob.

Paths are stored as the bytes the operating system gave (os.fsencode), so a file name that
is not valid UTF-8 is indexed and found again like any other.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.documents.blocks import PlaceKind
from app.documents.chunking import Chunk
from app.platform.errors import StorageError
from app.platform.i18n import _
from app.platform.sqlite_writes import statements, transaction

SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE collections (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    embedder TEXT,               -- the identity of the model whose vectors are stored; NULL: none yet
    dimension INTEGER,
    generation INTEGER NOT NULL DEFAULT 0  -- bumped by every change to its chunks (vector caches)
);
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    path BLOB NOT NULL,
    UNIQUE (collection_id, path)
);
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    path BLOB NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    chunks_done INTEGER NOT NULL DEFAULT 0,  -- stored so far: a killed run resumes after them
    complete INTEGER NOT NULL DEFAULT 0,
    pages INTEGER NOT NULL DEFAULT 0,
    pages_without_text INTEGER NOT NULL DEFAULT 0,
    problem TEXT,                -- the sentence shown beside the file (a warning, or why it was skipped)
    UNIQUE (collection_id, path)
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    kind TEXT NOT NULL,
    number INTEGER NOT NULL,
    headings TEXT NOT NULL,      -- a JSON list
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    text TEXT NOT NULL,
    vector BLOB,                 -- float32, the collection's dimension; NULL without an embedder
    UNIQUE (file_id, ordinal)
);
CREATE VIRTUAL TABLE chunk_text USING fts5(text, content='chunks', content_rowid='id', tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE chunk_terms USING fts5vocab(chunk_text, 'row');
CREATE TRIGGER chunks_added AFTER INSERT ON chunks BEGIN
    INSERT INTO chunk_text(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER chunks_removed AFTER DELETE ON chunks BEGIN
    INSERT INTO chunk_text(chunk_text, rowid, text) VALUES ('delete', old.id, old.text);
END;
"""

_WAITING_FOR_VECTORS = "CREATE INDEX chunks_without_vector ON chunks(file_id) WHERE vector IS NULL"


def encode_path(path: Path) -> bytes:
    return os.fsencode(path)


def decode_path(stored: bytes) -> Path:
    return Path(os.fsdecode(stored))


@dataclass(frozen=True)
class Collection:
    """`created_at` tells a collection from one made after it was removed, which SQLite
    may give the same id (a cache of its vectors must not take one for the other)."""

    id: int
    name: str
    embedder: str | None
    dimension: int | None
    generation: int
    created_at: float = 0.0


def _collection(row: sqlite3.Row) -> Collection:
    return Collection(row["id"], row["name"], row["embedder"], row["dimension"], row["generation"], row["created_at"])


@dataclass(frozen=True)
class FileRecord:
    id: int
    path: Path
    size: int
    mtime_ns: int
    sha256: str
    chunks_done: int
    complete: bool
    pages: int
    pages_without_text: int
    problem: str | None


@dataclass(frozen=True)
class StoredChunk(Chunk):
    """A chunk as retrieval hands it out, with its id and its file."""

    id: int
    path: Path


class DocumentIndex:
    """The index file, opened once by its owner (the indexing worker, or the command line)."""

    def __init__(self, path: Path | str) -> None:
        try:
            if isinstance(path, Path):
                path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=10, isolation_level=None)
            self.db.row_factory = sqlite3.Row
            self.db.execute("PRAGMA foreign_keys = ON")
            # A removed collection or file leaves no text behind in the file's free pages.
            self.db.execute("PRAGMA secure_delete = ON")
            _use_write_ahead_log(self.db)
            # A power cut may lose the last batch (the next run embeds it again), never the file.
            self.db.execute("PRAGMA synchronous = NORMAL")
            with self.transaction():  # read and made under the write lock: two first opens race
                version = self.db.execute("PRAGMA user_version").fetchone()[0]
                if version == 0:
                    for statement in statements(_SCHEMA):
                        self.db.execute(statement)
                if version < 2:  # passages waiting for vectors are found without reading every vector
                    self.db.execute(_WAITING_FOR_VECTORS)
                    self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.Error as error:
            raise StorageError(_("The documents index {path} cannot be opened: {reason}").format(path=path, reason=error)) from error
        if version > SCHEMA_VERSION:
            self.db.close()
            raise StorageError(_(
                "The documents index {path} was written by a newer version of Hearth. Update Hearth to use it."
            ).format(path=path))

    def close(self) -> None:
        self.db.close()

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.db)

    # Collections ------------------------------------------------------------------------

    def create_collection(self, name: str) -> Collection:
        try:
            self.db.execute("INSERT INTO collections(name, created_at) VALUES (?, ?)", (name, time.time()))
        except sqlite3.IntegrityError as error:
            raise StorageError(_("There is already a collection named “{name}”.").format(name=name)) from error
        return self.collection(name)

    def collection(self, name: str) -> Collection:
        row = self.db.execute("SELECT * FROM collections WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise StorageError(_("There is no collection named “{name}”.").format(name=name))
        return _collection(row)

    def collections(self) -> list[Collection]:
        rows = self.db.execute("SELECT * FROM collections ORDER BY name").fetchall()
        return [_collection(row) for row in rows]

    def remove_collection(self, collection: Collection) -> None:
        """Deletes the collection with its files' chunks and vectors, and leaves none of their
        text in the file: FTS5 keeps a deleted row's words in its segments until they are
        merged ('optimize'), and the write-ahead log keeps old pages until a checkpoint."""
        with self.transaction():
            self.db.execute("DELETE FROM collections WHERE id = ?", (collection.id,))
            self.db.execute("INSERT INTO chunk_text(chunk_text) VALUES ('optimize')")
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def use_embedder(self, collection: Collection, identity: str, dimension: int) -> Collection:
        """Records the embedder that builds the collection's vectors. A different one than
        before clears the vectors, never mixed with the new model's; the chunks stay, found
        by their words until the next indexing run has embedded them again."""
        if (collection.embedder, collection.dimension) != (identity, dimension):
            with self.transaction():
                self.db.execute(
                    "UPDATE chunks SET vector = NULL WHERE file_id IN (SELECT id FROM files WHERE collection_id = ?)",
                    (collection.id,),
                )
                self.db.execute(
                    "UPDATE collections SET embedder = ?, dimension = ?, generation = generation + 1 WHERE id = ?",
                    (identity, dimension, collection.id),
                )
        return self.collection(collection.name)

    def chunks_without_vectors(self, collection: Collection) -> dict[int, int]:
        """By file id, how many of its stored chunks have no vector (to be embedded)."""
        rows = self.db.execute(
            """SELECT c.file_id, COUNT(*) FROM chunks c JOIN files f ON f.id = c.file_id
               WHERE f.collection_id = ? AND c.vector IS NULL GROUP BY c.file_id""",
            (collection.id,),
        ).fetchall()
        return {row[0]: row[1] for row in rows}

    def waiting_for_vectors(self, collection: Collection) -> bool:
        """Whether any of its stored chunks has no vector yet (found by the partial index,
        without reading the vectors)."""
        row = self.db.execute(
            """SELECT 1 FROM chunks c JOIN files f ON f.id = c.file_id
               WHERE f.collection_id = ? AND c.vector IS NULL LIMIT 1""",
            (collection.id,),
        ).fetchone()
        return row is not None

    def stored_without_vectors(self, file_id: int, limit: int) -> list[StoredChunk]:
        rows = self.db.execute(f"{_CHUNK_COLUMNS} WHERE c.file_id = ? AND c.vector IS NULL ORDER BY c.ordinal LIMIT ?",
                               (file_id, limit)).fetchall()
        return [_stored_chunk(row) for row in rows]

    def set_vectors(self, collection: Collection, chunk_ids: Sequence[int], vectors: np.ndarray) -> None:
        with self.transaction():
            self.db.executemany("UPDATE chunks SET vector = ? WHERE id = ?", [
                (vector.astype(np.float32).tobytes(), chunk_id) for chunk_id, vector in zip(chunk_ids, vectors, strict=True)
            ])
            self._bump(collection)

    # Sources and files ------------------------------------------------------------------

    def add_source(self, collection: Collection, path: Path) -> None:
        self.db.execute("INSERT OR IGNORE INTO sources(collection_id, path) VALUES (?, ?)", (collection.id, encode_path(path)))

    def remove_source(self, collection: Collection, path: Path) -> bool:
        cursor = self.db.execute("DELETE FROM sources WHERE collection_id = ? AND path = ?", (collection.id, encode_path(path)))
        return cursor.rowcount > 0

    def sources(self, collection: Collection) -> list[Path]:
        rows = self.db.execute("SELECT path FROM sources WHERE collection_id = ? ORDER BY id", (collection.id,)).fetchall()
        return [decode_path(row["path"]) for row in rows]

    def files(self, collection: Collection) -> dict[Path, FileRecord]:
        rows = self.db.execute("SELECT * FROM files WHERE collection_id = ?", (collection.id,)).fetchall()
        records = (
            FileRecord(
                r["id"], decode_path(r["path"]), r["size"], r["mtime_ns"], r["sha256"], r["chunks_done"],
                bool(r["complete"]), r["pages"], r["pages_without_text"], r["problem"],
            )
            for r in rows
        )
        return {record.path: record for record in records}

    def drop_files(self, collection: Collection, file_ids: Sequence[int]) -> None:
        if not file_ids:
            return
        with self.transaction():
            self.db.executemany("DELETE FROM files WHERE id = ?", [(file_id,) for file_id in file_ids])
            self._bump(collection)

    def start_file(self, collection: Collection, path: Path, size: int, mtime_ns: int, sha256: str) -> int:
        """A fresh row for a file to be indexed from its first chunk (its old chunks go)."""
        with self.transaction():
            self.db.execute("DELETE FROM files WHERE collection_id = ? AND path = ?", (collection.id, encode_path(path)))
            cursor = self.db.execute(
                "INSERT INTO files(collection_id, path, size, mtime_ns, sha256) VALUES (?, ?, ?, ?, ?)",
                (collection.id, encode_path(path), size, mtime_ns, sha256),
            )
            self._bump(collection)
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def touch_file(self, file_id: int, mtime_ns: int) -> None:
        """The file's time changed but not its content."""
        self.db.execute("UPDATE files SET mtime_ns = ? WHERE id = ?", (mtime_ns, file_id))

    def add_chunks(self, collection: Collection, file_id: int, first_ordinal: int, chunks: Sequence[Chunk], vectors: np.ndarray | None) -> None:
        """Stores a batch and counts it done, in one transaction: a kill loses at most the batch."""
        rows = [
            (
                file_id, first_ordinal + offset, chunk.kind.value, chunk.number, json.dumps(chunk.headings), chunk.start, chunk.end,
                chunk.text, None if vectors is None else vectors[offset].astype(np.float32).tobytes(),
            )
            for offset, chunk in enumerate(chunks)
        ]
        with self.transaction():
            self.db.executemany(
                'INSERT INTO chunks(file_id, ordinal, kind, number, headings, start, "end", text, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', rows
            )
            self.db.execute("UPDATE files SET chunks_done = ? WHERE id = ?", (first_ordinal + len(chunks), file_id))
            self._bump(collection)

    def finish_file(self, file_id: int, pages: int, pages_without_text: int, problem: str | None) -> None:
        self.db.execute(
            "UPDATE files SET complete = 1, pages = ?, pages_without_text = ?, problem = ? WHERE id = ?",
            (pages, pages_without_text, problem, file_id),
        )

    def fail_file(self, collection: Collection, file_id: int, problem: str) -> None:
        """The file could not be read: its chunks go, the sentence stays until it changes."""
        with self.transaction():
            self.db.execute("DELETE FROM chunks WHERE file_id = ?", (file_id,))
            self.db.execute("UPDATE files SET complete = 1, chunks_done = 0, problem = ? WHERE id = ?", (problem, file_id))
            self._bump(collection)

    def _bump(self, collection: Collection) -> None:
        self.db.execute("UPDATE collections SET generation = generation + 1 WHERE id = ?", (collection.id,))

    # Reading for retrieval ---------------------------------------------------------------

    def chunk_count(self, collection: Collection) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM chunks JOIN files f ON f.id = chunks.file_id WHERE f.collection_id = ?", (collection.id,))
        return int(row.fetchone()[0])

    def term_shares(self, terms: Sequence[str]) -> tuple[dict[str, float], int]:
        """For each FTS term (as the tokenizer writes it: lowercase, no diacritics), the share
        of all chunks in the index that hold it; and how many chunks the index holds."""
        total = self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        marks = ",".join("?" * len(terms))
        rows = self.db.execute(f"SELECT term, doc FROM chunk_terms WHERE term IN ({marks})", list(terms)).fetchall()
        return {row["term"]: row["doc"] / (total or 1) for row in rows}, total

    def keyword_hits(self, collection: Collection, expression: str, limit: int) -> list[int]:
        """Chunk ids that match the FTS5 `expression`, best (BM25) first."""
        rows = self.db.execute(
            """SELECT chunk_text.rowid AS id FROM chunk_text
               JOIN chunks c ON c.id = chunk_text.rowid JOIN files f ON f.id = c.file_id
               WHERE chunk_text MATCH ? AND f.collection_id = ? ORDER BY bm25(chunk_text) LIMIT ?""",
            (expression, collection.id, limit),
        ).fetchall()
        return [row["id"] for row in rows]

    def vectors(self, collection: Collection) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids, a matrix of their vectors, one row each) for the collection."""
        rows = self.db.execute(
            "SELECT c.id, c.vector FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.collection_id = ? AND c.vector IS NOT NULL",
            (collection.id,),
        ).fetchall()
        ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
        if not rows:
            return ids, np.zeros((0, collection.dimension or 0), dtype=np.float32)
        matrix = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32).reshape(len(rows), -1)
        return ids, matrix

    def chunks_by_id(self, ids: Sequence[int]) -> dict[int, StoredChunk]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(f"{_CHUNK_COLUMNS} WHERE c.id IN ({marks})", list(ids)).fetchall()
        return {row["id"]: _stored_chunk(row) for row in rows}

    def text_size(self, collection: Collection, at_most_chunks: int) -> int | None:
        """Characters in all the collection's passages (whether it could fit a prompt whole),
        None when it has more than `at_most_chunks`: a large collection is not read through
        for every question."""
        rows = self.db.execute(
            "SELECT length(c.text) FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.collection_id = ? LIMIT ?",
            (collection.id, at_most_chunks + 1),
        ).fetchall()
        return None if len(rows) > at_most_chunks else sum(row[0] for row in rows)

    def all_chunks(self, collection: Collection) -> list[StoredChunk]:
        """Every passage of the collection, file by file in the order of their text. Only for
        a collection whose `text_size` fits a prompt."""
        rows = self.db.execute(f"{_CHUNK_COLUMNS} WHERE f.collection_id = ? ORDER BY f.path, c.ordinal", (collection.id,)).fetchall()
        return [_stored_chunk(row) for row in rows]

    def file_chunks(self, file_id: int) -> list[StoredChunk]:
        """One file's passages in the order of its text (going through a collection file by file)."""
        rows = self.db.execute(f"{_CHUNK_COLUMNS} WHERE c.file_id = ? ORDER BY c.ordinal", (file_id,)).fetchall()
        return [_stored_chunk(row) for row in rows]


_CHUNK_COLUMNS = 'SELECT c.id, f.path, c.text, c.kind, c.number, c.headings, c.start, c."end" FROM chunks c JOIN files f ON f.id = c.file_id'


def _stored_chunk(row: sqlite3.Row) -> StoredChunk:
    return StoredChunk(
        row["text"], PlaceKind(row["kind"]), row["number"], tuple(json.loads(row["headings"])),
        row["start"], row["end"], id=row["id"], path=decode_path(row["path"]),
    )


# Turning on the write-ahead log takes the file for a moment, and SQLite does not wait for a
# second connection doing the same (no busy handler there): two first opens of a new index
# at once failed with "database is locked" in 3 of 100 tries. So it is tried again, briefly.
WAL_TRIES, WAL_PAUSE_SECONDS = 50, 0.02


def _use_write_ahead_log(db: sqlite3.Connection) -> None:
    for attempt in range(WAL_TRIES):
        try:
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or attempt == WAL_TRIES - 1:
                raise
            time.sleep(WAL_PAUSE_SECONDS)

