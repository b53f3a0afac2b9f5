"""Generated titles in the window, on the real starter model: written on the inference
worker after the first reply, shown in the list; the user's name for a conversation stays."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.backends.llama.factory import LlamaBackendFactory
from app.config.settings import Settings, save_settings
from app.conversations.store import title_from
from app.gui.app import create_window
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.gui.waits import reply_shown

pytestmark = pytest.mark.real_model


def test_the_window_shows_the_generated_title_and_keeps_a_rename(qtbot, paths: AppPaths, smollm_path: Path) -> None:
    ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
    settings = Settings()
    settings.sampling.max_tokens, settings.sampling.seed = 48, 3
    save_settings(settings, paths.settings_file)
    window = create_window(paths, LlamaBackendFactory())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.loader.ready, timeout=60_000)

    assert window.session.send("Explain photosynthesis to a child.")
    window.session.rename("Biology homework")  # while its first reply is written
    qtbot.waitUntil(lambda: reply_shown(window), timeout=120_000)

    question = "How do I bake bread at home without yeast?"
    window.new_conversation()
    with qtbot.waitSignal(window.titles.titled, timeout=120_000) as titled:
        assert window.session.send(question)
        qtbot.waitUntil(lambda: reply_shown(window), timeout=120_000)
    assert titled.args == [window.session.conversation_id]
    generated, renamed = window.conversations.titles()
    assert generated and generated != title_from(question)
    assert renamed == "Biology homework"
    assert window.sidebar.conversation_list.currentIndex().data() == generated
    window.close()
