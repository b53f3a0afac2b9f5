"""Assistants in the window, on the fake backend: the picker a new chat starts from, the
greeting shown first, Settings in force, the Assistants dialog and the administrator's lock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.assistants.book import AssistantBook
from app.gui.app import create_window
from app.gui.main_window import MainWindow
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.fakes import FakeBackend, FakeBackendFactory
from tests.gui.test_translations import assert_extracted, assert_translated, shown_texts, translator  # noqa: F401 (a fixture)
from tests.gui.waits import reply_shown, thread_shown


@pytest.fixture
def make_window(qtbot, paths: AppPaths, smollm_path: Path, fake_factory: FakeBackendFactory):
    created: list[MainWindow] = []

    def make() -> MainWindow:
        if not ModelLibrary(paths.models_dir).models():
            ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
        window = create_window(paths, fake_factory)
        qtbot.addWidget(window)
        window.show()
        created.append(window)
        qtbot.waitUntil(lambda: window.loader.ready and thread_shown(window), timeout=5000)
        qtbot.waitUntil(lambda: window.assistant_picker.menu.count() >= 5, timeout=5000)
        return window

    yield make
    for window in created:
        if window.isVisible():
            window.close()


def choose(window: MainWindow, name: str) -> None:
    menu = window.assistant_picker.menu
    index = menu.findText(name)
    assert index >= 0, name
    menu.setCurrentIndex(index)
    menu.activated.emit(index)


def send(qtbot, window: MainWindow, text: str) -> None:
    window.composer.setPlainText(text)
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)


def replies(backend: FakeBackend) -> list:
    """The backend's reply requests, the generated titles' left out (a greeted chat is titled too)."""
    return [request for request in backend.requests if not request.turns[-1].content.startswith("Title: ")]


def in_force_rows(window: MainWindow) -> dict[str, tuple[str, str]]:
    window.assistants.in_force_action.trigger()
    dialog = window.assistants.in_force_dialog
    assert dialog is not None and dialog.isVisible()
    return {setting: (value, source) for setting, value, source in dialog.rows()}


def test_a_chat_started_with_the_writing_tutor_records_it_and_says_where_its_settings_come_from(
    qtbot, make_window, paths: AppPaths, fake_backend: FakeBackend
) -> None:
    window = make_window()
    assert window.assistant_picker.isVisible() and window.assistant_picker.menu.currentText() == "Plain helper"
    choose(window, "Writing tutor")
    assert "Writing tutor begins with: “Hello! I am your writing tutor." in window.assistant_picker.greeting.text()
    before = in_force_rows(window)
    assert before["Creativity (temperature)"] == ("0.50", "from the assistant")
    assert window.assistants.in_force_dialog is not None
    assert window.assistants.in_force_dialog.heading.text() == "A new chat with Writing tutor."

    send(qtbot, window, "Please write my essay about rivers.")
    text = window.chat_view.toPlainText()
    assert text.index("Hello! I am your writing tutor.") < text.index("Please write my essay about rivers.")
    assert not window.assistant_picker.isVisible()  # the chat is no longer new
    (request,) = replies(fake_backend)
    assert request.system_prompt.startswith("You are a writing tutor for a student. Never write the essay")
    assert request.sampling.temperature == 0.5
    conversation = window._store.conversation(window.session.conversation_id or 0)
    assert conversation is not None and conversation.assistant_id == "writing-tutor"
    assert conversation.system_prompt == request.system_prompt

    rows = in_force_rows(window)
    assert rows["Creativity (temperature)"] == ("0.50", "from the assistant")
    assert rows["Default system prompt"][1] == "from the assistant"
    assert rows["Seed"] == ("Random", "Hearth's default")
    assert window.assistants.in_force_dialog.heading.text() == "“Please write my essay about rivers.”, with Writing tutor."

    window.new_conversation()  # a new chat starts from the default again
    assert window.assistant_picker.isVisible() and window.assistant_picker.menu.currentText() == "Plain helper"


def test_an_old_chat_keeps_its_system_prompt_when_the_assistant_changes(qtbot, make_window, fake_backend: FakeBackend) -> None:
    window = make_window()
    choose(window, "Summariser")
    send(qtbot, window, "Cats sleep a lot. Dogs bark.")
    summariser = window.assistants.shelf.shelf.get("summariser")
    assert summariser is not None
    window.assistants.shelf.save(summariser.as_users(system_prompt="Summarise in one line."))
    qtbot.waitUntil(lambda: window.assistants.shelf.shelf.edited_built_in("summariser"), timeout=5000)
    send(qtbot, window, "And birds sing.")
    assert replies(fake_backend)[-1].system_prompt == replies(fake_backend)[0].system_prompt
    assert "Use only facts from the text." in replies(fake_backend)[-1].system_prompt
    assert in_force_rows(window)["Default system prompt"][1] == "from this conversation"


def test_a_chat_keeps_its_own_temperature_over_its_assistants(qtbot, make_window, fake_backend: FakeBackend) -> None:
    window = make_window()
    choose(window, "Writing tutor")
    send(qtbot, window, "Help me with a poem.")
    in_force_rows(window)
    dialog = window.assistants.in_force_dialog
    assert dialog is not None and dialog.own.isVisible()
    dialog.own_settings.boxes["temperature"].setChecked(True)
    dialog.own_settings.fields["temperature"].setValue(1.3)
    dialog.apply_button.click()
    assert {setting: (value, source) for setting, value, source in dialog.rows()}["Creativity (temperature)"] == (
        "1.30", "from this conversation")
    send(qtbot, window, "And another one.")
    assert replies(fake_backend)[-1].sampling.temperature == 1.3
    assert replies(fake_backend)[0].sampling.temperature == 0.5
    window.new_conversation()
    rows = in_force_rows(window)
    assert rows["Creativity (temperature)"] == ("0.70", "Hearth's default")  # the Plain helper's new chat: the chat's own stay there
    assert not dialog.own.isVisible()  # a chat not begun has nowhere to keep its own


def test_the_assistants_dialog_duplicates_edits_exports_imports_and_deletes(
    qtbot, make_window, paths: AppPaths, tmp_path: Path, monkeypatch
) -> None:
    window = make_window()
    window.assistants.manage_action.trigger()
    dialog = window.assistants.dialog
    assert dialog is not None
    dialog.list.setCurrentRow(1)
    assert dialog.chosen().id == "writing-tutor" and not dialog.delete_button.isEnabled()  # a built-in stays
    dialog.duplicate_button.click()
    qtbot.waitUntil(lambda: dialog.chosen().name == "Writing tutor (copy)", timeout=5000)
    dialog.name.setText("Essay coach")
    dialog.reply_settings.boxes["max_tokens"].setChecked(True)
    dialog.reply_settings.fields["max_tokens"].setValue(256)
    dialog.save_button.click()
    qtbot.waitUntil(lambda: dialog.chosen().name == "Essay coach", timeout=5000)
    coach = dialog.chosen()
    assert coach.sampling == {"temperature": 0.5, "max_tokens": 256}
    assert AssistantBook(paths.assistants_dir).get(coach.id) == coach
    assert window.assistant_picker.menu.findText("Essay coach") >= 0  # offered for new chats

    exported = tmp_path / "coach.json"
    monkeypatch.setattr("app.gui.assistants_dialog.QFileDialog.getSaveFileName", lambda *a, **k: (str(exported), ""))
    dialog.export_button.click()
    qtbot.waitUntil(exported.exists, timeout=5000)
    assert json.loads(exported.read_text(encoding="utf-8"))["name"] == "Essay coach"

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "hearth-assistant", "version": 1, "id": "x", "name": "X", "settings": {"temperature": "hot"}}',
                   encoding="utf-8")
    shown: list[str] = []
    monkeypatch.setattr("app.gui.assistants_dialog.show_error", lambda parent, title, text: shown.append(text))
    monkeypatch.setattr("app.gui.assistants_dialog.QFileDialog.getOpenFileName", lambda *a, **k: (str(bad), ""))
    count = dialog.list.count()
    dialog.import_button.click()
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert shown == ["The file bad.json cannot be used. The setting temperature must be a number, not 'hot'."]
    assert dialog.list.count() == count  # nothing imported

    dialog.delete_button.click()
    qtbot.waitUntil(lambda: window.assistant_picker.menu.findText("Essay coach") < 0, timeout=5000)
    assert AssistantBook(paths.assistants_dir).get(coach.id) is None

    dialog.list.setCurrentRow(2)  # the Summariser
    dialog.default_button.click()
    assert window.settings.current().default_assistant == "summariser"
    window.new_conversation()
    assert window.assistant_picker.menu.currentText() == "Summariser"


def test_the_administrator_locks_the_default_assistant_and_the_system_prompt(
    qtbot, make_window, tmp_path: Path, monkeypatch, fake_backend: FakeBackend
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('system_prompt = "Be kind and brief."\n[settings]\ndefault_assistant = "translator"\n'
                      'locked = ["default_assistant", "system_prompt"]\n', encoding="utf-8")
    monkeypatch.setenv("HEARTH_POLICY_FILE", str(policy))
    window = make_window()
    picker = window.assistant_picker
    assert picker.menu.currentText() == "Translator" and not picker.menu.isEnabled()
    rows = in_force_rows(window)
    assert rows["Default system prompt"] == ("Be kind and brief.", "set by your administrator (locked)")
    assert rows["Creativity (temperature)"] == ("0.20", "from the assistant")
    send(qtbot, window, "Bonjour")
    assert replies(fake_backend)[-1].system_prompt == "Be kind and brief."
    conversation = window._store.conversation(window.session.conversation_id or 0)
    assert conversation is not None and conversation.assistant_id == "translator"


def test_the_picker_and_the_assistants_dialogs_are_translated(qtbot, translator, make_window, paths: AppPaths) -> None:  # noqa: F811
    window = make_window()
    window.assistants.manage_action.trigger()
    window.assistants.in_force_action.trigger()
    dialogs = (window.assistants.dialog, window.assistants.in_force_dialog)
    assert all(dialog is not None and dialog.isVisible() for dialog in dialogs)
    texts = [*shown_texts(window.assistant_picker)]
    for dialog in dialogs:
        assert dialog is not None
        texts.extend(shown_texts(dialog))
    models = {entry.shown_name for entry in ModelLibrary(paths.models_dir).models()}
    assert_translated(texts, data={*models, "You are a helpful assistant."})  # the default prompt: what the model reads
    assert_extracted(translator.asked)


def test_reproduce_compares_with_the_assistants_settings_and_names_it_in_the_details(qtbot, make_window) -> None:
    window = make_window()
    window.settings.current().sampling.seed = 99
    choose(window, "Writing tutor")
    send(qtbot, window, "Is my first line good?")
    *_, reply = window._store.thread(window.session.conversation_id or 0)
    window.show_reply_details(reply.id)
    dialog = window.details_dialog
    assert dialog is not None
    details = dialog.details.toPlainText()
    assert "Assistant: Writing tutor; system prompt: “You are a writing tutor" in details
    assert "temperature 0.5," in details
    dialog.reproduce_button.click()
    qtbot.waitUntil(lambda: not window.session.reproducing, timeout=5000)
    outcome = dialog.outcome.text()
    assert outcome.startswith("Reproduced: the text came out identical") and "then," not in outcome  # nothing changed since


def test_choosing_an_assistant_loads_its_preferred_model(qtbot, make_window, paths: AppPaths, smollm_path: Path,
                                                           synthetic_gguf, fake_backend: FakeBackend) -> None:
    ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
    ModelLibrary(paths.models_dir).add(Path(synthetic_gguf("Other-Tiny.Q4_1.gguf")), copy=False)
    window = make_window()
    first = window.loader.model_id
    other = next(e for e in ModelLibrary(paths.models_dir).models() if e.id != first)
    window.assistants.shelf.save(next(a for a in window.assistants.shelf.shelf.assistants if a.id == "translator")
                                 .as_users(model_id=other.id))
    qtbot.waitUntil(lambda: window.assistants.shelf.shelf.edited_built_in("translator"), timeout=5000)
    loads = fake_backend.loads
    choose(window, "Translator")
    qtbot.waitUntil(lambda: window.loader.ready and window.loader.model_id == other.id, timeout=5000)
    assert fake_backend.loads == loads + 1 and window.model_picker.currentData() == other.id
    send(qtbot, window, "Hola")
    conversation = window._store.conversation(window.session.conversation_id or 0)
    assert conversation is not None and conversation.model_id == other.id


def test_the_list_shows_the_conversations_of_one_assistant(qtbot, make_window) -> None:
    window = make_window()
    sidebar = window.sidebar
    send(qtbot, window, "Hello there.")  # the Plain helper's
    assert sidebar.assistant_filter.isHidden()  # one assistant alone: nothing to tell apart
    for name, text in (("Writing tutor", "Help me with my essay."), ("Summariser", "Cats sleep a lot.")):
        window.new_conversation()
        choose(window, name)
        send(qtbot, window, text)
    menu = sidebar.assistant_filter
    assert not menu.isHidden()
    assert [menu.itemText(i) for i in range(menu.count())] == ["All conversations", "Plain helper", "Summariser", "Writing tutor"]

    menu.setCurrentIndex(menu.findText("Writing tutor"))
    menu.activated.emit(menu.currentIndex())
    assert window.conversations.titles() == ["Help me with my essay."]
    assert menu.currentText() == "Writing tutor"  # the list was read again: the choice stays

    window.new_conversation()  # a chat with another assistant is never hidden by the filter
    choose(window, "Plain helper")
    send(qtbot, window, "One more question.")
    assert menu.currentText() == "All conversations"
    assert window.conversations.titles()[0] == "One more question."
    assert len(window.conversations.titles()) == 4
