"""The newest message is always in view (issue 14): a conversation opens at its end, the
view follows a reply while the person is at the bottom, stays where they scrolled up to
read, and offers "Jump to newest" then."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.conversations.store import SqliteConversationStore
from app.gui.app import create_window
from app.gui.main_window import MainWindow
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.fakes import FakeBackend, FakeBackendFactory
from tests.gguf_factory import MakeGguf
from tests.gui.waits import reply_shown, thread_shown


@pytest.fixture
def long_chat_window(qtbot, paths: AppPaths, synthetic_gguf: MakeGguf, fake_backend: FakeBackend) -> Iterator[MainWindow]:
    ModelLibrary(paths.models_dir).add(synthetic_gguf("SmolLM2-synthetic.Q4_1.gguf"), copy=False)
    store = SqliteConversationStore(paths.database)
    conversation = store.create_conversation("A long chat")
    parent = None
    for turn in range(20):
        parent = store.add_message(conversation, parent, "user", f"Question {turn}")
        parent = store.add_message(conversation, parent, "assistant", "\n\n".join(f"Answer {turn}, part {p}." for p in range(4)))
    store.close()
    window = create_window(paths, FakeBackendFactory(fake_backend))
    qtbot.addWidget(window)
    window.show()  # opened before the window is laid out: it used to stay at the first message
    qtbot.waitUntil(lambda: window.session.can_reply and thread_shown(window), timeout=5000)
    yield window
    window.close()


def at_end(window: MainWindow) -> bool:
    bar = window.chat_view.verticalScrollBar()
    return bar.maximum() > 0 and bar.value() == bar.maximum()


def test_a_conversation_opens_at_its_end(qtbot, long_chat_window: MainWindow) -> None:
    qtbot.waitUntil(lambda: at_end(long_chat_window), timeout=2000)
    assert not long_chat_window.chat_view.follow_end.jump.isVisible()


def test_the_reply_is_followed_while_the_person_is_at_the_bottom(qtbot, long_chat_window: MainWindow, fake_backend: FakeBackend) -> None:
    window = long_chat_window
    fake_backend.reply_words, fake_backend.delay = [f" word{n}\n\n" for n in range(30)], 0.02
    window.send("One more, please")
    seen: list[bool] = []
    while not reply_shown(window):
        qtbot.wait(30)
        seen.append(at_end(window))
    assert seen and all(seen[len(seen) // 2:]), "the end of the reply stays in view as it grows"
    assert at_end(window) and "word29" in window.chat_view.toPlainText()


def test_scrolling_up_to_read_stops_following_and_offers_a_jump(qtbot, long_chat_window: MainWindow, fake_backend: FakeBackend) -> None:
    window = long_chat_window
    view = window.chat_view
    fake_backend.reply_words, fake_backend.delay = [f" word{n}\n\n" for n in range(40)], 0.03
    window.send("A long answer, please")
    qtbot.waitUntil(lambda: "word5" in view.toPlainText(), timeout=5000)
    view.verticalScrollBar().setValue(0)  # the person scrolls up to read
    qtbot.waitUntil(lambda: reply_shown(window), timeout=10_000)
    assert view.verticalScrollBar().value() == 0, "the view stays where the person is reading"
    assert view.follow_end.jump.isVisible() and not view.follow_end.following
    view.follow_end.jump.click()
    assert at_end(window) and not view.follow_end.jump.isVisible() and view.follow_end.following
