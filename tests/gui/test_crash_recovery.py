"""A process that really dies inside llama.cpp costs no conversation, and the next start
says which model did it and offers safe mode (issue: runs on every computer)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.backends.llama.factory import LlamaBackendFactory
from app.config.settings import Settings, load_settings, save_settings
from app.conversations.store import SqliteConversationStore
from app.gui.app import create_window
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.conftest import REPO, subprocess_env
from tests.gui.waits import reply_shown, thread_shown

pytestmark = pytest.mark.real_model


def hearth(data_dir: Path, *arguments: str, crash_at: str = "") -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tests.crashing_hearth", crash_at, *arguments] if crash_at else [
        sys.executable, "-m", "app", *arguments]
    return subprocess.run(command, capture_output=True, text=True, env=subprocess_env(data_dir), cwd=REPO, timeout=300)


def installed_starter(paths: AppPaths, smollm_path: Path) -> str:
    entry = ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
    settings = Settings()
    settings.sampling.max_tokens, settings.sampling.seed = 24, 3
    save_settings(settings, paths.settings_file)
    return entry.id


@pytest.mark.parametrize(("stage", "died_by", "told"), [
    ("decode", signal.SIGSEGV, "while writing a reply with"),
    ("load", signal.SIGABRT, "while loading"),
])
def test_cli_after_a_crash_names_the_model_and_runs_it_in_safe_mode(
    paths: AppPaths, smollm_path: Path, stage: str, died_by: int, told: str
) -> None:
    model_id = installed_starter(paths, smollm_path)
    crashed = hearth(paths.data_dir, "ask", "What is the capital of France?", crash_at=stage)
    assert crashed.returncode == -died_by, crashed.stderr[-2000:]
    assert list(paths.crash_markers.glob("*.json")), "the dead process left no marker"
    if stage == "decode":  # the question was saved before the reply started
        store = SqliteConversationStore(paths.database)
        assert store.thread(store.list_conversations()[0].id)[0].content == "What is the capital of France?"
        store.close()

    refused = hearth(paths.data_dir, "ask", "Hello?")
    assert refused.returncode == 1
    assert f"Hearth closed unexpectedly last time {told} SmolLM2" in refused.stderr
    assert "add --safe-mode" in refused.stderr
    assert load_settings(paths.settings_file).model_preferences(model_id).crashed == "normal"

    answered = hearth(paths.data_dir, "ask", "--safe-mode", "What is the capital of France?")
    assert answered.returncode == 0, answered.stderr[-2000:]
    assert "runs in safe mode" in answered.stderr and answered.stdout.strip()
    preferences = load_settings(paths.settings_file).model_preferences(model_id)
    assert preferences.safe_mode and not preferences.crashed
    assert not list(paths.crash_markers.glob("*.json"))


def test_a_crash_in_safe_mode_says_the_model_cannot_run_here(paths: AppPaths, smollm_path: Path) -> None:
    installed_starter(paths, smollm_path)
    crashed = hearth(paths.data_dir, "ask", "--safe-mode", "Hi", crash_at="decode")
    assert crashed.returncode == -signal.SIGSEGV
    again = hearth(paths.data_dir, "ask", "Hi")
    assert again.returncode == 1
    assert "even in safe mode" in again.stderr and "cannot run on this computer" in again.stderr


def test_window_after_a_crash_keeps_the_chat_shows_the_notice_and_retries_in_safe_mode(
    qtbot, paths: AppPaths, smollm_path: Path
) -> None:
    model_id = installed_starter(paths, smollm_path)
    crashed = hearth(paths.data_dir, "ask", "Name three colours.", crash_at="decode")
    assert crashed.returncode == -signal.SIGSEGV

    window = create_window(paths, LlamaBackendFactory())
    qtbot.addWidget(window)
    window.show()
    notice = window.crash_notice
    assert notice.isVisible()
    assert "Hearth closed unexpectedly last time while writing a reply with SmolLM2" in notice.text.text()
    qtbot.waitUntil(lambda: thread_shown(window), timeout=10_000)
    assert "Name three colours." in window.chat_view.toPlainText()  # the conversation is there
    qtbot.wait(300)
    assert not window.loader.ready and "stopped Hearth" in window.model_status.text()

    qtbot.mouseClick(notice.safe_mode_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.loader.ready, timeout=60_000)
    assert not notice.isVisible() and "safe mode" in window.model_status.text()
    window.composer.setPlainText("What is the capital of France?")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reply_shown(window) and "tokens/s" in window.speed_status.text(),
                    timeout=120_000)
    window.close()
    preferences = json.loads(paths.settings_file.read_text())["models"][model_id]
    assert preferences["safe_mode"] is True and preferences["crashed"] == ""
