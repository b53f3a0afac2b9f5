"""The context meter by the message box, in the window on the fake backend: what the
conversation uses as the engine reported it, what is typed, the passages the documents
will bring, and a full context said in plain words."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.conversations.store import Role
from app.gui.main_window import MainWindow
from app.platform.paths import AppPaths
from tests.fakes import FAKE_CONTEXT, FakeBackend, FakeBackendFactory
from tests.gguf_factory import MakeGguf
from tests.gui.test_message_actions import make_window, send


@pytest.fixture
def window(qtbot, paths: AppPaths, synthetic_gguf: MakeGguf, fake_factory: FakeBackendFactory) -> Iterator[MainWindow]:
    shown = make_window(qtbot, paths, synthetic_gguf, fake_factory)
    yield shown
    shown.close()


def meter_text(window: MainWindow) -> str:
    return window.context_meter.format()


def test_the_meter_counts_the_conversation_what_is_typed_and_the_documents(qtbot, window: MainWindow, fake_backend: FakeBackend) -> None:
    system_prompt = 7  # "You are a helpful assistant.": 28 characters
    assert window.context_meter.isVisible() and meter_text(window) == f"Context: about {system_prompt} of {FAKE_CONTEXT:,} tokens"
    window.composer.setPlainText("x" * 400)
    assert meter_text(window) == f"Context: about {system_prompt + 100} of {FAKE_CONTEXT:,} tokens"
    send(qtbot, window, "Hello there", fake_backend, ["Hi", "you."])
    reply = window.session.last_message(Role.ASSISTANT)
    assert reply is not None
    stats = reply.stats
    reported = stats["prompt_tokens"] + stats["reply_tokens"]
    assert meter_text(window) == f"Context: about {reported} of {FAKE_CONTEXT:,} tokens"
    window.documents.attached_count.emit(1)  # one collection attached: two passages for this context
    assert meter_text(window) == f"Context: about {reported + 600} of {FAKE_CONTEXT:,} tokens"


def test_a_full_context_is_said_in_plain_words(qtbot, window: MainWindow, fake_backend: FakeBackend) -> None:
    window.composer.setPlainText("word " * 2000)
    assert window.context_meter.value() == window.context_meter.maximum() == FAKE_CONTEXT
    assert window.context_meter.toolTip().startswith("The context is full: the oldest messages are left out")
    window.composer.setPlainText("word " * 1400)
    assert window.context_meter.toolTip().startswith("The context is nearly full")
