"""What a reply records of its making, in the row from its start, in plain words; and
Reproduce on the fake backend: identical, different (where, and which settings changed),
or refused for another model."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from app import __version__
from app.backends.base import ChatRequest, LoadOptions, ModelRef, ReplyStats
from app.chat.provenance import ModelFile, describe
from app.chat.reply import generate_reply
from app.chat.reproduce import reproduce_reply
from app.config.settings import EngineSettings, SamplingSettings, Settings
from app.conversations.store import ConversationStore, Message
from tests.fakes import FAKE_ENGINE_VERSION, FakeBackend

SMOL = ModelFile("smollm2-135m-instruct-q4_1.gguf", 98_000_000, "ab" * 32, "smollm2")


@pytest.fixture
def backend() -> FakeBackend:
    backend = FakeBackend()
    backend.load(ModelRef(path=Path("smollm2-135m-instruct-q4_1.gguf")), LoadOptions(EngineSettings(context_length=4096)))
    return backend


def settings(**sampling: Any) -> Settings:
    chosen = Settings()
    chosen.sampling = replace(SamplingSettings(), **sampling)
    return chosen


def answer(backend: FakeBackend, store: ConversationStore, chosen: Settings, model: ModelFile = SMOL) -> Message:
    conversation = store.create_conversation("A chat", system_prompt="Be brief.")
    question = store.add_message(conversation, None, "user", "Hello")
    result = generate_reply(backend, store, question, chosen, "auto", threading.Event(), lambda _t: None, model_file=model, locked=())
    message = store.message(result.message_id)
    assert message is not None
    return message


def test_the_reply_row_has_its_provenance_from_its_start(backend: FakeBackend, store: ConversationStore) -> None:
    conversation = store.create_conversation("A chat", system_prompt="Be brief.")
    question = store.add_message(conversation, None, "user", "Hello")
    at_start: list[Message | None] = []
    generate_reply(backend, store, question, settings(temperature=0.7), "auto", threading.Event(), lambda _t: None,
                   lambda message_id, _omitted: at_start.append(store.message(message_id)), model_file=SMOL, locked=())
    (row,) = at_start
    assert row is not None and row.status == "streaming"  # a crash from here on keeps the record
    record = row.provenance
    assert record["model"]["sha256"] == "ab" * 32 and record["model"]["file"] == SMOL.file_name
    assert record["sampling"]["temperature"] == 0.7 and record["context_length"] == 2048
    assert record["engine"] == FAKE_ENGINE_VERSION and record["hearth"] == __version__
    assert record["system_prompt"] == "Be brief." and record["assistant"] == ""


def test_a_random_seed_is_recorded_as_the_seed_used(backend: FakeBackend, store: ConversationStore) -> None:
    message = answer(backend, store, settings(seed=-1))
    seed = message.provenance["sampling"]["seed"]
    assert seed >= 0 and message.provenance["seed_was_random"] is True
    assert backend.requests[-1].sampling.seed == seed  # the backend ran with exactly that seed
    assert message.provenance["prompt_format"] == "model"  # what the backend chose for "auto"
    assert message.provenance["prompt_format_setting"] == "auto"


def test_details_say_it_in_plain_words(backend: FakeBackend, store: ConversationStore) -> None:
    message = answer(backend, store, settings(temperature=0.7, seed=1234567))
    text = describe(message.provenance)
    assert "Written by Fake model (Q4_0; file smollm2-135m-instruct-q4_1.gguf, 98 MB, sha256 " + "ab" * 32 in text
    assert "temperature 0.7" in text and "Seed: 1234567 (set in Settings)" in text
    assert "Context: 2,048 tokens; 1 CPU thread." in text and f"Hearth: {__version__}" in text
    assert "Engine: fake engine 1.0" in text and "system prompt: “Be brief.”" in text
    assert "The model's own chat template" in text


def test_messages_without_a_record_say_so(store: ConversationStore) -> None:
    conversation = store.create_conversation("Old chat")
    old = store.message(store.add_message(conversation, None, "assistant", "From before"))
    assert old is not None and old.provenance == {}
    assert "Nothing was recorded" in describe(old.provenance)


def test_reproduce_says_identical(backend: FakeBackend, store: ConversationStore) -> None:
    chosen = settings(seed=-1)
    message = answer(backend, store, chosen)
    outcome = reproduce_reply(backend, store, message.id, SMOL, chosen, "auto", threading.Event(), locked=())
    assert outcome.identical and outcome.reproduced == message.content
    assert outcome.describe().startswith("Reproduced: the text came out identical")
    assert store.siblings(message.id) == [message.id]  # nothing saved
    assert backend.requests[-1].sampling.seed == message.provenance["sampling"]["seed"]
    # read on from where the original did (the fake took nothing from a cache)
    assert backend.requests[-1].read_from == message.stats["prompt_tokens_reused"] == 0


def test_reproduce_shows_where_the_text_differs_and_what_changed(backend: FakeBackend, store: ConversationStore) -> None:
    message = answer(backend, store, settings(temperature=0.7, seed=5))
    backend.reply_words = ["Hello", " from", " another", " engine."]
    outcome = reproduce_reply(backend, store, message.id, SMOL, settings(temperature=1.2, seed=5), "auto", threading.Event(), locked=())
    assert not outcome.identical and outcome.first_difference == len("Hello from ")
    assert backend.requests[-1].sampling.temperature == 0.7  # rerun with the recorded settings
    text = outcome.describe()
    assert "from character 12 on" in text
    assert "Original: “Hello from the **fake** engine.”" in text and "Now: “Hello from another engine.”" in text
    assert "temperature: 0.7 then, 1.2 now" in text


def test_a_reply_written_after_a_context_shift_names_it_when_it_differs(backend: FakeBackend, store: ConversationStore) -> None:
    message = answer(backend, store, settings(seed=5))
    store.update_message(message.id, message.content, stats={**message.stats, "shifted_tokens": 900})
    backend.reply_words = ["Hello", " from", " another", " engine."]
    outcome = reproduce_reply(backend, store, message.id, SMOL, settings(seed=5), "auto", threading.Event(), locked=())
    assert not outcome.identical
    assert ("Possibly because: the conversation was longer than the model reads at once: the original kept its "
            "memory of the newer messages when the oldest were left out") in outcome.describe()


def test_reproduce_refuses_another_model(backend: FakeBackend, store: ConversationStore) -> None:
    message = answer(backend, store, settings())
    other = ModelFile("gemma.gguf", 200_000_000, "cd" * 32, "gemma")
    asked = len(backend.requests)
    outcome = reproduce_reply(backend, store, message.id, other, settings(), "auto", threading.Event(), locked=())
    assert outcome.describe() == (
        "This reply was written by Fake model (Q4_0; file smollm2-135m-instruct-q4_1.gguf, 98 MB, sha256 "
        + "ab" * 32 + "); load that model to reproduce it."
    )
    assert len(backend.requests) == asked  # nothing ran


def test_a_reply_stopped_before_its_first_word_is_not_called_identical(backend: FakeBackend, store: ConversationStore) -> None:
    message = answer(backend, store, settings())
    store.update_message(message.id, "", status="stopped")
    asked = len(backend.requests)
    outcome = reproduce_reply(backend, store, message.id, SMOL, settings(), "auto", threading.Event(), locked=())
    assert not outcome.identical and "no text to compare" in outcome.describe()
    assert len(backend.requests) == asked  # nothing ran


def test_a_record_from_another_version_is_shown_as_it_is_and_not_reproduced(backend: FakeBackend, store: ConversationStore) -> None:
    conversation = store.create_conversation("From the future")
    question = store.add_message(conversation, None, "user", "Hi")
    reply = store.add_message(conversation, question, "assistant", "Hello", provenance={"version": 2, "model": "x"})
    message = store.message(reply)
    assert message is not None
    assert describe(message.provenance).startswith("This reply's record was written by another version of Hearth:\n{")
    outcome = reproduce_reply(backend, store, reply, SMOL, settings(), "auto", threading.Event(), locked=())
    assert "another version of Hearth" in outcome.refusal


class IgnoresTheSeed(FakeBackend):
    """Like a server that picks its own seed: it reports the one it used."""

    def reply(
        self, request: ChatRequest, cancel: threading.Event, on_text: Callable[[str], None], on_started: Callable[[int], None],
        on_reading: Callable[[float], None] = lambda _fraction: None,
    ) -> ReplyStats:
        stats = super().reply(request, cancel, on_text, on_started, on_reading)
        return replace(stats, seed=99)


def test_the_seed_the_backend_reports_is_the_one_recorded(store: ConversationStore) -> None:
    backend = IgnoresTheSeed()
    backend.load(ModelRef(path=Path("x.gguf")), LoadOptions(EngineSettings()))
    message = answer(backend, store, settings(seed=5))
    assert message.provenance["sampling"]["seed"] == 99


def test_differences_say_on_and_off_and_the_details_a_whole_sentence_for_safe_mode(backend: FakeBackend, store: ConversationStore) -> None:
    from app.chat.provenance import describe, differences

    message = answer(backend, store, settings())
    recorded = message.provenance
    assert differences(recorded, {**recorded, "safe_mode": True}) == ["safe mode: off then, on now"]
    assert "Engine: fake engine 1.0, in safe mode." in describe({**recorded, "safe_mode": True})
    assert "Engine: fake engine 1.0." in describe(recorded)
