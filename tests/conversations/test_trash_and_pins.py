"""The Trash, pins, the user's titles and the date headings, without Qt (a fake clock)."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime
from pathlib import Path

import pytest

from app.conversations.date_groups import DateGroup, Period, group_of, grouped
from app.conversations.store import TRASH_DAYS, ConversationSummary, SqliteConversationStore

DAY = 86_400.0


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 2, 10, 0).timestamp())


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> SqliteConversationStore:
    return SqliteConversationStore(tmp_path / "c.sqlite3", clock=clock)


def test_a_deleted_conversation_goes_to_the_trash_whole_and_comes_back(store: SqliteConversationStore, clock: Clock) -> None:
    kept = store.create_conversation("Kept")
    gone = store.create_conversation("Lighthouse keepers")
    question = store.add_message(gone, None, "user", "Who kept the lighthouse?")
    store.add_message(gone, question, "assistant", "The keeper did.")
    store.delete_conversation(gone)
    assert [c.id for c in store.list_conversations()] == [kept]
    assert store.search("lighthouse") == []
    [trashed] = store.trashed_conversations()
    assert (trashed.id, trashed.title, trashed.deleted_at) == (gone, "Lighthouse keepers", clock.now)
    assert [m.content for m in store.thread(gone)] == ["Who kept the lighthouse?", "The keeper did."]  # nothing removed
    store.restore_conversation(gone)
    assert {c.id for c in store.list_conversations()} == {kept, gone}
    assert store.trashed_conversations() == []
    assert {hit.conversation_id for hit in store.search("lighthouse")} == {gone}


def test_delete_forever_removes_the_conversation_and_its_messages(store: SqliteConversationStore, tmp_path: Path) -> None:
    gone = store.create_conversation("Gone")
    store.add_message(gone, None, "user", "a secret")
    assert store.delete_forever(gone) == [] and store.conversation(gone) is not None  # not in the Trash: kept
    store.delete_conversation(gone)
    conversation = store.conversation(gone)
    assert conversation is not None
    assert store.delete_forever(gone) == [conversation.uuid]  # the key of its saved KV state
    assert store.trashed_conversations() == [] and store.conversation(gone) is None
    assert store.delete_forever(gone) == []
    db = sqlite3.connect(tmp_path / "c.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 0
    db.execute("INSERT INTO message_text(message_text, rank) VALUES ('integrity-check', 1)")  # the index agrees


def test_the_trash_empties_itself_of_what_is_older_than_30_days(store: SqliteConversationStore, clock: Clock) -> None:
    old = store.create_conversation("Old")
    store.add_message(old, None, "user", "from long ago")
    store.delete_conversation(old)
    clock.now += 20 * DAY
    recent = store.create_conversation("Recent")
    store.delete_conversation(recent)
    clock.now += (TRASH_DAYS - 20) * DAY - 1
    assert store.empty_trash() == []  # the old one has 1 second left
    clock.now += 2
    gone = store.conversation(old)
    assert gone is not None
    assert store.empty_trash() == [gone.uuid]  # the key of its saved KV state
    assert [t.title for t in store.trashed_conversations()] == ["Recent"]
    assert store.conversation(old) is None


def test_pinned_conversations_come_first(store: SqliteConversationStore, clock: Clock) -> None:
    first = store.create_conversation("First")
    clock.now += 60
    store.create_conversation("Second")
    store.set_pinned(first, True)
    assert [(c.title, c.pinned) for c in store.list_conversations()] == [("First", True), ("Second", False)]
    store.set_pinned(first, False)
    assert [c.title for c in store.list_conversations()] == ["Second", "First"]


def test_a_generated_title_never_replaces_the_users_name(store: SqliteConversationStore) -> None:
    generated = store.create_conversation("What is the capital of France?")
    named = store.create_conversation("What is the capital of Spain?")
    store.rename_conversation(named, "Madrid trip")
    assert store.set_generated_title(generated, "Capital of France")
    assert not store.set_generated_title(named, "Capital of Spain")
    assert {c.title for c in store.list_conversations()} == {"Capital of France", "Madrid trip"}
    assert [hit.conversation_title for hit in store.search("capital")] == ["Capital of France"]
    store.rename_conversation(generated, "Capital of France")  # the user took the generated name as their own
    assert not store.set_generated_title(generated, "Something else")


def test_a_trashed_conversation_is_not_retitled(store: SqliteConversationStore) -> None:
    gone = store.create_conversation("First words")
    store.delete_conversation(gone)
    assert not store.set_generated_title(gone, "A title")


def summary(when: datetime, pinned: bool = False) -> ConversationSummary:
    return ConversationSummary(1, "t", when.timestamp(), pinned)


@pytest.mark.parametrize(("when", "group"), [
    (datetime(2026, 12, 2, 0, 5), DateGroup(Period.TODAY)),
    (datetime(2026, 12, 3, 9, 0), DateGroup(Period.TODAY)),  # the clock was set back since
    (datetime(2026, 12, 1, 23, 55), DateGroup(Period.YESTERDAY)),
    (datetime(2026, 11, 30, 12, 0), DateGroup(Period.PREVIOUS_7_DAYS)),
    (datetime(2026, 11, 25, 0, 0), DateGroup(Period.PREVIOUS_7_DAYS)),
    (datetime(2026, 11, 24, 23, 0), DateGroup(Period.PREVIOUS_30_DAYS)),
    (datetime(2026, 11, 2, 8, 0), DateGroup(Period.PREVIOUS_30_DAYS)),
    (datetime(2026, 11, 1, 8, 0), DateGroup(Period.MONTH, 2026, 11)),
    (datetime(2025, 12, 31, 8, 0), DateGroup(Period.MONTH, 2025, 12)),
])
def test_each_conversation_is_under_its_local_date(when: datetime, group: DateGroup) -> None:
    assert group_of(summary(when), date(2026, 12, 2)) == group


def test_the_list_is_pinned_then_by_date_each_heading_once() -> None:
    rows = [summary(datetime(2026, 10, 1), pinned=True), summary(datetime(2026, 12, 2, 9)), summary(datetime(2026, 12, 2, 8)),
            summary(datetime(2026, 12, 1)), summary(datetime(2026, 10, 5)), summary(datetime(2026, 10, 2))]
    shown = list(grouped(rows, date(2026, 12, 2)))
    headings = [row for row in shown if isinstance(row, DateGroup)]
    assert headings == [DateGroup(Period.PINNED), DateGroup(Period.TODAY), DateGroup(Period.YESTERDAY),
                        DateGroup(Period.MONTH, 2026, 10)]
    assert len(shown) == len(rows) + len(headings)
