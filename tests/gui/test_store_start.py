"""The window starts whatever state the conversation file is in, through the real
start-up (create_window), and says what happened above the chat (issue 12)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.gui.app import create_window
from app.library import model_library
from app.library.model_library import MANIFEST_NAME, ModelLibrary
from app.platform.paths import AppPaths
from tests.conversations.test_recovery import (
    CONVERSATIONS,
    fill,
    kept_files,
    recovered_notice,
    unwritable,
    zero_a_page,
    zero_an_index_page,
)
from tests.fakes import FakeBackendFactory
from tests.gguf_factory import MakeGguf
from tests.gui.waits import thread_shown

__all__ = ["unwritable"]  # the fixture, used by name below


def test_a_damaged_file_is_recovered_and_the_window_says_so(
    qtbot, paths: AppPaths, fake_factory: FakeBackendFactory
) -> None:
    fill(paths)
    zero_a_page(paths.database)
    window = create_window(paths, fake_factory)
    qtbot.addWidget(window)
    window.show()
    notice = window.store_notice
    assert notice.isVisible()
    [kept] = kept_files(paths)
    assert notice.text.text().startswith(f"Your conversation file was damaged. Hearth kept it unchanged as {kept.name}")
    qtbot.waitUntil(lambda: thread_shown(window), timeout=10_000)
    assert "answer" in window.chat_view.toPlainText()  # the newest recovered conversation is shown
    assert window.sidebar.conversation_list.model().rowCount() >= CONVERSATIONS - 2
    qtbot.mouseClick(notice.dismiss_button, Qt.MouseButton.LeftButton)
    assert not notice.isVisible()
    window.close()


def test_damage_found_once_the_window_shows_is_told_and_repaired_at_the_next_start(
    qtbot, paths: AppPaths, fake_factory: FakeBackendFactory
) -> None:
    fill(paths)
    zero_an_index_page(paths.database)  # the start reads no page of it: the check once shown finds it
    window = create_window(paths, fake_factory)
    qtbot.addWidget(window)
    window.show()
    notice = window.store_notice
    qtbot.waitUntil(notice.isVisible, timeout=10_000)
    assert notice.text.text() == (
        "Hearth found damage in your conversation file. Your conversations are still here: restart Hearth "
        "and it will repair the file (the damaged file is kept aside, nothing is deleted).")
    assert notice.dismiss_button.isVisible()
    assert paths.repair_marker.exists() and not kept_files(paths)
    qtbot.waitUntil(lambda: thread_shown(window), timeout=10_000)
    assert "answer" in window.chat_view.toPlainText()
    window.close()

    again = create_window(paths, fake_factory)
    qtbot.addWidget(again)
    again.show()
    [kept] = kept_files(paths)
    assert again.store_notice.isVisible() and again.store_notice.text.text() == recovered_notice(kept, CONVERSATIONS)
    assert not paths.repair_marker.exists()
    qtbot.waitUntil(lambda: thread_shown(again), timeout=10_000)
    assert len(again.conversations.titles()) == CONVERSATIONS
    again.close()


def test_a_read_only_folder_opens_read_only_with_a_banner(
    qtbot, paths: AppPaths, fake_factory: FakeBackendFactory, unwritable: Callable[[Path], None]
) -> None:
    fill(paths)
    paths.ensure()  # its other folders exist; only the conversations' file cannot change
    unwritable(paths.database)
    window = create_window(paths, fake_factory)
    qtbot.addWidget(window)
    window.show()
    assert window.store_notice.isVisible() and not window.store_notice.dismiss_button.isVisible()
    assert window.store_notice.text.text() == (
        f"Your conversations can be read but not changed: the file {paths.database} or its folder is read-only.")
    qtbot.waitUntil(lambda: thread_shown(window), timeout=10_000)
    assert "answer" in window.chat_view.toPlainText()
    window.close()


def test_a_newer_database_says_to_update_hearth(qtbot, paths: AppPaths, fake_factory: FakeBackendFactory) -> None:
    fill(paths)
    db = sqlite3.connect(paths.database)
    db.execute("PRAGMA user_version = 99")
    db.close()
    window = create_window(paths, fake_factory)
    qtbot.addWidget(window)
    window.show()
    assert "saved by a newer version of Hearth. Update Hearth to change them." in window.store_notice.text.text()
    window.close()


def test_a_healthy_file_shows_no_notice(qtbot, paths: AppPaths, fake_factory: FakeBackendFactory) -> None:
    fill(paths)
    window = create_window(paths, fake_factory)
    qtbot.addWidget(window)
    window.show()
    assert not window.store_notice.isVisible() and not kept_files(paths)
    window.close()


def test_a_damaged_model_list_is_rebuilt_and_the_window_says_so(
    qtbot, paths: AppPaths, fake_factory: FakeBackendFactory, synthetic_gguf: MakeGguf
) -> None:
    ModelLibrary(paths.models_dir).add(synthetic_gguf("Kept.Q4_1.gguf"))
    (paths.models_dir / MANIFEST_NAME).write_bytes(b"{not json")
    window = create_window(paths, fake_factory)
    qtbot.addWidget(window)
    window.show()
    notice = window.library_notice
    assert notice.isVisible()
    [kept] = list(paths.models_dir.glob("manifest.damaged-*.json"))
    assert notice.text.text().startswith(f"The list of models was damaged. Hearth kept it as {kept.name}")
    assert window.model_picker.count() == 1, "the model found again is there to choose"
    qtbot.mouseClick(notice.dismiss_button, Qt.MouseButton.LeftButton)
    assert not notice.isVisible()


def test_a_damaged_model_list_is_rebuilt_off_the_gui_thread(
    qtbot, paths: AppPaths, fake_factory: FakeBackendFactory, synthetic_gguf: MakeGguf, monkeypatch: pytest.MonkeyPatch
) -> None:
    ModelLibrary(paths.models_dir).add(synthetic_gguf("Kept.Q4_1.gguf"))
    (paths.models_dir / MANIFEST_NAME).write_bytes(b"{not json")
    hashed_on: list[bool] = []
    real_sha256 = model_library.sha256_of

    def hashing(path: Path, progress: Any = None) -> str:
        hashed_on.append(threading.current_thread() is threading.main_thread())
        return real_sha256(path, progress)

    monkeypatch.setattr(model_library, "sha256_of", hashing)
    window = create_window(paths, fake_factory)
    qtbot.addWidget(window)
    window.show()
    assert hashed_on == [False], "each model file hashed once, and not on the GUI thread"
    assert window.library_notice.isVisible() and window.model_picker.count() == 1
    window.close()
