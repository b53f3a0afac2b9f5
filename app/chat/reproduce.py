"""Reproduce: write a stored reply again with the model, seed and settings it records, and
say whether the text came out the same. Nothing is saved.

A reply comes out identical when its prompt's memory (the KV cache) is computed the same
way. Measured on SmolLM2 (temperature 0.8, seed 1234): a first turn reproduced after another
chat had filled the cache came out identical (tests/chat/test_reproduce_real.py); so did a
second turn while the cache still held it. A second turn reproduced once the cache had moved
on did not: originally it reused the memory of the first reply, which llama.cpp computed a
token at a time as it wrote it, and such memory differs slightly from the same tokens read
in a batch (reusing batch-read memory changed nothing). The report names this as a possible
reason. Keeping the cache batch-read instead would mean reading each previous reply again:
for a 300-token reply the next first token came after 2.9-8.6 s instead of 0.1-1.1 s here.
While the cache still holds the prompt, the rerun reads on from where the original did
(ChatRequest.read_from): the same tokens read in other batches gave logits up to 0.6 apart,
and another reply from the same seed in 6 of 60 cases.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from app.assistants.in_force import sampling_in_force, system_prompt_in_force
from app.backends.base import Backend, ChatRequest, ChatTurn
from app.chat.grounding import question_as_read, recorded_grounding
from app.chat.provenance import PROVENANCE_VERSION, ModelFile, describe_model, differences, record, recorded_sampling
from app.chat.reply import AssistantLookup, in_force_for, no_assistants
from app.chat.summary import read_from_here
from app.config.settings import Settings
from app.conversations.store import ConversationStore, Status
from app.platform.i18n import _

EXCERPT = 40  # characters shown of each text around where they first differ


@dataclass(frozen=True)
class Reproduction:
    """How a Reproduce went. `refusal`: why it did not run ('' when it ran)."""

    message_id: int
    refusal: str = ""
    original: str = ""
    reproduced: str = ""
    identical: bool = False
    stopped: bool = False  # the user stopped it
    original_cut_short: bool = False  # the stored reply was stopped or interrupted
    differences: tuple[str, ...] = ()  # recorded settings that differ from the current ones
    reasons: tuple[str, ...] = ()  # what may have made the text differ

    @property
    def first_difference(self) -> int:
        """Where the two texts first differ; -1 when they do not."""
        if self.identical:
            return -1
        pairs = zip(self.original, self.reproduced, strict=False)
        return next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(self.original), len(self.reproduced)))

    def describe(self) -> str:
        """The outcome in plain words, for the Details view."""
        if self.refusal:
            return self.refusal
        if self.stopped:
            return _("Reproducing was stopped before the reply was written again.")
        lines: list[str] = []
        if self.identical and self.original_cut_short:
            lines.append(_("Reproduced: the text came out identical as far as the original went (it was cut short)."))
        elif self.identical:
            lines.append(_("Reproduced: the text came out identical, character for character."))
        else:
            at = self.first_difference
            start = max(0, at - EXCERPT // 2)
            lines.append(_("The text came out different, from character {position:,} on.").format(position=at + 1))
            lines.append(_("Original: “{text}”").format(text=_excerpt(self.original, start, at + EXCERPT)))
            lines.append(_("Now: “{text}”").format(text=_excerpt(self.reproduced, start, at + EXCERPT)))
            lines.extend(_("Possibly because: {reason}.").format(reason=reason) for reason in self.reasons)
        if self.differences:
            lines.append(_("Recorded settings that differ from the current ones (the reply was written again "
                           "with the recorded ones): {changes}.").format(changes="; ".join(self.differences)))
        return "\n".join(lines)


def _excerpt(text: str, start: int, end: int) -> str:
    """text[start:end], with an ellipsis on each side that text goes on."""
    return ("…" if start > 0 else "") + text[start:end] + ("…" if end < len(text) else "")


def refusal(provenance: dict[str, Any], current: ModelFile | None, loaded_name: str | None) -> str:
    """Why this reply cannot be reproduced with what is loaded now; '' when it can."""
    if not provenance:
        return _("Nothing was recorded about how this reply was written, so it cannot be reproduced.")
    if provenance.get("version") != PROVENANCE_VERSION:
        return _("This reply's record was written by another version of Hearth; this one cannot reproduce it.")
    model = provenance["model"]
    wanted = _("This reply was written by {model}; load that model to reproduce it.").format(
        model=describe_model(provenance)
    )
    if loaded_name is None or current is None:
        return wanted
    if model["sha256"] and current.sha256:
        return "" if model["sha256"] == current.sha256 else wanted
    # A file outside the library has no sha256: the same name and size is the best there is.
    return "" if (model["file"], model["size"]) == (current.file_name, current.size) else wanted


def reproduce_reply(
    backend: Backend,
    store: ConversationStore,
    message_id: int,
    model_file: ModelFile | None,
    settings: Settings,
    format_preference: str,
    cancel: threading.Event,
    *,
    locked: Collection[str],
    assistants: AssistantLookup = no_assistants,
) -> Reproduction:
    """Write the reply `message_id` again, as its provenance records, on `backend` (whose
    thread this runs on). `settings`, `format_preference` and `locked` are today's (as
    generate_reply takes them): the report says which of the recorded ones differ."""
    message = store.message(message_id)
    if message is None or message.parent_id is None:
        return Reproduction(message_id, refusal=_("This reply no longer exists."))
    provenance = message.provenance
    loaded = backend.loaded
    refused = refusal(provenance, model_file, loaded.name if loaded else None)
    if refused or loaded is None:
        return Reproduction(message_id, refusal=refused)
    if not message.content:  # a reply stopped before its first word: "identical" would say nothing
        return Reproduction(message_id, refusal=_("This reply has no text to compare: it stopped before its first word."))
    conversation = store.conversation(message.conversation_id)
    forced, assistant = in_force_for(store, conversation, settings, locked, assistants)  # as generate_reply would now
    sampling = sampling_in_force(forced)
    path = store.path_to(message.parent_id)
    so_far = read_from_here(path)
    current = record(
        loaded, model_file, sampling, sampling.seed < 0, format_preference, so_far.system_prompt(system_prompt_in_force(forced)),
        (conversation.assistant_id if conversation is not None else None) or "",
        assistant_name=assistant.shown_name if assistant is not None else "",
    )
    history = so_far.turns
    grounding = recorded_grounding(provenance)
    if grounding is not None and history:  # the passages (or notes) it was written from, as they were then
        history = (*history[:-1], ChatTurn(history[-1].role, question_as_read(provenance, grounding, history[-1].content)))
    reused = message.stats.get("prompt_tokens_reused")  # an imported file's stats are not checked
    read_from = reused if type(reused) is int and reused >= 0 else None
    request = ChatRequest(provenance["system_prompt"], history, recorded_sampling(provenance), provenance["prompt_format"],
                          read_from=read_from)
    parts: list[str] = []
    stats = backend.reply(request, cancel, parts.append, lambda _omitted: None)
    reproduced = "".join(parts)
    changed = tuple(differences(provenance, current))
    if stats.stopped:
        return Reproduction(message_id, original=message.content, reproduced=reproduced, stopped=True,
                            differences=changed)
    cut_short = message.status in (Status.STOPPED, Status.INTERRUPTED, Status.FAILED)
    identical = reproduced.startswith(message.content) if cut_short else reproduced == message.content
    reasons: list[str] = []
    if not identical:
        if provenance["context_length"] != current["context_length"]:
            reasons.append(_("the context length was {then:,} tokens then and is {now:,} now").format(
                then=provenance["context_length"], now=current["context_length"]))
        if provenance["threads"] != current["threads"]:
            reasons.append(_("llama.cpp ran on {then} threads then and on {now} now").format(
                then=provenance["threads"], now=current["threads"]))
        if provenance["engine"] != current["engine"]:
            reasons.append(_("the engine was {then} then and is {now} now").format(
                then=provenance["engine"], now=current["engine"]))
        if message.stats.get("shifted_tokens"):
            reasons.append(_(
                "the conversation was longer than the model reads at once: the original kept its memory of "
                "the newer messages when the oldest were left out, and that memory was computed with them before it"
            ))
        if any(m.role == "assistant" and m.parent_id is not None for m in path):  # not counting a greeting
            reasons.append(_(
                "this is a later turn: the original read the earlier replies from the model's memory of "
                "writing them, which llama.cpp computes slightly differently from reading them anew"
            ))
    return Reproduction(
        message_id, original=message.content, reproduced=reproduced, identical=identical,
        original_cut_short=cut_short, differences=changed, reasons=tuple(reasons),
    )
