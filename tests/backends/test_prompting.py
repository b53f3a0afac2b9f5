from __future__ import annotations

import pytest

from app.backends.base import ChatTurn
from app.backends.llama.prompt_formats import chat_messages
from app.backends.llama.prompting import completion_prompt, fit_to_context
from app.platform.errors import PromptTooLongError


def words(text: str) -> int:
    return len(text.split())


def test_oldest_turns_are_left_out_first() -> None:
    history = [ChatTurn("user" if i % 2 == 0 else "assistant", "word " * 40) for i in range(10)]
    history.append(ChatTurn("user", "the newest question"))
    fitted = fit_to_context("Be kind.", history, words, context_length=400, max_tokens=100)
    assert fitted.turns[0] == ChatTurn("system", "Be kind.")
    assert fitted.turns[-1].content == "the newest question"
    assert fitted.turns[1].role == "user"
    assert 0 < fitted.omitted_turns < len(history)
    assert fitted.omitted_turns + len(fitted.turns) - 1 == len(history)


def test_everything_is_kept_when_it_fits() -> None:
    history = [ChatTurn("user", "hi"), ChatTurn("assistant", "hello"), ChatTurn("user", "bye")]
    fitted = fit_to_context("", history, words, context_length=4096, max_tokens=512)
    assert fitted.turns == history and fitted.omitted_turns == 0


def test_a_single_message_too_long_is_a_plain_error() -> None:
    history = [ChatTurn("user", "word " * 5000)]
    with pytest.raises(PromptTooLongError, match="too long for this model"):
        fit_to_context("", history, words, context_length=2048, max_tokens=256)


def test_completion_prompt_ends_with_the_assistant_cue() -> None:
    text = completion_prompt([ChatTurn("system", "S"), ChatTurn("user", "Hi")])
    assert text == "S\n\nUser: Hi\n\nAssistant:"


def test_turns_are_made_to_alternate_starting_with_the_user() -> None:
    from app.backends.llama.prompting import alternating

    turns = [
        ChatTurn("assistant", "orphan"),
        ChatTurn("user", "first"),
        ChatTurn("assistant", ""),  # stopped before any text
        ChatTurn("user", "second"),
        ChatTurn("assistant", "answer"),
    ]
    assert alternating(turns) == [ChatTurn("user", "first\n\nsecond"), ChatTurn("assistant", "answer")]


def test_formats_without_a_system_role_keep_the_system_prompt_in_the_first_user_turn() -> None:
    turns = [ChatTurn("system", "Answer for children."), ChatTurn("user", "Why is the sea salty?")]
    for prompt_format in ("gemma", "mistral-instruct"):
        assert chat_messages(prompt_format, turns) == [
            {"role": "user", "content": "Answer for children.\n\nWhy is the sea salty?"}
        ]
    assert chat_messages("chatml", turns)[0] == {"role": "system", "content": "Answer for children."}
