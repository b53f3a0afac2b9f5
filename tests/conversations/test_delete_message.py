"""Deleting a message takes what follows it along, and undo puts it all back (Qt-free)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.conversations.store import ConversationStore, Role, SqliteConversationStore
from tests.conversations.test_edit_and_branch import contents, two_turns


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return SqliteConversationStore(tmp_path / "c.sqlite3")


def test_a_deleted_question_takes_its_replies_and_undo_brings_back_the_same_thread(store: ConversationStore) -> None:
    conversation, (_q1, _a1, q2, a2) = two_turns(store)
    before = store.message(a2)
    deleted = store.delete_message(q2)
    assert deleted is not None and deleted.count == 2
    assert contents(store, conversation) == ["Why tides?", "The moon."]
    assert store.message(a2) is None
    assert store.search("helps") == []  # gone from search too

    store.restore_messages(deleted)
    assert contents(store, conversation) == ["Why tides?", "The moon.", "And the sun?", "It helps."]
    restored = store.thread(conversation)[-1]
    assert before is not None and (restored.uuid, restored.created_at) == (before.uuid, before.created_at)
    assert [hit.conversation_id for hit in store.search("helps")] == [conversation]


def test_deleting_a_reply_with_alternatives_shows_the_newest_one_left(store: ConversationStore) -> None:
    conversation, (_q1, _a1, q2, _a2) = two_turns(store)
    other = store.add_message(conversation, q2, Role.ASSISTANT, "A little.")
    store.add_message(conversation, q2, Role.ASSISTANT, "Yes, a third as much.")
    newest = store.thread(conversation)[-1].id
    deleted = store.delete_message(newest)
    assert deleted is not None and deleted.count == 1
    assert contents(store, conversation)[-1] == "A little."
    assert store.siblings(other)[-1] == other
    store.restore_messages(deleted)
    assert contents(store, conversation)[-1] == "Yes, a third as much."
    assert store.thread_with_branches(conversation).branches[store.thread(conversation)[-1].id] == (3, 3)


def test_deleting_off_the_shown_branch_leaves_the_thread_as_it_is(store: ConversationStore) -> None:
    conversation, (_q1, a1, q2, _a2) = two_turns(store)
    edited = store.add_message(conversation, a1, Role.USER, "And the wind?")
    store.add_message(conversation, edited, Role.ASSISTANT, "Not much.")
    deleted = store.delete_message(q2)
    assert deleted is not None and deleted.count == 2
    assert contents(store, conversation) == ["Why tides?", "The moon.", "And the wind?", "Not much."]
    assert store.siblings(edited) == [edited]


def test_undo_after_new_messages_took_the_old_ids_keeps_both(store: ConversationStore) -> None:
    conversation, (_q1, a1, q2, _a2) = two_turns(store)
    deleted = store.delete_message(q2)
    assert deleted is not None
    newer = store.add_message(conversation, a1, Role.USER, "And the stars?")  # SQLite gives the freed id again
    store.add_message(conversation, newer, Role.ASSISTANT, "Too far.")
    assert store.restore_messages(deleted) is True
    assert contents(store, conversation) == ["Why tides?", "The moon.", "And the sun?", "It helps."]
    store.show_branch(newer)
    assert contents(store, conversation) == ["Why tides?", "The moon.", "And the stars?", "Too far."]


def test_deleting_the_first_question_empties_the_conversation_and_undo_fills_it(store: ConversationStore) -> None:
    conversation, (q1, *_rest) = two_turns(store)
    deleted = store.delete_message(q1)
    assert deleted is not None and deleted.count == 4
    assert store.thread(conversation) == []
    store.restore_messages(deleted)
    assert len(contents(store, conversation)) == 4
    assert store.delete_message(10_000) is None


def test_nothing_comes_back_into_a_conversation_deleted_for_good(store: ConversationStore) -> None:
    conversation, (_q1, _a1, q2, _a2) = two_turns(store)
    deleted = store.delete_message(q2)
    assert deleted is not None
    store.delete_conversation(conversation)
    store.delete_forever(conversation)
    assert store.restore_messages(deleted) is False
    assert store.conversation(conversation) is None
    assert store.search("helps") == []


def test_nothing_comes_back_under_a_message_deleted_since(store: ConversationStore) -> None:
    conversation, (q1, _a1, q2, _a2) = two_turns(store)
    later = store.delete_message(q2)
    assert later is not None
    assert store.delete_message(q1) is not None  # what the first deletion answered goes too
    assert store.restore_messages(later) is False
    assert store.thread(conversation) == []
