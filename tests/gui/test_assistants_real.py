"""Assistants on the real starter model (SmolLM2-135M-Instruct): a chat started with the
Writing tutor shows its greeting first, and the reply is written with the tutor's system
prompt and temperature (its Details say so, and the model's words change with them)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.assistants.book import AssistantBook
from app.backends.base import LoadOptions, ModelRef
from app.backends.llama.engine import LlamaBackend
from app.backends.llama.factory import LlamaBackendFactory
from app.chat.reply import generate_reply
from app.config.settings import EngineSettings, Settings, save_settings
from app.conversations.store import SqliteConversationStore
from app.gui.app import create_window
from app.gui.provenance_dialog import ProvenanceDialog
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.gui.waits import reply_shown

pytestmark = pytest.mark.real_model

QUESTION = "Write my essay about rivers for me."


def test_the_writing_tutor_greets_first_and_its_prompt_and_temperature_reach_the_model(
    qtbot, paths: AppPaths, smollm_path: Path
) -> None:
    ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
    settings = Settings()
    settings.sampling.max_tokens = 60
    settings.sampling.seed = 7
    save_settings(settings, paths.settings_file)
    window = create_window(paths, LlamaBackendFactory())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.loader.ready and window.assistant_picker.menu.count() >= 5, timeout=60_000)
    menu = window.assistant_picker.menu
    menu.setCurrentIndex(menu.findText("Writing tutor"))
    menu.activated.emit(menu.currentIndex())

    window.composer.setPlainText(QUESTION)
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=120_000)
    page = window.chat_view.toPlainText()
    assert page.index("Hello! I am your writing tutor.") < page.index(QUESTION)
    store = window._store
    *_, reply = store.thread(window.session.conversation_id or 0)
    assert reply.role == "assistant" and reply.content.strip() and reply.status in ("complete", "stopped")
    details = ProvenanceDialog(window.session, reply, window).details.toPlainText()
    assert "Sampling: temperature 0.5," in details
    assert "Assistant: Writing tutor; system prompt: “You are a writing tutor for a student." in details
    assert "Seed: 7 (set in Settings)" in details
    window.close()


def test_the_assistants_prompt_changes_what_the_model_writes(tmp_path: Path, smollm_path: Path) -> None:
    """The same question, seed and model, with the Plain helper and with the Writing tutor:
    the text differs, so the tutor's prompt and temperature reached the model."""
    book = AssistantBook(tmp_path / "assistants")
    store = SqliteConversationStore(tmp_path / "conversations.sqlite3")
    engine = LlamaBackend()
    engine.load(ModelRef(path=smollm_path), LoadOptions(EngineSettings(context_length=2048, threads=2)))
    settings = Settings()
    settings.sampling.max_tokens = 48
    settings.sampling.seed = 3
    replies = {}
    try:
        for assistant_id in ("plain-helper", "writing-tutor"):
            assistant = book.get(assistant_id)
            assert assistant is not None
            conversation = store.create_conversation(
                assistant_id, system_prompt=assistant.prompt_text or settings.system_prompt, assistant_id=assistant_id)
            question = store.add_message(conversation, None, "user", QUESTION)
            result = generate_reply(engine, store, question, settings, "auto", threading.Event(), lambda _t: None,
                                    locked=(), assistants=book.get)
            reply = store.message(result.message_id)
            assert reply is not None
            replies[assistant_id] = reply
    finally:
        engine.unload()
        store.close()
    plain, tutor = replies["plain-helper"], replies["writing-tutor"]
    assert plain.provenance["sampling"]["temperature"] == 0.7 and tutor.provenance["sampling"]["temperature"] == 0.5
    assert tutor.provenance["system_prompt"].startswith("You are a writing tutor")
    assert plain.provenance["system_prompt"] == "You are a helpful assistant."
    assert plain.content.strip() and tutor.content.strip() and plain.content != tutor.content
