"""Summarising the oldest messages of a conversation that outgrew the context (app/chat/summary.py),
on the fake backend: what is kept, what the next reply reads, and the plain refusals."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest

from app.backends.base import LoadOptions, ModelRef
from app.chat.export_html import conversation_html
from app.chat.export_markdown import conversation_markdown
from app.chat.reply import generate_reply
from app.chat.summary import SUMMARY_INTRO, NothingToSummarise, covered_count, is_summary, read_from_here, summarise_left_out
from app.config.settings import EngineSettings, Settings
from app.conversations.store import ConversationStore, Role
from app.platform.errors import HearthError
from tests.fakes import FakeBackend


@pytest.fixture
def backend() -> FakeBackend:
    backend = FakeBackend(reply_words=["Earlier", " they", " spoke", " of", " tides."])
    backend.load(ModelRef(path=Path("model.gguf")), LoadOptions(EngineSettings(context_length=2048)))
    return backend


def chat(store: ConversationStore, exchanges: int) -> tuple[int, list[int]]:
    """A conversation of `exchanges` questions and answers; its id and its message ids."""
    conversation = store.create_conversation("Long", system_prompt="Be brief.")
    ids: list[int] = []
    parent = None
    for i in range(exchanges):
        parent = store.add_message(conversation, parent, "user", f"question {i} " + "word " * 20)
        ids.append(parent)
        parent = store.add_message(conversation, parent, "assistant", f"answer {i} " + "word " * 20)
        ids.append(parent)
    return conversation, ids


def test_the_oldest_messages_are_summarised_into_a_message_of_their_own(backend: FakeBackend, store: ConversationStore) -> None:
    _conversation, ids = chat(store, 5)
    summary_id = summarise_left_out(backend, store, ids[-1], 4, "auto", threading.Event())
    assert summary_id is not None
    summary = store.message(summary_id)
    assert summary is not None and is_summary(summary) and summary.role == Role.SYSTEM
    assert summary.parent_id == ids[-1] and summary.content == "Earlier they spoke of tides."
    assert covered_count(summary) == 4
    asked = backend.requests[-1].turns[0].content
    assert "User: question 0" in asked and "Assistant: answer 1" in asked and "question 2" not in asked
    assert [m.id for m in store.path_to(summary_id)] == [*ids, summary_id]  # nothing deleted, the summary shown last


def test_the_next_reply_reads_the_summary_and_the_messages_it_does_not_cover(
    backend: FakeBackend, store: ConversationStore
) -> None:
    conversation, ids = chat(store, 5)
    summary_id = summarise_left_out(backend, store, ids[-1], 4, "auto", threading.Event())
    question = store.add_message(conversation, summary_id, "user", "And then?")
    generate_reply(backend, store, question, Settings(), "auto", threading.Event(), lambda _t: None, locked=())
    request = backend.requests[-1]
    assert request.system_prompt == f"Be brief.\n\n{SUMMARY_INTRO}\nEarlier they spoke of tides."
    assert [t.content.split()[:2] for t in request.turns] == [
        ["question", "2"], ["answer", "2"], ["question", "3"], ["answer", "3"], ["question", "4"], ["answer", "4"], ["And", "then?"],
    ]


def test_a_second_summary_carries_the_first_and_covers_from_where_it_ended(backend: FakeBackend, store: ConversationStore) -> None:
    conversation, ids = chat(store, 5)
    first = summarise_left_out(backend, store, ids[-1], 4, "auto", threading.Event())
    backend.reply_words = ["Tides,", " then", " storms."]
    second = summarise_left_out(backend, store, first, 2, "auto", threading.Event())
    assert second is not None and covered_count(store.message(second)) == 6  # type: ignore[arg-type]  # with the first's 4
    asked = backend.requests[-1].turns[0].content
    assert "Earlier they spoke of tides." in asked and "User: question 2" in asked and "question 3" not in asked
    question = store.add_message(conversation, second, "user", "Go on.")
    generate_reply(backend, store, question, Settings(), "auto", threading.Event(), lambda _t: None, locked=())
    request = backend.requests[-1]
    assert request.system_prompt.endswith("\nTides, then storms.") and "tides." not in request.system_prompt
    assert request.turns[0].content.startswith("question 3")


def test_a_long_stretch_is_summarised_in_parts(backend: FakeBackend, store: ConversationStore) -> None:
    backend.load(ModelRef(path=Path("model.gguf")), LoadOptions(EngineSettings(context_length=512)))
    _conversation, ids = chat(store, 20)
    progress: list[tuple[int, int]] = []
    summary_id = summarise_left_out(backend, store, ids[-1], 30, "auto", threading.Event(), lambda d, t: progress.append((d, t)))
    parts = progress[-1][1]
    assert parts > 1 and progress[-1] == (parts, parts)
    assert "Earlier they spoke of tides." in backend.requests[-1].turns[0].content  # the part before, carried on
    summary = store.message(summary_id) if summary_id is not None else None
    assert summary is not None and covered_count(summary) == 36  # more than the 30 left out: the room is small
    assert read_from_here(store.path_to(summary.id)).messages[0].content.startswith("question 18 ")


def test_nothing_left_out_and_a_base_model_are_refused_in_plain_words(backend: FakeBackend, store: ConversationStore) -> None:
    _conversation, ids = chat(store, 2)
    with pytest.raises(NothingToSummarise, match="Nothing is left out of this conversation yet"):
        summarise_left_out(backend, store, ids[-1], 0, "auto", threading.Event())
    backend._loaded = replace(backend._loaded, has_chat_template=False)  # type: ignore[arg-type]
    with pytest.raises(HearthError, match="not made for chat, so it cannot write a summary"):
        summarise_left_out(backend, store, ids[-1], 2, "auto", threading.Event())
    assert [m.id for m in store.path_to(ids[-1])] == ids  # nothing added


def test_stopped_keeps_nothing(backend: FakeBackend, store: ConversationStore) -> None:
    _conversation, ids = chat(store, 3)
    cancel = threading.Event()
    cancel.set()
    assert summarise_left_out(backend, store, ids[-1], 2, "auto", cancel) is None
    assert store.thread(store.message(ids[0]).conversation_id)[-1].id == ids[-1]  # type: ignore[union-attr]


def test_exports_name_a_summary_for_what_it_stands_for(backend: FakeBackend, store: ConversationStore) -> None:
    conversation, ids = chat(store, 3)
    summarise_left_out(backend, store, ids[-1], 2, "auto", threading.Event())
    markdown = conversation_markdown(store, conversation)
    assert "## Summary of the oldest 2 messages\n\nEarlier they spoke of tides.\n" in markdown
    assert "How this reply was written" not in markdown and "another version of Hearth" not in markdown
    page = conversation_html(store, conversation)
    assert '<div class="author">Summary of the oldest 2 messages</div>' in page


def test_a_part_the_model_wrote_nothing_for_keeps_nothing(backend: FakeBackend, store: ConversationStore) -> None:
    _conversation, ids = chat(store, 5)
    first = summarise_left_out(backend, store, ids[-1], 4, "auto", threading.Event())
    backend.reply_words = []
    with pytest.raises(HearthError, match="The model wrote no summary"):
        summarise_left_out(backend, store, first, 2, "auto", threading.Event())  # type: ignore[arg-type]
    assert store.path_to(first)[-1].id == first  # type: ignore[arg-type]


def test_a_copy_made_by_branching_reads_the_messages_its_summary_stood_for(
    backend: FakeBackend, store: ConversationStore
) -> None:
    _conversation, ids = chat(store, 5)
    summary_id = summarise_left_out(backend, store, ids[-1], 4, "auto", threading.Event())
    assert summary_id is not None
    copy = store.branch_to_new_conversation(summary_id, "Copy")
    path = store.thread(copy)
    assert is_summary(path[-1])  # copied, but its covered messages have new ids there
    read = read_from_here(path)
    assert read.summary == "" and read.messages[0].content.startswith("question 0 ")


def test_the_summary_also_covers_the_oldest_kept_messages_the_next_reply_would_leave_out(
    backend: FakeBackend, store: ConversationStore
) -> None:
    conversation, ids = chat(store, 8)  # 8 exchanges of 22 words a message
    reply = ids[-1]
    store.set_provenance(reply, {"system_prompt": "Be brief.", "sampling": {"max_tokens": 1024}})
    summary_id = summarise_left_out(backend, store, reply, 2, "auto", threading.Event())
    summary = store.message(summary_id) if summary_id is not None else None
    assert summary is not None
    # 2,048 - 1,024 for the reply - 256 for the summary - the rest: half of about 750 tokens
    # is 12 messages of 30: the summary covers 4, and the rest begins with a question.
    assert covered_count(summary) == 4
    read = read_from_here(store.path_to(summary.id))
    assert read.messages[0].content.startswith("question 2 ") and len(read.messages) == 12
    question = store.add_message(conversation, summary.id, "user", "And then?")
    generate_reply(backend, store, question, Settings(), "auto", threading.Event(), lambda _t: None, locked=())
    assert backend.requests[-1].turns[0].content.startswith("question 2 ")  # nothing left out after it
