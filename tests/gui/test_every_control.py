"""Every button and menu action of the window and the Library, used as a person would.

A slot with a parameter of its own once took a button's `checked` flag for it: the
Hugging Face token button always failed with "'bool' object is not callable". Here each
control is clicked with every dialog it may open answered "Cancel"; pytest-qt fails the
test on any exception a slot raises.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest
from PySide6.QtGui import QAction
from PySide6.QtPrintSupport import QPrintDialog
from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox, QPushButton, QWidget

from app.gui.app import create_window
from app.gui.main_window import MainWindow
from app.gui.widgets.chat_view import BRANCH_SCHEME, COPY_MESSAGE_SCHEME, DETAILS_SCHEME, EDIT_SCHEME, MORE_SCHEME, REGENERATE_SCHEME
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.fakes import FakeBackendFactory
from tests.gguf_factory import MakeGguf
from tests.gui.page_links import click, page_links
from tests.gui.waits import reply_shown, thread_shown


@pytest.fixture
def cancelled_dialogs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every dialog answers at once, as if the person pressed Cancel; what was asked is kept."""
    asked: list[str] = []

    def answer(result: object):  # type: ignore[no-untyped-def]
        def dialog(*args: object, **kwargs: object) -> object:
            asked.append(next((str(a) for a in args if isinstance(a, str)), "?"))
            return result

        return dialog

    for name, result in (("getText", ("", False)), ("getItem", ("", False)), ("getMultiLineText", ("", False)),
                         ("getInt", (0, False))):
        monkeypatch.setattr(QInputDialog, name, answer(result))
    for name, result in (("getOpenFileName", ("", "")), ("getOpenFileNames", ([], "")), ("getSaveFileName", ("", "")),
                         ("getExistingDirectory", "")):
        monkeypatch.setattr(QFileDialog, name, answer(result))
    monkeypatch.setattr(QMessageBox, "exec", lambda self: asked.append(self.text()) or QMessageBox.StandardButton.Cancel)
    monkeypatch.setattr(QMessageBox, "open", lambda self, *a: asked.append(self.text()))
    monkeypatch.setattr(QMessageBox, "about", answer(None))
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    monkeypatch.setattr(QDialog, "exec", lambda self: asked.append(self.windowTitle()) or 0)
    monkeypatch.setattr(QPrintDialog, "exec", lambda self: asked.append(self.windowTitle()) or 0)  # its own exec
    return asked


@pytest.fixture
def window(qtbot, paths: AppPaths, synthetic_gguf: MakeGguf) -> Iterator[MainWindow]:
    ModelLibrary(paths.models_dir).add(synthetic_gguf("SmolLM2-synthetic.Q4_1.gguf"), copy=False)
    paths.ensure()
    # Nothing that reaches the network may leave this computer: the hub is a closed local port.
    paths.settings_file.write_text(json.dumps({"library": {"hub_endpoint": "http://127.0.0.1:9"}}))
    shown = create_window(paths, FakeBackendFactory())
    qtbot.addWidget(shown)
    shown.show()
    qtbot.waitUntil(lambda: shown.session.can_reply, timeout=5000)
    shown.send("A first question")
    qtbot.waitUntil(lambda: reply_shown(shown), timeout=5000)
    yield shown
    if shown.isVisible():
        shown.close()


def _actions(widget: QWidget) -> list[QAction]:
    found: list[QAction] = []
    pending = list(widget.actions())
    while pending:
        action = pending.pop(0)
        if action.menu() is not None:
            pending.extend(action.menu().actions())
        elif not action.isSeparator():
            found.append(action)
    return found


def _press_everything(qtbot, widget: QWidget, skip: set[str], before_each: Callable[[], None] = lambda: None) -> list[str]:
    """Trigger each enabled action and click each enabled button of `widget`, each after
    `before_each`; their names."""
    pressed: list[str] = []
    controls: list[QAction | QPushButton] = [*_actions(widget), *widget.findChildren(QPushButton)]
    for control in controls:
        before_each()
        if control.isEnabled() and control.text() not in skip:
            control.trigger() if isinstance(control, QAction) else control.click()
            pressed.append(control.text())
            qtbot.wait(10)
    return pressed


def test_every_menu_action_and_button_of_the_window_works(qtbot, window: MainWindow, cancelled_dialogs: list[str]) -> None:
    conversation = window.session.conversation_id
    assert conversation is not None

    def with_the_chat_shown() -> None:  # the chat's own actions are enabled only then
        qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
        window.session.open(conversation)
        qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)

    menu_bar_actions = _press_everything(qtbot, window.menuBar(), {"&Quit"}, with_the_chat_shown)
    buttons = _press_everything(qtbot, window, {"&Quit"}, with_the_chat_shown)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    assert {"&New chat", "&Settings…", "Model &library…", "&Rename…", "&Delete…", "Re&generate reply", "&Edit your last message",
            "&Copy the last reply", "Copy the last reply as &Markdown", "&Quote the selection or the last reply",
            "&Branch into a new chat", "&Keyboard shortcuts", "&Print…", "Save as PD&F…"} <= set(menu_bar_actions), menu_bar_actions
    assert {"New chat", "Library…", "Regenerate", "Cancel edit"} <= set(buttons), buttons
    assert cancelled_dialogs, "the controls that ask something asked"
    assert window.isVisible()


@pytest.mark.qt_log_ignore("This plugin does not support grabbing the keyboard")  # the "More…" menu, offscreen
def test_every_link_of_a_message_and_its_more_menu_works(qtbot, window: MainWindow, cancelled_dialogs: list[str]) -> None:
    """Each link in the headers of the page (Copy, Edit, Regenerate, Details, More…, the
    arrows) and each entry of each "More…" menu, on a thread with branches."""
    conversation = window.session.conversation_id
    window.session.regenerate()
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    view, clicked = window.chat_view, []

    def links() -> list[str]:
        return [href for scheme in (COPY_MESSAGE_SCHEME, EDIT_SCHEME, REGENERATE_SCHEME, DETAILS_SCHEME, MORE_SCHEME, BRANCH_SCHEME)
                for href in page_links(view, scheme)]

    for index in range(len(links())):
        qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
        window.composer.end_edit()
        window.session.open(conversation)
        qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
        href = links()[index]
        click(view, href)
        clicked.append(href.partition(":")[0])
        if href.startswith(MORE_SCHEME) and view.more_menu is not None:
            for action in view.more_menu.actions():
                window.session.open(conversation)
                qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
                action.trigger()
                clicked.append(action.text())
                qtbot.waitUntil(lambda: thread_shown(window) and window.session.can_change, timeout=5000)
                if window.sidebar.undo_bar.offered:  # a message deleted: back for the next links
                    window.sidebar.undo_bar.undo()
                    qtbot.waitUntil(lambda: thread_shown(window) and reply_shown(window), timeout=5000)
    assert {COPY_MESSAGE_SCHEME, EDIT_SCHEME, REGENERATE_SCHEME, DETAILS_SCHEME, MORE_SCHEME, BRANCH_SCHEME} <= set(clicked)
    assert {"Copy as Markdown", "Quote in a reply", "Branch into a new chat", "Delete this message and what follows it"} <= set(clicked)
    assert window.isVisible()


def test_every_button_of_the_library_works(qtbot, window: MainWindow, cancelled_dialogs: list[str]) -> None:
    library = window.library.open()
    for index in range(library.tabs.count()):
        library.tabs.setCurrentIndex(index)
        _press_everything(qtbot, library, skip=set())
    assert library.discover.token_button in library.findChildren(QPushButton)
    assert any("token" in question.lower() for question in cancelled_dialogs), cancelled_dialogs


def test_the_token_button_asks_for_the_token_and_keeps_it(qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: ("hf_a_token", True))
    library = window.library.open()
    library.discover.token_button.click()
    qtbot.waitUntil(lambda: "token" in library.discover.search_status.text().lower(), timeout=5000)
    assert window.library.services.tokens.get() == "hf_a_token"


def test_quit_and_settings_have_a_shortcut_everywhere(window: MainWindow) -> None:
    """Windows (and Qt's generic theme, as here) has no standard Quit or Preferences key."""
    assert window.quit_action.shortcut().toString() and window.settings_action.shortcut().toString()
