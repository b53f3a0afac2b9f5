"""Documents in the chat window, on the fake backend: a collection attached from the
composer's Documents button, the numbered sources under the reply with the question's
words highlighted, and "Open file"."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QDesktopServices

from app.documents.index import DocumentIndex
from app.documents.indexer import Indexer
from app.gui.app import create_window
from app.gui.main_window import MainWindow
from app.gui.widgets.chat_view import OPEN_SOURCE_SCHEME
from app.library.model_library import ModelLibrary
from app.platform.logging_setup import configure_logging
from app.platform.paths import AppPaths
from tests.documents import made_documents
from tests.fakes import FakeBackend, FakeBackendFactory
from tests.gguf_factory import MakeGguf
from tests.gui.page_links import click, page_links
from tests.gui.test_message_actions import send
from tests.gui.waits import thread_shown


@pytest.fixture
def trip(paths: AppPaths, tmp_path: Path) -> Path:
    """The collection "Trip", indexed by its words (no embedding model): too long to read
    whole in the fake model's context, so the question's passages are chosen."""
    folder = tmp_path / "trip"
    folder.mkdir()
    rooms = [f"Room {n} is kept tidy and its windows are closed at the end of each lesson. " * 8 for n in range(4, 30)]
    made_documents.write_pdf(folder / "trip.pdf", ["Permission forms are due.", "Packing list: boots.",
                                                    "The coach leaves Dover at 7:15 on Monday.", *rooms])
    paths.ensure()
    index = DocumentIndex(paths.documents_index)
    collection = index.create_collection("Trip")
    index.add_source(collection, folder)
    assert Indexer(index, None).run(collection).problems == []
    index.close()
    return folder / "trip.pdf"


@pytest.fixture
def window(qtbot, paths: AppPaths, synthetic_gguf: MakeGguf, fake_factory: FakeBackendFactory, trip: Path) -> Iterator[MainWindow]:
    ModelLibrary(paths.models_dir).add(synthetic_gguf("SmolLM2-synthetic.Q4_1.gguf"), copy=False)
    paths.settings_file.write_text(json.dumps({"library": {"hub_endpoint": "http://127.0.0.1:9"}}))
    shown = create_window(paths, fake_factory)
    qtbot.addWidget(shown)
    shown.show()
    qtbot.waitUntil(lambda: shown.session.can_reply and thread_shown(shown) and bool(shown.documents.attached.available), timeout=5000)
    yield shown
    if shown.isVisible():
        shown.close()


def menu_action(window: MainWindow, text: str) -> QAction:
    menu = window.documents_button.menu()
    menu.aboutToShow.emit()  # as it opens: filled from the collections read
    (action,) = [action for action in menu.actions() if action.text() == text]
    return action


def test_a_collection_attached_before_the_first_question_answers_it_with_sources(
    qtbot, window: MainWindow, fake_backend: FakeBackend, trip: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert window.documents_button.text() == "Documents"
    assert menu_action(window, "Manage documents…").isEnabled()
    menu_action(window, "Trip").trigger()
    assert window.documents_button.text() == "Documents (1)"
    assert window.documents_button.toolTip() == "Answers come from: Trip"

    send(qtbot, window, "When does the coach leave?", fake_backend, ["At", "7:15."])
    assert window._store.attached_documents(window.session.conversation_id) == ["Trip"]
    sent = fake_backend.requests[0].turns[-1].content  # the reply (a title is asked for after it)
    assert "[1] (trip.pdf, page 3)\nThe coach leaves Dover at 7:15 on Monday." in sent
    page = window.chat_view.toPlainText()
    assert "Sources\n[1] trip.pdf, page 3   Open file\nThe coach leaves Dover at 7:15 on Monday." in page
    marked = window.chat_view.toHtml()
    assert 'background-color:#fff1a8;">coach</span>' in marked and 'background-color:#fff1a8;">leaves</span>' in marked
    assert 'background-color:#fff1a8;">Dover' not in marked

    opened: list[QUrl] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    click(window.chat_view, page_links(window.chat_view, OPEN_SOURCE_SCHEME)[0])
    assert opened == [QUrl.fromLocalFile(str(trip))]

    trip.unlink()
    shown: list[str] = []
    monkeypatch.setattr("app.gui.attach_documents.show_error", lambda parent, title, text: shown.append(text))
    click(window.chat_view, page_links(window.chat_view, OPEN_SOURCE_SCHEME)[0])
    assert shown == [f"{trip} is no longer there: it was moved or deleted since this reply was written."]


def test_untied_documents_leave_the_next_answer_to_the_model(qtbot, window: MainWindow, fake_backend: FakeBackend) -> None:
    menu_action(window, "Trip").trigger()
    send(qtbot, window, "When does the coach leave?", fake_backend, ["At", "7:15."])
    menu_action(window, "Trip").trigger()
    assert window.documents_button.text() == "Documents"
    assert window._store.attached_documents(window.session.conversation_id) == []
    send(qtbot, window, "Thanks! Anything else?", fake_backend, ["No."])
    assert fake_backend.requests[-1].turns[-1].content == "Thanks! Anything else?"
    assert window.chat_view.toPlainText().count("Sources") == 1  # the first reply keeps its own


def test_a_question_no_passage_matches_says_the_answer_is_the_models_own(qtbot, window: MainWindow, fake_backend: FakeBackend) -> None:
    menu_action(window, "Trip").trigger()
    send(qtbot, window, "xylophone?", fake_backend, ["Hmm."])
    assert "No passage of the attached documents matched this question: the answer is the model's own." in window.chat_view.toPlainText()


def test_the_line_under_the_message_box_says_what_the_documents_add_and_suggests_going_through_them(
    qtbot, window: MainWindow, fake_backend: FakeBackend, english_plurals: None,
) -> None:
    assert window.documents_hint.isHidden()
    menu_action(window, "Trip").trigger()
    assert window.documents_hint.text() == "Each question brings up to 2 passages of Trip (about 600 tokens)."
    window.composer.setPlainText("List every rule about windows")
    assert window.documents_hint.text().endswith("About every document? Documents → Go through every document answers it better.")

    menu_action(window, "Go through every document for the next question").trigger()
    assert window.documents_hint.text() == "The next question goes through every part of Trip, then answers from notes (slower)."
    read: list[tuple[int, int]] = []
    window.session.documents_read.connect(lambda done, total: read.append((done, total)))
    send(qtbot, window, "List every rule about windows", fake_backend, ["Rooms", "4", "to", "29."])
    noted = [r for r in fake_backend.requests if "From this part alone" in r.turns[-1].content]
    assert len(noted) == read[-1][1] == read[-1][0] > 1 and read[0] == (0, len(noted))
    assert "I went through each of my documents" in fake_backend.requests[len(noted)].turns[-1].content
    assert window.documents_hint.text().startswith("Each question brings up to 2 passages")  # for the next question only
    assert not menu_action(window, "Go through every document for the next question").isChecked()


def test_manage_documents_opens_the_panel_and_a_collection_made_there_can_be_attached(qtbot, window: MainWindow) -> None:
    menu_action(window, "Manage documents…").trigger()
    assert window.documents_panel is not None and window.documents_panel.isVisible()
    window.collections.create("Minutes")
    qtbot.waitUntil(lambda: "Minutes" in window.documents.attached.available, timeout=5000)
    menu_action(window, "Minutes").trigger()
    assert window.documents_button.toolTip() == "Answers come from: Minutes"


@pytest.mark.parametrize("path", ["\\\\server\\share\\letter.pdf", "//server/share/letter.pdf", "/usr/bin/xterm", "notes/letter.pdf"])
def test_open_file_opens_only_a_document_on_this_computer(window: MainWindow, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    opened: list[QUrl] = []
    shown: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    monkeypatch.setattr("app.gui.attach_documents.show_error", lambda parent, title, text: shown.append(text))
    window.chat_view.open_file_requested.emit(path)
    assert opened == [] and shown == [f"{path} is not a document on this computer that Hearth reads, so it is not opened."]


def test_the_log_holds_no_word_of_the_documents_or_their_passages(
    qtbot, window: MainWindow, fake_backend: FakeBackend, paths: AppPaths,
) -> None:
    configure_logging(paths.log_file, logging.DEBUG)  # all Hearth logs, at its most detailed level
    try:
        menu_action(window, "Trip").trigger()
        send(qtbot, window, "When does the coach leave?", fake_backend, ["At", "7:15."])
        assert "Dover" in window.chat_view.toPlainText()  # the passage is under the reply
        logging.getLogger("app").debug("the test's own line")  # the log is written to
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if getattr(h, "hearth", False)]:
            handler.close()
            root.removeHandler(handler)
    logged = paths.log_file.read_text(encoding="utf-8")
    assert "the test's own line" in logged
    assert "Dover" not in logged and "Permission forms" not in logged and "tidy" not in logged
