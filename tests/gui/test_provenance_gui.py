"""A reply's Details in the window: what produced it in plain words, copyable, and
Reproduce on the inference worker, on the fake backend."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication

from app.conversations.store import SqliteConversationStore
from app.gui.app import create_window
from app.gui.main_window import MainWindow
from app.gui.provenance_dialog import ProvenanceDialog
from app.gui.widgets.chat_view import DETAILS_SCHEME
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.fakes import FakeBackend, FakeBackendFactory
from tests.gui.waits import reply_shown, thread_shown


@pytest.fixture
def window(qtbot, paths: AppPaths, smollm_path: Path, fake_factory: FakeBackendFactory):
    ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
    window = create_window(paths, fake_factory)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.loader.ready and thread_shown(window), timeout=5000)
    yield window
    if window.isVisible():
        window.close()


def details_links(window: MainWindow) -> list[str]:
    links: list[str] = []
    block = window.chat_view.document().begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            href = fragments.fragment().charFormat().anchorHref()
            if href.startswith(DETAILS_SCHEME) and href not in links:
                links.append(href)
            fragments += 1
        block = block.next()
    return links


def open_details(qtbot, window: MainWindow, text: str = "Hello there") -> ProvenanceDialog:
    window.composer.setPlainText(text)
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    (link,) = details_links(window)  # on the reply only, not on the question
    window.chat_view.anchorClicked.emit(QUrl(link))
    dialog = window.details_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog


def test_details_say_what_wrote_the_reply_and_copy_it(qtbot, window: MainWindow, paths: AppPaths) -> None:
    window.settings.current().sampling.seed = 1234567
    dialog = open_details(qtbot, window)
    entry = ModelLibrary(paths.models_dir).models()[0]
    text = dialog.details.toPlainText()
    assert f"Written by {entry.name} (Q4_0; file {Path(entry.path).name}, 98 MB, sha256 {entry.sha256})" in text
    assert "Seed: 1234567 (set in Settings)" in text and "Engine: fake engine 1.0" in text
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == text


def test_reproduce_says_the_reply_came_out_identical(qtbot, window: MainWindow, paths: AppPaths) -> None:
    dialog = open_details(qtbot, window)
    assert dialog.reproduce_button.isEnabled()
    dialog.reproduce_button.click()
    assert not window.session.can_reply  # nothing else is sent to the worker meanwhile
    qtbot.waitUntil(lambda: not window.session.reproducing, timeout=5000)
    assert dialog.outcome.text() == "Reproduced: the text came out identical, character for character."
    store = SqliteConversationStore(paths.database)
    assert len(store.thread(store.list_conversations()[0].id)) == 2  # nothing was saved
    store.close()


def test_reproduce_shows_the_difference_and_the_changed_setting(qtbot, window: MainWindow, fake_backend: FakeBackend) -> None:
    window.settings.current().sampling.temperature = 0.7
    dialog = open_details(qtbot, window)
    fake_backend.reply_words = ["Hello", " from", " elsewhere."]
    window.settings.current().sampling.temperature = 1.1
    dialog.reproduce_button.click()
    qtbot.waitUntil(lambda: not window.session.reproducing, timeout=5000)
    shown = dialog.outcome.text()
    assert "The text came out different, from character 12 on." in shown
    assert "Original: “Hello from the **fake** engine.”" in shown and "Now: “Hello from elsewhere.”" in shown
    assert "temperature: 0.7 then, 1.1 now" in shown
    assert fake_backend.requests[-1].sampling.temperature == 0.7


def test_a_reply_from_before_provenance_says_nothing_was_recorded(qtbot, window: MainWindow, paths: AppPaths) -> None:
    store = SqliteConversationStore(paths.database)
    conversation = store.create_conversation("Old chat")
    store.add_message(conversation, store.add_message(conversation, None, "user", "Hi"), "assistant", "Hello from before")
    store.close()
    window.conversations.refresh()
    window.session.open(conversation)
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    (link,) = details_links(window)
    window.chat_view.anchorClicked.emit(QUrl(link))
    dialog = window.details_dialog
    assert dialog is not None and "Nothing was recorded" in dialog.details.toPlainText()
    assert not dialog.reproduce_button.isEnabled()


def test_escape_on_the_details_stops_their_reproduce_and_the_window_can_send_again(
    qtbot, window: MainWindow, fake_backend: FakeBackend
) -> None:
    dialog = open_details(qtbot, window)
    fake_backend.delay = 0.2  # the Reproduce is still writing when the dialog goes
    dialog.reproduce_button.click()
    assert window.session.reproducing and window.stop_button.isEnabled(), "Stop is offered while it runs"
    dialog.reject()  # what Escape does: it hides the dialog without a close event
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: not window.session.reproducing, timeout=5000)
    assert window.session.can_reply and window.send_button.isEnabled()


def test_the_speed_is_in_the_details_and_under_the_replies_only_when_chosen(
    qtbot, window: MainWindow, paths: AppPaths
) -> None:
    dialog = open_details(qtbot, window)
    assert "tokens/s" in dialog.details.toPlainText() and "reply tokens" in dialog.details.toPlainText()
    assert "Hello from the fake engine." in window.chat_view.toPlainText()
    assert "tokens/s" not in window.chat_view.toPlainText(), "hidden under the reply by default"

    window.settings.edited(dataclasses.replace(window.settings.current(), show_reply_speed=True))  # OK in Settings
    qtbot.waitUntil(lambda: thread_shown(window) and "tokens/s" in window.chat_view.toPlainText(), timeout=5000)
    assert "Hello from the fake engine." in window.chat_view.toPlainText()
    assert '"show_reply_speed": true' in paths.settings_file.read_text()
