"""Pages of the shown branch: its end first, then the messages before, each in one statement."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.conversations.store import SqliteConversationStore


@pytest.fixture
def store(tmp_path: Path) -> SqliteConversationStore:
    return SqliteConversationStore(tmp_path / "c.sqlite3")


def _long_chat(store: SqliteConversationStore, messages: int) -> tuple[int, list[int]]:
    """A conversation of `messages` messages on one branch, plus an earlier reply to the
    first question kept as an alternative; the ids on the shown branch, oldest first."""
    conversation = store.create_conversation()
    first = store.add_message(conversation, None, "user", "m0")
    store.add_message(conversation, first, "assistant", "the first answer, not shown")
    ids, parent = [first], first
    for number in range(1, messages):
        parent = store.add_message(conversation, parent, "assistant" if number % 2 else "user", f"m{number}")
        ids.append(parent)
    return conversation, ids


def test_a_page_is_the_end_of_the_shown_branch_then_the_messages_before(store: SqliteConversationStore) -> None:
    conversation, ids = _long_chat(store, 250)
    newest = store.thread_page(conversation, 100)
    assert [m.id for m in newest.messages] == ids[-100:]
    assert newest.has_older
    assert newest.branches == {i: (1, 1) for i in ids[-100:]}
    assert newest.characters_before == sum(len(m.content) for m in store.thread(conversation)[:-100])
    older = store.thread_page(conversation, 100, before=ids[-100])
    assert [m.id for m in older.messages] == ids[-200:-100] and older.has_older
    oldest = store.thread_page(conversation, 100, before=ids[-200])
    assert [m.id for m in oldest.messages] == ids[:50] and not oldest.has_older and oldest.characters_before == 0
    assert oldest.branches[ids[1]] == (2, 2)  # the second answer to the first question
    assert [m.content for m in oldest.messages + older.messages + newest.messages] == [
        m.content for m in store.thread(conversation)
    ]
    assert store.thread_page(conversation, 100, before=ids[0]).messages == []
    assert store.thread_page(store.create_conversation(), 100).messages == []


def test_a_page_reaches_back_to_a_message_asked_for(store: SqliteConversationStore) -> None:
    conversation, ids = _long_chat(store, 250)
    reaching = store.thread_page(conversation, 20, reach=ids[30])
    assert [m.id for m in reaching.messages] == ids[30:] and reaching.has_older
    assert [m.id for m in store.thread_page(conversation, 20, reach=ids[-5]).messages] == ids[-20:]
    before = store.thread_page(conversation, 20, before=ids[200], reach=ids[100])
    assert [m.id for m in before.messages] == ids[100:200]
    hidden = store.siblings(ids[1])[0]  # the first answer: not on the shown branch
    assert [m.id for m in store.thread_page(conversation, 20, reach=hidden).messages] == ids[-20:]


def test_a_page_is_two_statements_however_long_the_conversation(store: SqliteConversationStore) -> None:
    """The page, and the length of what comes before it (none at the first message)."""
    conversation, ids = _long_chat(store, 400)
    for before, expected in ((None, 2), (ids[-50], 2), (ids[50], 1)):
        statements: list[str] = []
        store._db.set_trace_callback(statements.append)
        store.thread_page(conversation, 50, before=before)
        store._db.set_trace_callback(None)
        assert len(statements) == expected, statements
