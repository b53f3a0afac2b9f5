"""Full-text search: what a person types finds the messages and titles that hold it,
nothing typed is an error, and the index follows every change to the messages."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from app.conversations.migrations import MIGRATIONS, migrate
from app.conversations.search import MATCH_END, MATCH_START
from app.conversations.store import ConversationStore, Role, SqliteConversationStore
from app.platform.fts import match_expression

HOSTILE = ['"', '""', "'", "*", "-", "-x", "^", ":", "(", ")", "((", "NEAR(", "NEAR(a b", "AND", "OR", "NOT",
           "a AND", "OR b", "NOT NOT", "title:", "{a b}", "+", "[", "\\", "%", "_", "🙂", "🙂🙂 lighthouse",
           'lighthouse"', "light*", "-lighthouse", "^lighthouse", "content:lighthouse", "\x00", "\x02x\x03"]


@pytest.fixture
def store(tmp_path: Path) -> ConversationStore:
    return SqliteConversationStore(tmp_path / "c.sqlite3")


def _words(store: ConversationStore, text: str) -> list[str]:
    """What each hit's snippet marks as matched."""
    return [hit.snippet.split(MATCH_START)[1].split(MATCH_END)[0] for hit in store.search(text)]


def test_words_become_quoted_strings_and_the_last_a_prefix() -> None:
    assert match_expression("where is the light") == '"where" AND "is" AND "the" AND "light"*'
    assert match_expression('NEAR("a" b) OR -c* ^d:e') == '"NEAR" AND "a" AND "b" AND "OR" AND "c" AND "d" AND "e"*'
    assert match_expression("café") == '"café"*'
    for nothing in ("", "   ", "🙂", '"*"', "-^:()", "_"):
        assert match_expression(nothing) is None


@pytest.mark.parametrize("text", HOSTILE)
def test_fts_syntax_typed_is_never_an_error(store: ConversationStore, text: str) -> None:
    conversation = store.create_conversation("Lighthouses")
    store.add_message(conversation, None, Role.USER, 'Where is the "lighthouse" (NEAR the cape)? -x ^y z:w a*b')
    hits = store.search(text)
    assert all(hit.conversation_id == conversation for hit in hits)


def test_a_message_is_found_with_its_words_marked_and_its_conversation(store: ConversationStore) -> None:
    trip = store.create_conversation("Trip")
    question = store.add_message(trip, None, Role.USER, "Where should I eat in Paris?")
    reply = store.add_message(trip, question, Role.ASSISTANT, "Try the Café de Flore, near Saint-Germain.")
    [hit] = store.search("paris")
    assert (hit.conversation_id, hit.conversation_title, hit.message_id, hit.role) == (trip, "Trip", question, Role.USER)
    assert hit.snippet == f"Where should I eat in {MATCH_START}Paris{MATCH_END}?"
    # Accents and case do not matter either way; the last word may be unfinished.
    assert _words(store, "cafe") == _words(store, "CAFÉ") == ["Café"]
    assert [hit.message_id for hit in store.search("near saint-ger")] == [reply]
    assert store.search("paris café") == []  # every word, in the same message


def test_newest_messages_come_first_and_pages_follow_on(store: ConversationStore) -> None:
    clock = iter(range(1000))
    store._clock = lambda: float(next(clock))
    conversation = store.create_conversation("Counting")
    ids = [store.add_message(conversation, None, Role.USER, f"sheep number {n}") for n in range(7)]
    assert [hit.message_id for hit in store.search("sheep")] == ids[::-1]
    pages = [store.search("sheep", limit=3, offset=offset) for offset in (0, 3, 6, 9)]
    assert [[hit.message_id for hit in page] for page in pages] == [ids[6:3:-1], ids[3:0:-1], ids[:1], []]


def test_titles_are_found_before_messages_and_pages_span_both(store: ConversationStore) -> None:
    named = store.create_conversation("Owls at night")
    other = store.create_conversation("Birds")
    question = store.add_message(other, None, Role.USER, "Do owls sleep in the day?")
    hits = store.search("owls")
    assert [(hit.conversation_id, hit.message_id) for hit in hits] == [(named, None), (other, question)]
    assert hits[0].snippet == f"{MATCH_START}Owls{MATCH_END} at night" and hits[0].role is None
    assert [(hit.conversation_id, hit.message_id) for hit in store.search("owls", limit=1, offset=1)] == [(other, question)]
    store.rename_conversation(named, "Moths")
    assert [hit.message_id for hit in store.search("owls")] == [question]
    assert [hit.conversation_id for hit in store.search("moths")] == [named]


def test_a_reply_is_found_once_written_and_by_its_latest_text(store: ConversationStore) -> None:
    conversation = store.create_conversation("Q")
    question = store.add_message(conversation, None, Role.USER, "Tell me about comets")
    reply = store.add_message(conversation, question, Role.ASSISTANT, "", status="streaming")
    store.update_message(reply, "A comet is a ball of ice")
    assert _words(store, "ice") == []  # still being written
    store.update_message(reply, "A comet is a ball of ice and dust", status="complete")
    assert _words(store, "dust") == ["dust"]
    store.update_message(reply, "A comet is a ball of rock", stats={"reply_tokens": 7})
    assert _words(store, "dust") == [] and _words(store, "rock") == ["rock"]
    assert _words(store, "ball") == ["ball"]  # kept though the old and new text share it


def test_a_reply_cut_off_by_a_crash_is_found_once_marked(store: ConversationStore) -> None:
    conversation = store.create_conversation("Q")
    reply = store.add_message(conversation, None, Role.ASSISTANT, "Nebulae are clouds", status="streaming")
    store.mark_interrupted()
    assert [hit.message_id for hit in store.search("nebulae")] == [reply]


def test_system_prompts_are_not_found_and_deleted_conversations_leave_nothing(store: ConversationStore, tmp_path: Path) -> None:
    conversation = store.create_conversation("Pirates")
    system = store.add_message(conversation, None, Role.SYSTEM, "You speak like a pirate")
    store.add_message(conversation, system, Role.USER, "Ahoy, pirate")
    assert [hit.role for hit in store.search("pirate")] == [None, Role.USER]
    store.delete_conversation(conversation)
    assert store.search("pirate") == store.search("pirates") == []  # in the Trash: not searched
    store.restore_conversation(conversation)
    assert [hit.role for hit in store.search("pirate")] == [None, Role.USER]
    store.delete_conversation(conversation)
    store.delete_forever(conversation)
    assert store.search("pirate") == store.search("pirates") == []
    db = sqlite3.connect(tmp_path / "c.sqlite3")
    db.execute("INSERT INTO message_text(message_text, rank) VALUES ('integrity-check', 1)")
    db.execute("INSERT INTO title_text(title_text, rank) VALUES ('integrity-check', 1)")


def test_a_database_from_before_search_has_its_history_indexed(tmp_path: Path) -> None:
    search_migration = next(i for i, text in enumerate(MIGRATIONS) if "message_text" in text)
    path = tmp_path / "c.sqlite3"
    db = sqlite3.connect(path, isolation_level=None)
    migrate(db, MIGRATIONS[:search_migration])
    db.execute("INSERT INTO conversations (id, title, created_at, updated_at) VALUES (1, 'Old tides', 0, 0)")
    db.executemany(
        "INSERT INTO messages (conversation_id, role, content, status, created_at) VALUES (1, ?, ?, ?, 0)",
        [("system", "about tides", "complete"), ("user", "why are there tides", "complete"),
         ("assistant", "the moon pulls tides", "streaming")],
    )
    db.close()
    store = SqliteConversationStore(path)
    assert [(hit.message_id, hit.role) for hit in store.search("tides")] == [(None, None), (2, Role.USER)]
    store.mark_interrupted()  # the reply that was streaming is indexed once, as it ends
    assert [hit.message_id for hit in store.search("moon")] == [3]
    store.close()
    # rank 0: the index's own consistency (1 would also compare it with every message, system prompts included)
    sqlite3.connect(path).execute("INSERT INTO message_text(message_text, rank) VALUES ('integrity-check', 0)")


def test_search_over_ten_thousand_conversations(tmp_path: Path) -> None:
    """10,000 conversations of three messages each, FTS syntax in their text; a search
    finds exactly the messages that hold the words, newest first, a page at a time."""
    path = tmp_path / "c.sqlite3"
    SqliteConversationStore(path).close()
    rng = random.Random(15)
    vocabulary = ["harbour", "lantern", "orchard", "quartz", "meadow", "falcon", "ember", "glacier", "kettle", "violet"]
    syntax = ['"quoted"', "NEAR(a, b)", "-minus", "star*", "^caret", "col:on", "(open", "AND", "OR", "NOT", "🙂"]
    texts: list[str] = []
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    db.executemany("INSERT INTO conversations (id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
                   [(n, f"chat {n}", n, n) for n in range(1, 10_001)])
    rows = []
    for message_id in range(1, 30_001):
        text = " ".join(rng.choice(vocabulary + syntax) for _ in range(12))
        texts.append(text)
        rows.append((message_id, (message_id - 1) // 3 + 1, "user" if message_id % 3 == 1 else "assistant", text, message_id))
    db.executemany("INSERT INTO messages (id, conversation_id, role, content, created_at) VALUES (?, ?, ?, ?, ?)", rows)
    db.execute("COMMIT")
    db.close()

    store = SqliteConversationStore(path)
    expected = [n for n, text in enumerate(texts, 1) if '"quoted"' in text and "NEAR(a, b)" in text][::-1]
    found = [hit.message_id for offset in range(0, len(expected) + 50, 50)
             for hit in store.search('"quoted" NEAR(a, b)', offset=offset)]
    assert found == expected and len(expected) > 1000
    assert [hit.message_id for hit in store.search("^caret -minus", limit=5)] == [
        n for n, text in enumerate(texts, 1) if "^caret" in text and "-minus" in text][::-1][:5]
    assert [hit.conversation_id for hit in store.search("chat 9999")] == [9999]
    for text in HOSTILE:
        store.search(text)  # none raises
    store.close()
