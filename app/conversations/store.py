"""The conversation store: what it holds, what it can do, and its SQLite implementation.

Messages form a tree: edits and regenerations add sibling messages instead of
overwriting, and each conversation remembers which leaf is shown. Everything
outside this package opens the store with `open_conversations`
(app/conversations/opener.py) and uses it as a `ConversationStore`.
Open one store per thread: SQLite connections are not shared between threads.
"""

from __future__ import annotations

import enum
import json
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from app.conversations.migrations import migrate
from app.conversations.storage_errors import storage_error
from app.conversations.writer_lock import WriterLock
from app.platform.errors import StorageError
from app.platform.i18n import N_, _
from app.platform.sqlite_writes import transaction

if TYPE_CHECKING:
    from app.conversations.search import SearchHit
    from app.conversations.transfer.tree import AddedCount, ConversationTree

# The title a conversation is given when there is nothing to name it after, stored in
# the language in use when it is created (a title is the user's to change, like a file name).
DEFAULT_TITLE = N_("New chat")
TITLE_LENGTH = 60
# How long a deleted conversation stays in the Trash before `empty_trash` deletes it for good.
TRASH_DAYS = 30


def title_from(text: str) -> str:
    """A conversation's first title: its first message on one line, shortened."""
    return " ".join(text.split())[:TITLE_LENGTH] or _(DEFAULT_TITLE)


class Role(enum.StrEnum):
    """Who wrote a message. The values are what the database stores; `label` is what the user reads."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"

    @property
    def label(self) -> str:
        """Who wrote it, as the conversation shows it ("You", "Assistant")."""
        return _(_ROLE_LABELS[self])


_ROLE_LABELS = {Role.SYSTEM: N_("System"), Role.USER: N_("You"), Role.ASSISTANT: N_("Assistant")}


class Status(enum.StrEnum):
    """How far a message got. The values are what the database stores; `note` is what the user reads."""

    COMPLETE = "complete"
    STREAMING = "streaming"  # being written now (or cut off by a crash, until mark_interrupted)
    STOPPED = "stopped"
    INTERRUPTED = "interrupted"
    FAILED = "failed"

    @property
    def note(self) -> str:
        """What the message's footer says about how it ended: '' for a complete reply or
        one being written, which need no word."""
        return _(_STATUS_NOTES[self]) if self in _STATUS_NOTES else ""


_STATUS_NOTES = {
    Status.STOPPED: N_("Stopped"),
    Status.INTERRUPTED: N_("Interrupted: Hearth closed before this reply finished"),
    Status.FAILED: N_("This reply ended with an error"),
}


@dataclass(frozen=True)
class ConversationSummary:
    id: int
    title: str
    updated_at: float
    pinned: bool = False


@dataclass(frozen=True)
class DeletedMessages:
    """What `delete_message` took away, enough for `restore_messages` to put it back: every
    column of each message, parents before children, and the leaf the conversation showed."""

    conversation_id: int
    conversation_uuid: str  # the key of its saved KV state, which still holds the text
    rows: tuple[dict[str, Any], ...]
    shown_leaf: int | None

    @property
    def count(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class TrashedConversation:
    """A conversation in the Trash, and when it was put there."""

    id: int
    title: str
    deleted_at: float


@dataclass(frozen=True)
class Conversation:
    """A conversation's own facts. None for the system prompt, model or assistant
    means "today's default" (conversations from before they were recorded)."""

    id: int
    uuid: str
    title: str
    created_at: float
    updated_at: float
    current_leaf_id: int | None
    system_prompt: str | None
    model_id: str | None
    assistant_id: str | None


@dataclass(frozen=True)
class Message:
    id: int
    uuid: str
    conversation_id: int
    parent_id: int | None
    role: Role
    content: str
    status: Status
    created_at: float
    stats: dict[str, Any] = field(default_factory=dict)
    # What produced an assistant reply (the keys are app/chat/provenance.py's); {} where
    # nothing was recorded (a user's message, a reply from before Hearth recorded it).
    provenance: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BranchedThread:
    """The shown thread, and where each of its messages stands among its alternatives.

    `branches[message.id]` is (position, count): the message is alternative
    `position` (from 1, oldest first) of the `count` messages under its parent.
    Every message of the thread has an entry; one without alternatives has (1, 1).
    `has_older`: it is a page of the thread (`thread_page`), and messages come before its
    first; `characters_before`: how many characters those hold (to estimate their tokens).
    """

    messages: list[Message]
    branches: dict[int, tuple[int, int]]
    has_older: bool = False
    characters_before: int = 0


class ConversationStore(Protocol):
    """What the GUI, the CLI, the chat code and the workers may ask of a conversation store."""

    def close(self) -> None: ...

    def create_conversation(
        self,
        title: str | None = None,
        *,
        system_prompt: str | None = None,
        model_id: str | None = None,
        assistant_id: str | None = None,
    ) -> int: ...

    def conversation(self, conversation_id: int) -> Conversation | None: ...

    def list_conversations(self, assistant_id: str | None = None) -> list[ConversationSummary]: ...

    def assistants_in_use(self) -> list[str]: ...

    def conversation_title(self, conversation_id: int) -> str: ...

    def rename_conversation(self, conversation_id: int, title: str) -> None: ...

    def delete_conversation(self, conversation_id: int) -> None: ...

    def add_message(
        self,
        conversation_id: int,
        parent_id: int | None,
        role: Role | str,
        content: str,
        status: Status | str = Status.COMPLETE,
        *,
        provenance: dict[str, Any] | None = None,
    ) -> int: ...

    def update_message(
        self,
        message_id: int,
        content: str,
        status: Status | str | None = None,
        stats: dict[str, Any] | None = None,
    ) -> None: ...

    def set_provenance(self, message_id: int, provenance: dict[str, Any]) -> None: ...

    def message(self, message_id: int) -> Message | None: ...

    def thread(self, conversation_id: int) -> list[Message]: ...

    def thread_with_branches(self, conversation_id: int) -> BranchedThread: ...

    def thread_page(
        self, conversation_id: int, limit: int, *, before: int | None = None, reach: int | None = None
    ) -> BranchedThread: ...

    def path_to(self, message_id: int) -> list[Message]: ...

    def siblings(self, message_id: int) -> list[int]: ...

    def set_current_leaf(self, conversation_id: int, message_id: int) -> None: ...

    def show_branch(self, message_id: int) -> None: ...

    def mark_interrupted(self) -> int: ...

    def delete_message(self, message_id: int) -> DeletedMessages | None: ...

    def restore_messages(self, deleted: DeletedMessages) -> bool: ...

    def conversation_by_uuid(self, conversation_uuid: str) -> Conversation | None: ...

    def all_messages(self, conversation_id: int) -> list[Message]: ...

    def add_conversation_trees(self, trees: Iterable[ConversationTree]) -> AddedCount: ...

    def search(self, text: str, limit: int = 50, offset: int = 0) -> list[SearchHit]: ...

    def branch_to_new_conversation(self, message_id: int, title: str) -> int: ...

    def conversation_settings(self, conversation_id: int) -> dict[str, Any]: ...

    def set_conversation_settings(self, conversation_id: int, values: Mapping[str, Any]) -> None: ...

    def attached_documents(self, conversation_id: int) -> list[str]: ...

    def set_attached_documents(self, conversation_id: int, names: Sequence[str]) -> None: ...

    # Trash and pins

    def trashed_conversations(self) -> list[TrashedConversation]: ...

    def restore_conversation(self, conversation_id: int) -> None: ...

    def delete_forever(self, conversation_id: int) -> list[str]: ...

    def empty_trash(self, days: float = TRASH_DAYS) -> list[str]: ...

    def set_pinned(self, conversation_id: int, pinned: bool) -> None: ...

    def set_generated_title(self, conversation_id: int, title: str) -> bool: ...


def chain_from(first: str) -> str:
    """A WITH clause naming `chain(id, depth)`: the message that the query `first`
    selects (depth 0), its parent (depth 1), and so on up to the first message."""
    return f"""
    WITH RECURSIVE chain(id, depth) AS (
        {first}
        UNION ALL
        SELECT m.parent_id, chain.depth + 1 FROM messages m JOIN chain ON m.id = chain.id
        WHERE m.parent_id IS NOT NULL
    )
    """


def settings_column(values: Mapping[str, Any]) -> str | None:
    """A conversation's own reply settings as its `settings` column holds them (NULL: none)."""
    return json.dumps(dict(values)) if values else None


def documents_column(names: Sequence[str]) -> str | None:
    """Its attached collections as its `documents` column holds them: each name once, in
    the order attached (NULL: none)."""
    return json.dumps(list(dict.fromkeys(names))) if names else None


_SHOWN_CHAIN = chain_from(
    "SELECT current_leaf_id, 0 FROM conversations WHERE id = :conversation AND current_leaf_id IS NOT NULL"
)
_IN_ORDER = "SELECT m.* FROM chain JOIN messages m ON m.id = chain.id ORDER BY chain.depth DESC"
# Each message's place among its alternatives, counted on the messages_by_parent index.
# Window functions over the conversation were 10x slower at 200 turns (20 ms against 2 ms):
# SQLite joined their result to the chain by scanning it once per message.
_BRANCH_COLUMNS = """
    (SELECT COUNT(*) FROM messages s WHERE s.conversation_id = m.conversation_id
        AND s.parent_id IS m.parent_id AND s.id <= m.id) AS position,
    (SELECT COUNT(*) FROM messages s WHERE s.conversation_id = m.conversation_id
        AND s.parent_id IS m.parent_id) AS alternatives
"""
# A page of the shown branch: `chain(id, depth, found)` walks up from the message the first
# query selects, `limit` messages, or further until it has passed `:reach` (found: it has);
# `kept` leaves out what lies beyond `limit` where `:reach` is not on the branch at all.
_PAGE = """
WITH RECURSIVE chain(id, depth, found) AS (
    {first}
    UNION ALL
    SELECT m.parent_id, chain.depth + 1, chain.found OR m.parent_id = :reach
    FROM messages m JOIN chain ON m.id = chain.id
    WHERE m.parent_id IS NOT NULL AND (chain.depth + 1 < :limit OR NOT chain.found)
),
kept AS (SELECT * FROM chain WHERE depth < :limit OR EXISTS (SELECT 1 FROM chain WHERE id = :reach))
SELECT m.*, {branches} FROM kept JOIN messages m ON m.id = kept.id ORDER BY kept.depth DESC
"""
_PAGE_FROM_LEAF = _PAGE.format(
    first="SELECT current_leaf_id, 0, (:reach IS NULL OR current_leaf_id = :reach) FROM conversations"
          " WHERE id = :conversation AND current_leaf_id IS NOT NULL",
    branches=_BRANCH_COLUMNS,
)
_PAGE_BEFORE = _PAGE.format(
    first="SELECT parent_id, 0, (:reach IS NULL OR parent_id = :reach) FROM messages"
          " WHERE id = :before AND parent_id IS NOT NULL",
    branches=_BRANCH_COLUMNS,
)


class SqliteConversationStore:
    """The conversation store in one SQLite file (WAL, foreign keys on).

    Outside this package, construct it directly only in tests (`Path(":memory:")`,
    a fake clock); everything else opens it with `open_conversations`.
    """

    def __init__(self, path: Path, clock: Callable[[], float] = time.time, *, read_only: bool = False) -> None:
        """`read_only`: open without changing anything (no migration, no WAL switch); every
        write then fails as on a read-only disk (the opener decides when: app/conversations/opener.py)."""
        self._path = path
        self._clock = clock
        self._writer: WriterLock | None = None
        try:
            if not read_only:
                path.parent.mkdir(parents=True, exist_ok=True)
            self._db = _connect(path, read_only)
            try:
                self._db.row_factory = sqlite3.Row
                self._db.execute("PRAGMA foreign_keys = ON")
                if not read_only or str(path) == ":memory:":
                    self._db.execute("PRAGMA journal_mode = WAL")
                    self._db.execute("PRAGMA synchronous = NORMAL")
                    migrate(self._db)
                if read_only:
                    self._db.execute("PRAGMA query_only = ON")
                elif str(path) != ":memory:":
                    self._writer = WriterLock.taken(path)
            except BaseException:
                self._db.close()  # a refused file stays free to be moved aside (Windows locks open files)
                raise
        except OSError as exc:
            raise StorageError(_("Hearth cannot use the folder {folder} for conversations ({reason}).").format(
                folder=path.parent, reason=exc.strerror or exc)) from exc
        except sqlite3.Error as exc:
            raise storage_error(exc, path) from exc

    def close(self) -> None:
        self._db.close()
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def _read(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = ()) -> list[sqlite3.Row]:
        try:
            return self._db.execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise storage_error(exc, self._path, reading=True) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            with transaction(self._db) as db:
                yield db
        except sqlite3.Error as exc:
            raise storage_error(exc, self._path) from exc

    # Conversations ---------------------------------------------------------

    def create_conversation(
        self,
        title: str | None = None,
        *,
        system_prompt: str | None = None,
        model_id: str | None = None,
        assistant_id: str | None = None,
    ) -> int:
        """A new, empty conversation, titled DEFAULT_TITLE in the language in use unless
        `title` is given. None for the system prompt, model or assistant: the default at
        the time of each reply."""
        title = _(DEFAULT_TITLE) if title is None else title
        now = self._clock()
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO conversations"
                " (uuid, title, created_at, updated_at, system_prompt, model_id, assistant_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (str(uuid.uuid4()), title, now, now, system_prompt, model_id, assistant_id),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def conversation(self, conversation_id: int) -> Conversation | None:
        rows = self._read(
            "SELECT id, uuid, title, created_at, updated_at, current_leaf_id, system_prompt, model_id, assistant_id"
            " FROM conversations WHERE id = ?",
            (conversation_id,),
        )
        return Conversation(**dict(rows[0])) if rows else None

    def list_conversations(self, assistant_id: str | None = None) -> list[ConversationSummary]:
        """Every conversation not in the Trash (or those begun with the assistant
        `assistant_id`: the list's filter): pinned ones first, then newest activity first."""
        rows = self._read(
            "SELECT id, title, updated_at, pinned FROM conversations WHERE deleted_at IS NULL"
            + (" AND assistant_id = ?" if assistant_id is not None else "")
            + " ORDER BY pinned DESC, updated_at DESC, id DESC",
            (assistant_id,) if assistant_id is not None else (),
        )
        return [ConversationSummary(row["id"], row["title"], row["updated_at"], bool(row["pinned"])) for row in rows]

    def assistants_in_use(self) -> list[str]:
        """The assistants that conversations outside the Trash were begun with (the filter's choices)."""
        rows = self._read("SELECT DISTINCT assistant_id FROM conversations WHERE assistant_id IS NOT NULL AND deleted_at IS NULL"
                          " ORDER BY assistant_id")
        return [str(row["assistant_id"]) for row in rows]

    def conversation_title(self, conversation_id: int) -> str:
        rows = self._read("SELECT title FROM conversations WHERE id = ?", (conversation_id,))
        return str(rows[0]["title"]) if rows else ""

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        """The user's own name for it: a generated title never replaces it."""
        with self._write() as db:
            db.execute(
                "UPDATE conversations SET title = ?, title_by_user = 1 WHERE id = ?", (title.strip(), conversation_id)
            )

    def delete_conversation(self, conversation_id: int) -> None:
        """Move the conversation to the Trash; `restore_conversation` brings it back whole."""
        with self._write() as db:
            db.execute("UPDATE conversations SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
                       (self._clock(), conversation_id))

    # Messages --------------------------------------------------------------

    def add_message(
        self,
        conversation_id: int,
        parent_id: int | None,
        role: Role | str,
        content: str,
        status: Status | str = Status.COMPLETE,
        *,
        provenance: dict[str, Any] | None = None,
    ) -> int:
        """Add a message under `parent_id` and make it the conversation's shown leaf.
        `provenance`: what produced a reply, written in the same row so a crash keeps it."""
        now = self._clock()
        recorded = json.dumps(provenance) if provenance else None
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO messages (uuid, conversation_id, parent_id, role, content, status, created_at, provenance)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (str(uuid.uuid4()), conversation_id, parent_id, Role(role), content, Status(status), now, recorded),
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
        status: Status | str | None = None,
        stats: dict[str, Any] | None = None,
    ) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE messages SET content = ?, status = COALESCE(?, status),"
                " stats = COALESCE(?, stats) WHERE id = ?",
                (
                    content,
                    Status(status) if status is not None else None,
                    json.dumps(stats) if stats is not None else None,
                    message_id,
                ),
            )

    def set_provenance(self, message_id: int, provenance: dict[str, Any]) -> None:
        """Replace what a reply records of its making (e.g. with the prompt format the
        backend chose, known once it has begun)."""
        with self._write() as db:
            db.execute("UPDATE messages SET provenance = ? WHERE id = ?", (json.dumps(provenance), message_id))

    def message(self, message_id: int) -> Message | None:
        rows = self._read("SELECT * FROM messages WHERE id = ?", (message_id,))
        return _message(rows[0]) if rows else None

    def thread(self, conversation_id: int) -> list[Message]:
        """The shown branch, from the first message to the current leaf."""
        rows = self._read(_SHOWN_CHAIN + _IN_ORDER, {"conversation": conversation_id})
        return [_message(row) for row in rows]

    def thread_with_branches(self, conversation_id: int) -> BranchedThread:
        """The shown branch and each message's place among its alternatives, in one
        statement however long the thread is (a `siblings()` per message grew with it)."""
        rows = self._read(
            _SHOWN_CHAIN + f"SELECT m.*, {_BRANCH_COLUMNS} FROM chain JOIN messages m ON m.id = chain.id"
            " ORDER BY chain.depth DESC",
            {"conversation": conversation_id},
        )
        return _branched(rows)

    def thread_page(
        self, conversation_id: int, limit: int, *, before: int | None = None, reach: int | None = None
    ) -> BranchedThread:
        """A page of the shown branch, oldest first, with `branches` as `thread_with_branches`
        gives them: its newest `limit` messages, or, with `before` (a message on it), the
        `limit` messages before that one. With `reach`, as many more as it takes to include
        that message, where it is on the branch. One statement whose work grows with the page,
        not with the conversation (except a `reach` not on the branch, which walks it all),
        and, where older messages exist, one that adds up their lengths (7 ms for 10,000
        messages here, against 80-170 ms to read them all)."""
        parameters = {"conversation": conversation_id, "before": before, "limit": max(limit, 1), "reach": reach}
        rows = self._read(_PAGE_FROM_LEAF if before is None else _PAGE_BEFORE, parameters)
        page = _branched(rows)
        older = rows[0]["parent_id"] if rows else None
        if older is None:
            return page
        characters = self._read(
            chain_from("SELECT :message, 0")
            + "SELECT COALESCE(SUM(length(m.content)), 0) AS characters FROM chain JOIN messages m ON m.id = chain.id",
            {"message": older},
        )[0]["characters"]
        return BranchedThread(page.messages, page.branches, has_older=True, characters_before=characters)

    def path_to(self, message_id: int) -> list[Message]:
        """The messages from the first one down to `message_id`, in order."""
        rows = self._read(chain_from("SELECT :message, 0") + _IN_ORDER, {"message": message_id})
        return [_message(row) for row in rows]

    def siblings(self, message_id: int) -> list[int]:
        """Ids of the message and its alternatives (same parent), oldest first."""
        rows = self._read(
            "SELECT s.id FROM messages m JOIN messages s"
            " ON s.conversation_id = m.conversation_id AND s.parent_id IS m.parent_id"
            " WHERE m.id = ? ORDER BY s.id",
            (message_id,),
        )
        return [row["id"] for row in rows]

    def set_current_leaf(self, conversation_id: int, message_id: int) -> None:
        """Show exactly the path down to `message_id` (e.g. while a new reply to it is written)."""
        with self._write() as db:
            db.execute(
                "UPDATE conversations SET current_leaf_id = ? WHERE id = ?", (message_id, conversation_id)
            )

    def show_branch(self, message_id: int) -> None:
        """Show the branch through `message_id`, down to its newest descendant."""
        with self._write() as db:
            leaf = _newest_below(db, message_id)
            db.execute(
                "UPDATE conversations SET current_leaf_id = ?"
                " WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)",
                (leaf, message_id),
            )

    def delete_message(self, message_id: int) -> DeletedMessages | None:
        """Delete a message and everything that follows it, on every branch below it (a
        question takes its replies along). The conversation then shows the branch of its newest
        remaining alternative, or ends at its parent. None: there was no such message."""
        with self._write() as db:
            rows = [dict(row) for row in db.execute(
                "WITH RECURSIVE below(id, depth) AS (SELECT ?, 0 UNION ALL"
                " SELECT m.id, below.depth + 1 FROM messages m JOIN below ON m.parent_id = below.id)"
                " SELECT m.* FROM below JOIN messages m ON m.id = below.id ORDER BY below.depth, m.id",
                (message_id,),
            )]
            if not rows:
                return None
            first = rows[0]
            conversation_id = first["conversation_id"]
            shown, conversation_uuid = db.execute("SELECT current_leaf_id, uuid FROM conversations WHERE id = ?",
                                                  (conversation_id,)).fetchone()
            db.execute("DELETE FROM messages WHERE id = ?", (message_id,))  # the rest go by ON DELETE CASCADE
            if shown is None or shown in {row["id"] for row in rows}:
                sibling = db.execute(
                    "SELECT id FROM messages WHERE conversation_id = ? AND parent_id IS ? ORDER BY id DESC LIMIT 1",
                    (conversation_id, first["parent_id"]),
                ).fetchone()
                leaf = _newest_below(db, sibling[0]) if sibling else first["parent_id"]
                db.execute("UPDATE conversations SET current_leaf_id = ? WHERE id = ?", (leaf, conversation_id))
        return DeletedMessages(conversation_id, conversation_uuid, tuple(rows), shown)

    def restore_messages(self, deleted: DeletedMessages) -> bool:
        """Put back what `delete_message` took, where it was, and show what was shown then.
        The messages get new ids; their uuids stay. False, and nothing put back, where the
        conversation (or the message the first one answered) is gone for good."""
        with self._write() as db:
            first = deleted.rows[0]
            if not db.execute("SELECT 1 FROM conversations WHERE id = ?", (deleted.conversation_id,)).fetchone() or (
                first["parent_id"] is not None
                and not db.execute("SELECT 1 FROM messages WHERE id = ?", (first["parent_id"],)).fetchone()
            ):
                return False
            new_ids: dict[int, int] = {}
            for row in deleted.rows:
                cursor = db.execute(
                    "INSERT INTO messages (uuid, conversation_id, parent_id, role, content, status, stats, provenance,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (row["uuid"], row["conversation_id"], new_ids.get(row["parent_id"], row["parent_id"]), row["role"],
                     row["content"], row["status"], row["stats"], row["provenance"], row["created_at"]),
                )
                assert cursor.lastrowid is not None
                new_ids[row["id"]] = cursor.lastrowid
            if deleted.shown_leaf is not None:
                leaf = new_ids.get(deleted.shown_leaf, deleted.shown_leaf)
                db.execute("UPDATE conversations SET current_leaf_id = ? WHERE id = ?"
                           " AND EXISTS (SELECT 1 FROM messages WHERE id = ?)", (leaf, deleted.conversation_id, leaf))
            return True

    def mark_interrupted(self) -> int:
        """Replies still marked streaming were cut off by a crash; say so. Returns how many.

        Not while another live process has the store open (`hearth ask` writing its
        reply, another window): its reply would be marked while it is still written. The
        replies of a dead process are then marked at a later start."""
        if WriterLock.others_alive(self._path):
            return 0
        with self._write() as db:
            cursor = db.execute(
                "UPDATE messages SET status = ? WHERE status = ?", (Status.INTERRUPTED, Status.STREAMING)
            )
        return cursor.rowcount

    # Whole trees (export and import: app/conversations/transfer) -----------

    def conversation_by_uuid(self, conversation_uuid: str) -> Conversation | None:
        rows = self._read("SELECT id FROM conversations WHERE uuid = ?", (conversation_uuid,))
        return self.conversation(rows[0]["id"]) if rows else None

    def all_messages(self, conversation_id: int) -> list[Message]:
        """Every message of the conversation, every branch, oldest first (so each parent
        comes before its children)."""
        rows = self._read("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id", (conversation_id,))
        return [_message(row) for row in rows]

    def add_conversation_trees(self, trees: Iterable[ConversationTree]) -> AddedCount:
        """Add whole conversations in one transaction, keeping their UUIDs and times; one
        already here gains only the messages it lacks, and nothing here is overwritten
        (app/conversations/transfer/tree_writer.py)."""
        from app.conversations.transfer.tree_writer import add_trees  # it imports this module's types

        with self._write() as db:
            return add_trees(db, trees)

    # Search ----------------------------------------------------------------

    def search(self, text: str, limit: int = 50, offset: int = 0) -> list[SearchHit]:
        """Where `text`'s words occur, as typed (never an error for FTS syntax): matching
        titles first, then messages newest first (app/conversations/search.py)."""
        from app.conversations import search  # search.py needs this module's Role

        return search.search(self._read, text, limit, offset)

    # Edit and branch -------------------------------------------------------

    def branch_to_new_conversation(self, message_id: int, title: str) -> int:
        """A new conversation titled `title` holding a copy of the path from the first
        message down to `message_id`, shown to its end; its id. The copies have new UUIDs
        and keep the texts, times, statistics and provenance; the conversation keeps the
        original's system prompt, model, assistant, own reply settings and attached documents. One transaction:
        all or nothing."""
        now = self._clock()
        with self._write() as db:
            path = db.execute(chain_from("SELECT :message, 0") + _IN_ORDER, {"message": message_id}).fetchall()
            if not path:
                raise StorageError(_("That message is no longer in the conversation."))
            cursor = db.execute(
                "INSERT INTO conversations (uuid, title, created_at, updated_at, system_prompt, model_id, assistant_id, settings,"
                " documents) SELECT ?, ?, ?, ?, system_prompt, model_id, assistant_id, settings, documents"
                " FROM conversations WHERE id = ?",
                (str(uuid.uuid4()), title, now, now, path[0]["conversation_id"]),
            )
            conversation_id = cursor.lastrowid
            parent: int | None = None
            for row in path:
                cursor = db.execute(
                    "INSERT INTO messages (uuid, conversation_id, parent_id, role, content, status, stats, provenance,"
                    " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (str(uuid.uuid4()), conversation_id, parent, row["role"], row["content"], row["status"],
                     row["stats"], row["provenance"], row["created_at"]),
                )
                parent = cursor.lastrowid
            db.execute("UPDATE conversations SET current_leaf_id = ? WHERE id = ?", (parent, conversation_id))
        assert conversation_id is not None
        return conversation_id

    # A conversation's own settings and its assistant (app/assistants) --------

    def conversation_settings(self, conversation_id: int) -> dict[str, Any]:
        """The reply settings this conversation keeps for itself (name -> value); {} for none,
        and for a value that is not a JSON object (written by hand: it is not Hearth's)."""
        rows = self._read("SELECT settings FROM conversations WHERE id = ?", (conversation_id,))
        try:
            values = json.loads(rows[0]["settings"]) if rows and rows[0]["settings"] else {}
        except ValueError:
            return {}
        return values if isinstance(values, dict) else {}

    def set_conversation_settings(self, conversation_id: int, values: Mapping[str, Any]) -> None:
        with self._write() as db:
            db.execute("UPDATE conversations SET settings = ? WHERE id = ?", (settings_column(values), conversation_id))

    def attached_documents(self, conversation_id: int) -> list[str]:
        """The names of the document collections its questions are answered from, in the
        order attached; [] for none (and for a value that is not a list of names)."""
        rows = self._read("SELECT documents FROM conversations WHERE id = ?", (conversation_id,))
        try:
            names = json.loads(rows[0]["documents"]) if rows and rows[0]["documents"] else []
        except ValueError:
            return []
        return [name for name in names if isinstance(name, str)] if isinstance(names, list) else []

    def set_attached_documents(self, conversation_id: int, names: Sequence[str]) -> None:
        with self._write() as db:
            db.execute("UPDATE conversations SET documents = ? WHERE id = ?", (documents_column(names), conversation_id))

    # Trash and pins ----------------------------------------------------------

    def trashed_conversations(self) -> list[TrashedConversation]:
        """What the Trash holds, the last one deleted first."""
        rows = self._read(
            "SELECT id, title, deleted_at FROM conversations WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC, id DESC"
        )
        return [TrashedConversation(row["id"], row["title"], row["deleted_at"]) for row in rows]

    def restore_conversation(self, conversation_id: int) -> None:
        """Take a conversation out of the Trash, back where it was in the list."""
        with self._write() as db:
            db.execute("UPDATE conversations SET deleted_at = NULL WHERE id = ?", (conversation_id,))

    def delete_forever(self, conversation_id: int) -> list[str]:
        """Remove a conversation in the Trash and all its messages from the database. The uuid of what
        went ([] when it was not there): the key of its saved KV state, which the caller
        deletes too (app/platform/saved_states.py). Only from the Trash: a list shown
        before a restore elsewhere cannot delete a conversation in use."""
        with self._write() as db:
            return _remove(db, "id = ? AND deleted_at IS NOT NULL", (conversation_id,))

    def empty_trash(self, days: float = TRASH_DAYS) -> list[str]:
        """Delete for good what went to the Trash more than `days` ago. Returns their uuids
        (the keys of their saved KV states, which the caller deletes too)."""
        with self._write() as db:
            return _remove(db, "deleted_at < ?", (self._clock() - days * 86_400,))

    def set_pinned(self, conversation_id: int, pinned: bool) -> None:
        """A pinned conversation stays at the top of the list."""
        with self._write() as db:
            db.execute("UPDATE conversations SET pinned = ? WHERE id = ?", (int(pinned), conversation_id))

    def set_generated_title(self, conversation_id: int, title: str) -> bool:
        """Title the conversation with what the model wrote, unless the user named it
        (renaming always wins) or deleted it. Whether the title was taken."""
        with self._write() as db:
            cursor = db.execute(
                "UPDATE conversations SET title = ? WHERE id = ? AND title_by_user = 0 AND deleted_at IS NULL",
                (title, conversation_id),
            )
        return cursor.rowcount > 0



def _connect(path: Path, read_only: bool) -> sqlite3.Connection:
    """A connection in autocommit mode; `read_only` opens the file as SQLite's read-only
    (mode=ro), or, where its folder is read-only too and SQLite cannot make the WAL's
    shared-memory file, as an unchanging file (immutable=1)."""
    if not read_only or str(path) == ":memory:":
        return sqlite3.connect(path, timeout=10, isolation_level=None)
    uri = path.resolve().as_uri()
    try:
        db = sqlite3.connect(uri + "?mode=ro", timeout=10, isolation_level=None, uri=True)
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return db
    except sqlite3.OperationalError:
        return sqlite3.connect(uri + "?immutable=1", timeout=10, isolation_level=None, uri=True)


def _newest_below(db: sqlite3.Connection, message_id: int) -> int:
    """The end of the branch through `message_id` that was written last: its newest reply, that reply's newest, ..."""
    leaf = message_id
    while child := db.execute("SELECT id FROM messages WHERE parent_id = ? ORDER BY id DESC LIMIT 1", (leaf,)).fetchone():
        leaf = child[0]
    return int(leaf)


def _remove(db: sqlite3.Connection, where: str, parameters: Sequence[Any]) -> list[str]:
    """Delete the conversations `where` selects, and their messages (the shown leaf is let
    go first: it points into the messages). The uuids of the conversations that went."""
    chosen = f"SELECT id FROM conversations WHERE {where}"
    removed = [row[0] for row in db.execute(f"SELECT uuid FROM conversations WHERE {where}", parameters)]
    db.execute(f"UPDATE conversations SET current_leaf_id = NULL WHERE id IN ({chosen})", parameters)
    db.execute(f"DELETE FROM messages WHERE conversation_id IN ({chosen})", parameters)
    db.execute(f"DELETE FROM conversations WHERE {where}", parameters)
    return removed


def _branched(rows: Sequence[sqlite3.Row]) -> BranchedThread:
    """Messages read with `_BRANCH_COLUMNS`, oldest first."""
    return BranchedThread(
        messages=[_message(row) for row in rows],
        branches={row["id"]: (row["position"], row["alternatives"]) for row in rows},
    )


def _message(row: sqlite3.Row) -> Message:
    return Message(
        id=row["id"],
        uuid=row["uuid"],
        conversation_id=row["conversation_id"],
        parent_id=row["parent_id"],
        role=Role(row["role"]),
        content=row["content"],
        status=Status(row["status"]),
        created_at=row["created_at"],
        stats=json.loads(row["stats"]) if row["stats"] else {},
        provenance=json.loads(row["provenance"]) if row["provenance"] else {},
    )


class LateSaver(Protocol):
    """What saves a growing reply's text when its next token is slow (app/conversations/late_saves.py)."""

    def save_at(self, message_id: int, text: Callable[[], str], due: float) -> None: ...

    def take_back(self, message_id: int) -> None: ...


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
        late: LateSaver | None = None,
    ) -> None:
        """`late`: saves the text when no token has come for `interval`
        (app/conversations/late_saves.py); without it a slow token holds the save back."""
        self._store = store
        self._message_id = message_id
        self._interval = interval
        self._clock = clock
        self._late = late
        self._parts: list[str] = []
        self._last_save = clock()

    @property
    def text(self) -> str:
        return "".join(self._parts)

    def append(self, text: str) -> None:
        self._parts.append(text)
        if self._clock() - self._last_save >= self._interval:
            self._save(status=None, stats=None)
        elif self._late is not None:
            # Saved late only if no token comes for `interval`: while tokens flow, this save
            # keeps them within it, and a late save beside it cost decoding 5-8 % of its speed
            # (bench/run.py: the writes doubled, and held the lock a token waited for). The
            # text is joined when the late save writes it.
            self._late.save_at(self._message_id, lambda: self.text, time.monotonic() + self._interval)

    def finish(self, status: Status | str, stats: dict[str, Any] | None = None) -> None:
        self._save(status=status, stats=stats)

    def _save(self, status: Status | str | None, stats: dict[str, Any] | None) -> None:
        if self._late is not None:
            self._late.take_back(self._message_id)  # after a late write under way: this text is newer
        text = "".join(self._parts)
        self._parts = [text]
        self._store.update_message(self._message_id, text, status=status, stats=stats)
        self._last_save = self._clock()
