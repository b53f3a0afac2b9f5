"""One assistant reply, from the stored conversation to the stored answer.

Shared by the GUI's inference worker and the CLI, so both save exactly the same
way: the reply row is created when the backend has built the prompt and grows
as text arrives, so a crash keeps what was already shown. The row carries from its
start the reply's provenance (app/chat/provenance.py): what model, settings and seed
wrote it. The settings it is written with are those `app/assistants/in_force.py` says
are in force for its conversation: the "Settings in force" view shows the same.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace

from app.assistants.in_force import (
    InForce,
    conversation_layers,
    in_force,
    own_settings,
    sampling_in_force,
    system_prompt_in_force,
)
from app.assistants.model import Assistant
from app.backends.base import Backend, ChatRequest, ChatTurn, ReplyStats
from app.chat.every_document import go_through
from app.chat.grounding import DocumentGrounder, Grounding, passage_count, question_room, with_sources
from app.chat.provenance import ModelFile, as_reported, record
from app.chat.summary import read_from_here
from app.config.settings import Settings
from app.conversations.store import Conversation, ConversationStore, GrowingReply, LateSaver


@dataclass(frozen=True)
class ReplyResult:
    message_id: int
    text: str
    stats: ReplyStats
    grounding: Grounding | None = None  # what the attached documents gave the question


AssistantLookup = Callable[[str], Assistant | None]


def no_assistants(_assistant_id: str) -> Assistant | None:
    """For callers without the user's assistants: the settings and the conversation's own
    system prompt alone."""
    return None


def settings_in_force(
    conversation: Conversation | None, settings: Settings, locked: Collection[str], assistant: Assistant | None = None,
    own: Mapping[str, object] | None = None,
) -> dict[str, InForce]:
    """Each reply setting in force in `conversation` (whose assistant is `assistant`, and
    which keeps the settings `own` for itself: the store's `conversation_settings`), and
    where it comes from."""
    # A conversation keeps the system prompt it began with (unless the administrator locked
    # one); one from before conversations recorded theirs (None) follows today's.
    recorded = conversation.system_prompt if conversation is not None else None
    return in_force(conversation_layers(settings, locked, assistant, recorded, own_settings(own or {})))


def in_force_for(
    store: ConversationStore, conversation: Conversation | None, settings: Settings, locked: Collection[str],
    assistants: AssistantLookup,
) -> tuple[dict[str, InForce], Assistant | None]:
    """The settings a reply in `conversation` is written with now (as `settings_in_force`,
    its assistant and its own settings read here), and its assistant."""
    assistant_id = (conversation.assistant_id if conversation is not None else None) or ""
    assistant = assistants(assistant_id) if assistant_id else None
    own = store.conversation_settings(conversation.id) if conversation is not None else {}
    return settings_in_force(conversation, settings, locked, assistant, own), assistant


def generate_reply(
    backend: Backend,
    store: ConversationStore,
    parent_id: int,
    settings: Settings,
    format_preference: str,
    cancel: threading.Event,
    on_text: Callable[[str], None],
    on_started: Callable[[int, int], None] = lambda message_id, omitted: None,
    *,
    locked: Collection[str],
    model_file: ModelFile | None = None,
    assistants: AssistantLookup = no_assistants,
    documents: DocumentGrounder | None = None,
    every_document: bool = False,
    on_documents_read: Callable[[int, int], None] = lambda done, total: None,
    on_prompt_read: Callable[[float], None] = lambda fraction: None,
    late_saves: LateSaver | None = None,
) -> ReplyResult:
    """Answer the user message `parent_id`; a new reply beside any earlier ones.

    `locked`: the settings the administrator locked (schema names); they apply to every
    conversation, whatever it recorded when it began. Required: a caller that forgot it
    would quietly let an old conversation escape the administrator's system prompt.

    `on_started(message_id, omitted_turns)` is called once the prompt is built
    and the reply row exists. Raises HearthError before that row exists when
    the prompt cannot be built (e.g. the message is too long).

    `model_file`: the loaded model's file as the library knows it (its sha256), for the
    provenance. A seed of -1 is replaced by a random one here, so the record has the seed
    before the first token.

    `assistants`: finds the conversation's assistant by its id, whose sampling settings and
    system prompt then apply below the conversation's own and the administrator's.

    `documents`: finds passages in the collections attached to the conversation; they go
    into the question the model reads, and into the provenance as the reply's sources
    (app/chat/grounding.py). None: the conversation is answered without its documents.
    `every_document`: the model first goes through every part of them, taking notes, and
    answers from the notes (app/chat/every_document.py); `on_documents_read(done, total)` hears
    how far it is, before the reply begins. `on_prompt_read(fraction)`: how much of a long
    prompt the model has read, before its first word. `late_saves`: saves the text shown
    when the next token is slow to come (app/conversations/late_saves.py).
    """
    path = store.path_to(parent_id)
    so_far = read_from_here(path)  # after a summary: it, and the messages it does not cover
    history = so_far.turns
    conversation_id = path[-1].conversation_id
    conversation = store.conversation(conversation_id)
    forced, assistant = in_force_for(store, conversation, settings, locked, assistants)
    system_prompt = so_far.system_prompt(system_prompt_in_force(forced))
    chosen = sampling_in_force(forced)
    seed_was_random = chosen.seed < 0
    sampling = replace(chosen, seed=random.getrandbits(31)) if seed_was_random else chosen
    facts = backend.loaded
    names = store.attached_documents(conversation_id) if documents is not None else []
    grounding, read_as = None, ""
    if documents is not None and names and facts is not None:
        question = path[-1].content
        room = question_room(facts.context_length, sampling.max_tokens, system_prompt, backend.count_tokens)
        if every_document:
            grounding = go_through(backend, documents.index, names, question, sampling, format_preference, cancel,
                                   on_documents_read, room)
        else:
            grounding = documents.ground(
                names, question, passage_count(settings.documents.passages, facts.context_length), room, backend.count_tokens,
            )
        read_as = grounding.question(question)
        history = (*history[:-1], ChatTurn(path[-1].role, read_as))
    request = ChatRequest(system_prompt, history, sampling, format_preference, conversation.uuid if conversation is not None else "")
    provenance = (
        record(facts, model_file, sampling, seed_was_random, format_preference, system_prompt,
               (conversation.assistant_id if conversation is not None else None) or "",
               assistant_name=assistant.shown_name if assistant is not None else "")
        if facts is not None else None
    )
    if provenance is not None and grounding is not None:
        provenance.update(with_sources(grounding, read_as))
    rows: list[tuple[int, GrowingReply]] = []  # the reply's row, once the backend has begun it

    def begin(omitted_turns: int) -> None:
        message_id = store.add_message(
            conversation_id, parent_id, "assistant", "", status="streaming", provenance=provenance
        )
        on_started(message_id, omitted_turns)
        rows.append((message_id, GrowingReply(store, message_id, late=late_saves)))

    def take(text: str) -> None:
        on_text(text)  # shown first: what is saved is never ahead of what was shown
        rows[0][1].append(text)

    if grounding is not None and grounding.every_document and cancel.is_set():
        # Stopped while going through the documents: the reply is saved as stopped before its
        # first word, with the notes taken so far (and their sources) in its provenance.
        begin(0)
        ((message_id, growing),) = rows
        stats = ReplyStats(0, 0, 0, 0.0, 0.0, 0.0, True, 0, format_preference, sampling.seed)
        growing.finish("stopped", stats.as_dict())
        return ReplyResult(message_id, "", stats, grounding)
    try:
        stats = backend.reply(request, cancel, take, begin, on_prompt_read)
    except BaseException:
        for _message_id, growing in rows:
            growing.finish("failed")
        raise
    ((message_id, growing),) = rows  # a backend begins every reply it returns
    growing.finish("stopped" if stats.stopped else "complete", stats.as_dict())
    # After the reply is finished: should this write fail, the reply is still complete (and
    # searchable), with the record written when it began.
    if provenance is not None and (reported := as_reported(provenance, stats)) != provenance:
        store.set_provenance(message_id, reported)
    return ReplyResult(message_id, growing.text, stats, grounding)
