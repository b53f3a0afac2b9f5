"""Questions about a whole collection ("list every policy that mentions overtime",
"summarise each chapter"), which the best few passages answer wrongly: the model goes
through every document, part by part, writing a short note on each (map), then answers
from the notes (combine).

Each part is as many of a file's passages, in order, as fit in half the context. The notes
and the parts they came from are kept in the reply's provenance: the sources are the parts
(their text, as read), and Reproduce writes the answer again from the same notes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from app.backends.base import Backend, ChatRequest, ChatTurn
from app.chat.grounding import Grounding, Source, grounded_question, matched_words, question_room
from app.config.settings import SamplingSettings
from app.documents.index import Collection, DocumentIndex, StoredChunk
from app.documents.retrieve import Retriever
from app.platform.errors import StorageError
from app.platform.i18n import _

# A note is a few sentences: longer ones make the combining prompt too long for a small
# context (twelve 200-token notes are 2,400 tokens).
NOTE_TOKENS = 200
# What a part's text keeps in the provenance: enough to check the note against; the file
# opens at a click for the rest.
KEPT_PART_CHARACTERS = 2_000
NOTHING = "NOTHING"
# Words that ask about every document rather than one fact (English; other languages get
# the mode from the Documents menu).
_WHOLE_COLLECTION = re.compile(
    r"\b(every|each|all( of)? the|list (all|the)|summari[sz]e|throughout|across|overview|compare)\b", re.IGNORECASE
)


def looks_like_every_document(question: str) -> bool:
    """Whether the question reads as one about the whole collection (the window suggests
    going through every document)."""
    return bool(_WHOLE_COLLECTION.search(question))


@dataclass(frozen=True)
class DocumentPart:
    """Consecutive passages of one file, read in one step."""

    collection: str
    chunks: tuple[StoredChunk, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(chunk.text for chunk in self.chunks)

    def source(self, number: int, words: Sequence[str]) -> Source:
        first = self.chunks[0]
        return Source(number, self.collection, str(first.path), first.kind, first.number, first.headings,
                      self.text[:KEPT_PART_CHARACTERS], matched_words(words, self.text), self.chunks[-1].number)


# A part with nothing in it: what the note's own words take, before the part's text.
_EMPTY = DocumentPart("", ())


def parts_of(collections: Sequence[Collection], index: DocumentIndex, budget: int, count_tokens: Callable[[str], int]) -> list[DocumentPart]:
    """Every file of the collections, in order, cut into parts of at most `budget` tokens
    (a passage longer than that is a part of its own)."""
    parts: list[DocumentPart] = []
    for collection in collections:
        for _path, record in sorted(index.files(collection).items()):
            taken: list[StoredChunk] = []
            used = 0
            for chunk in index.file_chunks(record.id):
                tokens = count_tokens(chunk.text)
                if taken and used + tokens > budget:
                    parts.append(DocumentPart(collection.name, tuple(taken)))
                    taken, used = [], 0
                taken.append(chunk)
                used += tokens
            if taken:
                parts.append(DocumentPart(collection.name, tuple(taken)))
    return parts


def note_question(part: DocumentPart, question: str) -> str:
    where = part.source(1, ()).where if part.chunks else ""
    return _(
        "Here is a part of my document {where}:\n\n{text}\n\n"
        "From this part alone, answer briefly: {question}\n"
        "If this part says nothing about it, answer only: {nothing}"
    ).format(where=where, text=part.text, question=question, nothing=NOTHING)


def go_through(
    backend: Backend, index: DocumentIndex, names: Sequence[str], question: str, sampling: SamplingSettings,
    format_preference: str, cancel: threading.Event, on_progress: Callable[[int, int], None], room: int,
) -> Grounding:
    """Notes on every part of the collections `names` for `question`, written with the
    loaded chat model (on its thread); the parts that said something are the sources.
    `on_progress(done, total)` after each part; a stop (`cancel`) keeps the notes so far.
    `room`: the tokens the final question may take; the notes that do not fit in it are
    left out (and counted), never the question made too long."""
    facts = backend.loaded
    context = facts.context_length if facts is not None else room
    budget = question_room(context, NOTE_TOKENS, "", backend.count_tokens) - backend.count_tokens(note_question(_EMPTY, question))
    collections, missing = [], []
    for name in names:
        try:
            collections.append(index.collection(name))
        except StorageError:
            missing.append(name)
    parts = parts_of(collections, index, budget, backend.count_tokens)
    words = Retriever(index, None).highlight_words(question)
    noting = replace(sampling, max_tokens=min(sampling.max_tokens, NOTE_TOKENS))
    sources: list[Source] = []
    notes: list[str] = []
    on_progress(0, len(parts))
    for done, part in enumerate(parts, start=1):
        if cancel.is_set():
            break
        pieces: list[str] = []
        backend.reply(ChatRequest("", (ChatTurn("user", note_question(part, question)),), noting, format_preference),
                      cancel, pieces.append, lambda _omitted: None)
        note = "".join(pieces).strip()
        if note and not note.upper().startswith(NOTHING):
            sources.append(part.source(len(sources) + 1, words))
            notes.append(note)
        on_progress(done, len(parts))
    kept = len(sources)
    while kept and backend.count_tokens(grounded_question(question, sources[:kept], notes[:kept])) > room:
        kept -= 1
    return Grounding(tuple(sources[:kept]), missing=tuple(missing), notes=tuple(notes[:kept]), every_document=True,
                     left_out=len(sources) - kept)
