"""The conversation list in the window, on the fake backend: delete and undo, the Trash,
pins, date headings and generated titles."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import Qt

from app.config.policy import Policy
from app.conversations.store import TRASH_DAYS, SqliteConversationStore
from app.gui.app import create_window
from app.gui.item_models.conversation_list import ConversationIdRole, ConversationListModel, IsHeadingRole
from app.gui.main_window import MainWindow
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from app.platform.saved_states import state_files
from tests.backends.test_kv_store import folder, save
from tests.fakes import FakeBackend, FakeBackendFactory
from tests.gguf_factory import MakeGguf
from tests.gui.waits import reply_shown, thread_shown


@pytest.fixture
def open_window(qtbot, paths: AppPaths, synthetic_gguf: MakeGguf, fake_factory: FakeBackendFactory) -> Iterator[type[MainWindow]]:
    ModelLibrary(paths.models_dir).add(synthetic_gguf("SmolLM2-synthetic.Q4_1.gguf"), copy=False)
    paths.settings_file.write_text(json.dumps({"library": {"hub_endpoint": "http://127.0.0.1:9"}}))
    made: list[MainWindow] = []

    def make() -> MainWindow:
        window = create_window(paths, fake_factory)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.session.can_reply, timeout=5000)
        made.append(window)
        return window

    yield make  # type: ignore[misc]
    for window in made:
        if window.isVisible():
            window.close()


def saved_states(paths: AppPaths, *conversation_ids: int) -> list[str]:
    """Give each conversation a saved KV state (as the engine writes them); their keys."""
    store = SqliteConversationStore(paths.database)
    keys = [conversation.uuid for id_ in conversation_ids if (conversation := store.conversation(id_)) is not None]
    store.close()
    assert len(keys) == len(conversation_ids)
    for key in keys:
        save(folder(paths.kv_states), key, [1, 2, 3])
    return keys


def state_kept(paths: AppPaths, key: str) -> bool:
    return any(path.exists() for path in state_files(paths.kv_states, key))


def send(qtbot, window: MainWindow, text: str, new: bool = True) -> int:
    if new:
        window.new_conversation()
    assert window.session.send(text)
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)
    assert window.session.conversation_id is not None
    return window.session.conversation_id


def test_a_deleted_conversation_comes_back_with_undo(qtbot, open_window) -> None:
    window = open_window()
    first = send(qtbot, window, "Where is the lighthouse?")
    second = send(qtbot, window, "How tall is it?")
    window.delete_conversation()
    bar = window.sidebar.undo_bar
    assert bar.isVisible() and bar.text.text() == "“How tall is it?” moved to Trash."
    assert window.conversations.titles() == ["Where is the lighthouse?"]
    qtbot.waitUntil(lambda: window.session.conversation_id == first and thread_shown(window), timeout=5000)

    qtbot.mouseClick(bar.undo_button, Qt.MouseButton.LeftButton)
    assert not bar.isVisible()
    assert window.conversations.titles() == ["How tall is it?", "Where is the lighthouse?"]
    qtbot.waitUntil(lambda: window.session.conversation_id == second and thread_shown(window), timeout=5000)
    assert "How tall is it?" in window.chat_view.toPlainText()
    assert window.sidebar.conversation_list.currentIndex().data() == "How tall is it?"


def test_ctrl_z_undoes_a_delete_from_the_list(qtbot, open_window) -> None:
    window = open_window()
    kept = send(qtbot, window, "Where is the lighthouse?")
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5000)  # a window's shortcuts work while it is active
    window.sidebar.conversation_list.setFocus()
    qtbot.keyClick(window.sidebar.conversation_list, Qt.Key.Key_Delete)
    assert window.conversations.titles() == [] and window.sidebar.undo_bar.isVisible()
    qtbot.keyClick(window.sidebar.conversation_list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert window.conversations.titles() == ["Where is the lighthouse?"]
    qtbot.waitUntil(lambda: window.session.conversation_id == kept and thread_shown(window), timeout=5000)
    assert "Where is the lighthouse?" in window.chat_view.toPlainText()


def test_the_trash_restores_and_deletes_forever(qtbot, open_window, paths: AppPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    window = open_window()
    restored = send(qtbot, window, "Keep this one")
    window.delete_conversation()
    forgotten = send(qtbot, window, "Forget this one")
    window.delete_conversation()
    kept_key, forgotten_key = saved_states(paths, restored, forgotten)
    window.sidebar.trash_button.click()
    trash = window.trash.dialog
    assert trash is not None and trash.isVisible()
    qtbot.waitUntil(lambda: trash.items.count() == 2, timeout=5000)
    assert [trash.items.item(row).text().split(" · ")[0] for row in range(2)] == ["Forget this one", "Keep this one"]

    trash.items.setCurrentRow(1)
    with qtbot.waitSignal(trash.loaded, timeout=5000):
        trash.restore_button.click()
    assert window.conversations.titles() == ["Keep this one"]
    qtbot.waitUntil(lambda: window.session.conversation_id == restored and thread_shown(window), timeout=5000)
    assert "Keep this one" in window.chat_view.toPlainText()
    assert trash.items.count() == 1
    assert state_kept(paths, forgotten_key)  # in the Trash it keeps its state: it may come back

    asked: list[str] = []
    monkeypatch.setattr("app.gui.trash_dialog.confirm", lambda parent, title, text, action: asked.append(text) or True)
    trash.items.setCurrentRow(0)
    with qtbot.waitSignal(trash.loaded, timeout=5000):
        trash.delete_button.click()
    qtbot.waitUntil(lambda: trash.empty.isVisible(), timeout=5000)
    assert asked == ["Delete “Forget this one” and all its messages for good? This cannot be undone."]
    assert trash.empty.text() == "The Trash is empty."
    store = SqliteConversationStore(paths.database)
    assert store.trashed_conversations() == [] and [c.title for c in store.list_conversations()] == ["Keep this one"]
    store.close()
    assert not state_kept(paths, forgotten_key) and state_kept(paths, kept_key)  # its text is not left on disk


def test_a_pinned_conversation_moves_under_pinned(qtbot, open_window) -> None:
    window = open_window()
    older = send(qtbot, window, "Older question")
    send(qtbot, window, "Newer question")
    window.session.open(older)
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    pin = window.sidebar.pin_action
    assert pin in window.sidebar.actions() and window.rename_action in window.sidebar.actions()  # the right-click menu
    assert pin.isEnabled() and not pin.isChecked() and pin.shortcut().toString() == "Ctrl+Shift+P"
    pin.trigger()
    model = window.conversations
    assert [model.index(row, 0).data() for row in range(model.rowCount())] == ["Pinned", "Older question", "Today", "Newer question"]
    assert pin.isChecked()
    assert window.sidebar.conversation_list.currentIndex().data() == "Older question"
    pin.trigger()
    assert model.titles() == ["Newer question", "Older question"] and not pin.isChecked()


def test_the_headings_are_not_selectable_and_the_keyboard_skips_them(qtbot, open_window, paths: AppPaths) -> None:
    now = datetime.now()
    store = SqliteConversationStore(paths.database)
    for title, when in (("Last month's", now - timedelta(days=20)), ("Yesterday's", now - timedelta(days=1)), ("Today's", now)):
        store._clock = when.timestamp
        store.create_conversation(title)
    store.close()
    window = open_window()
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    model, view = window.conversations, window.sidebar.conversation_list
    shown = [(model.index(row, 0).data(), model.index(row, 0).data(IsHeadingRole)) for row in range(model.rowCount())]
    assert shown == [("Today", True), ("Today's", False), ("Yesterday", True), ("Yesterday's", False),
                     ("Previous 30 days", True), ("Last month's", False)]
    heading = model.index(2, 0)
    assert not model.flags(heading) & (Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(heading).center())
    assert view.currentIndex().data() == "Today's" and not view.selectionModel().isSelected(heading)

    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.currentIndex().data() == "Yesterday's"
    qtbot.waitUntil(lambda: window.session.conversation_id == view.currentIndex().data(ConversationIdRole), timeout=5000)
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert view.currentIndex().data() == "Last month's"
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert view.currentIndex().data() == "Today's"
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert view.currentIndex().data() == "Last month's"
    qtbot.keyClick(view, Qt.Key.Key_Up)
    assert view.currentIndex().data() == "Yesterday's"


def test_the_list_model_names_months_and_passes_the_model_tester(qtmodeltester, paths: AppPaths) -> None:
    store = SqliteConversationStore(paths.database)
    store._clock = datetime(2026, 9, 14, 12, 0).timestamp
    store.create_conversation("In September")
    model = ConversationListModel(store, today=lambda: datetime(2026, 12, 2).date())
    qtmodeltester.check(model)
    assert model.index(0, 0).data() == "September 2026" and model.titles() == ["In September"]
    store.close()


def test_the_first_reply_brings_a_generated_title(qtbot, open_window, fake_backend: FakeBackend) -> None:
    fake_backend.title = "Title: “Lighthouse keeping.”"
    window = open_window()
    first = send(qtbot, window, "Who kept the lighthouse on the cape?")
    qtbot.waitUntil(lambda: window.conversations.titles() == ["Lighthouse keeping"], timeout=5000)
    assert window.sidebar.conversation_list.currentIndex().data() == "Lighthouse keeping"
    fake_backend.title = "Something else"
    send(qtbot, window, "And who keeps it now?", new=False)  # not the first reply: not retitled
    window.session.rename("My notes")
    qtbot.waitUntil(lambda: window.conversations.titles() == ["My notes"], timeout=5000)
    assert window.session.conversation_id == first


def test_the_trash_is_emptied_of_old_conversations_at_start(qtbot, open_window, paths: AppPaths) -> None:
    store = SqliteConversationStore(paths.database)
    store._clock = (datetime.now() - timedelta(days=TRASH_DAYS + 1)).timestamp
    old = store.create_conversation("Long gone")
    store.delete_conversation(old)
    store._clock = time.time
    recent = store.create_conversation("Just deleted")
    store.delete_conversation(recent)
    store.close()
    old_key, recent_key = saved_states(paths, old, recent)
    window = open_window()
    reader = SqliteConversationStore(paths.database)
    qtbot.waitUntil(lambda: [t.title for t in reader.trashed_conversations()] == ["Just deleted"], timeout=5000)
    reader.close()
    qtbot.waitUntil(lambda: not state_kept(paths, old_key), timeout=5000)
    assert state_kept(paths, recent_key)
    assert window.conversations.titles() == []


def test_saved_states_turned_off_are_deleted_at_start_and_when_changed(qtbot, open_window, paths: AppPaths) -> None:
    store = SqliteConversationStore(paths.database)
    first, second = store.create_conversation("First"), store.create_conversation("Second")
    store.close()
    first_key, second_key = saved_states(paths, first, second)
    window = open_window()
    qtbot.wait(200)
    assert state_kept(paths, first_key) and state_kept(paths, second_key)  # on: kept
    chosen = copy.deepcopy(window.settings.current())
    chosen.engine.saved_state_mb = 0
    window.settings.edited(chosen)
    qtbot.waitUntil(lambda: not list(paths.kv_states.iterdir()), timeout=5000)
    window.close()

    saved_states(paths, first)
    open_window()  # the settings file says 0 now
    qtbot.waitUntil(lambda: not list(paths.kv_states.iterdir()), timeout=5000)


def test_a_conversation_being_answered_cannot_be_deleted(qtbot, open_window, fake_backend: FakeBackend) -> None:
    fake_backend.delay = 0.05
    window = open_window()
    window.new_conversation()
    assert window.session.send("A slow answer, please")
    assert window.session.busy and not window.delete_action.isEnabled()
    window.delete_conversation()
    assert window.conversations.titles() == ["A slow answer, please"] and not window.sidebar.undo_bar.isVisible()
    window.session.stop()
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)




def test_asking_for_a_reply_makes_a_title_give_way(qtbot, open_window, paths: AppPaths, synthetic_gguf: MakeGguf) -> None:
    """The title is queued on the worker after the first reply; a reply asked for meanwhile
    sets `title_cancel` at once, and a title still waiting is then skipped."""
    from app.chat.titles import TitleRequest
    from app.config.settings import Settings
    from app.gui.workers.inference_worker import InferenceWorker

    window = open_window()
    window._worker.title_cancel.clear()
    window.new_conversation()
    assert window.session.send("Who kept the lighthouse?")
    assert window._worker.title_cancel.is_set()
    qtbot.waitUntil(lambda: reply_shown(window), timeout=5000)

    backend = FakeBackend()
    backend.title = "Lighthouse keeping"
    worker = InferenceWorker(paths, FakeBackendFactory(backend), Policy())  # its slots called here, on this thread
    worker.wanted_load = 1
    worker.load_model(1, str(synthetic_gguf("Other.Q4_1.gguf")), Settings(), False)
    reply = window._store.thread(window.session.conversation_id)[-1]
    titled: list[str] = []
    worker.titled.connect(lambda _reply, title: titled.append(title))
    worker.title_cancel.set()
    worker.write_title(TitleRequest(reply.id, "auto"))
    assert titled == [] and backend.requests == []
    worker.title_cancel.clear()
    worker.write_title(TitleRequest(reply.id, "auto"))
    assert titled == ["Lighthouse keeping"]
    worker.shutdown()
