"""The status bar while a reply is on its way, on the fake backend: how much of a long
prompt is read, then that the reply is being written, then its speed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.conversations.store import Role
from app.gui.main_window import MainWindow
from app.platform.paths import AppPaths
from tests.fakes import FakeBackend, FakeBackendFactory
from tests.gguf_factory import MakeGguf
from tests.gui.test_message_actions import make_window, send
from tests.gui.waits import reply_shown


@pytest.fixture
def window(qtbot, paths: AppPaths, synthetic_gguf: MakeGguf, fake_factory: FakeBackendFactory) -> Iterator[MainWindow]:
    shown = make_window(qtbot, paths, synthetic_gguf, fake_factory)
    yield shown
    shown.close()


def test_the_status_says_how_much_of_the_prompt_is_read_then_that_it_writes_then_the_speed(
    qtbot, window: MainWindow, fake_backend: FakeBackend,
) -> None:
    fake_backend.reading_steps = [0.4, 1.0]
    seen: list[str] = []
    window.session.prompt_read.connect(lambda _fraction: seen.append(window.speed_status.text()))
    window.session.reply_text.connect(lambda _text: seen.append(window.speed_status.text()))
    send(qtbot, window, "Tell me about tides", fake_backend, ["The", "moon."])
    assert seen[:2] == ["Reading the conversation… 40%", "Reading the conversation… 100%"]
    assert seen[2:] and all(text == "Writing…" for text in seen[2:])
    assert window.speed_status.text().endswith("tokens/s · first token 0.01 s")


def test_another_chat_says_which_chat_is_being_answered_and_its_stop_leaves_that_reply_alone(
    qtbot, window: MainWindow, fake_backend: FakeBackend,
) -> None:
    fake_backend.delay = 0.05
    fake_backend.reply_words = ["word"] * 200
    window.composer.setPlainText("Write a long story about the sea")
    window.send(window.composer.toPlainText())
    qtbot.waitUntil(lambda: bool(window.session.streamed_text), timeout=5000)
    answering = window.session.conversation_id
    window.new_conversation()
    assert window.composer_hint.text() == (
        "Hearth is answering in “Write a long story about the sea”: you can write here once it is done, or go back to it to stop it."
    )
    assert not window.stop_button.isEnabled() and not window.stop_action.isEnabled()
    window.session.stop()  # Esc here: the other chat's reply goes on
    assert not fake_backend_cancelled(window)
    window.session.open(answering)
    qtbot.waitUntil(lambda: window.stop_button.isEnabled(), timeout=5000)
    window.stop_button.click()
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    reply = window.session.last_message(Role.ASSISTANT)
    assert reply is not None and reply.status == "stopped" and "Stopped" in window.chat_view.toPlainText()


def fake_backend_cancelled(window: MainWindow) -> bool:
    return window._worker.cancel.is_set()
