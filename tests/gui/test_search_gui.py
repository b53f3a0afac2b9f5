"""Finding anything from the sidebar: Ctrl+K, typing, the hits with their words in bold,
opening one at its message, Esc back to the list. The search runs on the store reader's
thread and an answer to an earlier text is never shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QApplication

from app.backends.llama.factory import LlamaBackendFactory
from app.config.settings import Settings, save_settings
from app.conversations.search import MATCH_END, MATCH_START, SearchHit
from app.conversations.store import Role, SqliteConversationStore
from app.gui.app import create_window
from app.gui.controllers.history_search import HistorySearch
from app.gui.item_models.search_hits import HitHtmlRole, HitRole, SearchHitsModel
from app.gui.main_window import MainWindow
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.fakes import FakeBackendFactory
from tests.gui.waits import thread_shown


@pytest.fixture
def history(paths: AppPaths) -> dict[str, int]:
    """Two conversations that mention lighthouses, one of them long, the mention halfway
    through it; a third with a branch."""
    store = SqliteConversationStore(paths.database)
    long_chat = store.create_conversation("Sailing plans")
    parent = None
    ids: dict[str, int] = {"long": long_chat}
    for turn in range(40):
        text = "Is there a lighthouse on the <b>cape</b>? <img src=x>" if turn == 20 else f"Turn {turn} about knots and tides.\n\n" * 3
        parent = store.add_message(long_chat, parent, Role.USER if turn % 2 == 0 else Role.ASSISTANT, text)
        if turn == 20:
            ids["mention"] = parent
    short_chat = store.create_conversation("Lighthouse keepers")
    store.add_message(short_chat, None, Role.USER, "Who kept the lighthouse?")
    ids["short"] = short_chat
    branched = store.create_conversation("Soup")
    question = store.add_message(branched, None, Role.USER, "A soup recipe?")
    ids["first_answer"] = store.add_message(branched, question, Role.ASSISTANT, "Leek and potato soup.")
    store.add_message(branched, question, Role.ASSISTANT, "Tomato soup.")
    ids["branched"] = branched
    store.close()
    return ids


@pytest.fixture
def window(qtbot, paths: AppPaths, smollm_path: Path, fake_factory: FakeBackendFactory, history: dict[str, int]):
    ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
    window = create_window(paths, fake_factory)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: thread_shown(window), timeout=5000)
    yield window
    window.close()


def search_for(qtbot, window: MainWindow, text: str) -> None:
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.sidebar.search_field.hasFocus()
    if text.isascii():
        qtbot.keyClicks(window.sidebar.search_field, text)
    else:  # QTest aborts on a character outside the BMP; this is what typing it does
        window.sidebar.search_field.insert(text)
    qtbot.waitUntil(lambda: window.sidebar.hits_view.isVisible() or window.sidebar.no_hits.isVisible(), timeout=5000)


def shown_hits(window: MainWindow) -> list[str]:
    hits = window.sidebar.hits
    return [hits.index(row, 0).data(HitHtmlRole) for row in range(hits.rowCount())]


def test_typing_shows_hits_with_the_words_in_bold_instead_of_the_list(qtbot, window: MainWindow) -> None:
    assert window.sidebar.conversation_list.isVisible()
    search_for(qtbot, window, "lighthou")
    assert not window.sidebar.conversation_list.isVisible()
    hits = shown_hits(window)
    assert len(hits) == 3  # the title first, then the messages, newest first
    assert hits[0].startswith("<b>Lighthouse</b> keepers") and "Conversation title" in hits[0]
    assert "Who kept the <b>lighthouse</b>?" in hits[1] and "Lighthouse keepers" in hits[1]
    # What a message holds is text, never markup: only the match markers become bold.
    assert "Is there a <b>lighthouse</b> on the &lt;b&gt;cape&lt;/b&gt;? &lt;img src=x&gt;" in hits[2]
    assert "You:" in hits[2] and "Sailing plans" in hits[2]


def test_choosing_a_hit_opens_its_conversation_at_that_message(qtbot, window: MainWindow, history: dict[str, int]) -> None:
    search_for(qtbot, window, "lighthouse cape")
    assert window.sidebar.hits.rowCount() == 1
    assert window.session.conversation_id != history["long"]
    rect = window.sidebar.hits_view.visualRect(window.sidebar.hits.index(0, 0))
    qtbot.mouseClick(window.sidebar.hits_view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.session.conversation_id == history["long"] and thread_shown(window), timeout=5000)
    view = window.chat_view
    bar = view.verticalScrollBar()
    assert 0 < bar.value() < bar.maximum()  # not at the end, where a conversation opens
    top = view.cursorForPosition(view.viewport().rect().topLeft())
    visible = view.toPlainText()[top.position():top.position() + 400]
    assert "lighthouse on the <b>cape</b>?" in visible
    assert window.sidebar.hits_view.isVisible()  # the other hits stay to be looked at


def test_a_hit_on_a_branch_not_shown_shows_that_branch(qtbot, window: MainWindow, history: dict[str, int]) -> None:
    search_for(qtbot, window, "leek")
    qtbot.keyClick(window.sidebar.search_field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.conversation_id == history["branched"] and thread_shown(window), timeout=5000)
    text = window.chat_view.toPlainText()
    assert "Leek and potato soup." in text and "Tomato soup." not in text and "1/2" in text


def test_keyboard_down_and_enter_open_a_hit_and_esc_brings_the_list_back(qtbot, window: MainWindow, history: dict[str, int]) -> None:
    search_for(qtbot, window, "keepers")
    qtbot.keyClick(window.sidebar.search_field, Qt.Key.Key_Down)
    assert window.sidebar.hits_view.hasFocus()
    qtbot.keyClick(window.sidebar.hits_view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.conversation_id == history["short"] and thread_shown(window), timeout=5000)
    window.sidebar.search_field.setFocus()
    qtbot.keyClick(window.sidebar.search_field, Qt.Key.Key_Escape)
    assert window.sidebar.search_field.text() == ""
    assert window.sidebar.conversation_list.isVisible() and not window.sidebar.hits_view.isVisible()
    assert window.sidebar.conversation_list.currentIndex().data() == "Lighthouse keepers"


@pytest.mark.parametrize("text", ['"NEAR(', "-*^:", "AND OR NOT", "🙂", "zebra"])
def test_fts_syntax_or_nothing_found_says_so_plainly(qtbot, window: MainWindow, text: str) -> None:
    search_for(qtbot, window, text)
    assert window.sidebar.no_hits.isVisible() and not window.sidebar.hits_view.isVisible()
    assert window.sidebar.no_hits.text() == f"No conversation mentions “{text}”."


def test_the_search_runs_on_the_reader_thread_and_only_the_latest_answer_shows(
    qtbot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[QThread] = []
    search = SqliteConversationStore.search

    def recording(store: SqliteConversationStore, text: str, limit: int = 50, offset: int = 0):  # type: ignore[no-untyped-def]
        threads.append(QThread.currentThread())
        return search(store, text, limit, offset)

    monkeypatch.setattr(SqliteConversationStore, "search", recording)
    searcher = HistorySearch(window._reader)
    answers: list[str] = []
    searcher.found.connect(lambda text, hits: answers.append(text))
    searcher.find("soup")
    searcher.find("tides")  # typed on before the first answer came
    qtbot.waitUntil(lambda: answers != [], timeout=5000)
    qtbot.wait(50)
    assert answers == ["tides"]
    assert 1 <= len(threads) <= 2, "the first search is skipped, unless it had begun already"
    assert all(thread is not QApplication.instance().thread() for thread in threads)


@pytest.mark.real_model
def test_a_reply_the_real_model_wrote_is_found_once_it_ends(qtbot, paths: AppPaths, smollm_path: Path) -> None:
    """The reply is saved while it streams (not indexed yet) and then as it ends: the
    words the model wrote are what the search finds."""
    ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
    settings = Settings()
    settings.sampling.max_tokens = 60
    settings.sampling.seed = 3
    save_settings(settings, paths.settings_file)
    window = create_window(paths, LlamaBackendFactory())
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.loader.ready, timeout=60_000)
    window.composer.setPlainText("Describe a lighthouse in two sentences.")
    qtbot.keyClick(window.composer, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.session.busy and not window.session.reading and not window.chat_view.finishing, timeout=120_000)
    store = SqliteConversationStore(paths.database)
    reply = store.thread(store.list_conversations()[0].id)[-1]
    store.close()
    assert reply.role == Role.ASSISTANT
    word = max(re.findall(r"[^\W\d_]{5,}", reply.content), key=len)
    search_for(qtbot, window, word)
    hits = window.sidebar.hits
    assert reply.id in [hits.index(row, 0).data(HitRole).message_id for row in range(hits.rowCount())]
    window.close()


def test_the_hits_model_is_a_well_behaved_item_model(qtmodeltester) -> None:
    model = SearchHitsModel()
    model.show_hits([
        SearchHit(1, "Trip", None, None, f"{MATCH_START}Trip{MATCH_END}", 1.0),
        SearchHit(1, "Trip", 7, Role.ASSISTANT, f"the {MATCH_START}trip{MATCH_END} & <more>", 2.0),
    ])
    qtmodeltester.check(model)
    assert model.index(1, 0).data() == "the trip & <more>"
    assert model.index(1, 0).data(HitHtmlRole).endswith("the <b>trip</b> &amp; &lt;more&gt;")


def test_the_hits_follow_a_rename_and_a_delete(qtbot, window: MainWindow, history: dict[str, int], monkeypatch) -> None:
    search_for(qtbot, window, "keepers")
    qtbot.keyClick(window.sidebar.search_field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.session.conversation_id == history["short"] and thread_shown(window), timeout=5000)
    monkeypatch.setattr("app.gui.main_window.QInputDialog.getText", lambda *a, **k: ("Lamp keepers", True))
    window.rename_conversation()
    qtbot.waitUntil(lambda: shown_hits(window)[0].startswith("Lamp <b>keepers</b>"), timeout=5000)
    monkeypatch.setattr(window, "confirm", lambda *a: True)
    window.delete_conversation()
    qtbot.waitUntil(lambda: window.sidebar.no_hits.isVisible(), timeout=5000)
    assert window.sidebar.no_hits.text() == "No conversation mentions “keepers”."


def test_a_snippet_reads_as_text_not_markdown() -> None:
    from app.conversations.search import MATCH_END, MATCH_START
    from app.gui.item_models.search_hits import marked_html

    snippet = f"A **{MATCH_START}lentil{MATCH_END} soup**:\n\n- 2 kg\n```text\nSimmer `40` minutes.\n```\n# Done"
    assert marked_html(snippet) == "A <b>lentil</b> soup: 2 kg Simmer 40 minutes. Done"
    assert marked_html("<script>x</script>") == "&lt;script&gt;x&lt;/script&gt;"


def test_a_search_nobody_waits_for_any_more_is_skipped(qtbot, paths: AppPaths) -> None:
    """Typing on queues a search per pause: only the newest is run, so a read waits behind none."""
    from app.gui.workers.store_reader import StoreReader

    paths.ensure()
    reader = StoreReader(paths)  # its slots called here, on this thread
    answered: list[int] = []
    reader.searched.connect(lambda request_id, _text, _hits: answered.append(request_id))
    reader.wanted_search = 2
    reader.search(1, "soup", 10)
    reader.search(2, "soup", 10)
    assert answered == [2]
