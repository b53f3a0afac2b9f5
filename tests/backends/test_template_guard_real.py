"""A hostile chat template in a real model (SmolLM2 with its template replaced): Stop ends
it, a runaway one is told in a sentence naming the model, and nothing it raises reaches the log."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.backends.base import ChatRequest, ChatTurn
from app.backends.llama import template_guard
from app.backends.llama.engine import LlamaBackend
from app.backends.llama.prompt_formats import MODEL_TEMPLATE
from app.config.settings import SamplingSettings
from app.platform.errors import ChatTemplateError, StoppedError
from tests.conftest import loaded_llama

pytestmark = pytest.mark.real_model

NESTED_LOOPS = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
HELLO_WORLD = "{% for i in range(100000) %}{{ 'hello world ' * 100 }}{% endfor %}"
SAMPLING = SamplingSettings(temperature=0.0, max_tokens=16, seed=1)


@pytest.fixture(scope="module")
def engine(smollm_path: Path) -> Iterator[LlamaBackend]:
    yield from loaded_llama(smollm_path, threads=0)


def with_template(engine: LlamaBackend, template: str) -> None:
    loaded = engine._loaded
    assert loaded is not None
    engine._loaded = dataclasses.replace(loaded, info=dataclasses.replace(loaded.info, chat_template=template))


def ask(engine: LlamaBackend, text: str, cancel: threading.Event | None = None) -> str:
    shown: list[str] = []
    request = ChatRequest("", (ChatTurn("user", text),), SAMPLING, MODEL_TEMPLATE)
    engine.reply(request, cancel or threading.Event(), shown.append, lambda omitted: None)
    return "".join(shown)


@pytest.fixture
def own_template(engine: LlamaBackend) -> Iterator[None]:
    loaded = engine._loaded
    yield
    engine._loaded = loaded


def test_stop_ends_a_template_that_would_never_end(engine: LlamaBackend, own_template: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(template_guard, "RENDER_SECONDS", 3600.0)  # only Stop can end it
    with_template(engine, NESTED_LOOPS)
    cancel = threading.Event()
    threading.Timer(0.5, cancel.set).start()
    with pytest.raises(StoppedError, match="stopped before the model began"):
        ask(engine, "Hello", cancel)


@pytest.mark.parametrize("template, says", [
    (NESTED_LOOPS, "it takes too long"),
    (HELLO_WORLD, "it writes far more than the model can read"),
    ("{{ 1/0 }}", "it has an error"),
])
def test_a_runaway_template_is_told_naming_the_model(engine: LlamaBackend, own_template: None, template: str, says: str) -> None:
    with_template(engine, template)
    with pytest.raises(ChatTemplateError) as caught:
        ask(engine, "Hello")
    text = str(caught.value)
    assert says in text and engine.loaded is not None and engine.loaded.name in text
    assert "division" not in text and "long for this model" not in text


def test_what_a_template_raises_never_reaches_the_log(engine: LlamaBackend, own_template: None, caplog: pytest.LogCaptureFixture) -> None:
    with_template(engine, "{{ raise_exception('x' ~ messages[-1]['content']) }}")
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ChatTemplateError, match="refused this conversation"):
        ask(engine, "my password is hunter2")
    assert "chat template" in caplog.text and "hunter2" not in caplog.text


def test_after_a_hostile_template_the_model_answers_with_its_own(engine: LlamaBackend, own_template: None) -> None:
    loaded = engine._loaded
    with_template(engine, NESTED_LOOPS)
    with pytest.raises(ChatTemplateError):
        ask(engine, "Hello")
    engine._loaded = loaded
    assert ask(engine, "What is the capital of France?").strip()
