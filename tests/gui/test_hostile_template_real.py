"""A model whose chat template never ends, in the window on the real engine: Stop ends the
reply with a sentence, and the window closes even while the template is being written out."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.backends.llama import engine as llama_engine
from app.backends.llama import template_guard
from app.backends.llama.factory import LlamaBackendFactory
from app.gui.app import create_window
from app.gui.main_window import MainWindow
from app.library.model_library import ModelLibrary
from app.modelfile.gguf_info import GgufInfo
from app.platform.paths import AppPaths
from tests.gui.waits import reply_shown

pytestmark = pytest.mark.real_model

NESTED_LOOPS = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"


@pytest.fixture
def hostile_window(qtbot, paths: AppPaths, smollm_path: Path, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    real_read = llama_engine.read_gguf_info

    def read_hostile(path: Path) -> GgufInfo:
        return dataclasses.replace(real_read(path), chat_template=NESTED_LOOPS)

    monkeypatch.setattr(llama_engine, "read_gguf_info", read_hostile)
    monkeypatch.setattr(template_guard, "RENDER_SECONDS", 3600.0)  # only Stop or closing can end it
    ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
    window = create_window(paths, LlamaBackendFactory())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.loader.ready, timeout=60_000)
    window.composer.setPlainText("Hello there")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.busy, timeout=10_000)
    return window


def test_stop_ends_a_reply_whose_template_never_ends(qtbot, hostile_window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[str] = []
    monkeypatch.setattr(MainWindow, "show_error", lambda self, title, text: shown.append(f"{title}: {text}"))
    qtbot.keyClick(hostile_window.composer, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: reply_shown(hostile_window), timeout=30_000)
    assert shown == ["The reply could not be finished: The reply was stopped before the model began writing it."]
    assert hostile_window.close()
    assert not hostile_window.isVisible() and not hostile_window._worker_thread.isRunning()


def test_the_window_closes_while_a_template_is_written_out(qtbot, hostile_window: MainWindow) -> None:
    assert hostile_window.session.busy
    assert hostile_window.close()
    assert not hostile_window.isVisible() and not hostile_window._worker_thread.isRunning()
