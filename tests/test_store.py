from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from app.conversations.store import SCHEMA_VERSION, ConversationStore, GrowingReply
from app.platform.errors import StorageError


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return ConversationStore(tmp_path / "c.sqlite3")


def test_schema_is_versioned_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    ConversationStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused_plainly(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    ConversationStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StorageError, match="newer version of Hearth"):
        ConversationStore(path)


def test_conversations_list_newest_activity_first(store: ConversationStore) -> None:
    clock = iter(range(100, 200))
    store._clock = lambda: float(next(clock))
    first = store.create_conversation("first")
    second = store.create_conversation("second")
    store.add_message(first, None, "user", "hello again")
    assert [c.title for c in store.list_conversations()] == ["first", "second"]
    store.rename_conversation(second, "  renamed ")
    store.delete_conversation(first)
    assert [c.title for c in store.list_conversations()] == ["renamed"]


def test_regeneration_keeps_the_earlier_reply_as_a_sibling(store: ConversationStore) -> None:
    conversation = store.create_conversation()
    question = store.add_message(conversation, None, "user", "Q")
    first = store.add_message(conversation, question, "assistant", "A1")
    second = store.add_message(conversation, question, "assistant", "A2")
    assert [m.content for m in store.thread(conversation)] == ["Q", "A2"]
    assert store.siblings(second) == [first, second]
    store.show_branch(first)
    assert [m.content for m in store.thread(conversation)] == ["Q", "A1"]


def test_show_branch_follows_the_newest_descendant(store: ConversationStore) -> None:
    conversation = store.create_conversation()
    q1 = store.add_message(conversation, None, "user", "Q1")
    a1 = store.add_message(conversation, q1, "assistant", "A1")
    q2 = store.add_message(conversation, a1, "user", "Q2")
    store.add_message(conversation, q2, "assistant", "A2")
    store.add_message(conversation, q1, "assistant", "A1 again")
    store.show_branch(a1)
    assert [m.content for m in store.thread(conversation)] == ["Q1", "A1", "Q2", "A2"]


def test_growing_reply_is_saved_at_most_interval_behind(store: ConversationStore) -> None:
    now = [0.0]
    conversation = store.create_conversation()
    question = store.add_message(conversation, None, "user", "Q")
    reply = store.add_message(conversation, question, "assistant", "", status="streaming")
    growing = GrowingReply(store, reply, interval=1.0, clock=lambda: now[0])
    growing.append("Hello")
    assert store.message(reply).content == ""  # not yet a second
    now[0] = 1.1
    growing.append(" world")
    assert store.message(reply).content == "Hello world"
    growing.append("!")
    growing.finish("complete", {"reply_tokens": 3})
    saved = store.message(reply)
    assert (saved.content, saved.status, saved.stats) == ("Hello world!", "complete", {"reply_tokens": 3})


def test_replies_cut_off_by_a_crash_are_marked_interrupted(store: ConversationStore) -> None:
    conversation = store.create_conversation()
    question = store.add_message(conversation, None, "user", "Q")
    reply = store.add_message(conversation, question, "assistant", "partial", status="streaming")
    assert store.mark_interrupted() == 1
    assert store.message(reply).status == "interrupted"
    assert store.message(reply).content == "partial"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_folder_gives_a_plain_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    with pytest.raises(StorageError, match="Hearth cannot use|read-only|could not be saved"):
        ConversationStore(folder / "c.sqlite3")


def test_read_only_database_gives_a_plain_error_on_save(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path)
    conversation = store.create_conversation()
    store.close()
    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    store._db = read_only
    store._db.row_factory = sqlite3.Row
    with pytest.raises(StorageError, match="read-only"):
        store.add_message(conversation, None, "user", "this must not vanish silently")
