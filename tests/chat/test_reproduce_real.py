"""Reproduce on SmolLM2: the same seed, model and settings write the same reply, and a
setting changed since is shown as the difference."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from app.backends.llama.engine import LlamaBackend
from app.chat.provenance import ModelFile
from app.chat.reply import generate_reply
from app.chat.reproduce import reproduce_reply
from app.config.settings import SamplingSettings, Settings
from app.conversations.store import ConversationStore
from app.library.model_library import sha256_of
from tests.conftest import loaded_llama

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def engine(smollm_path: Path) -> Iterator[LlamaBackend]:
    yield from loaded_llama(smollm_path)


@pytest.fixture(scope="module")
def smollm_file(smollm_path: Path) -> ModelFile:
    return ModelFile(smollm_path.name, smollm_path.stat().st_size, sha256_of(smollm_path), "smollm2", "SmolLM2-135M-Instruct")


def sampled(**changes: float) -> Settings:
    settings = Settings()
    settings.sampling = replace(SamplingSettings(temperature=0.9, max_tokens=48, seed=-1), **changes)
    return settings


def ask(engine: LlamaBackend, store: ConversationStore, model: ModelFile, text: str, parent: int | None = None) -> int:
    earlier = store.message(parent) if parent is not None else None
    conversation = earlier.conversation_id if earlier is not None else store.create_conversation("Stories")
    question = store.add_message(conversation, parent, "user", text)
    return generate_reply(engine, store, question, sampled(), "auto", threading.Event(), lambda _t: None,
                          model_file=model, locked=()).message_id


def test_the_same_seed_model_and_settings_reproduce_the_reply(
    engine: LlamaBackend, store: ConversationStore, smollm_file: ModelFile
) -> None:
    reply = ask(engine, store, smollm_file, "Tell me a short story about a lighthouse.")
    ask(engine, store, smollm_file, "What is the capital of France?")  # the engine's cache now holds another chat
    outcome = reproduce_reply(engine, store, reply, smollm_file, sampled(), "auto", threading.Event(), locked=())
    saved = store.message(reply)
    assert saved is not None and len(saved.content) > 40
    assert outcome.identical and outcome.reproduced == saved.content
    assert outcome.describe() == "Reproduced: the text came out identical, character for character."
    assert saved.provenance["seed_was_random"] and saved.provenance["sampling"]["seed"] >= 0
    assert saved.provenance["engine"].startswith("llama-cpp-python ")


def test_a_changed_setting_is_shown_as_the_difference(
    engine: LlamaBackend, store: ConversationStore, smollm_file: ModelFile
) -> None:
    reply = ask(engine, store, smollm_file, "Name three colours of the sea.")
    outcome = reproduce_reply(engine, store, reply, smollm_file, sampled(temperature=1.4, seed=7), "auto", threading.Event(), locked=())
    assert outcome.identical  # written again with the recorded settings, not today's
    assert "temperature: 0.9 then, 1.4 now" in outcome.describe()
    assert "seed: " in outcome.describe() and ", 7 now" in outcome.describe()


def test_a_later_turn_reproduced_while_its_memory_is_kept_is_identical(
    engine: LlamaBackend, store: ConversationStore, smollm_file: ModelFile, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Seeds whose second reply came out different when its prompt's end was read in other batches.
    seeds = iter([1135880090, 766806502])
    monkeypatch.setattr("app.chat.reply.random.getrandbits", lambda _bits: next(seeds))
    first = ask(engine, store, smollm_file, "Tell me about a cat.")
    second = ask(engine, store, smollm_file, "And about a dog?", parent=first)
    outcome = reproduce_reply(engine, store, second, smollm_file, sampled(), "auto", threading.Event(), locked=())
    assert outcome.identical, outcome.describe()


def test_another_model_file_is_named_instead_of_run(engine: LlamaBackend, store: ConversationStore, smollm_file: ModelFile) -> None:
    reply = ask(engine, store, smollm_file, "Say hello.")
    other = replace(smollm_file, sha256="0" * 64)
    outcome = reproduce_reply(engine, store, reply, other, sampled(), "auto", threading.Event(), locked=())
    assert outcome.refusal.startswith("This reply was written by SmolLM2-135M-Instruct (Q4_1; file SmolLM2-135M-Instruct.Q4_1.gguf, 98 MB")
    assert smollm_file.sha256 in outcome.refusal and outcome.refusal.endswith("load that model to reproduce it.")
