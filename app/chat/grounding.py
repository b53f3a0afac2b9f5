"""Answers from the user's documents: the passages a question brings into the prompt, and
the sources shown under the reply.

The sources are what retrieval found, never what the model says it used: a small model
cannot be trusted to cite. They are kept in the reply's provenance (`SOURCES_KEY`), with
the passage text as it was read, so the reply can be checked (and written again by
Reproduce) after the documents change. Only the question being answered brings passages;
earlier questions are sent as the user wrote them, which keeps a small context for the
conversation.

When all the attached passages fit in half the context they are read whole, as LM Studio
does: a question about the whole document is then answered from all of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app.backends.base import reply_budget
from app.documents.blocks import PlaceKind, place_label
from app.documents.embedders import Embedder
from app.documents.index import Collection, DocumentIndex, StoredChunk
from app.documents.retrieve import Retriever, reciprocal_rank_fusion
from app.platform.errors import StorageError
from app.platform.i18n import _

SOURCES_KEY = "sources"
WHOLE_KEY = "documents_read_whole"
MISSING_KEY = "documents_missing"
LEFT_OUT_KEY = "documents_left_out"
# Written by going through every document (app/chat/every_document.py): the model's note
# on each source, in the sources' order.
NOTES_KEY = "documents_notes"
# The question as the model read it, passages (or notes) included: in the words of the
# language Hearth spoke then, which Reproduce must give the model again whatever it speaks now.
QUESTION_KEY = "documents_question"
# A passage is about 1,000 characters (app/documents/chunking.py): some 250 tokens in
# English for the tokenizers of SmolLM2 and Gemma 3, more in other languages.
TOKENS_PER_PASSAGE = 300
# Passages chosen automatically (the setting at 0): as many as fill a quarter of the
# context, at least 2 and at most 8 (a 2,048-token context gets 2, 8,192 gets 6).
AUTOMATIC_SHARE = 4
AUTOMATIC_MIN, AUTOMATIC_MAX = 2, 8
# No language takes fewer characters per token than this in these tokenizers: a
# collection of more characters than this times the budget cannot fit, without counting.
MOST_CHARACTERS_PER_TOKEN = 8
# Attached material is read whole when the question with all of it takes at most this
# part of the room the prompt has for it (1/2): the rest stays for the conversation.
WHOLE_SHARE = 2
# What a prompt format adds around the system prompt and the question (role markers,
# separators): the most of the formats the test models use, with a margin.
FORMAT_OVERHEAD_TOKENS = 64


@dataclass(frozen=True)
class Source:
    """One numbered passage under a reply: where it is and what it says. `words`: the
    question's words found in it, for the view to highlight."""

    number: int
    collection: str
    path: str
    place: PlaceKind
    place_number: int
    headings: tuple[str, ...]
    text: str
    words: tuple[str, ...] = ()
    place_end: int = 0  # the last page (slide, chapter) where it spans several: a part read whole

    def as_record(self) -> dict[str, Any]:
        return {
            "number": self.number, "collection": self.collection, "path": self.path, "place": self.place.value,
            "place_number": self.place_number, "headings": list(self.headings), "text": self.text, "words": list(self.words),
            "place_end": self.place_end,
        }

    @classmethod
    def from_record(cls, record: object) -> Source | None:
        """The source a record describes; None for one that is not Hearth's (an imported file)."""
        if not isinstance(record, dict):
            return None
        try:
            return cls(
                int(record["number"]), str(record["collection"]), str(record["path"]), PlaceKind(record["place"]),
                int(record["place_number"]), tuple(str(h) for h in record["headings"]), str(record["text"]),
                tuple(str(w) for w in record.get("words", ())), int(record.get("place_end", 0)),
            )
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def file_name(self) -> str:
        return self.path.replace("\\", "/").rsplit("/", 1)[-1]

    @property
    def place_label(self) -> str:
        return place_label(self.place, self.place_number, self.headings, self.place_end)

    @property
    def where(self) -> str:
        """'handbook.pdf, page 3'."""
        return f"{self.file_name}, {self.place_label}" if self.place_label else self.file_name


@dataclass(frozen=True)
class Grounding:
    """What the attached documents give one question. `whole`: every passage was read.
    `missing`: attached collections that are no longer in the index. `every_document`: the
    model went through each document, and `notes` holds its note on each source."""

    sources: tuple[Source, ...]
    whole: bool = False
    missing: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    every_document: bool = False
    left_out: int = 0  # passages (or notes) found that did not fit in the model's context

    def question(self, question: str) -> str:
        """The question as the model reads it, with what the documents gave it."""
        return grounded_question(question, self.sources, self.notes if self.every_document else None)


def with_sources(grounding: Grounding, read_as: str) -> dict[str, Any]:
    """The keys the reply's provenance gains from its documents; `read_as`: the question as
    the model read it."""
    keys: dict[str, Any] = {
        QUESTION_KEY: read_as,
        SOURCES_KEY: [source.as_record() for source in grounding.sources],
        WHOLE_KEY: grounding.whole,
        MISSING_KEY: list(grounding.missing),
        LEFT_OUT_KEY: grounding.left_out,
    }
    if grounding.every_document:
        keys[NOTES_KEY] = list(grounding.notes)
    return keys


def recorded_grounding(provenance: dict[str, Any]) -> Grounding | None:
    """What the documents gave the reply, as its provenance keeps it; None for a reply
    without documents attached."""
    sources = sources_of(provenance)
    if sources is None:
        return None
    recorded = provenance.get(NOTES_KEY)
    notes = tuple(str(note) for note in recorded) if isinstance(recorded, list) else None
    every_document = notes is not None and len(notes) == len(sources)
    left_out, missing = provenance.get(LEFT_OUT_KEY), provenance.get(MISSING_KEY)
    return Grounding(sources, bool(provenance.get(WHOLE_KEY)),
                     tuple(name for name in missing if isinstance(name, str)) if isinstance(missing, list) else (),
                     notes if notes is not None and every_document else (), every_document,
                     left_out if isinstance(left_out, int) else 0)


def question_as_read(provenance: dict[str, Any], grounding: Grounding, question: str) -> str:
    """The question as the model read it then; for a reply recorded before it was kept,
    made again from its sources."""
    read_as = provenance.get(QUESTION_KEY)
    return read_as if isinstance(read_as, str) else grounding.question(question)


def sources_of(provenance: dict[str, Any]) -> tuple[Source, ...] | None:
    """The sources a reply was written from; None for a reply without documents attached."""
    records = provenance.get(SOURCES_KEY)
    if not isinstance(records, list):
        return None
    return tuple(source for record in records if (source := Source.from_record(record)) is not None)


def question_room(context_length: int, max_tokens: int, system_prompt: str, count_tokens: Callable[[str], int]) -> int:
    """The tokens the question, with what the documents add to it, may take in the prompt:
    the context less the reply's share, the system prompt and the prompt format's own."""
    return context_length - reply_budget(context_length, max_tokens) - count_tokens(system_prompt) - FORMAT_OVERHEAD_TOKENS


def passage_count(setting: int, context_length: int) -> int:
    """Passages per question: the setting, or for 0 as many as suit the context."""
    if setting > 0:
        return setting
    return max(AUTOMATIC_MIN, min(AUTOMATIC_MAX, context_length // AUTOMATIC_SHARE // TOKENS_PER_PASSAGE))


def grounded_question(question: str, sources: Sequence[Source], notes: Sequence[str] | None = None) -> str:
    """The question as the model reads it: the numbered passages first (or, going through
    every document, the notes on them), then the question."""
    if not sources:
        return question
    if notes is not None:
        listed = "\n\n".join(f"[{source.number}] ({source.where})\n{note.strip()}" for source, note in zip(sources, notes, strict=True))
        return _(
            "I went through each of my documents for this question and took these notes:\n\n{notes}\n\n"
            "Answer from the notes, and say which numbers each part of the answer comes from. Question: {question}"
        ).format(notes=listed, question=question)
    passages = "\n\n".join(f"[{source.number}] ({source.where})\n{source.text.strip()}" for source in sources)
    return _(
        "Answer the question from these passages of my documents. If they do not hold the answer, say so.\n\n"
        "{passages}\n\nQuestion: {question}"
    ).format(passages=passages, question=question)


# Words this short ("is", "of", "le") say little, and in a small collection the share of
# passages holding them cannot tell (retrieve.COMMON_WORD_SHARE): not highlighted.
SHORTEST_HIGHLIGHT = 3


def matched_words(words: Sequence[str], text: str) -> tuple[str, ...]:
    """The words (or words they begin) that occur in `text`, ignoring case: numbers, and
    words of at least SHORTEST_HIGHLIGHT letters."""
    return tuple(
        word for word in words
        if (len(word) >= SHORTEST_HIGHLIGHT or word.isdigit()) and re.search(r"\b" + re.escape(word), text, re.IGNORECASE)
    )


def excerpt(text: str, words: Sequence[str], length: int) -> str:
    """About `length` characters of `text` on one line, from a little before the first of
    `words` found in it (the start when none is), cut at spaces, with "…" where cut."""
    flat = " ".join(text.split())
    if len(flat) <= length:
        return flat
    found = [match.start() for word in words if (match := re.search(r"\b" + re.escape(word), flat, re.IGNORECASE))]
    start = max(0, min(found) - length // 4) if found else 0
    start = flat.find(" ", start) + 1 if start else 0
    end = start + length
    cut = flat[start:end].rsplit(" ", 1)[0] if end < len(flat) else flat[start:]
    return ("… " if start else "") + cut + (" …" if end < len(flat) else "")


EmbedderFor = Callable[[Collection], Embedder | None]


class DocumentGrounder:
    """Finds the passages for questions in a conversation's collections. Runs on the thread
    that owns the embedding model (the inference worker's, or the command line);
    `embedder_for(collection)` gives the embedder that built it, or None (keyword search).
    `open_index` is called at the first question with documents attached, so a chat
    without any never opens the documents index."""

    def __init__(self, open_index: Callable[[], DocumentIndex], embedder_for: EmbedderFor) -> None:
        self._open_index = open_index
        self._index: DocumentIndex | None = None
        self._embedder_for = embedder_for
        # One retriever per collection: each keeps the collection's vectors in memory until
        # the collection changes (352 ms to read 100,000 of them again).
        self._retrievers: dict[tuple[int, float], Retriever] = {}

    @property
    def opened(self) -> bool:
        return self._index is not None

    @property
    def index(self) -> DocumentIndex:
        if self._index is None:
            self._index = self._open_index()
        return self._index

    def _retriever(self, collection: Collection) -> Retriever:
        retriever = self._retrievers.setdefault((collection.id, collection.created_at), Retriever(self.index, None))
        # Asked each time: the embedding model may have been loaded again since (an unloaded
        # one must never be called).
        retriever.embedder = self._embedder_for(collection)
        return retriever

    def ground(
        self, names: Sequence[str], question: str, passages: int, room: int, count_tokens: Callable[[str], int],
    ) -> Grounding:
        """The passages of the collections `names` for `question`: all of them when the
        question with them takes at most half of `room` (the tokens the question may take in
        the prompt, counted with the chat model's `count_tokens`), else the best `passages`
        over all the collections, fewer where they would not fit in `room`: what Hearth adds
        never makes the user's message "too long"."""
        collections, missing = [], []
        for name in names:
            try:
                collections.append(self.index.collection(name))
            except StorageError:
                missing.append(name)
        words = Retriever(self.index, None).highlight_words(question)
        whole = self._whole(collections, room // WHOLE_SHARE)
        if whole is not None:
            sources = self._numbered(whole, words)
            if count_tokens(grounded_question(question, sources)) <= room // WHOLE_SHARE:
                return Grounding(sources, whole=True, missing=tuple(missing))
        found: list[tuple[Collection, StoredChunk]] = []
        rankings: list[list[int]] = []
        for collection in collections:
            results = self._retriever(collection).search(collection, question, passages)
            found.extend((collection, passage.chunk) for passage in results)
            rankings.append([passage.chunk.id for passage in results])
        by_id = {chunk.id: (collection, chunk) for collection, chunk in found}
        best = [by_id[item] for item, _score in reciprocal_rank_fusion(rankings)[:passages]]
        sources = self._numbered(best, words)
        kept = len(sources)
        while kept and count_tokens(grounded_question(question, sources[:kept])) > room:
            kept -= 1
        return Grounding(sources[:kept], missing=tuple(missing), left_out=len(sources) - kept)

    def _whole(self, collections: list[Collection], budget: int) -> list[tuple[Collection, StoredChunk]] | None:
        """Every passage of the collections, when their characters could fit in `budget`
        tokens (a passage is at least a token: more than `budget` of them cannot)."""
        if not collections:
            return None
        sizes = [self.index.text_size(collection, budget) for collection in collections]
        if any(size is None for size in sizes) or sum(size or 0 for size in sizes) > budget * MOST_CHARACTERS_PER_TOKEN:
            return None
        chunks = [(collection, chunk) for collection in collections for chunk in self.index.all_chunks(collection)]
        return chunks or None

    @staticmethod
    def _numbered(found: list[tuple[Collection, StoredChunk]], words: Sequence[str]) -> tuple[Source, ...]:
        return tuple(
            Source(number, collection.name, str(chunk.path), chunk.kind, chunk.number, chunk.headings, chunk.text,
                   matched_words(words, chunk.text))
            for number, (collection, chunk) in enumerate(found, start=1)
        )
