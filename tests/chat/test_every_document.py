"""Going through every document: a note on each part of each file (map), then the answer
from the notes (combine), on a fake chat model that notes only what mentions overtime."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.backends.base import ChatRequest, LoadOptions, ModelRef, ReplyStats
from app.chat.every_document import go_through, looks_like_every_document, parts_of
from app.chat.grounding import DocumentGrounder, recorded_grounding
from app.chat.provenance import ModelFile
from app.chat.reply import generate_reply
from app.chat.reproduce import reproduce_reply
from app.config.settings import EngineSettings, SamplingSettings, Settings
from app.conversations.store import ConversationStore
from app.documents.index import DocumentIndex
from app.documents.indexer import Indexer
from tests.documents import made_documents
from tests.fakes import FakeBackend


class NoteTaker(FakeBackend):
    """Notes "Overtime: <the sentence>" on a part that mentions overtime, NOTHING on the
    others; the combined answer is its reply words."""

    def __init__(self, stop_after: int = 0, cancel: threading.Event | None = None) -> None:
        super().__init__()
        self.stop_after, self.cancel = stop_after, cancel

    def reply(self, request: ChatRequest, cancel: threading.Event, on_text: Callable[[str], None],
              on_started: Callable[[int], None], on_reading: Callable[[float], None] = lambda _fraction: None) -> ReplyStats:
        asked = request.turns[-1].content
        if "From this part alone" not in asked:
            return super().reply(request, cancel, on_text, on_started, on_reading)
        self.requests.append(request)
        on_started(0)
        found = [line for line in asked.split("\n") if "overtime" in line.lower() and "answer briefly" not in line]
        on_text(f"Overtime: {found[0].strip()}" if found else "NOTHING")
        if self.stop_after and len(self.requests) == self.stop_after and self.cancel is not None:
            self.cancel.set()
        return ReplyStats(1, 0, 1, 0.01, 100.0, 0.1, False, 0, "model", 1)


@pytest.fixture
def index(tmp_path: Path) -> Iterator[DocumentIndex]:
    folder = tmp_path / "policies"
    folder.mkdir()
    made_documents.write_pdf(folder / "handbook.pdf", ["Holidays are 25 days.", "Overtime is paid at time and a half."])
    (folder / "minutes.md").write_text("# Minutes\n\nThe canteen opens at noon.\n")
    (folder / "rota.md").write_text("# Rota\n\nNight shifts count as overtime after ten hours.\n")
    opened = DocumentIndex(tmp_path / "documents.sqlite3")
    collection = opened.create_collection("Policies")
    opened.add_source(collection, folder)
    assert Indexer(opened, None).run(collection).problems == []
    yield opened
    opened.close()


def loaded(backend: FakeBackend) -> FakeBackend:
    backend.load(ModelRef(path=Path("fake.gguf")), LoadOptions(EngineSettings()))
    return backend


def test_every_file_gets_a_note_and_those_that_say_something_are_the_sources(index: DocumentIndex) -> None:
    progress: list[tuple[int, int]] = []
    grounding = go_through(loaded(NoteTaker()), index, ["Policies"], "List every policy that mentions overtime",
                           SamplingSettings(), "auto", threading.Event(), lambda done, total: progress.append((done, total)), 1000)
    assert progress == [(0, 3), (1, 3), (2, 3), (3, 3)]
    assert [source.where for source in grounding.sources] == ["handbook.pdf, pages 1–2", "rota.md"]
    assert grounding.notes == ("Overtime: Overtime is paid at time and a half.", "Overtime: Night shifts count as overtime after ten hours.")
    assert grounding.every_document and grounding.sources[0].words == ("overtime",)
    asked = grounding.question("List every policy that mentions overtime")
    assert "[1] (handbook.pdf, pages 1–2)\nOvertime: Overtime is paid at time and a half.\n\n[2] (rota.md)\nOvertime: Night shifts" in asked
    assert asked.endswith("Question: List every policy that mentions overtime")


def test_the_answer_keeps_its_notes_and_reproduce_answers_from_them_again(store: ConversationStore, index: DocumentIndex) -> None:
    conversation = store.create_conversation("Overtime")
    store.set_attached_documents(conversation, ["Policies"])
    question = store.add_message(conversation, None, "user", "List every policy that mentions overtime")
    backend = loaded(NoteTaker())
    settings = Settings()
    settings.sampling.seed = 3
    model = ModelFile("fake.gguf", 10, "cd" * 32)
    result = generate_reply(backend, store, question, settings, "auto", threading.Event(), lambda _text: None, locked=(),
                            model_file=model, documents=DocumentGrounder(lambda: index, lambda _collection: None),
                            every_document=True)
    recorded = recorded_grounding(store.message(result.message_id).provenance)  # type: ignore[union-attr]
    assert recorded is not None and recorded.every_document and len(recorded.notes) == 2
    final = backend.requests[-1].turns[-1].content
    assert final.startswith("I went through each of my documents") and "[2] (rota.md)" in final
    outcome = reproduce_reply(backend, store, result.message_id, model, settings, "auto", threading.Event(), locked=())
    assert outcome.identical and backend.requests[-1].turns[-1].content == final


def test_stop_while_going_through_keeps_the_notes_so_far(index: DocumentIndex) -> None:
    cancel = threading.Event()
    grounding = go_through(loaded(NoteTaker(stop_after=1, cancel=cancel)), index, ["Policies"], "Summarise each policy",
                           SamplingSettings(), "auto", cancel, lambda done, total: None, 1000)
    assert [source.where for source in grounding.sources] == ["handbook.pdf, pages 1–2"]


def test_a_long_file_is_read_in_parts_that_fit_the_budget(index: DocumentIndex) -> None:
    collection = index.collection("Policies")
    def words(text: str) -> int:
        return len(text.split())

    parts = parts_of([collection], index, 6, words)
    assert [(part.chunks[0].path.name, [chunk.number for chunk in part.chunks]) for part in parts] == [
        ("handbook.pdf", [1]), ("handbook.pdf", [2]), ("minutes.md", [0]), ("rota.md", [0]),  # each page alone
    ]
    assert [len(part.chunks) for part in parts_of([collection], index, 1000, words)] == [2, 1, 1]  # a whole file in one part


@pytest.mark.parametrize(("question", "whole"), [
    ("List every policy that mentions overtime", True), ("Summarise each chapter", True),
    ("What do all the letters say about trips?", True), ("When does the coach leave?", False),
    ("What is the overtime rate?", False),
])
def test_questions_about_the_whole_collection_are_recognised(question: str, whole: bool) -> None:
    assert looks_like_every_document(question) is whole


def test_notes_that_do_not_fit_the_context_are_left_out_and_counted(tmp_path: Path) -> None:
    folder = tmp_path / "rotas"
    folder.mkdir()
    for number in range(60):
        (folder / f"rota{number:02}.md").write_text(f"# Rota {number}\n\nShift {number} counts as overtime after ten hours.\n")
    index = DocumentIndex(tmp_path / "documents.sqlite3")
    collection = index.create_collection("Rotas")
    index.add_source(collection, folder)
    Indexer(index, None).run(collection)
    backend = loaded(NoteTaker())
    grounding = go_through(backend, index, ["Rotas"], "List every rota that mentions overtime", SamplingSettings(), "auto",
                           threading.Event(), lambda done, total: None, 500)
    index.close()
    assert 0 < len(grounding.sources) < 60 and grounding.left_out == 60 - len(grounding.sources)
    assert backend.count_tokens(grounding.question("List every rota that mentions overtime")) <= 500


def test_stop_while_going_through_saves_a_stopped_reply_with_the_notes_so_far(store: ConversationStore, index: DocumentIndex) -> None:
    conversation = store.create_conversation("Overtime")
    store.set_attached_documents(conversation, ["Policies"])
    question = store.add_message(conversation, None, "user", "List every policy that mentions overtime")
    cancel = threading.Event()
    backend = loaded(NoteTaker(stop_after=1, cancel=cancel))
    started: list[int] = []
    result = generate_reply(backend, store, question, Settings(), "auto", cancel, lambda _text: None,
                            lambda message_id, _omitted: started.append(message_id), locked=(),
                            documents=DocumentGrounder(lambda: index, lambda _collection: None), every_document=True)
    saved = store.message(result.message_id)
    assert saved is not None and saved.status == "stopped" and saved.content == "" and started == [result.message_id]
    recorded = recorded_grounding(saved.provenance)
    assert recorded is not None and [source.where for source in recorded.sources] == ["handbook.pdf, pages 1–2"]
    assert recorded.notes == ("Overtime: Overtime is paid at time and a half.",)
    assert not any("I went through" in request.turns[-1].content for request in backend.requests)  # no answer was asked for
