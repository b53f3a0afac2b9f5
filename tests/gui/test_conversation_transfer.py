"""File → Export and Import of conversations, through the real window on the fake backend."""

from __future__ import annotations

import gettext
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QProgressBar

from app.conversations.transfer import importer
from app.gui.app import create_window
from app.gui.conversation_transfer import PROGRESS_STEPS
from app.gui.main_window import MainWindow
from app.library.model_library import ModelLibrary
from app.platform.i18n import use_catalog
from app.platform.paths import AppPaths
from tests.chatgpt_export import lisbon_conversation, photo_conversation, write_export, zip_folder
from tests.fakes import FakeBackendFactory
from tests.gui.test_translations import PseudoCatalog, PseudoTranslator, assert_translated
from tests.gui.waits import reply_shown, thread_shown


@pytest.fixture
def window(qtbot: Any, paths: AppPaths, smollm_path: Path, fake_factory: FakeBackendFactory) -> Any:
    ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
    made = create_window(paths, fake_factory)
    qtbot.addWidget(made)
    made.show()
    qtbot.waitUntil(lambda: made.loader.ready and thread_shown(made), timeout=5000)
    yield made
    if made.isVisible():
        made.close()


def send(qtbot: Any, window: MainWindow, text: str) -> None:
    window.composer.setPlainText(text)
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)


def test_export_this_conversation_writes_the_file_the_user_chose(qtbot: Any, window: MainWindow, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    actions = window.transfer_actions
    assert not actions.export_one.isEnabled()  # nothing to export yet
    send(qtbot, window, "Hello there")
    assert actions.export_one.isEnabled()
    asked: list[str] = []

    def choose(parent: object, title: str, suggested: str, filters: str) -> tuple[str, str]:
        asked.append(suggested)
        return str(tmp_path / "my chat"), "Web page (*.html)"

    monkeypatch.setattr("app.gui.conversation_transfer.QFileDialog.getSaveFileName", choose)
    actions.export_one.trigger()
    page = tmp_path / "my chat.html"
    qtbot.waitUntil(page.exists, timeout=5000)
    assert Path(asked[0]).name == "Hello there.md"
    text = page.read_text(encoding="utf-8")
    assert "Hello there" in text and "<strong>fake</strong>" in text
    qtbot.waitUntil(lambda: "Saved" in window.statusBar().currentMessage(), timeout=5000)


def test_export_all_then_import_into_another_window_shows_them(qtbot: Any, window: MainWindow, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    send(qtbot, window, "First question")
    window.new_conversation()
    send(qtbot, window, "Second question")
    backup = tmp_path / "backup.json"
    monkeypatch.setattr("app.gui.conversation_transfer.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(backup), ""))
    window.transfer_actions.export_all.trigger()
    qtbot.waitUntil(backup.exists, timeout=5000)
    conversations = json.loads(backup.read_text())["conversations"]
    assert [c["title"] for c in conversations] == ["First question", "Second question"]
    # Importing into the same window adds nothing.
    monkeypatch.setattr("app.gui.conversation_transfer.QFileDialog.getOpenFileName", lambda *a, **k: (str(backup), ""))
    window.transfer_actions.import_files.trigger()
    qtbot.waitUntil(lambda: window.transfer.progress is None, timeout=5000)
    assert len(window.conversations.titles()) == 2
    assert "2 were already here" in window.statusBar().currentMessage()


def test_a_chatgpt_export_imports_off_the_gui_thread_with_progress(qtbot: Any, window: MainWindow, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "export"
    write_export(folder, [lisbon_conversation(), photo_conversation()], per_file=1)
    archive = zip_folder(folder, tmp_path / "chatgpt.zip")
    threads: list[threading.Thread] = []
    real = importer.import_conversations

    def recorded(*args: Any) -> Any:
        threads.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr("app.gui.conversation_transfer.import_conversations", recorded)
    monkeypatch.setattr("app.gui.conversation_transfer.QFileDialog.getOpenFileName", lambda *a, **k: (str(archive), ""))
    window.transfer_actions.import_files.trigger()
    progress = window.transfer.progress
    assert progress is not None and progress.isVisible() and "chatgpt.zip" in progress.labelText()
    values: list[int] = []
    progress.findChild(QProgressBar).valueChanged.connect(values.append)
    qtbot.waitUntil(lambda: window.transfer.progress is None, timeout=5000)
    assert values and values[-1] == PROGRESS_STEPS and values == sorted(values)
    assert threads and threads[0] is not threading.main_thread()
    assert len(window.conversations.titles()) == 2
    assert "Imported 2 conversation" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: thread_shown(window) and "pastéis de nata" in window.chat_view.toPlainText(), timeout=5000)
    assert "Day 1: Belém." in window.chat_view.toPlainText()


def test_a_broken_file_is_named_in_one_box(qtbot: Any, window: MainWindow, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "conversations.json"
    bad.write_text('[{"title": "x",\n "mapping": ]')
    shown: list[str] = []
    monkeypatch.setattr("app.gui.conversation_transfer.show_error", lambda parent, title, text: shown.append(text))
    monkeypatch.setattr("app.gui.conversation_transfer.QFileDialog.getExistingDirectory", lambda *a, **k: str(tmp_path))
    window.transfer_actions.import_folder.trigger()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert str(bad) in shown[0] and "line 2" in shown[0]
    assert window.conversations.rowCount() == 0


def test_the_import_progress_and_its_problems_are_translated(qtbot: Any, qapp: Any, window: MainWindow,
                                                             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    translator = PseudoTranslator()
    qapp.installTranslator(translator)
    use_catalog(PseudoCatalog())
    try:
        bad = tmp_path / "conversations.json"
        bad.write_text('[{"id": "x", "mapping": {"q7": {"parent": "gone", "message": null}}}]')
        shown: list[tuple[str, str]] = []
        monkeypatch.setattr("app.gui.conversation_transfer.show_error",
                            lambda parent, title, text: shown.append((title, text)))
        monkeypatch.setattr("app.gui.conversation_transfer.QFileDialog.getOpenFileName",
                            lambda *a, **k: (str(bad), ""))
        window.transfer_actions.import_files.trigger()
        progress = window.transfer.progress
        assert progress is not None
        assert_translated([("progress title", progress.windowTitle()), ("progress", progress.labelText())],
                          data=[bad.name])
        qtbot.waitUntil(lambda: bool(shown), timeout=5000)
        assert_translated([("box title", shown[0][0]), ("box", shown[0][1]),
                           ("status", window.statusBar().currentMessage())], data=[str(bad), "gone", "q7"])
    finally:
        qapp.removeTranslator(translator)
        use_catalog(gettext.NullTranslations())
