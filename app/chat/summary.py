"""Summarising the oldest messages of a conversation that has outgrown the model's context.

When a conversation is longer than the model reads at once, its oldest turns are left out
of each reply (app/backends/llama/prompting.py). The user may have them summarised instead:
the loaded model writes a short summary of the turns the last reply left out (and of as
many of the oldest kept ones as leave the next replies room), and it is kept as a message
of its own at the end of the conversation (role "system", its record under SUMMARY_KEY
naming the last message it covers). From then on the model reads the summary (after the
system prompt) and the messages after the ones it covers, never the covered ones. Nothing
is deleted: the summary is shown, can be edited while it is the last message (a new
version beside it, as for any message), and a branch from before it never sees it.

Called from the one thread that owns the backend, like a reply.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from app.backends.base import PER_MESSAGE_OVERHEAD, Backend, ChatRequest, ChatTurn, reply_budget
from app.config.settings import SamplingSettings
from app.conversations.store import ConversationStore, Message, Role
from app.platform.errors import HearthError
from app.platform.i18n import _, ngettext

SUMMARY_KEY = "summary"  # in a summary message's provenance: {"through": uuid, "messages": n}

# What the model reads: not translated (the model's words, not the user's), as the
# completion transcript's speakers are not.
SUMMARY_INTRO = "A summary of the earlier part of this conversation, which is no longer shown in full:"
_SYSTEM = "You write short, faithful summaries of conversations."
_ASK = (
    "Summarise this part of a conversation between a user and an assistant in one short paragraph. "
    "Keep names, numbers, facts, decisions and open questions; add nothing that is not in it."
)
_EARLIER = "Summary of what came before it:"
_SPEAKERS = {Role.USER: "User", Role.ASSISTANT: "Assistant"}

# A summary is a paragraph: 300 tokens hold about 220 words; an eighth of a small context.
# Low temperature: it should say what was said, not invent; seeded, so the same turns give
# the same summary.
SUMMARY_TOKENS = 300
SUMMARY_SAMPLING = SamplingSettings(temperature=0.2, top_p=0.95, max_tokens=SUMMARY_TOKENS, repeat_penalty=1.1, seed=0)
# After a summary, the messages it does not cover take at most this share of the room, so
# the conversation grows by the rest before anything is left out again.
KEPT_SHARE = 0.5
# Tokens of each request kept for the instructions and the chat template's markers, beside
# the summary so far and the transcript.
_INSTRUCTIONS = 120


class NothingToSummarise(HearthError):
    pass


@dataclass(frozen=True)
class ReadFromHere:
    """What a reply reads of a conversation's path: the newest summary in it (if any) and
    the messages after those it covers."""

    summarised_by: Message | None  # the summary read instead of the messages before
    messages: tuple[Message, ...]

    @property
    def summary(self) -> str:
        return self.summarised_by.content if self.summarised_by is not None else ""

    @property
    def turns(self) -> tuple[ChatTurn, ...]:
        return tuple(ChatTurn(m.role, m.content) for m in self.messages)

    def system_prompt(self, system_prompt: str) -> str:
        """`system_prompt` with the summary after it, as the model reads them."""
        if not self.summary:
            return system_prompt
        return "\n\n".join(part for part in (system_prompt.strip(), f"{SUMMARY_INTRO}\n{self.summary}") if part)


def is_summary(message: Message) -> bool:
    return message.role == Role.SYSTEM and SUMMARY_KEY in message.provenance


def covered_count(message: Message) -> int:
    """How many messages the summary `message` stands for."""
    return int(message.provenance.get(SUMMARY_KEY, {}).get("messages", 0))


def heading(message: Message) -> str:
    """Who wrote `message`, as an export names it; a summary says what it stands for."""
    if not is_summary(message):
        return message.role.label
    count = covered_count(message)
    return ngettext("Summary of the oldest message", "Summary of the oldest {count} messages", count).format(count=count)


def read_from_here(path: Sequence[Message]) -> ReadFromHere:
    """The newest summary on `path` and the user and assistant messages after the ones it
    covers (all of them where there is none). A summary whose last covered message is not
    on the path (a copy made by "Branch into a new chat" gives its messages new ids) is
    passed over: its messages are read instead, never silently dropped."""
    for index in range(len(path) - 1, -1, -1):
        if not is_summary(path[index]):
            continue
        through = path[index].provenance[SUMMARY_KEY].get("through")
        start = next((i + 1 for i, m in enumerate(path[:index]) if m.uuid == through), None)
        if start is not None:
            return ReadFromHere(path[index], tuple(m for m in path[start:] if m.role != Role.SYSTEM))
    return ReadFromHere(None, tuple(m for m in path if m.role != Role.SYSTEM))


def transcript_line(message: Message) -> str:
    return f"{_SPEAKERS[message.role]}: {message.content.strip()}"


def summarise_left_out(
    backend: Backend,
    store: ConversationStore,
    leaf_id: int,
    left_out: int,
    format_preference: str,
    cancel: threading.Event,
    on_progress: Callable[[int, int], None] = lambda done, total: None,
) -> int | None:
    """Have the loaded model summarise the oldest `left_out` messages that a reply at
    `leaf_id` reads (with the summary they follow, if any), and keep the summary as a new
    message after `leaf_id`. Its id; None when stopped. `on_progress(done, total)` hears
    each part summarised: a long stretch is summarised part by part, each part's summary
    carried into the next."""
    facts = backend.loaded
    if facts is None:
        raise HearthError(_("No model is loaded. Choose a model first."))
    if not facts.has_chat_template or format_preference == "completion":
        raise HearthError(_(
            "{model} is not made for chat, so it cannot write a summary. Load a chat model to summarise, "
            "or let the oldest messages be left out."
        ).format(model=facts.name))
    path = store.path_to(leaf_id)
    so_far = read_from_here(path)
    if left_out <= 0 or not so_far.messages:
        raise NothingToSummarise(_("Nothing is left out of this conversation yet, so there is nothing to summarise."))
    context = facts.context_length
    sampling = replace(SUMMARY_SAMPLING, max_tokens=min(SUMMARY_TOKENS, context // 8))
    covered = so_far.messages[: _reach(so_far, left_out, path[-1], backend.count_tokens, context, sampling.max_tokens)]
    room = context - reply_budget(context, sampling.max_tokens) - sampling.max_tokens - _INSTRUCTIONS
    parts = _parts([transcript_line(m) for m in covered], backend.count_tokens, max(room, context // 8))
    summary = so_far.summary
    for done, part in enumerate(parts):
        on_progress(done, len(parts))
        summary = _summarise(backend, part, summary, sampling, format_preference, cancel)
        if cancel.is_set():
            return None
        if not summary:  # a part it wrote nothing for would be neither read nor summarised
            raise HearthError(_("The model wrote no summary. The oldest messages are still left out, and nothing was lost."))
    on_progress(len(parts), len(parts))
    # It stands for what the summary before it stood for too.
    earlier = covered_count(so_far.summarised_by) if so_far.summarised_by is not None else 0
    record = {SUMMARY_KEY: {"through": covered[-1].uuid, "messages": len(covered) + earlier}, "model": facts.name}
    return store.add_message(path[-1].conversation_id, leaf_id, Role.SYSTEM, summary.strip(), provenance=record)


def _reach(
    so_far: ReadFromHere, left_out: int, reply: Message, count_tokens: Callable[[str], int], context: int, summary_tokens: int
) -> int:
    """How many of `so_far.messages` the summary covers: those the reply left out, and then
    the oldest kept ones too until the rest takes at most KEPT_SHARE of the room beside the
    system prompt and the summary. Covering only what was left out, the longer system prompt
    made the next reply leave out another step at once (33 of 55 summaries in a simulation
    at a 2,048-token context). The rest starts with a question, as a prompt's kept turns do.
    The newest question and its reply are never covered. The room is the reply's own: its
    recorded system prompt and longest reply."""
    messages = so_far.messages
    recorded = reply.provenance
    max_tokens = int(recorded.get("sampling", {}).get("max_tokens", context // 4))
    system = str(recorded.get("system_prompt", ""))
    system_cost = count_tokens(system) - count_tokens(so_far.summary) if so_far.summary else count_tokens(system)
    room = context - reply_budget(context, max_tokens) - max(0, system_cost) - summary_tokens - 2 * PER_MESSAGE_OVERHEAD
    costs = [count_tokens(m.content) + PER_MESSAGE_OVERHEAD for m in messages]
    # Never the newest question and what follows it: the model reads those as they were.
    newest_question = max((i for i, m in enumerate(messages) if m.role == Role.USER), default=len(messages))
    reach = min(left_out, len(messages))
    rest = sum(costs[reach:])
    while reach < newest_question and (rest > room * KEPT_SHARE or messages[reach].role != Role.USER):
        rest -= costs[reach]
        reach += 1
    return reach


def _parts(lines: Sequence[str], count_tokens: Callable[[str], int], room: int) -> list[str]:
    """The transcript in parts of at most `room` tokens; a line longer than that alone is
    cut to fit (its start is what a summary needs most)."""
    parts: list[list[str]] = [[]]
    used = 0
    for line in lines:
        cost = count_tokens(line) + 2
        if cost > room:
            line = line[: max(1, len(line) * room // cost)]
            cost = room
        if used + cost > room and parts[-1]:
            parts.append([])
            used = 0
        parts[-1].append(line)
        used += cost
    return ["\n\n".join(part) for part in parts]


def _summarise(
    backend: Backend, transcript: str, earlier: str, sampling: SamplingSettings, format_preference: str, cancel: threading.Event
) -> str:
    ask = f"{_ASK}\n\n{_EARLIER}\n{earlier}\n\n{transcript}" if earlier else f"{_ASK}\n\n{transcript}"
    written: list[str] = []
    request = ChatRequest(_SYSTEM, (ChatTurn("user", ask),), sampling, format_preference)
    backend.reply(request, cancel, written.append, lambda _omitted: None)
    return "".join(written).strip()
