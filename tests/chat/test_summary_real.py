"""Summarising the oldest messages on SmolLM2 with a 1,024-token context: the model writes
a summary of what was left out, and the next reply reads it instead, with nothing left out."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.backends.llama.engine import LlamaBackend
from app.chat.reply import generate_reply
from app.chat.summary import SUMMARY_INTRO, summarise_left_out
from app.config.settings import SamplingSettings, Settings
from app.conversations.store import ConversationStore
from tests.conftest import loaded_llama

pytestmark = pytest.mark.real_model
TOPICS = ("the lighthouse on Skerry Point, kept by Ada Brown since 1952",
          "the fishing boat Mary Rose, which sank in the storm of 1961",
          "the harbour wall that the town rebuilt in 1970 with stone from the old quarry",
          "the school on the hill, where Ada's son Tom taught for forty years")


@pytest.fixture(scope="module")
def engine(smollm_path: Path) -> Iterator[LlamaBackend]:
    yield from loaded_llama(smollm_path, context_length=1024)


def settings() -> Settings:
    chosen = Settings()
    chosen.sampling = SamplingSettings(temperature=0.0, max_tokens=64, seed=1)
    return chosen


def test_the_model_summarises_what_was_left_out_and_the_next_reply_reads_the_summary(
    engine: LlamaBackend, store: ConversationStore
) -> None:
    conversation = store.create_conversation("The town", system_prompt="You are a helpful assistant.")
    parent = None
    for topic in TOPICS:
        parent = store.add_message(conversation, parent, "user", f"Tell me about {topic}.")
        parent = store.add_message(conversation, parent, "assistant", f"Here is what I know about {topic}. " * 12)
    question = store.add_message(conversation, parent, "user", "Who kept the lighthouse?")
    before = generate_reply(engine, store, question, settings(), "auto", threading.Event(), lambda _t: None, locked=())
    assert before.stats.omitted_turns > 0

    summary_id = summarise_left_out(engine, store, before.message_id, before.stats.omitted_turns, "auto", threading.Event())
    assert summary_id is not None
    summary = store.message(summary_id)
    assert summary is not None and len(summary.content.split()) >= 5, summary
    # It speaks of what it covers (the first exchanges). Measured: "The harbour wall that the
    # town rebuilt in 1970 with stone from the old quarry." (SmolLM2 135M is no great summariser).
    names = ("Skerry", "Ada", "Mary Rose", "1952", "1961", "harbour", "1970")
    assert any(name in summary.content for name in names), summary.content
    follow_up = store.add_message(conversation, summary_id, "user", "And who taught at the school?")
    after = generate_reply(engine, store, follow_up, settings(), "auto", threading.Event(), lambda _t: None, locked=())
    assert after.text and after.stats.omitted_turns == 0
    saved = store.message(after.message_id)
    assert saved is not None and f"{SUMMARY_INTRO}\n{summary.content}" in saved.provenance["system_prompt"]
