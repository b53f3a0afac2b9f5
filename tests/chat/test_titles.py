"""Generated titles without a real model: when one is asked for, and how it is cleaned."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from app.backends.base import LoadOptions, ModelRef
from app.chat.titles import TitleRequest, clean_title, first_exchange, write_title
from app.config.settings import EngineSettings
from app.conversations.store import SqliteConversationStore, title_from
from tests.fakes import FakeBackend


@pytest.mark.parametrize(("written", "title"), [
    ("Capital of France", "Capital of France"),
    ('"Capital of France."', "Capital of France"),
    ("Title: **Baking bread** without yeast\nThis title says what the chat is about.", "Baking bread without yeast"),
    ("\n\n  «Voyage à Lisbonne»  \n", "Voyage à Lisbonne"),
    ("# `KeyError` in config", "KeyError in config"),
    ("A " + "very " * 30 + "long title", "A" + " very" * 11),  # cut at a word, within 60 characters
    ('""', ""),
])
def test_what_the_model_wrote_is_cleaned_into_a_title(written: str, title: str) -> None:
    assert clean_title(written) == title
    assert len(clean_title(written)) <= 60


@pytest.fixture
def store(tmp_path: Path) -> SqliteConversationStore:
    return SqliteConversationStore(tmp_path / "c.sqlite3")


@pytest.fixture
def backend() -> FakeBackend:
    backend = FakeBackend()
    backend.load(ModelRef(path=Path("fake.gguf")), LoadOptions(EngineSettings()))
    backend.title = "Lighthouse keeping"
    return backend


def first_turn(store: SqliteConversationStore, question: str = "Who kept the lighthouse on the cape?") -> tuple[int, int]:
    conversation = store.create_conversation(title_from(question))
    asked = store.add_message(conversation, None, "user", question)
    return conversation, store.add_message(conversation, asked, "assistant", "The keeper did.")


def test_the_first_reply_gets_a_title_from_the_model(store: SqliteConversationStore, backend: FakeBackend) -> None:
    conversation, reply = first_turn(store)
    assert write_title(backend, store, TitleRequest(reply, "auto"), threading.Event()) == "Lighthouse keeping"
    assert store.conversation_title(conversation) == "Lighthouse keeping"
    asked = backend.requests[-1]
    assert asked.turns[-1].content == "Title: Who kept the lighthouse on the cape?" and asked.turns[-1].role == "user"


def test_a_chat_an_assistant_greeted_first_is_titled_from_its_first_question(store: SqliteConversationStore, backend: FakeBackend) -> None:
    conversation = store.create_conversation(title_from("Who kept the lighthouse on the cape?"))  # as the window names it
    greeting = store.add_message(conversation, None, "assistant", "Hello! I am your writing tutor.")
    asked = store.add_message(conversation, greeting, "user", "Who kept the lighthouse on the cape?")
    reply = store.add_message(conversation, asked, "assistant", "The keeper did.")
    assert write_title(backend, store, TitleRequest(reply, "auto"), threading.Event()) == "Lighthouse keeping"
    assert store.conversation_title(conversation) == "Lighthouse keeping"
    assert backend.requests[-1].turns[-1].content == "Title: Who kept the lighthouse on the cape?"


def test_later_replies_and_regenerations_are_not_titled(store: SqliteConversationStore, backend: FakeBackend) -> None:
    conversation, reply = first_turn(store)
    again = store.add_message(conversation, store.message(reply).parent_id, "assistant", "Another answer")
    later = store.add_message(conversation, store.add_message(conversation, reply, "user", "And then?"), "assistant", "Then…")
    assert first_exchange(store, again) is None and first_exchange(store, later) is None
    assert write_title(backend, store, TitleRequest(later, "auto"), threading.Event()) is None
    assert backend.requests == []


def test_a_renamed_conversation_keeps_its_name(store: SqliteConversationStore, backend: FakeBackend) -> None:
    conversation, reply = first_turn(store)
    store.rename_conversation(conversation, "My notes")
    assert write_title(backend, store, TitleRequest(reply, "auto"), threading.Event()) is None
    assert store.conversation_title(conversation) == "My notes"


def test_a_base_model_or_plain_completion_writes_no_title(store: SqliteConversationStore, backend: FakeBackend) -> None:
    conversation, reply = first_turn(store)
    assert write_title(backend, store, TitleRequest(reply, "completion"), threading.Event()) is None
    assert backend.loaded is not None
    backend._loaded = replace(backend.loaded, has_chat_template=False)
    assert write_title(backend, store, TitleRequest(reply, "auto"), threading.Event()) is None
    assert backend.requests == [] and store.conversation_title(conversation) == "Who kept the lighthouse on the cape?"


def test_a_cancelled_title_or_a_sentence_is_not_kept(store: SqliteConversationStore, backend: FakeBackend) -> None:
    conversation, reply = first_turn(store)
    cancelled = threading.Event()
    cancelled.set()
    assert write_title(backend, store, TitleRequest(reply, "auto"), cancelled) is None
    backend.title = "The keeper of the lighthouse on the cape was a woman named Ida"
    assert write_title(backend, store, TitleRequest(reply, "auto"), threading.Event()) is None
    assert store.conversation_title(conversation) == "Who kept the lighthouse on the cape?"
