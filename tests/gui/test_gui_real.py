"""The whole round trip in the window, on the real starter model."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.backends.llama.factory import LlamaBackendFactory
from app.config.settings import Settings, save_settings
from app.conversations.store import SqliteConversationStore
from app.gui.app import create_window
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.gui.waits import reply_shown, thread_shown

pytestmark = pytest.mark.real_model


def test_type_send_stop_regenerate_restart(qtbot, paths: AppPaths, smollm_path: Path) -> None:
    ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
    settings = Settings()
    settings.sampling.max_tokens = 600
    settings.sampling.seed = 11
    settings.show_reply_speed = True
    save_settings(settings, paths.settings_file)

    window = create_window(paths, LlamaBackendFactory())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.loader.ready, timeout=60_000)
    # the file's name read as a name, not its general.name ("Smollm2 135M 8k Lc100K Mix1 Ep2")
    assert window.model_picker.currentText().startswith("SmolLM2 135M Instruct")
    assert window.model_status.text().startswith("SmolLM2 135M Instruct · ")
    assert "license: apache-2.0" in window.model_status.text().lower()

    window.composer.setPlainText("Write a long story about a lighthouse keeper.")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(window.chat_view.streamed_text) > 40, timeout=60_000)
    qtbot.keyClick(window.composer, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=10_000)
    shown = window.chat_view.toPlainText()
    assert "Stopped" in shown and "tokens/s" in shown

    window.session.regenerate()
    qtbot.waitUntil(lambda: reply_shown(window), timeout=120_000)
    assert "2/2" in window.chat_view.toPlainText()
    window.close()

    store = SqliteConversationStore(paths.database)
    conversation = store.list_conversations()[0]
    _question, second = store.thread(conversation.id)
    first = store.message(store.siblings(second.id)[0])
    assert first.status == "stopped" and first.content.strip()
    assert second.status in ("complete", "stopped") and second.content.strip()
    store.close()

    again = create_window(paths, LlamaBackendFactory())
    qtbot.addWidget(again)
    again.show()
    qtbot.waitUntil(lambda: thread_shown(again), timeout=10_000)
    assert again.conversations.titles()[0] == "Write a long story about a lighthouse keeper."
    text = again.chat_view.toPlainText()
    assert "Write a long story about a lighthouse keeper." in text and "2/2" in text
    assert second.content.strip()[:30] in text.replace("\u2029", "\n")
    qtbot.waitUntil(lambda: again.loader.ready, timeout=60_000)
    again.close()


def test_details_and_reproduce_in_the_window(qtbot, paths: AppPaths, smollm_path: Path) -> None:
    entry = ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
    settings = Settings()
    settings.sampling.max_tokens = 60
    settings.sampling.seed = -1  # a random seed: the record keeps the one used
    save_settings(settings, paths.settings_file)
    window = create_window(paths, LlamaBackendFactory())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.loader.ready, timeout=60_000)
    window.composer.setPlainText("Tell me a short story about a lighthouse.")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=60_000)
    store = SqliteConversationStore(paths.database)
    reply = store.thread(store.list_conversations()[0].id)[-1]
    store.close()

    window.show_reply_details(reply.id)
    dialog = window.details_dialog
    assert dialog is not None
    details = dialog.details.toPlainText()
    assert f"sha256 {entry.sha256}" in details and "llama-cpp-python" in details
    assert f"Seed: {reply.provenance['sampling']['seed']} (chosen at random for this reply)" in details
    dialog.reproduce_button.click()
    qtbot.waitUntil(lambda: not window.session.reproducing, timeout=60_000)
    assert dialog.outcome.text() == "Reproduced: the text came out identical, character for character."
    window.close()
