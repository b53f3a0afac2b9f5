"""Where a base model's answer ends: before a line that begins a turn of its own."""

from __future__ import annotations

import pytest

from app.backends.llama.turn_end import LOOKAHEAD, TurnEnd


def passed(pieces: list[str]) -> tuple[str, bool]:
    turn_end = TurnEnd()
    shown = "".join(turn_end.add(piece) for piece in pieces) + turn_end.finish()
    return shown, turn_end.stopped


@pytest.mark.parametrize(("pieces", "answer"), [
    (["\n\n Paris is", " the capital.\n", "\nWhat is", " the capital of Peru?\n", "Lima."], "\n\n Paris is the capital.\n\n"),
    (["homework.\n\nYou are a student.\nQuestion 1: 1 point\n(A) 4"], "homework.\n\nYou are a student.\n"),
    (["Yes.\nUser: and", " then?"], "Yes.\n"),
    (["\nWhat is the capital of Chile?\nSantiago.\n\nWhat is the capital of Peru?\n"], "\nWhat is the capital of Chile?\nSantiago.\n\n"),
])
def test_the_answer_ends_before_a_turn_the_model_begins_itself(pieces: list[str], answer: str) -> None:
    assert passed(pieces) == (answer, True)


@pytest.mark.parametrize("text", [
    "one\ntwo\n\nthree\nfour\n",  # a count, with a blank line in it
    "Steps:\n1. Mix.\n2. Bake.\n\nEnjoy it warm.",
    "Dear Sam,\n\nThank you for the letter.\nYours, Kim",
])
def test_lists_counts_and_letters_go_on(text: str) -> None:
    shown, stopped = passed([text[i : i + 3] for i in range(0, len(text), 3)])
    assert (shown, stopped) == (text, False)


def test_a_long_line_streams_once_its_start_is_judged() -> None:
    turn_end = TurnEnd()
    assert turn_end.add("word " * (LOOKAHEAD // 5 - 1)) == ""  # held: not judged yet
    assert turn_end.add("word ").startswith("word word") and turn_end.add("more") == "more"


def test_a_paragraph_that_asks_and_answers_itself_goes_on() -> None:
    text = "Tides rise twice a day.\n\nWhy does this matter? Because harbours plan around them.\nThe end."
    assert passed([text]) == (text, False)
