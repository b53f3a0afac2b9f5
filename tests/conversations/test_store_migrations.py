"""The conversation database's migrations: released ones never change, each version
applies whole or not at all, triggers work, and an older database is brought forward."""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from pathlib import Path

import pytest

from app.conversations.migrations import MIGRATIONS, SCHEMA_VERSION, migrate
from app.conversations.store import Role, SqliteConversationStore
from app.platform.sqlite_writes import statements

# sha256 of each released migration: databases in use were built by exactly this text.
RELEASED = [
    "7164f8747506537325c128b34ccb14eea49fc4c4324a4378cc4d753f67d520d2",
    "f018eb8304bb560ef2af262149bdad97c997853a5e429fe4d339f1fa09d6ea91",
]

# A full-text index kept in sync by triggers that skip replies still being written (the
# shape of the search migration, under other names). Semicolons inside BEGIN ... END and
# inside a string.
SEARCH = """
    CREATE VIRTUAL TABLE probe_text USING fts5(content, content='messages', content_rowid='id');
    CREATE TRIGGER probe_text_insert AFTER INSERT ON messages WHEN NEW.status != 'streaming' BEGIN
        INSERT INTO probe_text(rowid, content) VALUES (NEW.id, NEW.content);
    END;
    CREATE TRIGGER probe_text_finish AFTER UPDATE OF status ON messages
    WHEN OLD.status = 'streaming' AND NEW.status != 'streaming' BEGIN
        INSERT INTO probe_text(rowid, content) VALUES (NEW.id, NEW.content);
    END;
    INSERT INTO conversations (title, created_at, updated_at, uuid) VALUES ('a; b', 0, 0, 'x');
"""


def _connect(path: Path | str = ":memory:") -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def test_released_migrations_are_never_edited() -> None:
    assert [hashlib.sha256(text.encode()).hexdigest() for text in MIGRATIONS[: len(RELEASED)]] == RELEASED
    assert SCHEMA_VERSION == len(MIGRATIONS) > len(RELEASED)  # the search migration is not released yet


def test_statements_end_where_sqlite_says_they_end() -> None:
    parts = list(statements(SEARCH))
    assert len(parts) == 4
    assert parts[1].startswith("CREATE TRIGGER probe_text_insert") and parts[1].endswith("END;")
    assert parts[3].endswith("('a; b', 0, 0, 'x');")
    assert list(statements("SELECT 1; SELECT 2")) == ["SELECT 1;", "SELECT 2"]


def test_a_migration_with_triggers_applies() -> None:
    db = _connect()
    migrate(db, (*MIGRATIONS, SEARCH))
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    assert db.execute("SELECT title FROM conversations").fetchall() == [("a; b",)]
    db.execute("INSERT INTO messages (conversation_id, role, content, status, created_at)"
               " VALUES (1, 'user', 'where is the lighthouse', 'complete', 0)")
    db.execute("INSERT INTO messages (conversation_id, role, content, status, created_at)"
               " VALUES (1, 'assistant', 'the lighthouse is on the cape', 'streaming', 0)")

    def found() -> list[int]:
        rows = db.execute("SELECT rowid FROM probe_text WHERE probe_text MATCH 'lighthouse' ORDER BY rowid")
        return [row[0] for row in rows]

    assert found() == [1]  # the reply still streaming is not indexed yet
    db.execute("UPDATE messages SET status = 'complete' WHERE id = 2")
    assert found() == [1, 2]


def test_a_failing_migration_leaves_the_previous_version_whole() -> None:
    db = _connect()
    migrate(db, MIGRATIONS)
    broken = "CREATE TABLE half_done (id INTEGER); INSERT INTO no_such_table VALUES (1);"
    with pytest.raises(sqlite3.OperationalError, match="no such table: no_such_table"):
        migrate(db, (*MIGRATIONS, broken))
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchall() == []
    assert not db.in_transaction


def test_a_version_1_database_gets_uuids_and_default_settings(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    db = _connect(path)
    migrate(db, MIGRATIONS[:1])
    db.execute("INSERT INTO conversations (id, title, created_at, updated_at) VALUES (1, 'Old', 1, 2), (2, 'Other', 1, 1)")
    db.execute("INSERT INTO messages (id, conversation_id, parent_id, role, content, created_at) VALUES"
               " (1, 1, NULL, 'user', 'Q', 1), (2, 1, 1, 'assistant', 'A', 2), (3, 1, 1, 'assistant', 'A again', 3)")
    db.execute("UPDATE conversations SET current_leaf_id = 3 WHERE id = 1")
    db.close()

    store = SqliteConversationStore(path)
    old = store.conversation(1)
    assert (old.title, old.system_prompt, old.model_id, old.assistant_id, old.current_leaf_id) == ("Old", None, None, None, 3)
    shown = store.thread_with_branches(1)
    assert [(m.role, m.content) for m in shown.messages] == [(Role.USER, "Q"), (Role.ASSISTANT, "A again")]
    assert shown.branches[3] == (2, 2)
    uuids = [store.conversation(1).uuid, store.conversation(2).uuid, *(store.message(i).uuid for i in (1, 2, 3))]
    assert all(uuid.UUID(u).version == 4 and str(uuid.UUID(u)) == u for u in uuids)
    assert len(set(uuids)) == 5
    new = store.create_conversation("New")  # and rows written after the migration get theirs too
    assert uuid.UUID(store.conversation(new).uuid).version == 4
    store.close()
    assert _connect(path).execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_uuids_are_unique_in_the_database(tmp_path: Path) -> None:
    store = SqliteConversationStore(tmp_path / "c.sqlite3")
    first = store.create_conversation()
    store.create_conversation()
    taken = store.conversation(first).uuid
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE constraint failed: conversations.uuid"):
        store._db.execute("UPDATE conversations SET uuid = ? WHERE id != ?", (taken, first))


def test_replies_from_before_provenance_read_as_recording_nothing(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    db = _connect(path)
    migrate(db, MIGRATIONS[: len(RELEASED)])  # the released schema, without the provenance column
    db.execute("INSERT INTO conversations (title, created_at, updated_at, uuid) VALUES ('Old', 0, 0, 'c')")
    db.execute("INSERT INTO messages (conversation_id, role, content, created_at, uuid)"
               " VALUES (1, 'assistant', 'From before', 0, 'm')")
    db.close()
    store = SqliteConversationStore(path)
    old = store.message(1)
    assert old is not None and old.content == "From before" and old.provenance == {}
    reply = store.add_message(1, 1, Role.ASSISTANT, "New", provenance={"version": 1, "seed": 7})
    store.set_provenance(reply, {"version": 1, "seed": 8})
    saved = store.message(reply)
    assert saved is not None and saved.provenance == {"version": 1, "seed": 8}
    store.close()
