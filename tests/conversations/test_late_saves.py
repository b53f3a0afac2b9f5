"""A growing reply's text is saved once it has waited the interval, even when the next token
is slow to come (a slow model), and a late save never lands after a newer one (issue 12)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from app.conversations.late_saves import LateSaves
from app.conversations.store import GrowingReply, SqliteConversationStore

DEADLINE = 10.0  # seconds a wait may take on a loaded machine before the test gives up


def saved_content(database: Path, message_id: int) -> str:
    """What another process would read now."""
    reader = SqliteConversationStore(database)
    try:
        message = reader.message(message_id)
        assert message is not None
        return message.content
    finally:
        reader.close()


def a_reply(database: Path) -> tuple[SqliteConversationStore, int]:
    store = SqliteConversationStore(database)
    conversation = store.create_conversation()
    question = store.add_message(conversation, None, "user", "Q")
    return store, store.add_message(conversation, question, "assistant", "", status="streaming")


def wait_for(check: Callable[[], bool], timeout: float = DEADLINE) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_text_shown_before_a_slow_token_is_saved_without_waiting_for_it(tmp_path: Path) -> None:
    database = tmp_path / "c.sqlite3"
    store, reply = a_reply(database)
    late = LateSaves(lambda: SqliteConversationStore(database))
    growing = GrowingReply(store, reply, interval=0.2, late=late)
    growing.append("Hello")  # then the model thinks for a long time
    assert saved_content(database, reply) == ""  # not yet the interval
    assert wait_for(lambda: saved_content(database, reply) == "Hello")
    growing.append(" world")
    assert wait_for(lambda: saved_content(database, reply) == "Hello world")
    growing.finish("complete")
    late.close()
    store.close()


def test_a_late_save_never_lands_after_a_newer_one(tmp_path: Path) -> None:
    database = tmp_path / "c.sqlite3"
    store, reply = a_reply(database)
    late = LateSaves(lambda: SqliteConversationStore(database))
    growing = GrowingReply(store, reply, interval=0.2, late=late)
    growing.append("Hel")  # waits to be saved late
    growing.append("lo")
    growing.finish("complete", {"reply_tokens": 2})  # saved now, before it is due
    time.sleep(0.5)  # past when the late save was due
    late.close()
    saved = store.message(reply)
    assert saved is not None and (saved.content, saved.status) == ("Hello", "complete")
    store.close()


def test_nothing_is_written_once_closed(tmp_path: Path) -> None:
    database = tmp_path / "c.sqlite3"
    store, reply = a_reply(database)
    late = LateSaves(lambda: SqliteConversationStore(database))
    late.close()
    GrowingReply(store, reply, interval=0.05, late=late).append("Hello")
    time.sleep(0.2)
    assert saved_content(database, reply) == ""
    store.close()
