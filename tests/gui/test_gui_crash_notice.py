"""After a crash, the window (fake backend) shows the notice and offers safe mode; the
model's details say how it runs and let the user turn safe mode off."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from app.config.settings import load_settings
from app.gui.app import create_window
from app.library.model_library import ModelLibrary
from app.platform.crash_marker import ANSWERING, CrashMarker, EngineRun
from app.platform.paths import AppPaths
from tests.chat.test_crash_guard import dead_pid, leave_marker
from tests.fakes import FakeBackend, FakeBackendFactory


def window_after_crash(qtbot, paths: AppPaths, smollm_path: Path, factory: FakeBackendFactory, safe_mode: bool):
    entry = ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
    leave_marker(paths.crash_markers, EngineRun(ANSWERING, str(smollm_path), "x", safe_mode), dead_pid())
    window = create_window(paths, factory)
    qtbot.addWidget(window)
    window.show()
    return window, entry


def test_the_crashed_model_waits_for_the_user_then_loads_in_safe_mode(
    qtbot, paths: AppPaths, smollm_path: Path, fake_factory: FakeBackendFactory, fake_backend: FakeBackend
) -> None:
    window, entry = window_after_crash(qtbot, paths, smollm_path, fake_factory, safe_mode=False)
    notice = window.crash_notice
    assert notice.isVisible() and notice.safe_mode_button.isVisible()
    assert f"while writing a reply with {entry.shown_name}" in notice.text.text()
    qtbot.wait(200)
    assert not window.loader.ready and window.model_status.text() == "No model loaded: the last one stopped Hearth"

    qtbot.mouseClick(notice.safe_mode_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.loader.ready, timeout=5000)
    assert fake_backend.safe_modes == [True]
    assert window.model_status.text().endswith("· safe mode") and not notice.isVisible()
    preferences = load_settings(paths.settings_file).model_preferences(entry.id)
    assert preferences.safe_mode and preferences.crashed == ""
    window.close()


def test_after_a_safe_mode_crash_only_another_model_is_offered(
    qtbot, paths: AppPaths, smollm_path: Path, fake_factory: FakeBackendFactory
) -> None:
    window, _entry = window_after_crash(qtbot, paths, smollm_path, fake_factory, safe_mode=True)
    assert "cannot run on this computer" in window.crash_notice.text.text()
    assert not window.crash_notice.safe_mode_button.isVisible()
    qtbot.mouseClick(window.crash_notice.other_button, Qt.MouseButton.LeftButton)
    assert window.library.window is not None and window.library.window.isVisible()
    window.close()


def test_details_show_safe_mode_and_turning_it_off_reloads_normally(
    qtbot, paths: AppPaths, smollm_path: Path, fake_factory: FakeBackendFactory, fake_backend: FakeBackend
) -> None:
    window, entry = window_after_crash(qtbot, paths, smollm_path, fake_factory, safe_mode=False)
    window.models.retry_in_safe_mode()
    qtbot.waitUntil(lambda: window.loader.ready, timeout=5000)
    shown: list[str] = []

    def answer() -> None:
        box = next(w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible())
        shown.append(box.text())
        next(b for b in box.findChildren(QPushButton) if b.text() == "Turn off safe mode").click()

    QTimer.singleShot(100, answer)
    window.models.show_details(window)
    assert "Safe mode: on" in shown[0]
    qtbot.waitUntil(lambda: window.loader.ready and len(fake_backend.safe_modes) == 2, timeout=5000)
    assert fake_backend.safe_modes == [True, False]
    assert not load_settings(paths.settings_file).model_preferences(entry.id).safe_mode
    window.close()


def test_sigterm_closes_the_window_as_the_user_would(tmp_path: Path) -> None:
    """A logout or `kill` must not look like a crash: the window closes, saving as it goes."""
    import json
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import subprocess_env

    data = tmp_path / "data"
    env = {**subprocess_env(data), "QT_QPA_PLATFORM": "offscreen"}
    subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data), "models", "add-starter"],
                   env=env, check=True, capture_output=True)  # so a model loads as the window opens
    process = subprocess.Popen([sys.executable, "-m", "app", "--data-dir", str(data)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (data / "conversations.sqlite3").exists():
        time.sleep(0.1)  # the store is opened as the window is built
    time.sleep(0.5)  # the handler is there before the window is built
    process.send_signal(signal.SIGTERM)
    _out, errors = process.communicate(timeout=30)
    assert process.returncode == 0, errors
    assert json.loads((data / "config" / "settings.json").read_text())["window_geometry"]  # saved on close
    assert CrashMarker(data / "running").take() is None  # the next start reports nothing


def test_the_notice_goes_once_another_model_chosen_loads_fine(
    qtbot, paths: AppPaths, smollm_path: Path, fake_factory: FakeBackendFactory, synthetic_gguf
) -> None:
    window, _entry = window_after_crash(qtbot, paths, smollm_path, fake_factory, safe_mode=True)
    other = ModelLibrary(paths.models_dir).add(synthetic_gguf("Other-synthetic.Q4_1.gguf"), copy=False)
    window.library.models_changed.emit()
    assert window.crash_notice.isVisible()
    window.library.load_requested.emit(other.id)  # chosen in the Library
    qtbot.waitUntil(lambda: window.loader.ready and window.loader.model_id == other.id, timeout=5000)
    assert not window.crash_notice.isVisible(), "no longer true: a model runs"
    window.close()
