"""Exports a person reads: Markdown and one self-contained HTML page of the shown thread."""

from __future__ import annotations

import json
import re
from pathlib import Path

from app.backends.base import LoadOptions, ModelRef
from app.chat.export import ALL_CONVERSATIONS_FILE, ExportFormat, export_to_folder
from app.config.settings import EngineSettings
from app.conversations.store import ConversationStore, SqliteConversationStore, Status
from tests.chat.test_provenance import answer, settings
from tests.fakes import FakeBackend


def conversation(store: ConversationStore) -> int:
    chat = store.create_conversation("Scripts <b>bold</b>", system_prompt="Answer in code.")
    question = store.add_message(chat, None, "user", "Show me <script>alert(1)</script> and ![cat](http://example.org/cat.png)")
    store.add_message(chat, question, "assistant", "First try")
    store.add_message(chat, question, "assistant", "**Second**\n\n```python\nprint(1 < 2)\n```", status=Status.STOPPED)
    return chat


def test_markdown_shows_the_thread_under_role_headings_and_notes_other_branches(tmp_path: Path) -> None:
    store = SqliteConversationStore(Path(":memory:"))
    chat = conversation(store)
    [path] = export_to_folder(store, ExportFormat.MARKDOWN, [chat], tmp_path)
    text = path.read_text(encoding="utf-8")
    assert path.name == f"Scripts _b_bold_b_ ({store.conversation(chat).uuid[:8]}).md"  # type: ignore[union-attr]
    assert text.startswith("# Scripts <b>bold</b>\n")
    assert "> Answer in code." in text
    assert text.index("## You") < text.index("## Assistant") < text.index("**Second**")
    assert "First try" not in text  # another branch: only mentioned
    assert "Version 2 of 2: the other versions are in Hearth's JSON export." in text
    assert "*Stopped*" in text


def test_html_is_one_page_that_loads_nothing_and_escapes_the_messages(tmp_path: Path) -> None:
    store = SqliteConversationStore(Path(":memory:"))
    chat = conversation(store)
    [path] = export_to_folder(store, ExportFormat.HTML, [chat], tmp_path)
    page = path.read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<title>Scripts &lt;b&gt;bold&lt;/b&gt;</title>" in page
    assert not re.search(r"<(img|link|iframe|object)\b|\ssrc=|@import|url\(", page)
    assert "[image: cat]" in page  # a link to the picture, never the picture
    assert "<strong>Second</strong>" in page and "hearth-copy-code" not in page
    assert "Version 2 of 2" in page and "Stopped" in page


def test_a_second_export_to_the_same_folder_never_replaces_the_first(tmp_path: Path) -> None:
    store = SqliteConversationStore(Path(":memory:"))
    chats = [conversation(store), conversation(store)]
    first = export_to_folder(store, ExportFormat.JSON, chats, tmp_path)
    second = export_to_folder(store, ExportFormat.JSON, chats, tmp_path)
    assert [p.name for p in first + second] == [ALL_CONVERSATIONS_FILE, "hearth-conversations 2.json"]
    assert len(json.loads(first[0].read_text())["conversations"]) == 2
    assert {p.name for p in tmp_path.iterdir()} == {ALL_CONVERSATIONS_FILE, "hearth-conversations 2.json"}


def test_markdown_and_html_say_under_each_reply_what_wrote_it(tmp_path: Path) -> None:
    store = SqliteConversationStore(Path(":memory:"))
    backend = FakeBackend()
    backend.load(ModelRef(path=Path("smollm2-135m-instruct-q4_1.gguf")), LoadOptions(EngineSettings()))
    reply = answer(backend, store, settings(temperature=0.7, seed=1234567))
    [markdown] = export_to_folder(store, ExportFormat.MARKDOWN, [reply.conversation_id], tmp_path)
    [page] = export_to_folder(store, ExportFormat.HTML, [reply.conversation_id], tmp_path)
    text = markdown.read_text(encoding="utf-8")
    assert "> How this reply was written:\n> - Written by Fake model (Q4_0; file smollm2-135m-instruct-q4_1.gguf" in text
    assert "> - Seed: 1234567 (set in Settings)." in text
    html_text = page.read_text(encoding="utf-8")
    assert "<summary>How this reply was written</summary>" in html_text
    assert "<li>Seed: 1234567 (set in Settings).</li>" in html_text
    assert text.count("How this reply was written") == 1  # the question has no record
