"""Answers from the attached documents, on the fake chat model and the word embedder: the
passages the model reads, the numbered sources kept with the reply, small collections read
whole, and Reproduce reading the same passages again."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.backends.base import LoadOptions, ModelRef
from app.chat import grounding as grounding_module
from app.chat.grounding import DocumentGrounder, Source, grounded_question, passage_count, sources_of
from app.chat.provenance import ModelFile
from app.chat.reply import generate_reply
from app.chat.reproduce import reproduce_reply
from app.config.settings import EngineSettings, Settings
from app.conversations.store import ConversationStore
from app.documents import blocks as blocks_module
from app.documents.blocks import PlaceKind
from app.documents.index import Collection, DocumentIndex
from app.documents.indexer import Indexer
from app.documents.retrieve import Retriever
from tests.documents import made_documents
from tests.documents.word_embedder import word_embedder
from tests.fakes import FakeBackend


@pytest.fixture
def index(tmp_path: Path) -> Iterator[DocumentIndex]:
    opened = DocumentIndex(tmp_path / "documents.sqlite3")
    yield opened
    opened.close()


def indexed(index: DocumentIndex, name: str, folder: Path) -> Collection:
    embedder, _counter = word_embedder()
    collection = index.use_embedder(index.create_collection(name), embedder.identity, 64)
    index.add_source(collection, folder)
    outcome = Indexer(index, embedder).run(collection)
    assert outcome.problems == []
    return index.collection(name)


def grounder(index: DocumentIndex) -> DocumentGrounder:
    embedder, _counter = word_embedder()
    return DocumentGrounder(lambda: index, lambda collection: embedder if collection.embedder == embedder.identity else None)


@pytest.fixture
def trip(tmp_path: Path) -> Path:
    folder = tmp_path / "trip"
    folder.mkdir()
    made_documents.write_pdf(folder / "trip.pdf", ["Permission forms are due.", "Packing list: boots.", "The coach leaves Dover at 7:15 on Monday."])
    return folder


@pytest.fixture
def big_folder(tmp_path: Path) -> Path:
    """A collection too long to read whole: many pages of other things and one answer."""
    folder = tmp_path / "handbook"
    folder.mkdir()
    filler = [f"Chapter {n} describes the rules for room {n} in detail. " * 12 for n in range(1, 40)]
    made_documents.write_pdf(folder / "handbook.pdf", [*filler[:20], "Overtime is paid at one and a half times the hourly rate.", *filler[20:]])
    return folder


def loaded_backend(context: int = 2048) -> FakeBackend:
    backend = FakeBackend()
    backend.load(ModelRef(path=Path("fake.gguf")), LoadOptions(EngineSettings(context_length=context)))
    return backend


def test_a_question_reads_the_best_passages_of_a_large_collection_and_keeps_them_as_sources(
    store: ConversationStore, index: DocumentIndex, big_folder: Path,
) -> None:
    indexed(index, "Staff handbook", big_folder)
    conversation = store.create_conversation("Pay")
    store.set_attached_documents(conversation, ["Staff handbook"])
    question = store.add_message(conversation, None, "user", "How is overtime paid?")
    backend = loaded_backend()
    result = generate_reply(backend, store, question, Settings(), "auto", threading.Event(), lambda _text: None,
                            locked=(), documents=grounder(index))
    sent = backend.requests[-1].turns[-1].content
    assert "[1] (handbook.pdf, page 21)\nOvertime is paid at one and a half times the hourly rate." in sent
    assert sent.endswith("Question: How is overtime paid?")
    sources = sources_of(store.message(result.message_id).provenance)  # type: ignore[union-attr]
    assert sources is not None and len(sources) == passage_count(0, 2048) == 2
    first = sources[0]
    assert (first.number, first.where, first.collection, first.words) == (1, "handbook.pdf, page 21", "Staff handbook", ("overtime", "paid"))
    assert store.path_to(question)[-1].content == "How is overtime paid?"  # what the user wrote is stored as written


def test_a_small_collection_is_read_whole_and_the_sources_say_so(store: ConversationStore, index: DocumentIndex, trip: Path) -> None:
    indexed(index, "Trip", trip)
    conversation = store.create_conversation("Trip")
    store.set_attached_documents(conversation, ["Trip"])
    question = store.add_message(conversation, None, "user", "Summarise the letter")
    result = generate_reply(loaded_backend(), store, question, Settings(), "auto", threading.Event(), lambda _text: None,
                            locked=(), documents=grounder(index))
    assert result.grounding is not None and result.grounding.whole
    assert [source.where for source in result.grounding.sources] == ["trip.pdf, page 1", "trip.pdf, page 2", "trip.pdf, page 3"]
    provenance = store.message(result.message_id).provenance  # type: ignore[union-attr]
    assert provenance["documents_read_whole"] is True


def test_a_conversation_without_documents_is_answered_as_written(store: ConversationStore, index: DocumentIndex, trip: Path) -> None:
    indexed(index, "Trip", trip)
    question = store.add_message(store.create_conversation("Chat"), None, "user", "Hello there")
    backend = loaded_backend()
    result = generate_reply(backend, store, question, Settings(), "auto", threading.Event(), lambda _text: None,
                            locked=(), documents=grounder(index))
    assert backend.requests[-1].turns[-1].content == "Hello there"
    assert result.grounding is None and sources_of(store.message(result.message_id).provenance) is None  # type: ignore[union-attr]


def test_a_removed_collection_is_named_and_a_question_of_fts_syntax_is_answered(
    store: ConversationStore, index: DocumentIndex, big_folder: Path,
) -> None:
    indexed(index, "Staff handbook", big_folder)
    conversation = store.create_conversation("Pay")
    store.set_attached_documents(conversation, ["Staff handbook", "Old minutes"])
    question = store.add_message(conversation, None, "user", '"NEAR(overtime* -paid')
    result = generate_reply(loaded_backend(), store, question, Settings(), "auto", threading.Event(), lambda _text: None,
                            locked=(), documents=grounder(index))
    assert result.grounding is not None and result.grounding.missing == ("Old minutes",)
    assert result.grounding.sources[0].where == "handbook.pdf, page 21"


def test_the_passage_setting_and_the_context_choose_how_many(index: DocumentIndex, big_folder: Path) -> None:
    assert [passage_count(0, context) for context in (1024, 2048, 8192, 32768)] == [2, 2, 6, 8]
    assert passage_count(3, 32768) == 3
    indexed(index, "Staff handbook", big_folder)
    grounding = grounder(index).ground(["Staff handbook"], "rules for room 7", 3, 1000, lambda text: len(text.split()))
    assert len(grounding.sources) == 3 and not grounding.whole and [s.number for s in grounding.sources] == [1, 2, 3]


def test_reproduce_reads_the_passages_the_reply_was_written_from(
    store: ConversationStore, index: DocumentIndex, big_folder: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    indexed(index, "Staff handbook", big_folder)
    conversation = store.create_conversation("Pay")
    store.set_attached_documents(conversation, ["Staff handbook"])
    question = store.add_message(conversation, None, "user", "How is overtime paid?")
    backend = loaded_backend()
    settings = Settings()
    settings.sampling.seed = 7
    model = ModelFile("fake.gguf", 10, "ab" * 32)
    result = generate_reply(backend, store, question, settings, "auto", threading.Event(), lambda _text: None,
                            locked=(), documents=grounder(index), model_file=model)
    index.remove_collection(index.collection("Staff handbook"))  # the documents changed since
    monkeypatch.setattr(grounding_module, "_", str.upper)  # and Hearth speaks another language now
    monkeypatch.setattr(blocks_module, "_", str.upper)
    outcome = reproduce_reply(backend, store, result.message_id, model, settings, "auto", threading.Event(), locked=())
    assert outcome.identical
    assert backend.requests[-1].turns[-1].content == backend.requests[0].turns[-1].content


def test_a_source_record_from_another_tool_is_left_out_and_the_question_reads_as_numbered() -> None:
    source = Source(2, "Year 9", "/docs/biology.pptx", PlaceKind.SLIDE, 4, ("Plants",), "Leaves hold chlorophyll.", ("chlorophyll",))
    assert Source.from_record(source.as_record()) == source
    assert sources_of({"sources": [source.as_record(), {"number": "x"}, "text"]}) == (source,)
    assert grounded_question("What is green?", [source]) == (
        "Answer the question from these passages of my documents. If they do not hold the answer, say so.\n\n"
        "[2] (biology.pptx, slide 4)\nLeaves hold chlorophyll.\n\nQuestion: What is green?"
    )
    assert grounded_question("Hi", []) == "Hi"


def test_what_the_documents_add_never_makes_the_users_message_too_long(store: ConversationStore, index: DocumentIndex, tmp_path: Path) -> None:
    """A 2,048-token context keeps 1,024 for the reply (the default answer length): forty
    short notes (about 960 tokens) once made every question "too long" when read whole."""
    notes = tmp_path / "notes"
    notes.mkdir()
    for number in range(40):
        (notes / f"note{number:02}.md").write_text(f"Note {number} says the meeting room {number} has {number} chairs and one table.\n")
    indexed(index, "Notes", notes)
    conversation = store.create_conversation("Notes")
    store.set_attached_documents(conversation, ["Notes"])
    question = store.add_message(conversation, None, "user", "What do my notes say?")
    settings = Settings()
    settings.documents.passages = 32  # the most the setting allows
    backend = loaded_backend()
    result = generate_reply(backend, store, question, settings, "auto", threading.Event(), lambda _text: None,
                            locked=(), documents=grounder(index))
    assert result.grounding is not None and not result.grounding.whole
    assert result.grounding.sources and result.grounding.left_out == 32 - len(result.grounding.sources)
    room = 2048 - 1024 - backend.count_tokens(settings.system_prompt)
    assert backend.count_tokens(backend.requests[-1].turns[-1].content) <= room
    assert store.message(result.message_id).provenance["documents_left_out"] == result.grounding.left_out  # type: ignore[union-attr]


def test_a_collection_made_again_after_it_was_removed_is_searched_by_its_own_vectors(index: DocumentIndex, tmp_path: Path) -> None:
    """SQLite gives the new collection (and its chunks) the ids the removed one had."""
    def folder(name: str, topics: list[str]) -> Path:
        made = tmp_path / name
        made.mkdir()
        for number, topic in enumerate(topics):
            (made / f"{number}.md").write_text(f"# Minutes {number}\n\nWe talked about {topic}.\n")
        return made

    embedder, _counter = word_embedder()
    kept = grounder(index)
    indexed(index, "Minutes", folder("old", ["the roof", "the budget", "the garden"]))
    kept.ground(["Minutes"], "garden", 3, 4000, lambda text: len(text.split()))
    index.remove_collection(index.collection("Minutes"))
    indexed(index, "Minutes", folder("new", ["the canteen", "the library", "the garden"]))
    collection = index.collection("Minutes")
    cached = kept._retriever(collection).meaning_ranking(collection, "library books")
    assert cached == Retriever(index, embedder).meaning_ranking(collection, "library books")
