"""Edit, regenerate any reply, branch into a new chat, copy, quote, read aloud and the
shortcuts sheet, clicked in the real window on the fake backend; and links a reply wrote
that must do nothing (issue 12)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog

from app.conversations.opener import open_conversations
from app.gui.app import create_window
from app.gui.main_window import MainWindow
from app.gui.shortcuts_sheet import ShortcutsSheet
from app.gui.speech import ReadAloud
from app.gui.widgets.chat_view import (
    BRANCH_SCHEME,
    COPY_MESSAGE_SCHEME,
    DETAILS_SCHEME,
    EDIT_SCHEME,
    MORE_SCHEME,
    REGENERATE_SCHEME,
)
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.fakes import FakeBackend, FakeBackendFactory
from tests.gguf_factory import MakeGguf
from tests.gui.page_links import click, message_link, page_links
from tests.gui.test_conversation_list_gui import saved_states, state_kept
from tests.gui.waits import reply_shown, thread_shown

# The "More…" menu pops up at the link; offscreen, Qt says it cannot grab the keyboard for it.
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support grabbing the keyboard")


def make_window(qtbot, paths: AppPaths, synthetic_gguf: MakeGguf, fake_factory: FakeBackendFactory) -> MainWindow:
    ModelLibrary(paths.models_dir).add(synthetic_gguf("SmolLM2-synthetic.Q4_1.gguf"), copy=False)
    paths.ensure()
    paths.settings_file.write_text(json.dumps({"library": {"hub_endpoint": "http://127.0.0.1:9"}}))
    window = create_window(paths, fake_factory)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.session.can_reply and thread_shown(window), timeout=5000)
    return window


@pytest.fixture
def window(qtbot, paths: AppPaths, synthetic_gguf: MakeGguf, fake_factory: FakeBackendFactory) -> Iterator[MainWindow]:
    shown = make_window(qtbot, paths, synthetic_gguf, fake_factory)
    yield shown
    if shown.isVisible():
        shown.close()


def send(qtbot, window: MainWindow, text: str, reply: FakeBackend | None = None, words: list[str] | None = None) -> None:
    if reply is not None and words is not None:
        reply.reply_words = words
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    window.composer.setPlainText(text)
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)


def shown_ids(window: MainWindow) -> list[int]:
    return [m.id for m in window._store.thread(window.session.conversation_id)]


def page(window: MainWindow) -> str:
    return window.chat_view.toPlainText()


def test_edit_a_question_resend_it_and_reach_both_versions(qtbot, window: MainWindow, fake_backend: FakeBackend) -> None:
    send(qtbot, window, "Why are there tides?", fake_backend, ["Because of the moon."])
    question = shown_ids(window)[0]
    window.composer.setPlainText("a draft I was typing")
    click(window.chat_view, message_link(window.chat_view, EDIT_SCHEME, question))
    assert window.composer.toPlainText() == "Why are there tides?"
    assert window.edit_banner.isVisible() and "Esc to cancel" in window.edit_banner.text()

    window.composer.setPlainText("Why are there waves?")
    fake_backend.reply_words = ["Because of the wind."]
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    text = page(window)
    assert "Why are there waves?" in text and "Because of the wind." in text and "2/2" in text
    assert "Why are there tides?" not in text and "Because of the moon." not in text
    assert window.composer.toPlainText() == "a draft I was typing" and not window.edit_banner.isVisible()

    edited = shown_ids(window)[0]
    click(window.chat_view, message_link(window.chat_view, BRANCH_SCHEME, edited, -1))
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    text = page(window)
    assert "Why are there tides?" in text and "Because of the moon." in text and "1/2" in text


def test_esc_cancels_an_edit_and_gives_back_what_was_typed(qtbot, window: MainWindow, fake_backend: FakeBackend) -> None:
    send(qtbot, window, "First question")
    window.composer.setPlainText("half a thought")
    window.composer.setFocus()
    window.edit_last_action.trigger()
    assert window.composer.toPlainText() == "First question" and window.composer.editing is not None
    qtbot.keyClick(window.composer, Qt.Key.Key_Escape)
    assert window.composer.toPlainText() == "half a thought" and window.composer.editing is None
    assert not window.edit_banner.isVisible()
    assert len(shown_ids(window)) == 2  # nothing was sent


def test_up_in_an_empty_message_box_edits_the_last_question(qtbot, window: MainWindow, fake_backend: FakeBackend) -> None:
    send(qtbot, window, "One")
    send(qtbot, window, "Two")
    window.composer.setFocus()
    qtbot.keyClick(window.composer, Qt.Key.Key_Up)
    assert window.composer.toPlainText() == "Two" and window.edit_banner.isVisible()
    window.cancel_edit_button.click()
    assert window.composer.toPlainText() == "" and not window.edit_banner.isVisible()


def test_an_earlier_reply_regenerated_is_shown_and_the_later_turn_stays_reachable(
    qtbot, window: MainWindow, fake_backend: FakeBackend
) -> None:
    send(qtbot, window, "First question", fake_backend, ["First answer."])
    send(qtbot, window, "Second question", fake_backend, ["Second answer."])
    first_reply = shown_ids(window)[1]
    fake_backend.reply_words = ["A better first answer."]
    click(window.chat_view, message_link(window.chat_view, REGENERATE_SCHEME, first_reply))
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    text = page(window)
    assert "A better first answer." in text and "2/2" in text and "Second question" not in text

    click(window.chat_view, message_link(window.chat_view, BRANCH_SCHEME, shown_ids(window)[1], -1))
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    text = page(window)
    assert "First answer." in text and "1/2" in text and "Second question" in text and "Second answer." in text


def test_branch_into_a_new_chat_from_the_more_menu(qtbot, window: MainWindow, fake_backend: FakeBackend) -> None:
    send(qtbot, window, "First question", fake_backend, ["First answer."])
    send(qtbot, window, "Second question", fake_backend, ["Second answer."])
    original = window.session.conversation_id
    first_reply = shown_ids(window)[1]
    click(window.chat_view, message_link(window.chat_view, MORE_SCHEME, first_reply))
    menu = window.chat_view.more_menu
    assert menu is not None
    (branch,) = [action for action in menu.actions() if action.text() == "Branch into a new chat"]
    branch.trigger()
    qtbot.waitUntil(lambda: window.session.conversation_id != original and thread_shown(window), timeout=5000)
    text = page(window)
    assert "First question" in text and "First answer." in text and "Second question" not in text
    assert len(window.conversations.titles()) == 2
    assert window.session.title() == "First question (branch)"
    assert "Branched into a new chat" in window.statusBar().currentMessage()
    send(qtbot, window, "Going on here", fake_backend, ["A new path."])
    window.session.open(original)
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    assert "Second answer." in page(window) and "Going on here" not in page(window)


def test_copy_as_markdown_and_quote_from_the_more_menu(qtbot, window: MainWindow, fake_backend: FakeBackend) -> None:
    send(qtbot, window, "Rich please", fake_backend, ["Two **bold** points:\n\n- one\n- two"])
    reply = shown_ids(window)[1]
    click(window.chat_view, message_link(window.chat_view, MORE_SCHEME, reply))
    actions = {action.text(): action for action in window.chat_view.more_menu.actions()}  # type: ignore[union-attr]
    assert "Read aloud" not in actions  # no speech engine here
    actions["Copy as Markdown"].trigger()
    copied = QGuiApplication.clipboard().mimeData()
    assert copied.text() == "Two **bold** points:\n\n- one\n- two" and not copied.hasHtml()
    click(window.chat_view, message_link(window.chat_view, COPY_MESSAGE_SCHEME, reply))
    assert "<strong>bold</strong>" in QGuiApplication.clipboard().mimeData().html()

    window.composer.setPlainText("About this:")
    actions["Quote in a reply"].trigger()
    assert window.composer.toPlainText() == "About this:\n\n> Two **bold** points:\n>\n> - one\n> - two\n\n"
    window.composer.clear()
    window.copy_markdown_action.trigger()
    assert QGuiApplication.clipboard().text() == "Two **bold** points:\n\n- one\n- two"


def test_quote_takes_the_selected_part_of_a_reply(qtbot, window: MainWindow, fake_backend: FakeBackend) -> None:
    send(qtbot, window, "Tell me", fake_backend, ["The sea rises twice a day."])
    cursor = window.chat_view.document().find("rises twice")
    window.chat_view.setTextCursor(cursor)
    window.quote_action.trigger()
    assert window.composer.toPlainText() == "> rises twice\n\n"


def test_links_a_reply_wrote_do_nothing_and_malformed_ones_are_ignored(
    qtbot, window: MainWindow, fake_backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr("app.gui.widgets.chat_view.QDesktopServices.openUrl", lambda url: opened.append(url.toString()))
    send(qtbot, window, "Plain", fake_backend, ["Hello."])
    first_reply = shown_ids(window)[1]
    forged = [
        f"[a](hearth-branch:{first_reply}:1)", f"[b](hearth-copy-message:{first_reply})", f"[c](hearth-details:{first_reply})",
        f"[d](hearth-edit:{first_reply - 1})", f"[e](hearth-regenerate:{first_reply})", f"[f](hearth-more:{first_reply})",
        "[g](hearth-branch:5:x)", f"[h](hearth-copy-code:{first_reply + 2}-0)", f"[i](hearth-copy-code:{first_reply})",
    ]
    send(qtbot, window, "Links please", fake_backend, [" ".join(forged) + "\n\n```\nsecret\n```"])
    requested: list[object] = []
    view = window.chat_view
    for signal in (view.branch_requested, view.details_requested, view.edit_requested, view.regenerate_requested,
                   view.branch_to_new_requested, view.quote_requested):
        signal.connect(lambda *args: requested.append(args))
    QGuiApplication.clipboard().setText("untouched")
    shown_before = page(window)
    written = [href for scheme in ("hearth-branch", "hearth-copy-message", "hearth-details", "hearth-edit", "hearth-regenerate",
                                   "hearth-more", "hearth-copy-code") for href in page_links(view, scheme)
               if not href.startswith(f"{scheme}:{view._token}")]
    assert len(written) == len(forged)  # each link the reply wrote is on the page
    for href in written:
        click(view, href)
    token = view._token
    for malformed in (f"hearth-branch:{token}:x:y", f"hearth-branch:{token}:{first_reply}", f"hearth-details:{token}:",
                      f"hearth-details:{token}:1:2", f"hearth-more:{token}:abc", f"hearth-branch:{token}:{first_reply}:7",
                      "hearth-details", "hearth-copy-message:"):
        click(view, malformed)
    qtbot.wait(50)
    assert requested == [] and opened == [] and view.more_menu is None and window.details_dialog is None
    assert QGuiApplication.clipboard().text() == "untouched" and window.composer.toPlainText() == ""
    assert page(window) == shown_before and not window.session.busy
    # The page's own links still act.
    click(view, message_link(view, DETAILS_SCHEME, first_reply))
    assert window.details_dialog is not None


def test_nothing_changes_the_conversation_while_a_reply_is_written(
    qtbot, window: MainWindow, fake_backend: FakeBackend
) -> None:
    send(qtbot, window, "First question", fake_backend, ["First answer."])
    question, reply = shown_ids(window)
    fake_backend.reply_words = [" word"] * 200
    fake_backend.delay = 0.01
    window.composer.setPlainText("Second question")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(window.chat_view.streamed_text) > 10, timeout=5000)
    window.session.regenerate(reply)
    window.session.branch_to_new_chat(reply)
    assert not window.session.edit(question, "Changed")
    assert "Wait until the reply is written" in window.statusBar().currentMessage()
    assert not window.branch_action.isEnabled()
    window.session.stop()
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    assert len(window.conversations.titles()) == 1 and len(shown_ids(window)) == 4
    assert len(window._store.siblings(reply)) == 1 and len(window._store.siblings(question)) == 1


def test_the_shortcuts_sheet_lists_every_action_with_keys(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    sheets: list[ShortcutsSheet] = []
    monkeypatch.setattr(QDialog, "exec", lambda self: sheets.append(self) or 0)
    assert window.shortcuts_action.shortcut().toString() == "Ctrl+/"
    window.shortcuts_action.trigger()
    (sheet,) = sheets
    rows = dict(sheet.rows())
    for action in (window.regenerate_action, window.edit_last_action, window.copy_reply_action, window.copy_markdown_action,
                   window.quote_action, window.branch_action, window.shortcuts_action, window.new_action, window.stop_action):
        assert rows[action.text().replace("&", "")] == ", ".join(key.toString() for key in action.shortcuts())
    assert rows["Regenerate reply"] == "Ctrl+R, Ctrl+Shift+R"
    assert rows["Cancel editing a message"] == "Esc" and rows["Edit your last message (in an empty message box)"] == "Up"
    assert rows["Go to the first message (older ones are read as you reach them)"] == "Ctrl+Home"
    assert rows["Go to the newest message, and follow the reply"] == "Ctrl+End"
    assert rows["Summarise the oldest messages"] == "Ctrl+Shift+U"
    assert "Read the last reply aloud" not in rows  # no speech engine here, so no action
    every_key = [key.toString() for action in window.findChildren(type(window.new_action)) if action.isVisible()
                 for key in action.shortcuts()]
    assert len(every_key) == len(set(every_key)), "no two actions share a key"


class FakeSpeech(QObject):
    """What ReadAloud calls of a QTextToSpeech."""

    def __init__(self) -> None:
        super().__init__()
        self.said: list[str] = []

    def say(self, text: str) -> None:
        self.said.append(text)

    def stop(self) -> None:
        pass


def test_read_aloud_speaks_the_reply_without_markdown_where_there_is_an_engine(
    qtbot, paths: AppPaths, synthetic_gguf: MakeGguf, fake_factory: FakeBackendFactory, fake_backend: FakeBackend,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    speech = FakeSpeech()
    monkeypatch.setattr(ReadAloud, "create", classmethod(lambda cls, parent=None: cls(speech, parent)))
    window = make_window(qtbot, paths, synthetic_gguf, fake_factory)
    send(qtbot, window, "Say it", fake_backend, ["It is **very** calm."])
    reply = shown_ids(window)[1]
    click(window.chat_view, message_link(window.chat_view, MORE_SCHEME, reply))
    (read,) = [action for action in window.chat_view.more_menu.actions() if action.text() == "Read aloud"]  # type: ignore[union-attr]
    read.trigger()
    assert window.read_aloud_action.isVisible() and window.read_aloud_action.isEnabled()
    window.read_aloud_action.trigger()
    assert speech.said == ["It is very calm.", "It is very calm."]
    window.close()


def test_without_the_speech_module_there_is_no_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> object:
        raise ImportError(name)

    monkeypatch.setattr("app.gui.speech.importlib.import_module", missing)
    assert ReadAloud.create() is None


def test_an_edit_sent_after_the_arrows_showed_another_version_is_still_saved_beside_it(
    qtbot, window: MainWindow, fake_backend: FakeBackend
) -> None:
    send(qtbot, window, "Version one")
    window.edit_last_action.trigger()
    send(qtbot, window, "Version two")
    second = shown_ids(window)[0]
    window.edit_last_action.trigger()
    click(window.chat_view, message_link(window.chat_view, BRANCH_SCHEME, second, -1))
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    assert "Version one" in page(window) and window.composer.editing == second
    window.composer.setPlainText("Version three")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    assert "Version three" in page(window) and "3/3" in page(window) and window.composer.editing is None


def test_a_message_deleted_from_the_more_menu_comes_back_with_ctrl_z(
    qtbot, english_plurals: None, window: MainWindow, paths: AppPaths, fake_backend: FakeBackend
) -> None:
    send(qtbot, window, "First question", fake_backend, ["First answer."])
    send(qtbot, window, "Second question", fake_backend, ["Second answer."])
    assert window.session.conversation_id is not None
    [key] = saved_states(paths, window.session.conversation_id)  # as the engine leaves one after a reply
    second_question = shown_ids(window)[2]
    click(window.chat_view, message_link(window.chat_view, MORE_SCHEME, second_question))
    menu = window.chat_view.more_menu
    assert menu is not None
    (delete,) = [action for action in menu.actions() if action.text() == "Delete this message and what follows it"]
    delete.trigger()
    menu.close()  # as a click on it would
    qtbot.waitUntil(lambda: thread_shown(window) and "Second question" not in page(window), timeout=5000)
    assert "First answer." in page(window) and "Second answer." not in page(window)
    bar = window.sidebar.undo_bar
    assert bar.isVisible() and bar.text.text() == "Message deleted, with the message after it."
    qtbot.waitUntil(lambda: not state_kept(paths, key), timeout=5000)  # it held the deleted text

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)  # a window's shortcuts work while it is active
    assert window.composer.hasFocus()  # back there after the click
    qtbot.keyClicks(window.composer, "a draft")
    qtbot.keyClick(window.composer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the typing first
    assert window.composer.toPlainText() == "" and bar.isVisible()
    qtbot.keyClick(window.composer, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # no typing left to undo
    qtbot.waitUntil(lambda: thread_shown(window) and "Second answer." in page(window), timeout=5000)
    assert page(window).index("First answer.") < page(window).index("Second question") < page(window).index("Second answer.")
    assert not bar.isVisible()

    reply = shown_ids(window)[-1]  # a reply alone
    click(window.chat_view, message_link(window.chat_view, MORE_SCHEME, reply))
    next(action for action in window.chat_view.more_menu.actions()  # type: ignore[union-attr]
         if action.text().startswith("Delete")).trigger()
    qtbot.waitUntil(lambda: thread_shown(window) and "Second answer." not in page(window), timeout=5000)
    assert bar.text.text() == "Message deleted."
    assert "Second question" in page(window)


def test_undo_into_a_conversation_deleted_for_good_says_why_nothing_came_back(
    qtbot, window: MainWindow, paths: AppPaths, fake_backend: FakeBackend
) -> None:
    send(qtbot, window, "First question", fake_backend, ["First answer."])
    session = window.session
    conversation = session.conversation_id
    assert conversation is not None
    deleted = session.delete_message(shown_ids(window)[-1])
    assert deleted is not None
    other = open_conversations(paths)  # another window, say, emptied the Trash
    other.delete_conversation(conversation)
    other.delete_forever(conversation)
    session.restore_messages(deleted)
    assert "deleted for good" in window.statusBar().currentMessage()
    assert other.conversation(conversation) is None
    other.close()
