from __future__ import annotations

import os
import sqlite3
import uuid
from pathlib import Path

import pytest

from app.conversations.migrations import SCHEMA_VERSION
from app.conversations.opener import open_conversations
from app.conversations.store import ConversationStore, GrowingReply, Role, SqliteConversationStore, Status
from app.platform.errors import StorageError
from app.platform.paths import resolve_paths


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return SqliteConversationStore(tmp_path / "c.sqlite3")


def test_schema_is_versioned_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    SqliteConversationStore(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused_plainly(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    SqliteConversationStore(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StorageError, match="newer version of Hearth"):
        SqliteConversationStore(path)


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
        SqliteConversationStore(folder / "c.sqlite3")


def test_read_only_database_gives_a_plain_error_on_save(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = SqliteConversationStore(path)
    conversation = store.create_conversation()
    store.close()
    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    store._db = read_only
    store._db.row_factory = sqlite3.Row
    with pytest.raises(StorageError, match="read-only"):
        store.add_message(conversation, None, "user", "this must not vanish silently")


def _is_uuid4(text: str) -> bool:
    parsed = uuid.UUID(text)
    return parsed.version == 4 and str(parsed) == text


def test_a_conversation_keeps_its_system_prompt_and_model(store: ConversationStore) -> None:
    pinned = store.create_conversation("Pinned", system_prompt="Answer in French.", model_id="smollm2-135m")
    default = store.create_conversation()
    kept = store.conversation(pinned)
    assert (kept.title, kept.system_prompt, kept.model_id, kept.assistant_id) == (
        "Pinned", "Answer in French.", "smollm2-135m", None)
    fresh = store.conversation(default)
    assert (fresh.system_prompt, fresh.model_id, fresh.current_leaf_id) == (None, None, None)
    assert _is_uuid4(kept.uuid) and _is_uuid4(fresh.uuid) and kept.uuid != fresh.uuid
    assert store.conversation(default + 100) is None


def test_messages_have_a_uuid_that_stays(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = SqliteConversationStore(path)
    conversation = store.create_conversation()
    question = store.add_message(conversation, None, "user", "Q")
    answer = store.add_message(conversation, question, "assistant", "A")
    uuids = [m.uuid for m in store.thread(conversation)]
    store.close()
    reopened = SqliteConversationStore(path)
    assert [m.uuid for m in reopened.thread(conversation)] == uuids
    assert all(_is_uuid4(u) for u in uuids) and len(set(uuids)) == 2
    assert reopened.message(answer).uuid == uuids[1]


def test_roles_and_statuses_are_enums_stored_as_their_words(store: ConversationStore) -> None:
    conversation = store.create_conversation()
    question = store.add_message(conversation, None, Role.USER, "Q")
    store.add_message(conversation, question, "assistant", "", status=Status.STREAMING)
    user, assistant = store.thread(conversation)
    assert (user.role, user.status) == (Role.USER, Status.COMPLETE)
    assert (assistant.role, assistant.status) == ("assistant", "streaming")  # plain strings still compare
    rows = store._db.execute("SELECT role, typeof(role), status FROM messages ORDER BY id").fetchall()
    assert [tuple(row) for row in rows] == [
        ("user", "text", "complete"), ("assistant", "text", "streaming")]
    with pytest.raises(ValueError, match="'moderator' is not a valid Role"):
        store.add_message(conversation, None, "moderator", "?")


def _regenerated_and_edited(store: ConversationStore) -> tuple[int, dict[str, int]]:
    """Q1 -> A1 | A1b (shown); Q1 edited as Q1b (not shown); under A1b: Q2 -> A2."""
    conversation = store.create_conversation()
    ids = {"Q1": store.add_message(conversation, None, "user", "Q1")}
    ids["A1"] = store.add_message(conversation, ids["Q1"], "assistant", "A1")
    ids["A1b"] = store.add_message(conversation, ids["Q1"], "assistant", "A1b")
    ids["Q2"] = store.add_message(conversation, ids["A1b"], "user", "Q2")
    ids["A2"] = store.add_message(conversation, ids["Q2"], "assistant", "A2")
    ids["Q1b"] = store.add_message(conversation, None, "user", "Q1b")
    store.show_branch(ids["A1b"])
    return conversation, ids


def test_thread_with_branches_says_which_alternative_is_shown(store: ConversationStore) -> None:
    conversation, ids = _regenerated_and_edited(store)
    shown = store.thread_with_branches(conversation)
    assert [m.content for m in shown.messages] == ["Q1", "A1b", "Q2", "A2"]
    assert shown.messages == store.thread(conversation)
    assert shown.branches == {ids["Q1"]: (1, 2), ids["A1b"]: (2, 2), ids["Q2"]: (1, 1), ids["A2"]: (1, 1)}
    for message in shown.messages:  # the same answer as siblings() gives one message at a time
        siblings = store.siblings(message.id)
        assert shown.branches[message.id] == (siblings.index(message.id) + 1, len(siblings))
    store.show_branch(ids["A1"])
    assert store.thread_with_branches(conversation).branches == {ids["Q1"]: (1, 2), ids["A1"]: (1, 2)}
    empty = store.create_conversation()
    assert store.thread_with_branches(empty).messages == []


def test_thread_with_branches_is_one_statement_however_long_the_thread(store: ConversationStore) -> None:
    statements: list[str] = []
    conversation = store.create_conversation()
    parent = None
    for turn in range(1, 31):
        question = store.add_message(conversation, parent, "user", f"Q{turn}")
        store.add_message(conversation, question, "assistant", f"first answer {turn}")
        parent = store.add_message(conversation, question, "assistant", f"second answer {turn}")
        if turn in (1, 30):
            store._db.set_trace_callback(statements.append)
            shown = store.thread_with_branches(conversation)
            store._db.set_trace_callback(None)
            assert len(statements) == 1, statements
            assert len(shown.messages) == 2 * turn
            assert shown.branches[parent] == (2, 2)
            statements.clear()


def test_the_opener_keeps_conversations_in_the_data_folder(tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path / "data")
    store = open_conversations(paths)
    conversation = store.create_conversation("Kept")
    store.close()
    assert paths.database.is_file()
    reopened = open_conversations(paths)
    assert reopened.conversation_title(conversation) == "Kept"
    reopened.close()


def test_the_opener_in_memory_keeps_nothing(tmp_path: Path) -> None:
    paths = resolve_paths(tmp_path / "data")
    store = open_conversations(paths, in_memory=True)
    store.create_conversation("Gone")
    assert [c.title for c in store.list_conversations()] == ["Gone"]
    store.close()
    assert not paths.database.exists()
    assert open_conversations(paths, in_memory=True).list_conversations() == []
