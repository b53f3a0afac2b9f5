"""A full context in the real window on the fake backend: the user chooses between leaving
the oldest messages out and having them summarised; the summary is shown, read instead of
them, and can be edited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt

from app.chat.summary import SUMMARY_INTRO, is_summary
from app.conversations.store import Role
from app.gui.main_window import MainWindow
from app.gui.widgets.chat_view import EDIT_SCHEME
from app.platform.paths import AppPaths
from tests.fakes import FakeBackend, FakeBackendFactory
from tests.gguf_factory import MakeGguf
from tests.gui.page_links import click, message_link
from tests.gui.test_message_actions import make_window, send
from tests.gui.waits import thread_shown

LONG = "word " * 400  # the fake model reads a word a token: three such questions outgrow its room


@pytest.fixture
def window(qtbot, paths: AppPaths, synthetic_gguf: MakeGguf, fake_factory: FakeBackendFactory) -> Iterator[MainWindow]:
    shown = make_window(qtbot, paths, synthetic_gguf, fake_factory)
    yield shown
    shown.close()


def fill(qtbot, window: MainWindow, backend: FakeBackend) -> int:
    """Three long questions: the last reply leaves the oldest out. How many it left out."""
    for number in range(3):
        send(qtbot, window, f"question {number} {LONG}", backend, [f"Answer {number}."])
    reply = window.session.last_message(Role.ASSISTANT)
    assert reply is not None
    return int(reply.stats["omitted_turns"])


def summarised(qtbot, window: MainWindow, backend: FakeBackend) -> None:  # type: ignore[no-untyped-def]
    """A conversation whose last reply left messages out, summarised from the Chat menu."""
    fill(qtbot, window, backend)
    backend.reply_words = ["They", " spoke", " of", " tides."]
    window.summarise_action.trigger()
    qtbot.waitUntil(lambda: "They spoke of tides." in page(window) and thread_shown(window), timeout=5000)


def page(window: MainWindow) -> str:
    return window.chat_view.toPlainText()


def test_the_oldest_messages_summarised_are_shown_and_read_instead_of_them(
    qtbot, window: MainWindow, fake_backend: FakeBackend
) -> None:
    notice = window.summary.notice
    assert not notice.isVisible()
    left_out = fill(qtbot, window, fake_backend)
    assert left_out == 4  # two exchanges: a step of half the room (app/backends/llama/prompting.py)
    qtbot.waitUntil(notice.isVisible, timeout=5000)
    assert "the oldest 4 messages were left out of the last reply" in notice.text.text()
    assert notice.summarise_button.text() == "Summarise them" and notice.dismiss_button.text() == "Leave them out"

    fake_backend.reply_words = ["They", " spoke", " of", " tides."]
    fake_backend.delay = 0.2  # a word every 0.2 s: the summary is being written for a while
    qtbot.mouseClick(notice.summarise_button, Qt.MouseButton.LeftButton)
    assert window.composer_hint.text() == "Summarising the oldest messages… press Esc or Stop to stop it."
    assert window.stop_button.isEnabled() and not window.send_button.isEnabled()
    fake_backend.delay = 0.0
    qtbot.waitUntil(lambda: "They spoke of tides." in page(window) and thread_shown(window), timeout=5000)
    assert "Summary of the oldest 4 messages (the model reads it instead of them)" in page(window)
    assert "question 0" in page(window)  # nothing deleted: the summarised messages are still shown
    assert not notice.isVisible()
    assert "The oldest 4 messages are summarised" in window.statusBar().currentMessage()

    send(qtbot, window, "And then?", fake_backend, ["Then waves."])
    request = fake_backend.requests[-1]
    assert request.system_prompt.endswith(f"{SUMMARY_INTRO}\nThey spoke of tides.")
    assert request.turns[0].content.startswith("question 2 ")
    assert "Then waves." in page(window)


def test_leave_them_out_keeps_the_offer_away_until_another_reply_leaves_some_out(
    qtbot, window: MainWindow, fake_backend: FakeBackend
) -> None:
    fill(qtbot, window, fake_backend)
    notice = window.summary.notice
    qtbot.waitUntil(notice.isVisible, timeout=5000)
    qtbot.mouseClick(notice.dismiss_button, Qt.MouseButton.LeftButton)
    assert not notice.isVisible()
    window.session.refresh()
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    assert not notice.isVisible()
    assert window.summarise_action.isEnabled()  # still there, from the Chat menu
    send(qtbot, window, "A short one.", fake_backend, ["Short."])
    assert window.session.last_message(Role.ASSISTANT).stats["omitted_turns"] == 4  # type: ignore[union-attr]
    assert not notice.isVisible(), "as many left out as when it was turned down: not offered again"
    send(qtbot, window, f"question 3 {LONG}", fake_backend, ["Answer 3."])
    qtbot.waitUntil(notice.isVisible, timeout=5000)


def test_a_summary_edited_is_kept_as_a_new_version_that_the_model_reads(
    qtbot, window: MainWindow, fake_backend: FakeBackend
) -> None:
    summarised(qtbot, window, fake_backend)
    summary = window.session.shown_messages()[-1]
    assert is_summary(summary)
    asked = len(fake_backend.requests)
    click(window.chat_view, message_link(window.chat_view, EDIT_SCHEME, summary.id))
    assert window.composer.toPlainText() == "They spoke of tides."
    window.composer.setPlainText("They spoke of tides and of the moon.")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "of the moon." in page(window) and thread_shown(window), timeout=5000)
    assert len(fake_backend.requests) == asked  # an edited summary asks the model nothing
    assert "2/2" in page(window)  # the model's version is kept beside it
    assert window.composer.toPlainText() == ""
    send(qtbot, window, "And then?", fake_backend, ["Then waves."])
    assert fake_backend.requests[-1].system_prompt.endswith("They spoke of tides and of the moon.")


def test_a_summary_is_offered_only_when_something_was_left_out(qtbot, window: MainWindow, fake_backend: FakeBackend) -> None:
    send(qtbot, window, "Hello", fake_backend, ["Hi."])
    assert not window.summary.notice.isVisible() and not window.summarise_action.isEnabled()
    assert "Hi." in page(window)


def test_regenerate_after_a_summary_writes_the_last_reply_again_not_a_reply_to_the_summary(
    qtbot, window: MainWindow, fake_backend: FakeBackend
) -> None:
    fill(qtbot, window, fake_backend)
    reply = window.session.last_message(Role.ASSISTANT)
    fake_backend.reply_words = ["They", " spoke", " of", " tides."]
    window.summarise_action.trigger()
    qtbot.waitUntil(lambda: "They spoke of tides." in page(window) and thread_shown(window), timeout=5000)
    fake_backend.reply_words = ["Answer", " again."]
    window.regenerate_button.click()
    qtbot.waitUntil(lambda: "Answer again." in page(window) and thread_shown(window) and not window.session.busy, timeout=5000)
    assert fake_backend.requests[-1].turns[-1].content.startswith("question 2 ")
    again = window.session.last_message(Role.ASSISTANT)
    assert reply is not None and again is not None and again.parent_id == reply.parent_id


def test_a_summary_with_messages_after_it_is_not_edited_out_of_the_conversation(
    qtbot, window: MainWindow, fake_backend: FakeBackend
) -> None:
    summarised(qtbot, window, fake_backend)
    summary = window.session.shown_messages()[-1]
    send(qtbot, window, "And then?", fake_backend, ["Then waves."])
    click(window.chat_view, message_link(window.chat_view, EDIT_SCHEME, summary.id))
    assert window.composer.editing is None and window.composer.toPlainText() == ""
    assert window.statusBar().currentMessage().startswith("A summary can be edited while it is the last message.")
    assert "Then waves." in page(window)


def test_stop_while_summarising_keeps_nothing_and_says_so(qtbot, window: MainWindow, fake_backend: FakeBackend) -> None:
    fill(qtbot, window, fake_backend)
    fake_backend.reply_words = ["They", " spoke", " of", " tides."]
    fake_backend.delay = 0.2
    window.summarise_action.trigger()
    qtbot.mouseClick(window.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.session.held, timeout=5000)
    assert window.statusBar().currentMessage() == "Summarising was stopped; nothing was changed."
    assert not any(is_summary(m) for m in window.session.shown_messages())
    assert window.send_button.isEnabled()
