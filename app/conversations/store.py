"""The conversation store: one SQLite database, messages kept as a tree.

Edits and regenerations add sibling messages instead of overwriting, and each
conversation remembers which leaf is shown. Open one `ConversationStore` per
thread: SQLite connections are not shared between threads.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.platform.errors import StorageError

DEFAULT_TITLE = "New chat"
TITLE_LENGTH = 60


def title_from(text: str) -> str:
    """A conversation's first title: its first message on one line, shortened."""
    return " ".join(text.split())[:TITLE_LENGTH] or DEFAULT_TITLE

# Each entry takes the schema from version N to N+1; never edit a released one.
_MIGRATIONS: list[str] = [
    """
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        current_leaf_id INTEGER REFERENCES messages(id) ON DELETE SET NULL
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        parent_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
        content TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'complete'
            CHECK (status IN ('complete', 'streaming', 'stopped', 'interrupted', 'failed')),
        stats TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX messages_by_conversation ON messages(conversation_id);
    CREATE INDEX messages_by_parent ON messages(parent_id);
    CREATE INDEX conversations_by_activity ON conversations(updated_at DESC);
    """,
]
SCHEMA_VERSION = len(_MIGRATIONS)


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    title: str
    updated_at: float


@dataclass(frozen=True)
class Message:
    id: int
    conversation_id: int
    parent_id: int | None
    role: str
    content: str
    status: str
    created_at: float
    stats: dict[str, Any] = field(default_factory=dict)


def _storage_error(exc: sqlite3.Error) -> StorageError:
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text:
        reason = "the folder where Hearth keeps conversations is read-only"
    elif "full" in text:
        reason = "the disk is full"
    elif "locked" in text:
        reason = "another program is holding the conversation database"
    else:
        reason = f"the database reported: {exc}"
    return StorageError(f"Your conversation could not be saved because {reason}.")


class ConversationStore:
    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=10, isolation_level=None)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            if isinstance(exc, OSError):
                raise StorageError(
                    f"Hearth cannot use the folder {path.parent} for conversations "
                    f"({exc.strerror or exc})."
                ) from exc
            raise _storage_error(exc) from exc

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:  # also when COMMIT itself failed (disk full)
                    self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise _storage_error(exc) from exc

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StorageError(
                "The conversation database was written by a newer version of Hearth. "
                "Please update Hearth to open it."
            )
        for number in range(version, SCHEMA_VERSION):
            with self._write() as db:
                for statement in _MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")

    # Conversations ---------------------------------------------------------

    def create_conversation(self, title: str = DEFAULT_TITLE) -> int:
        now = self._clock()
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)",
                (title, now, now),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def list_conversations(self) -> list[ConversationSummary]:
        rows = self._db.execute(
            "SELECT id, title, updated_at FROM conversations ORDER BY updated_at DESC, id DESC"
        ).fetchall()
        return [ConversationSummary(row["id"], row["title"], row["updated_at"]) for row in rows]

    def conversation_title(self, conversation_id: int) -> str:
        row = self._db.execute(
            "SELECT title FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        return row["title"] if row else ""

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE conversations SET title = ? WHERE id = ?", (title.strip(), conversation_id)
            )

    def delete_conversation(self, conversation_id: int) -> None:
        with self._write() as db:
            db.execute("UPDATE conversations SET current_leaf_id = NULL WHERE id = ?",
                       (conversation_id,))
            db.execute("DELETE FROM messages WHERE conversation_id = ?", (conversation_id,))
            db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))

    # Messages --------------------------------------------------------------

    def add_message(
        self,
        conversation_id: int,
        parent_id: int | None,
        role: str,
        content: str,
        status: str = "complete",
    ) -> int:
        """Add a message under `parent_id` and make it the conversation's shown leaf."""
        now = self._clock()
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO messages (conversation_id, parent_id, role, content, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, parent_id, role, content, status, now),
            )
            assert cursor.lastrowid is not None
            message_id = cursor.lastrowid
            db.execute(
                "UPDATE conversations SET current_leaf_id = ?, updated_at = ? WHERE id = ?",
                (message_id, now, conversation_id),
            )
        return message_id

    def update_message(
        self,
        message_id: int,
        content: str,
        status: str | None = None,
        stats: dict[str, Any] | None = None,
    ) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE messages SET content = ?, status = COALESCE(?, status),"
                " stats = COALESCE(?, stats) WHERE id = ?",
                (content, status, json.dumps(stats) if stats is not None else None, message_id),
            )

    def message(self, message_id: int) -> Message | None:
        row = self._db.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return _message(row) if row else None

    def current_leaf(self, conversation_id: int) -> int | None:
        row = self._db.execute(
            "SELECT current_leaf_id FROM conversations WHERE id = ?", (conversation_id,)
        ).fetchone()
        return row["current_leaf_id"] if row else None

    def thread(self, conversation_id: int) -> list[Message]:
        """The shown branch, from the first message to the current leaf."""
        leaf = self.current_leaf(conversation_id)
        return [] if leaf is None else self.path_to(leaf)

    def path_to(self, message_id: int) -> list[Message]:
        """The messages from the first one down to `message_id`, in order."""
        rows = self._db.execute(
            """
            WITH RECURSIVE chain(id, depth) AS (
                SELECT ?, 0
                UNION ALL
                SELECT m.parent_id, chain.depth + 1 FROM messages m JOIN chain ON m.id = chain.id
                WHERE m.parent_id IS NOT NULL
            )
            SELECT m.* FROM chain JOIN messages m ON m.id = chain.id ORDER BY chain.depth DESC
            """,
            (message_id,),
        ).fetchall()
        return [_message(row) for row in rows]

    def siblings(self, message_id: int) -> list[int]:
        """Ids of the message and its alternatives (same parent), oldest first."""
        row = self._db.execute(
            "SELECT conversation_id, parent_id FROM messages WHERE id = ?", (message_id,)
        ).fetchone()
        if row is None:
            return []
        rows = self._db.execute(
            "SELECT id FROM messages WHERE conversation_id = ? AND parent_id IS ? ORDER BY id",
            (row["conversation_id"], row["parent_id"]),
        ).fetchall()
        return [r["id"] for r in rows]

    def set_current_leaf(self, conversation_id: int, message_id: int) -> None:
        """Show exactly the path down to `message_id` (e.g. while a new reply to it is written)."""
        with self._write() as db:
            db.execute(
                "UPDATE conversations SET current_leaf_id = ? WHERE id = ?", (message_id, conversation_id)
            )

    def show_branch(self, message_id: int) -> None:
        """Show the branch through `message_id`, down to its newest descendant."""
        leaf = message_id
        while True:
            child = self._db.execute(
                "SELECT id FROM messages WHERE parent_id = ? ORDER BY id DESC LIMIT 1", (leaf,)
            ).fetchone()
            if child is None:
                break
            leaf = child["id"]
        with self._write() as db:
            db.execute(
                "UPDATE conversations SET current_leaf_id = ?"
                " WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)",
                (leaf, message_id),
            )

    def mark_interrupted(self) -> int:
        """Replies still marked 'streaming' were cut off by a crash; say so. Returns how many."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'"
            )
        return cursor.rowcount


def _message(row: sqlite3.Row) -> Message:
    return Message(
        id=row["id"],
        conversation_id=row["conversation_id"],
        parent_id=row["parent_id"],
        role=row["role"],
        content=row["content"],
        status=row["status"],
        created_at=row["created_at"],
        stats=json.loads(row["stats"]) if row["stats"] else {},
    )


class GrowingReply:
    """Writes a reply to the store while it is generated, at most `interval` s behind.

    The reply row exists from the first token on, so a crash or a kill keeps
    everything the user saw up to about `interval` seconds before it.
    """

    def __init__(
        self,
        store: ConversationStore,
        message_id: int,
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._message_id = message_id
        self._interval = interval
        self._clock = clock
        self._parts: list[str] = []
        self._last_save = clock()

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def append(self, text: str) -> None:
        self._parts.append(text)
        if self._clock() - self._last_save >= self._interval:
            self._save(status=None, stats=None)

    def finish(self, status: str, stats: dict[str, Any] | None = None) -> None:
        self._save(status=status, stats=stats)

    def _save(self, status: str | None, stats: dict[str, Any] | None) -> None:
        text = "".join(self._parts)
        self._parts = [text]
        self._store.update_message(self._message_id, text, status=status, stats=stats)
        self._last_save = self._clock()
