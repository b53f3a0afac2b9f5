"""Generated titles on SmolLM2: the first reply brings a title that is not the first words,
and a conversation the user renamed keeps its name."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.backends.llama.engine import LlamaBackend
from app.chat.reply import generate_reply
from app.chat.titles import TitleRequest, write_title
from app.config.settings import Settings
from app.conversations.store import ConversationStore, title_from
from tests.conftest import loaded_llama

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def engine(smollm_path: Path) -> Iterator[LlamaBackend]:
    yield from loaded_llama(smollm_path)


def first_reply(engine: LlamaBackend, store: ConversationStore, question: str) -> tuple[int, int]:
    conversation = store.create_conversation(title_from(question))
    asked = store.add_message(conversation, None, "user", question)
    settings = Settings()
    settings.sampling.max_tokens, settings.sampling.seed = 48, 7
    reply = generate_reply(engine, store, asked, settings, "auto", threading.Event(), lambda _text: None, locked=())
    return conversation, reply.message_id


def test_the_first_reply_brings_a_title_that_is_not_the_first_words(engine: LlamaBackend, store: ConversationStore) -> None:
    question = "How do I bake bread at home without yeast?"
    conversation, reply = first_reply(engine, store, question)
    title = write_title(engine, store, TitleRequest(reply, "auto"), threading.Event())
    assert title and title != title_from(question) and len(title.split()) <= 8
    assert store.conversation_title(conversation) == title
    assert "\n" not in title and not title.lower().startswith("title")


def test_a_renamed_conversation_keeps_its_name(engine: LlamaBackend, store: ConversationStore) -> None:
    conversation, reply = first_reply(engine, store, "What is the capital of France?")
    store.rename_conversation(conversation, "Geography homework")
    assert write_title(engine, store, TitleRequest(reply, "auto"), threading.Event()) is None
    assert store.conversation_title(conversation) == "Geography homework"
