"""Turn a conversation into what the model reads, within its context window.

The oldest turns are left out of the prompt (never out of the store) when the
conversation outgrows the context; a single message that alone is too long is
an error the user sees.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.backends.base import PER_MESSAGE_OVERHEAD, ChatTurn, reply_budget
from app.platform.errors import PromptTooLongError
from app.platform.i18n import ngettext

# Once the turns do not all fit, the oldest are left out in whole steps of this share of the
# room beside the system prompt, not one turn at a time: the kept part then begins at the same
# turn for the next turns, and llama.cpp reuses its cache of it (only the new messages are
# read), until the conversation has grown by another step. Then the engine moves its cache of
# the kept turns back over the ones left out (context_shift.py), so that step is not read
# again either; a model whose memory cannot be moved reads it again, once per step.
# Leaving out one turn at a time changed the prompt's start at every turn, and each turn
# re-read the whole context (docs/PERFORMANCE.md, "Turns at a full context"). Half: the model
# still sees at least half the room.
LEAVE_OUT_STEP = 0.5

# What the model reads in text-completion mode: not translated (the model's words, not the user's).
COMPLETION_USER = "User"
COMPLETION_ASSISTANT = "Assistant"


@dataclass(frozen=True)
class FittedPrompt:
    turns: list[ChatTurn]
    omitted_turns: int


def alternating(turns: Sequence[ChatTurn]) -> list[ChatTurn]:
    """User and assistant turns strictly alternating, starting with the user.

    A stopped-before-any-text reply is not stored as a turn, which leaves two user
    messages in a row; strict chat templates (Gemma, Mistral) refuse that, so
    consecutive turns of one role are joined.
    """
    merged: list[ChatTurn] = []
    for turn in turns:
        if not turn.content:
            continue
        if merged and merged[-1].role == turn.role:
            merged[-1] = ChatTurn(turn.role, f"{merged[-1].content}\n\n{turn.content}")
        elif merged or turn.role == "user":
            merged.append(turn)
    return merged


def fit_to_context(
    system_prompt: str,
    history: Sequence[ChatTurn],
    count_tokens: Callable[[str], int],
    context_length: int,
    max_tokens: int,
) -> FittedPrompt:
    """Keep the system prompt and the newest turns that fit beside the reply budget,
    leaving the oldest out in steps (LEAVE_OUT_STEP) once they do not all fit."""
    budget = context_length - reply_budget(context_length, max_tokens)
    system = [ChatTurn("system", system_prompt)] if system_prompt.strip() else []
    room = budget - sum(count_tokens(t.content) + PER_MESSAGE_OVERHEAD for t in system)
    costs = [count_tokens(turn.content) + PER_MESSAGE_OVERHEAD for turn in history]
    start = _first_kept(costs, room)
    if start == len(history) and history:
        tokens, room = count_tokens(history[-1].content), max(0, budget - PER_MESSAGE_OVERHEAD)
        raise PromptTooLongError(ngettext(
            "Your message is too long for this model: it is about {tokens} token, and the model can read "
            "about {room} at once with the current settings. Shorten it, or raise the context length in Settings.",
            "Your message is too long for this model: it is about {tokens} tokens, and the model can read "
            "about {room} at once with the current settings. Shorten it, or raise the context length in Settings.",
            tokens,
        ).format(tokens=f"{tokens:,}", room=f"{room:,}"))
    kept = list(history[start:])
    # A reply must follow a user turn: never start the kept part on an assistant turn.
    while kept and kept[0].role == "assistant":
        kept.pop(0)
    # Joined only after fitting: an unanswered over-long message must be left out,
    # not glued onto every later one.
    return FittedPrompt(turns=system + alternating(kept), omitted_turns=len(history) - len(kept))


def _first_kept(costs: Sequence[int], room: int) -> int:
    """The index of the oldest turn kept when the turns cost `costs` tokens and `room` are free.

    Whole steps of LEAVE_OUT_STEP x `room` are left out, counted from the first turn, so the
    kept part starts at the same turn while the conversation grows by less than a step. Where
    the newest turn alone is more than the steps leave, the newest turns that fit are kept
    (none: len(costs))."""
    total = sum(costs)
    if total <= room:
        return 0
    step = max(1, int(room * LEAVE_OUT_STEP))
    leave_out = -(-(total - room) // step) * step  # whole steps
    start, left_out = 0, 0
    while start < len(costs) and left_out < leave_out:
        left_out += costs[start]
        start += 1
    if start < len(costs):
        return start
    start, used = len(costs), 0
    while start > 0 and used + costs[start - 1] <= room:
        start -= 1
        used += costs[start]
    return start


def completion_prompt(turns: Sequence[ChatTurn]) -> str:
    """A plain transcript for models without a chat template (text-completion mode)."""
    lines = []
    for turn in turns:
        if turn.role == "system":
            lines.append(f"{turn.content}\n")
        else:
            speaker = COMPLETION_USER if turn.role == "user" else COMPLETION_ASSISTANT
            lines.append(f"{speaker}: {turn.content}\n")
    lines.append(f"{COMPLETION_ASSISTANT}:")
    return "\n".join(lines)


COMPLETION_STOPS = [f"\n{COMPLETION_USER}:", f"\n{COMPLETION_ASSISTANT}:"]
