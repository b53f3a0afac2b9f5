"""Edit a question and regenerate an earlier reply in the window, on the real starter model."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.backends.llama.factory import LlamaBackendFactory
from app.config.settings import Settings, save_settings
from app.gui.app import create_window
from app.gui.main_window import MainWindow
from app.gui.widgets.chat_view import BRANCH_SCHEME, EDIT_SCHEME, REGENERATE_SCHEME
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.gui.page_links import click, message_link
from tests.gui.waits import reply_shown, thread_shown

pytestmark = pytest.mark.real_model


def shown(window: MainWindow) -> str:
    return window.chat_view.toPlainText().replace("\u2029", "\n")


def on_page(window: MainWindow, text: str) -> bool:
    """The start of a reply's text is on the page (its first line: Markdown may shape the rest)."""
    return text.strip().splitlines()[0][:25] in shown(window)


def send(qtbot, window: MainWindow, text: str) -> None:
    window.composer.setPlainText(text)
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=60_000)


def test_edit_a_question_and_regenerate_an_earlier_reply(qtbot, paths: AppPaths, smollm_path: Path) -> None:
    ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
    settings = Settings()
    settings.sampling.max_tokens = 40
    settings.sampling.seed = -1  # a new seed each reply: the regenerated reply differs
    save_settings(settings, paths.settings_file)
    window = create_window(paths, LlamaBackendFactory())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.loader.ready, timeout=60_000)
    store = window._store

    send(qtbot, window, "Name a colour.")
    send(qtbot, window, "Name a fruit.")
    question, first_reply, _second_question, second_reply = store.thread(window.session.conversation_id)

    click(window.chat_view, message_link(window.chat_view, REGENERATE_SCHEME, first_reply.id))
    qtbot.waitUntil(lambda: reply_shown(window), timeout=60_000)
    again = store.thread(window.session.conversation_id)[-1]
    assert store.siblings(again.id) == [first_reply.id, again.id] and again.content.strip()
    assert "2/2" in shown(window) and on_page(window, again.content) and "Name a fruit." not in shown(window)

    click(window.chat_view, message_link(window.chat_view, BRANCH_SCHEME, again.id, -1))
    qtbot.waitUntil(lambda: thread_shown(window), timeout=10_000)
    assert "1/2" in shown(window) and on_page(window, first_reply.content)
    assert "Name a fruit." in shown(window) and on_page(window, second_reply.content)

    click(window.chat_view, message_link(window.chat_view, EDIT_SCHEME, question.id))
    assert window.composer.toPlainText() == "Name a colour." and window.edit_banner.isVisible()
    send(qtbot, window, "Name an animal.")
    edited, edited_reply = store.thread(window.session.conversation_id)
    assert edited.content == "Name an animal." and store.siblings(edited.id) == [question.id, edited.id]
    page = shown(window)
    assert "Name an animal." in page and "2/2" in page and "Name a colour." not in page and on_page(window, edited_reply.content)
    assert window.composer.toPlainText() == "" and not window.edit_banner.isVisible()

    click(window.chat_view, message_link(window.chat_view, BRANCH_SCHEME, edited.id, -1))
    qtbot.waitUntil(lambda: thread_shown(window), timeout=10_000)
    page = shown(window)
    assert "Name a colour." in page and "1/2" in page and "Name an animal." not in page
    window.close()
