"""The window with a fake backend: fast checks of what the user sees and can do."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.config.settings import load_settings
from app.conversations.store import SqliteConversationStore
from app.gui.app import create_window
from app.gui.main_window import MainWindow
from app.gui.widgets.chat_view import COPY_MESSAGE_SCHEME
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.conftest import subprocess_env
from tests.fakes import FAKE_CAPABILITIES, FAKE_REPLY, FakeBackend, FakeBackendFactory
from tests.gui.page_links import click, message_link
from tests.gui.waits import reply_shown, thread_shown


@pytest.fixture
def window_factory(qtbot, paths: AppPaths, smollm_path: Path, fake_factory: FakeBackendFactory):
    created: list[MainWindow] = []

    def make(with_model: bool = True) -> MainWindow:
        if with_model and not ModelLibrary(paths.models_dir).models():
            ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
        window = create_window(paths, fake_factory)
        qtbot.addWidget(window)
        window.show()
        created.append(window)
        if with_model:
            qtbot.waitUntil(lambda: window.loader.ready, timeout=5000)
        qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
        return window

    yield make
    for window in created:
        if window.isVisible():
            window.close()


def send(qtbot, window: MainWindow, text: str) -> None:
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    window.composer.setPlainText(text)
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)


def test_send_streams_and_renders_the_reply(qtbot, window_factory) -> None:
    window = window_factory()
    send(qtbot, window, "Hello there")
    text = window.chat_view.toPlainText()
    assert "Hello there" in text
    assert "Hello from the fake engine." in text  # **fake** rendered, asterisks gone
    assert "<b>fake</b>" in window.chat_view.toHtml() or "font-weight:700" in window.chat_view.toHtml()
    assert window.composer.toPlainText() == ""
    assert window.conversations.titles() == ["Hello there"]
    assert "tokens/s" in window.speed_status.text()


def test_shift_enter_adds_a_newline_and_empty_messages_are_ignored(qtbot, window_factory) -> None:
    window = window_factory()
    window.composer.setPlainText("line one")
    window.composer.moveCursor(window.composer.textCursor().MoveOperation.End)
    qtbot.keyClick(window.composer, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    assert window.composer.toPlainText() == "line one\n"
    window.composer.setPlainText("   \n ")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    assert not window.session.busy and window.conversations.rowCount() == 0


def test_no_model_shows_a_friendly_empty_state_and_disables_the_composer(qtbot, window_factory) -> None:
    window = window_factory(with_model=False)
    assert "Welcome to Hearth" in window.chat_view.toPlainText()
    assert "Add model file" in window.composer_hint.text()
    assert window.composer.isReadOnly() and not window.send_button.isEnabled()


def test_regenerate_keeps_the_first_reply_as_an_alternative(
    qtbot, window_factory, paths: AppPaths, fake_backend: FakeBackend
) -> None:
    window = window_factory()
    send(qtbot, window, "Question")
    fake_backend.reply_words = ["A", " second", " answer"]
    window.session.regenerate()
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    assert "A second answer" in window.chat_view.toPlainText()
    assert "2/2" in window.chat_view.toPlainText()
    store = SqliteConversationStore(paths.database)
    conversation = store.list_conversations()[0].id
    reply = store.thread(conversation)[-1]
    assert len(store.siblings(reply.id)) == 2
    window.session.show_alternative(reply.id, -1)
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    assert "Hello from the fake engine." in window.chat_view.toPlainText()
    assert "1/2" in window.chat_view.toPlainText()


def test_stop_keeps_the_partial_reply(qtbot, window_factory, paths: AppPaths, fake_backend: FakeBackend) -> None:
    window = window_factory()
    fake_backend.delay = 0.2
    window.composer.setPlainText("Tell me a story")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Hello" in window.chat_view.toPlainText(), timeout=5000)
    assert window.stop_button.isEnabled()
    qtbot.keyClick(window.composer, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    store = SqliteConversationStore(paths.database)
    reply = store.thread(store.list_conversations()[0].id)[-1]
    assert reply.status == "stopped" and reply.content.startswith("Hello")
    assert "Stopped" in window.chat_view.toPlainText()


@pytest.mark.parametrize("how", ["close button", "Ctrl+Q"])
def test_closing_the_window_mid_reply_keeps_what_was_written(qtbot, window_factory, fake_backend: FakeBackend, how: str) -> None:
    """The store closes with the window; the worker's reply ending queued behind it used to
    reach it (sqlite3.ProgrammingError, shown as "Something went wrong")."""
    from PySide6.QtWidgets import QApplication

    window = window_factory()
    fake_backend.delay = 0.1
    window.composer.setPlainText("Tell me a story")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Hello" in window.chat_view.toPlainText(), timeout=5000)
    if how == "Ctrl+Q":
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=5000)  # a window's shortcuts work while it is active
        qtbot.keyClick(window.composer, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    else:
        window.close()
    assert not window.isVisible()
    qtbot.wait(300)  # what the worker sent before it stopped is delivered now
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]
    again = window_factory()
    shown = again.chat_view.toPlainText()
    assert "Tell me a story" in shown and "Hello" in shown and "Stopped" in shown


def test_new_rename_and_delete_to_the_trash(qtbot, window_factory, monkeypatch) -> None:
    window = window_factory()
    send(qtbot, window, "First chat")
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.session.conversation_id is None
    send(qtbot, window, "Second chat")
    assert window.conversations.titles() == ["Second chat", "First chat"]

    monkeypatch.setattr("app.gui.main_window.QInputDialog.getText", lambda *a, **k: ("Renamed", True))
    window.rename_conversation()
    assert window.conversations.titles() == ["Renamed", "First chat"]

    window.delete_conversation()  # no question: it goes to the Trash, and can be undone
    assert window.conversations.titles() == ["First chat"]
    assert window.sidebar.undo_bar.text.text() == "“Renamed” moved to Trash."


def test_geometry_and_settings_survive_a_restart(qtbot, window_factory, paths: AppPaths) -> None:
    window = window_factory()
    window.resize(700, 500)
    window.close()
    saved = load_settings(paths.settings_file)
    assert saved.window_geometry and saved.last_model_id
    again = window_factory()
    assert again.size().width() == 700


def test_a_one_megabyte_paste_is_kept_and_too_long_is_explained(qtbot, window_factory) -> None:
    window = window_factory()
    pasted = ("The quick brown fox jumps over the lazy dog again and again. " + "\n") * 16_500
    assert len(pasted) > 1_000_000
    send(qtbot, window, pasted)
    boxes = [box for box in window.findChildren(QMessageBox) if box.isVisible()]
    assert boxes and "too long" in boxes[-1].text()
    assert "The quick brown fox" in window.chat_view.toPlainText()  # the message is kept
    for box in boxes:
        box.close()
    send(qtbot, window, "Shorter, then?")  # the unanswered long message is left out, not joined on
    assert "Hello from the fake engine." in window.chat_view.toPlainText()
    assert not [box for box in window.findChildren(QMessageBox) if box.isVisible()]


def test_a_pasted_megabyte_without_spaces_is_laid_out_and_shown_shortened(qtbot, window_factory) -> None:
    from PySide6.QtCore import QMimeData
    from PySide6.QtGui import QGuiApplication, QTextOption

    window = window_factory()
    blob = "x" * 1_000_000  # e.g. a minified file
    mime = QMimeData()
    mime.setText(blob)
    window.composer.insertFromMimeData(mime)
    assert window.composer.wordWrapMode() == QTextOption.WrapMode.WrapAnywhere
    assert len(window.composer.toPlainText()) == 1_000_000
    send(qtbot, window, window.composer.toPlainText())
    shown = window.chat_view.toPlainText()
    assert "Shortened on screen: 1,000,000 characters" in shown and len(shown) < 100_000
    message_id = window._store.thread(window.session.conversation_id)[0].id
    click(window.chat_view, message_link(window.chat_view, COPY_MESSAGE_SCHEME, message_id))
    assert QGuiApplication.clipboard().text() == blob
    assert window.composer.wordWrapMode() == QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere


def test_links_open_only_on_click_and_images_are_never_fetched(qtbot, window_factory, monkeypatch, fake_backend: FakeBackend) -> None:
    window = window_factory()
    opened: list[str] = []
    monkeypatch.setattr("app.gui.widgets.chat_view.QDesktopServices.openUrl", lambda url: opened.append(url.toString()))
    fake_backend.reply_words = ["See [the site](https://example.org) ![img](https://example.org/a.png)"]
    send(qtbot, window, "link please")
    assert opened == []
    assert window.chat_view.loadResource(2, "https://example.org/a.png") is None
    from PySide6.QtCore import QUrl
    window.chat_view.anchorClicked.emit(QUrl("https://example.org"))
    assert opened == ["https://example.org"]


def test_the_copy_link_puts_the_code_on_the_clipboard(qtbot, window_factory, fake_backend: FakeBackend) -> None:
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QGuiApplication

    window = window_factory()
    fake_backend.reply_words = ["```python\nprint('copied')\n```"]
    send(qtbot, window, "code please")
    html = window.chat_view.toHtml()
    assert "Copy code" in window.chat_view.toPlainText()
    import re
    href = re.search(r'href="(hearth-copy-code:[^"]+)"', html).group(1)
    window.chat_view.anchorClicked.emit(QUrl(href))
    assert QGuiApplication.clipboard().text() == "print('copied')\n"


def test_copy_gives_rich_and_plain_text_and_typing_goes_on_in_the_message_box(
    qtbot, window_factory, fake_backend: FakeBackend
) -> None:
    """Pasting into Word or an e-mail keeps the bold and the list, not `**` and `-`."""
    from PySide6.QtGui import QGuiApplication

    window = window_factory()
    fake_backend.reply_words = ["Two **bold** points:\n\n- one\n- two"]
    send(qtbot, window, "rich please")
    reply = window._store.thread(window.session.conversation_id)[-1]
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)
    window.chat_view.setFocus()
    assert window.chat_view.hasFocus()  # as after clicking a link in it
    click(window.chat_view, message_link(window.chat_view, COPY_MESSAGE_SCHEME, reply.id))
    copied = QGuiApplication.clipboard().mimeData()
    assert copied.text() == "Two **bold** points:\n\n- one\n- two"
    assert "<strong>bold</strong>" in copied.html() and "<li>one</li>" in copied.html()
    assert window.composer.hasFocus()


def test_pyside_does_not_leak_references_to_none() -> None:
    """DESIGN.md known trap: PySide6 6.12.0 on Python 3.11 drops a None reference per call."""
    from PySide6.QtGui import QTextCursor, QTextDocument

    document = QTextDocument()
    cursor = QTextCursor(document)
    before = sys.getrefcount(None)
    for number in range(100_000):
        cursor.insertText("x")
        if number % 1000 == 999:
            document.clear()  # keeps the document small; the call count is what matters
    assert sys.getrefcount(None) >= before - 100


def test_an_unwritable_data_folder_is_a_plain_startup_error(qtbot, tmp_path: Path) -> None:
    from app.platform.errors import HearthError
    from app.platform.paths import resolve_paths

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(HearthError, match="cannot write to its folder"):
        create_window(resolve_paths(blocker / "hearth"), FakeBackendFactory())


def test_a_failed_save_keeps_the_reply_on_screen(qtbot, window_factory, monkeypatch) -> None:
    from app.platform.errors import StorageError

    window = window_factory()

    def disk_full(*_args, **_kwargs):
        raise StorageError("Your conversation could not be saved because the disk is full.")

    monkeypatch.setattr(SqliteConversationStore, "update_message", disk_full)
    send(qtbot, window, "Will this be kept?")
    shown = window.chat_view.toPlainText()
    assert "Hello from the fake engine." in shown and "Not saved" in shown
    boxes = [box for box in window.findChildren(QMessageBox) if box.isVisible()]
    assert boxes and "disk is full" in boxes[-1].text()


def test_settings_dialog_edits_a_copy_with_per_model_prompt_format(qtbot) -> None:
    from app.config.settings import Settings
    from app.gui.widgets.settings_dialog import SettingsDialog

    settings = Settings()
    dialog = SettingsDialog(settings, "gemma-3", None, format_choices=FAKE_CAPABILITIES.prompt_formats)
    qtbot.addWidget(dialog)
    dialog.fields["temperature"].setValue(0.3)
    dialog.fields["context_length"].setValue(8192)
    dialog.prompt_format.setCurrentIndex(dialog.prompt_format.findData("completion"))
    dialog.fields["system_prompt"].setPlainText("Answer in French.")
    result = dialog.result_settings()
    assert result.sampling.temperature == pytest.approx(0.3)
    assert result.engine.context_length == 8192
    assert result.models["gemma-3"].prompt_format == "completion"
    assert result.system_prompt == "Answer in French."
    assert settings.sampling.temperature == Settings().sampling.temperature  # the original is untouched


def test_the_settings_offer_the_prompt_formats_the_backend_offers(qtbot, window_factory, monkeypatch) -> None:
    from app.gui.widgets.settings_dialog import SettingsDialog

    window = window_factory()
    seen: list[SettingsDialog] = []
    monkeypatch.setattr(SettingsDialog, "exec", lambda self: seen.append(self) or 0)
    window.open_settings()
    (dialog,) = seen
    combo = dialog.prompt_format
    assert [combo.itemData(i) for i in range(combo.count())] == list(FAKE_CAPABILITIES.prompt_formats)
    assert [combo.itemText(i) for i in range(combo.count())][:2] == ["Automatic (recommended)", "The model's own chat template"]


def test_the_backend_is_asked_with_the_conversation_and_the_models_prompt_format(
    qtbot, window_factory, fake_backend: FakeBackend
) -> None:
    from app.backends.base import ChatTurn

    window = window_factory()
    window.settings.current().model_preferences(window.loader.model_id).prompt_format = "chatml"
    send(qtbot, window, "First question")
    send(qtbot, window, "Second question")
    request = fake_backend.requests[-1]
    assert request.turns == (
        ChatTurn("user", "First question"),
        ChatTurn("assistant", "Hello from the **fake** engine."),
        ChatTurn("user", "Second question"),
    )
    assert request.prompt_format == "chatml" and request.system_prompt == window.settings.current().system_prompt


def test_conversation_list_model_passes_the_model_tester(qtmodeltester, paths: AppPaths) -> None:
    from app.gui.item_models.conversation_list import ConversationListModel

    store = SqliteConversationStore(paths.database)
    for title in ("one", "two", "three"):
        store.create_conversation(title)
    model = ConversationListModel(store)
    qtmodeltester.check(model)
    assert model.rowCount() == 4 and model.index(0, 0).data() == "Today"  # a heading, then the conversations
    assert model.titles() == ["three", "two", "one"]


def start_a_second_chat(qtbot, window: MainWindow, first_words: str) -> int:
    """Start a new chat and wait until its reply has streamed `first_words`; its id."""
    window.new_conversation()
    window.composer.setPlainText("Second chat")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: first_words in window.chat_view.streamed_text, timeout=5000)
    second = window.session.conversation_id
    assert second is not None
    return second


def test_switching_away_and_back_keeps_the_streaming_reply(qtbot, window_factory, fake_backend: FakeBackend) -> None:
    window = window_factory()
    send(qtbot, window, "First chat")
    first = window.session.conversation_id
    fake_backend.delay = 0.1
    second = start_a_second_chat(qtbot, window, "Hello")
    window.session.open(first)
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    assert "Second chat" not in window.chat_view.toPlainText()
    window.session.open(second)
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    streaming = window.chat_view.toPlainText()  # while the reply is still being written
    assert window.session.busy
    assert "Hello" in streaming and streaming.count("Assistant") == 1
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    text = window.chat_view.toPlainText()
    assert "Hello from the fake engine." in text and text.count("Assistant") == 1


def test_regenerate_shows_only_the_question_while_the_new_reply_streams(qtbot, window_factory, fake_backend: FakeBackend) -> None:
    window = window_factory()
    send(qtbot, window, "Question")
    fake_backend.reply_words = ["Second", " try"]
    fake_backend.delay = 0.2
    window.session.regenerate()
    qtbot.waitUntil(lambda: window.chat_view.streamed_text != "", timeout=5000)
    assert "Hello from the fake engine." not in window.chat_view.toPlainText()
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    assert "Second try" in window.chat_view.toPlainText()


def test_a_reply_stopped_before_any_text_does_not_break_the_next_one(qtbot, window_factory, fake_backend: FakeBackend) -> None:
    window = window_factory()
    fake_backend.reply_words = []
    send(qtbot, window, "First question")
    fake_backend.reply_words = list(FAKE_REPLY)
    send(qtbot, window, "Second question")
    assert "Hello from the fake engine." in window.chat_view.toPlainText()
    assert not [box for box in window.findChildren(QMessageBox) if box.isVisible()]


def test_adding_a_bad_model_file_explains_why_on_the_gui_thread(qtbot, window_factory, tmp_path: Path, monkeypatch) -> None:
    from PySide6.QtCore import QThread

    from app.gui.library.library_window import COPY_IN, LibraryWindow

    window = window_factory()
    bad = tmp_path / "notes.gguf"
    bad.write_text("these are my notes, not a model")
    monkeypatch.setattr("app.gui.library.library_window.QFileDialog.getOpenFileNames", lambda *a, **k: ([str(bad)], ""))
    monkeypatch.setattr(LibraryWindow, "choose", lambda self, title, text, choices: COPY_IN)
    shown: list[tuple[str, bool]] = []
    monkeypatch.setattr(LibraryWindow, "show_error", lambda self, text: shown.append(
        (text, QThread.currentThread() is window.thread())))
    window.library.choose_files()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert "not a GGUF model file" in shown[0][0] and shown[0][1]
    assert "not a GGUF model file" in window.library.window.status.text()


def test_streamed_text_does_not_inherit_the_bold_header(qtbot, window_factory, fake_backend: FakeBackend) -> None:
    from PySide6.QtGui import QFont, QTextCursor

    window = window_factory()
    send(qtbot, window, "First")
    fake_backend.delay = 0.2
    window.composer.setPlainText("Second")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    cursor = QTextCursor(window.chat_view.document())
    cursor.movePosition(QTextCursor.MoveOperation.End)
    qtbot.waitUntil(lambda: cursor.block().text().startswith("Hello"), timeout=5000)
    assert cursor.charFormat().fontWeight() < QFont.Weight.DemiBold
    assert cursor.block().blockFormat().hasProperty(0x1060) is False  # no horizontal rule
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)


def test_a_superseded_model_load_is_skipped(qtbot, window_factory, fake_backend: FakeBackend) -> None:
    window = window_factory()
    loads_before = fake_backend.loads
    model_id = window.loader.model_id
    fake_backend.load_delay = 0.1  # the first load is still running when the second is asked for
    window.loader.load(model_id)
    window.loader.load(model_id)
    qtbot.waitUntil(lambda: window.loader.ready, timeout=5000)
    qtbot.wait(200)
    assert fake_backend.loads == loads_before + 1  # the first request was skipped or abandoned
    assert window.model_status.text().startswith(window.loader.entry().shown_name + " · ")  # the library's name, not the file's own


PAINT_A_LONG_PAGE = """
import os, sys
import app.gui.app as main
from tests.fakes import FakeBackendFactory
if sys.argv[1] == "without":
    main.prepare_qt = lambda: None
shown = main._report_shown_and_quit

def pooled_threads():
    names = [open(f"/proc/self/task/{task}/comm").read().strip() for task in os.listdir("/proc/self/task")]
    return names.count("Thread (pooled)")  # Qt's name for every thread pool's threads

def paint_then_count(window):
    window.resize(900, 700)
    window.chat_view.setPlainText("line\\n" * 300)  # tall enough for a scroll bar
    before = pooled_threads()
    window.grab()
    print("threads started by painting:", pooled_threads() - before)
    shown(window)

main._report_shown_and_quit = paint_then_count
sys.exit(main.run_gui(["--data-dir", sys.argv[2], "--exit-when-shown"], FakeBackendFactory()))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts threads through /proc")
def test_painting_the_window_wakes_no_helper_threads(tmp_path: Path) -> None:
    """While a reply streams every core decodes; Qt's paint helper threads would take
    their time from llama.cpp. Without prepare_qt, Qt starts them for this very page."""
    def started_by_painting(variant: str) -> int:
        env = {**subprocess_env(tmp_path / variant), "QT_QPA_PLATFORM": "offscreen"}
        env.pop("QT_NO_GUI_THREADPOOL", None)
        result = subprocess.run([sys.executable, "-c", PAINT_A_LONG_PAGE, variant, str(tmp_path / variant)],
                                env=env, capture_output=True, text=True, timeout=120, check=True)
        line = next(line for line in result.stdout.splitlines() if line.startswith("threads started"))
        return int(line.rsplit(" ", 1)[1])

    assert started_by_painting("without") > 0
    assert started_by_painting("with") == 0


CODE_REPLY = ["Like", " this:\n\n", "```python\n", "print('A')\n", "```\n\n", "Then", " **run**", " it."]


def test_a_finished_turn_looks_exactly_as_the_conversation_reopened(qtbot, window_factory, fake_backend: FakeBackend) -> None:
    """The question is appended and the reply finished in place, not the page rendered again:
    what the user sees must not differ from opening the conversation (margins, copy links)."""
    window = window_factory()
    fake_backend.reply_words = CODE_REPLY
    send(qtbot, window, "First question")
    fake_backend.reply_words = [w.replace("'A'", "'B'") for w in CODE_REPLY]
    send(qtbot, window, "Second question")
    after_turns = window.chat_view.toHtml()
    links = [a for a in after_turns.split('"') if a.startswith("hearth-copy-code:")]
    assert len(links) == len(set(links)) == 2, "each code block has its own copy link"
    window.session.refresh()
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    reopened = window.chat_view.toHtml()
    assert after_turns.splitlines() == reopened.splitlines()


def test_a_reply_finished_after_the_next_question_was_sent_is_shown_in_its_place(
    qtbot, window_factory, fake_backend: FakeBackend
) -> None:
    """The final form of a reply is rendered off the GUI thread; if the user has asked
    again by the time it is ready, it replaces the streamed reply, not the question, and
    the next reply goes on streaming below it."""
    window = window_factory()
    fake_backend.reply_words = CODE_REPLY
    questions = ["Asked at once"]

    def ask_again(*_saved: object) -> None:  # runs right after the view got the saved reply
        if questions:
            assert window.chat_view.finishing
            fake_backend.reply_words, fake_backend.delay = CODE_REPLY * 3, 0.03
            window.send(questions.pop())

    window.session.reply_saved.connect(ask_again)
    window.send("First question")
    qtbot.waitUntil(lambda: not questions and reply_shown(window), timeout=5000)
    after_turns = window.chat_view.toHtml()
    assert after_turns.count("hearth-copy-code:") == 4 and "Asked at once" in window.chat_view.toPlainText()
    window.session.refresh()
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    assert after_turns.splitlines() == window.chat_view.toHtml().splitlines()


def test_text_written_while_another_chat_is_shown_is_all_there_on_return(qtbot, window_factory, fake_backend: FakeBackend) -> None:
    window = window_factory()
    send(qtbot, window, "First chat")
    first = window.session.conversation_id
    fake_backend.reply_words = [f" w{n}" for n in range(12)]
    fake_backend.delay = 0.05
    second = start_a_second_chat(qtbot, window, "w1")
    window.session.open(first)
    qtbot.waitUntil(lambda: "w6" in window.chat_view.streamed_text, timeout=5000)
    window.session.open(second)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    assert " ".join(f"w{n}" for n in range(12)) in window.chat_view.toPlainText()


def test_the_shown_chat_stays_highlighted_after_a_turn_and_a_rename(qtbot, window_factory, monkeypatch) -> None:
    window = window_factory()
    send(qtbot, window, "First chat")
    send(qtbot, window, "More")
    assert window.sidebar.conversation_list.currentIndex().data() == "First chat"
    monkeypatch.setattr("app.gui.main_window.QInputDialog.getText", lambda *a, **k: ("Renamed", True))
    window.rename_conversation()
    assert window.sidebar.conversation_list.currentIndex().data() == "Renamed"
    assert window.sidebar.conversation_list.selectionModel().isSelected(window.sidebar.conversation_list.currentIndex())


def test_opening_a_conversation_reads_and_renders_it_off_the_gui_thread(
    qtbot, window_factory, paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading a conversation and rendering its Markdown grow with it: the store reader
    does both on its own thread, and the window shows the result."""
    import threading

    from app.chat.rendering import MarkdownRenderer

    window = window_factory()
    store = SqliteConversationStore(paths.database)  # written after the window opened: nothing is cached
    conversation = store.create_conversation("Long ago")
    parent = None
    for turn in range(20):
        parent = store.add_message(conversation, parent, "user", f"Question {turn}")
        parent = store.add_message(conversation, parent, "assistant", f"Answer **{turn}**:\n\n```python\nprint({turn})\n```")
    store.close()
    seen: dict[str, set[str]] = {"read": set(), "rendered": set()}
    read, render = SqliteConversationStore.thread_page, MarkdownRenderer.render

    def reading(self, *args, **kwargs):
        seen["read"].add(threading.current_thread().name)
        return read(self, *args, **kwargs)

    def rendering(self, *args, **kwargs):
        seen["rendered"].add(threading.current_thread().name)
        return render(self, *args, **kwargs)

    monkeypatch.setattr(SqliteConversationStore, "thread_page", reading)
    monkeypatch.setattr(MarkdownRenderer, "render", rendering)
    window.session.open(conversation)
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    shown = window.chat_view.toPlainText()
    assert "Question 0" in shown and "Answer 19:" in shown and "print(19)" in shown
    assert seen["read"] and seen["rendered"]
    assert threading.main_thread().name not in seen["read"] | seen["rendered"]


def test_a_reply_that_ends_while_its_conversation_is_read_is_shown_whole(
    qtbot, window_factory, fake_backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The read under way may have caught the reply half written: it is read again."""
    import time

    window = window_factory()
    window.chat_view.show_reply_speed = True  # the finished reply's footer says it is shown in its final form
    fake_backend.reply_words, fake_backend.delay = [f" w{n}" for n in range(8)], 0.05
    window.send("Count for me")
    qtbot.waitUntil(lambda: "w2" in window.chat_view.streamed_text, timeout=5000)
    prepare = window.chat_view.prepare

    def slowly() -> object:  # the read answers only after the reply has ended
        render = prepare()
        return lambda messages: (time.sleep(0.6), render(messages))[1]

    monkeypatch.setattr(window.chat_view, "prepare", slowly)
    window.session.refresh()
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    shown = window.chat_view.toPlainText()
    assert " ".join(f"w{n}" for n in range(8)) in shown and "tokens/s" in shown


def test_a_conversation_that_cannot_be_read_is_told_and_nothing_is_added_to_another(
    qtbot, window_factory, paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.platform.errors import StorageError

    window = window_factory()
    send(qtbot, window, "First chat")
    first = window.session.conversation_id
    store = SqliteConversationStore(paths.database)
    broken = store.create_conversation("Broken")
    store.close()
    read = SqliteConversationStore.thread_page

    def failing(self, conversation_id: int, *args, **kwargs):  # type: ignore[no-untyped-def]
        if conversation_id == broken:
            raise StorageError("The conversation database is damaged.")
        return read(self, conversation_id, *args, **kwargs)

    monkeypatch.setattr(SqliteConversationStore, "thread_page", failing)
    errors: list[tuple[str, str]] = []
    window.session.error.connect(lambda title, text: errors.append((title, text)))
    window.session.open(broken)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert errors == [("The conversation could not be opened", "The conversation database is damaged.")]
    assert window.session.conversation_id is None and "First chat" not in window.chat_view.toPlainText()
    send(qtbot, window, "Then a new one")
    store = SqliteConversationStore(paths.database)
    assert [m.content for m in store.thread(first)] == ["First chat", "Hello from the **fake** engine."]
    newest = store.list_conversations()[0]
    assert [m.content for m in store.thread(newest.id)][:1] == ["Then a new one"]
    store.close()


def test_the_store_reader_stops_once_and_again(qtbot, paths: AppPaths) -> None:
    from app.gui.workers.store_reader import StoreReader

    reader = StoreReader.started(paths)
    reader.stop()
    reader.stop()  # used to wait for ever on the stopped thread
    assert not reader.thread().isRunning()
