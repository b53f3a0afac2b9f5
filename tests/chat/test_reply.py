"""One reply from the store to the store, on the fake backend: the row from the prompt on,
its statuses, and the stats kept with it."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from app.backends.base import ChatRequest, ReplyStats
from app.chat.reply import generate_reply
from app.config.settings import Settings
from app.conversations.store import ConversationStore, Message
from app.platform.errors import ModelLoadError, PromptTooLongError
from tests.fakes import FakeBackend


def ask(store: ConversationStore, text: str) -> int:
    conversation = store.create_conversation("A chat")
    return store.add_message(conversation, None, "user", text)


def test_the_reply_row_exists_before_the_first_text_and_keeps_the_stats(store: ConversationStore) -> None:
    question = ask(store, "Hello")
    seen_at_start: list[Message | None] = []
    shown: list[str] = []

    def started(message_id: int, omitted: int) -> None:
        seen_at_start.append(store.message(message_id))

    result = generate_reply(FakeBackend(), store, question, Settings(), "auto", threading.Event(), shown.append, started, locked=())
    (row,) = seen_at_start
    assert row is not None and (row.status, row.content) == ("streaming", "")
    saved = store.message(result.message_id)
    assert saved is not None and saved.status == "complete"
    assert saved.content == "".join(shown) == result.text == "Hello from the **fake** engine."
    assert saved.stats["omitted_turns"] == 0 and saved.stats["prompt_format"] == "model"
    assert saved.stats["reply_tokens"] == 6


def test_a_stopped_reply_is_saved_as_stopped(store: ConversationStore) -> None:
    cancel = threading.Event()
    cancel.set()
    result = generate_reply(FakeBackend(), store, ask(store, "Hello"), Settings(), "auto", cancel, lambda _t: None, locked=())
    saved = store.message(result.message_id)
    assert saved is not None and saved.status == "stopped" and saved.stats["stopped"] is True


class BreaksMidReply(FakeBackend):
    def reply(
        self,
        request: ChatRequest,
        cancel: threading.Event,
        on_text: Callable[[str], None],
        on_started: Callable[[int], None],
        on_reading: Callable[[float], None] = lambda _fraction: None,
    ) -> ReplyStats:
        on_started(0)
        on_text("Half a")
        raise ModelLoadError("The model stopped with an error: out of memory")


def test_a_reply_that_breaks_keeps_its_text_as_failed(store: ConversationStore) -> None:
    question = ask(store, "Hello")
    ids: list[int] = []
    with pytest.raises(ModelLoadError, match="out of memory"):
        generate_reply(BreaksMidReply(), store, question, Settings(), "auto", threading.Event(), lambda _t: None,
                       lambda message_id, _omitted: ids.append(message_id), locked=())
    saved = store.message(ids[0])
    assert saved is not None and (saved.status, saved.content) == ("failed", "Half a")


def test_a_message_too_long_for_the_context_begins_no_reply(store: ConversationStore) -> None:
    question = ask(store, "word " * 5000)
    with pytest.raises(PromptTooLongError, match="too long"):
        generate_reply(FakeBackend(), store, question, Settings(), "auto", threading.Event(), lambda _t: None, locked=())
    conversation = store.message(question)
    assert conversation is not None
    assert [m.role for m in store.thread(conversation.conversation_id)] == ["user"]


def test_a_conversation_keeps_the_system_prompt_it_began_with(store: ConversationStore) -> None:
    """Changing the system prompt in Settings applies to new chats, not to old ones."""
    pirate = store.create_conversation("Ahoy", system_prompt="You are a pirate.")
    older = store.create_conversation("From before conversations kept theirs")
    backend = FakeBackend()
    today = Settings(system_prompt="You are a librarian.")
    for conversation in (pirate, older):
        question = store.add_message(conversation, None, "user", "Who are you?")
        generate_reply(backend, store, question, today, "auto", threading.Event(), lambda text: None, locked=())
    assert [request.system_prompt for request in backend.requests] == ["You are a pirate.", "You are a librarian."]


def test_a_system_prompt_the_administrator_locked_applies_to_old_conversations_too(store: ConversationStore) -> None:
    pirate = store.create_conversation("Ahoy", system_prompt="You are a pirate.")
    question = store.add_message(pirate, None, "user", "Who are you?")
    backend = FakeBackend()
    school = Settings(system_prompt="You help students.")  # the policy's, applied
    generate_reply(backend, store, question, school, "auto", threading.Event(), lambda text: None, locked={"system_prompt"})
    assert [request.system_prompt for request in backend.requests] == ["You help students."]
