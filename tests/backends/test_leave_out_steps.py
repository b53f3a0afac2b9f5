"""Leaving out the oldest turns in steps, so that the prompt's start (and the KV cache of
it) stays the same for many turns once a conversation outgrows the context."""

from __future__ import annotations

import itertools

from app.backends.base import PER_MESSAGE_OVERHEAD, ChatTurn
from app.backends.llama.prompting import fit_to_context


def words(text: str) -> int:
    return len(text.split())


def conversation(turns: int) -> list[ChatTurn]:
    """`turns` (odd) user and assistant turns of 40 words (48 tokens with the overhead), ending with a question."""
    assert turns % 2 == 1
    return [ChatTurn("user" if i % 2 == 0 else "assistant", f"turn{i} " + "word " * 39) for i in range(turns)]


def first_kept(turns: int) -> str:
    fitted = fit_to_context("Be kind.", conversation(turns), words, context_length=1024, max_tokens=512)
    assert fitted.turns[0] == ChatTurn("system", "Be kind.")
    assert fitted.turns[1].role == "user" and fitted.turns[-1].content.startswith(f"turn{turns - 1} ")
    assert fitted.omitted_turns + len(fitted.turns) - 1 == turns
    assert sum(words(t.content) + PER_MESSAGE_OVERHEAD for t in fitted.turns) <= 512
    return fitted.turns[1].content.split()[0]


def test_the_prompt_keeps_its_start_while_the_conversation_grows_by_less_than_a_step() -> None:
    # 512 tokens of room beside the reply; the system prompt takes 10, a turn 48: ten turns fit.
    assert first_kept(9) == "turn0"
    starts = [first_kept(turns) for turns in range(11, 41, 2)]  # a question at every second turn
    changes = [turns for turns, a, b in zip(range(13, 41, 2), starts, starts[1:], strict=False) if a != b]
    # One turn at a time would move the start at every question (14 times); whole steps of
    # half the room (251 tokens; a question and its answer add 96) move it at every second
    # or third question.
    assert starts[0] != "turn0"
    assert 4 <= len(changes) <= 6, (starts, changes)
    assert all(b - a >= 4 for a, b in itertools.pairwise(changes)), changes


def test_a_new_message_longer_than_the_steps_leave_keeps_the_newest_turns_that_fit() -> None:
    history = [*conversation(9)[:-1], ChatTurn("assistant", "ok"), ChatTurn("user", "long " * 400)]
    fitted = fit_to_context("", history, words, context_length=1024, max_tokens=512)
    assert fitted.turns[-1].content.startswith("long") and fitted.turns[0].role == "user"
    assert sum(words(t.content) + PER_MESSAGE_OVERHEAD for t in fitted.turns) <= 512
