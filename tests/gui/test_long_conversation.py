"""A conversation of thousands of messages opens without freezing (issue 15, "Bad input"):
only its newest page is read and laid out, the view at its end; scrolling up (or the
keyboard's Ctrl+Home) brings the page before, above, without moving what the person was
reading; a search hit far back is read down to it."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import Qt

from app.conversations.store import SqliteConversationStore
from app.gui.app import create_window
from app.gui.controllers.chat_session import PACED_MESSAGES, PAGE_MESSAGES
from app.gui.main_window import MainWindow
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.fakes import FakeBackend, FakeBackendFactory
from tests.gguf_factory import MakeGguf
from tests.gui.waits import reply_shown, thread_shown

MESSAGES = 2_400


def _long_chat(paths: AppPaths, messages: int, branch_at: int | None = None) -> list[int]:
    """A conversation of `messages` messages (question, then a few lines of answer), written in
    one transaction; their ids, oldest first. With `branch_at`, an alternative to that answer
    follows, not shown, with 120 messages below it."""
    store = SqliteConversationStore(paths.database)
    conversation = store.create_conversation("A very long chat")
    store.close()
    db = sqlite3.connect(paths.database, isolation_level=None)
    rows = [
        (number, str(uuid.uuid4()), conversation, number - 1 if number > 1 else None,
         "user" if number % 2 else "assistant",
         f"Question {number}?" if number % 2 else "\n\n".join(f"Answer {number}, part {part}." for part in range(3)),
         1.7e9 + number)
        for number in range(1, messages + 1)
    ]
    if branch_at is not None:
        rows += [(messages + 1, str(uuid.uuid4()), conversation, branch_at - 1, "assistant", "Another answer.", 1.8e9)]
        rows += [(number, str(uuid.uuid4()), conversation, number - 1, "user" if number % 2 else "assistant",
                  f"Branch message {number}.", 1.8e9 + number) for number in range(messages + 2, messages + 122)]
    db.execute("BEGIN")
    db.executemany("INSERT INTO messages (id, uuid, conversation_id, parent_id, role, content, created_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.execute("UPDATE conversations SET current_leaf_id = ? WHERE id = ?", (messages, conversation))
    db.execute("COMMIT")
    db.close()
    return [row[0] for row in rows[:messages]]


@pytest.fixture
def open_long_chat(qtbot, paths: AppPaths, synthetic_gguf: MakeGguf,
                   fake_backend: FakeBackend) -> Iterator[Callable[[int], MainWindow]]:
    windows: list[MainWindow] = []

    def make(messages: int, branch_at: int | None = None) -> MainWindow:
        ModelLibrary(paths.models_dir).add(synthetic_gguf("SmolLM2-synthetic.Q4_1.gguf"), copy=False)
        _long_chat(paths, messages, branch_at)
        window = create_window(paths, FakeBackendFactory(fake_backend))
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.session.can_reply and thread_shown(window), timeout=10_000)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()


def _top_line(window: MainWindow) -> str:
    """The line of text at the top of the conversation pane."""
    view = window.chat_view
    cursor = view.cursorForPosition(view.viewport().rect().topLeft())
    return cursor.block().text()


def _settled(qtbot, window: MainWindow) -> None:
    """No page is being read (the store reader answers within this)."""
    qtbot.waitUntil(lambda: window.session.can_change and not window.session.reading_older, timeout=5000)
    qtbot.wait(50)


def test_a_long_conversation_opens_with_only_its_newest_page_at_its_end(qtbot, open_long_chat) -> None:
    window = open_long_chat(MESSAGES)
    view, bar = window.chat_view, window.chat_view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=2000)
    _settled(qtbot, window)
    text = view.toPlainText()
    assert f"Answer {MESSAGES}, part 2." in text
    assert len(window.session.shown_messages()) == PAGE_MESSAGES and window.session.has_older
    assert f"Question {MESSAGES - PAGE_MESSAGES + 1}?" in text and f"Answer {MESSAGES - PAGE_MESSAGES}," not in text
    assert "Question 1?" not in text
    assert bar.value() == bar.maximum() and view.follow_end.following
    use = window.context.use()  # estimated from every message, read or not (no reply says what it used)
    assert use is not None and use.full


def test_scrolling_to_the_top_shows_older_messages_above_and_keeps_the_place(qtbot, open_long_chat) -> None:
    window = open_long_chat(MESSAGES)
    view, bar = window.chat_view, window.chat_view.verticalScrollBar()
    _settled(qtbot, window)
    first_shown = f"Question {MESSAGES - PAGE_MESSAGES + 1}?"
    bar.setValue(0)  # the person scrolls up to the top of what is shown
    reading = _top_line(window)
    qtbot.waitUntil(lambda: len(window.session.shown_messages()) == 2 * PAGE_MESSAGES, timeout=5000)
    _settled(qtbot, window)
    assert _top_line(window) == reading, "what the person was reading stays where it was"
    assert bar.value() > view.viewport().height()  # the older page is above it
    assert len(window.session.shown_messages()) == 2 * PAGE_MESSAGES  # one page, until they scroll up again
    text = view.toPlainText()
    older = f"Question {MESSAGES - 2 * PAGE_MESSAGES + 1}?"
    assert older in text and text.index(older) < text.index(first_shown) < text.index(f"Answer {MESSAGES}, part 2.")
    assert f"Answer {MESSAGES - 2 * PAGE_MESSAGES}," not in text
    assert not view.follow_end.following and view.follow_end.jump.isVisible()
    view.follow_end.jump.click()
    assert bar.value() == bar.maximum() and view.follow_end.following


def test_ctrl_home_reaches_the_first_message_and_then_nothing_more_is_read(qtbot, open_long_chat) -> None:
    window = open_long_chat(3 * PAGE_MESSAGES + 10)
    view = window.chat_view
    requests: list[object] = []
    window.session.request_thread.connect(lambda _id, page, _prepare: requests.append(page))
    _settled(qtbot, window)
    assert len(window.session.shown_messages()) == PAGE_MESSAGES
    view.setFocus()
    for _ in range(6):  # a page at a time: each press reaches the top of what is shown
        qtbot.keyClick(view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
        _settled(qtbot, window)
    assert len(window.session.shown_messages()) == 3 * PAGE_MESSAGES + 10 and not window.session.has_older
    assert len(requests) == 3  # the three older pages; nothing once all is shown
    assert view.verticalScrollBar().value() == 0 and _top_line(window).startswith("You")
    assert "Question 1?" in view.toPlainText()[:200]
    qtbot.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert view.follow_end.following and view.follow_end.at_end()


def test_a_search_hit_far_back_is_read_down_to_and_shown(qtbot, open_long_chat) -> None:
    window = open_long_chat(MESSAGES)
    _settled(qtbot, window)
    conversation = window.session.conversation_id
    assert conversation is not None
    laid_out: list[int] = []  # messages laid out at once
    hints: list[str] = []  # what the line under the chat said while parts were added
    for shown_signal in (window.session.thread_shown, window.session.newer_shown):
        shown_signal.connect(lambda page: laid_out.append(len(page.messages)))
    window.session.newer_shown.connect(lambda _page: hints.append(window.composer_hint.text()))
    window.session.open(conversation, at_message=1001)  # as choosing a search hit does
    _settled(qtbot, window)
    assert hints and hints[0] == "Opening the conversation… you can write once it is shown."
    assert window.composer_hint.text() == "Enter sends · Shift+Enter adds a new line"
    assert sum(laid_out) >= MESSAGES - 1000 and max(laid_out) <= PACED_MESSAGES  # a part per turn of the event loop
    view = window.chat_view
    top = view.cursorForPosition(view.viewport().rect().topLeft()).block()
    assert top.text().startswith("You") and top.next().text() == "Question 1001?"  # the hit's header at the top
    shown = window.session.shown_messages()
    assert shown[-1].id == MESSAGES and shown[0].id <= 1001  # read down to the hit (and a page above it), not all
    assert len(shown) <= MESSAGES - 1000 + PAGE_MESSAGES and "Question 1?" not in view.toPlainText()


def test_the_arrows_of_an_old_reply_show_its_alternative_where_it_was(qtbot, open_long_chat) -> None:
    window = open_long_chat(MESSAGES, branch_at=1000)
    _settled(qtbot, window)
    conversation = window.session.conversation_id
    assert conversation is not None
    window.session.open(conversation, at_message=1000)
    _settled(qtbot, window)
    assert window.session.shown_message(1000) is not None and "1/2" in window.chat_view.toPlainText()
    window.session.show_alternative(1000, 1)  # as its › does
    _settled(qtbot, window)
    view = window.chat_view
    top = view.cursorForPosition(view.viewport().rect().topLeft()).block()
    assert top.text().startswith("Assistant") and "2/2" in top.text() and top.next().text() == "Another answer."
    assert window.session.shown_messages()[-1].content == f"Branch message {MESSAGES + 121}."


def test_a_reply_streams_on_while_older_messages_go_in_above(qtbot, open_long_chat, fake_backend: FakeBackend) -> None:
    window = open_long_chat(MESSAGES)
    view = window.chat_view
    _settled(qtbot, window)
    assert len(window.session.shown_messages()) == PAGE_MESSAGES
    fake_backend.reply_words, fake_backend.delay = [f" word{n}\n\n" for n in range(30)], 0.02
    window.send("One more, please")
    qtbot.waitUntil(lambda: "word3" in view.toPlainText(), timeout=5000)
    view.verticalScrollBar().setValue(0)
    qtbot.waitUntil(lambda: reply_shown(window) and len(window.session.shown_messages()) >= 2 * PAGE_MESSAGES + 2,
                    timeout=10_000)
    text = view.toPlainText()
    assert text.count("word29") == 1 and "word29" in text.rsplit("Assistant", 1)[-1]  # once, in the last message
    assert text.index(f"Question {MESSAGES - 2 * PAGE_MESSAGES + 1}?") < text.index("One more, please") < text.index("word29")
    assert view.message_text(window.session.shown_messages()[-1].id) is not None  # the finished reply has its copy link
