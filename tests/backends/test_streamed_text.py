"""Token pieces to shown text: split UTF-8 characters and stop strings."""

from __future__ import annotations

from app.backends.llama.streamed_text import StreamedText


def shown(pieces: list[bytes], stops: list[str]) -> tuple[list[str], str, bool]:
    text = StreamedText(stops)
    parts = [text.add(piece) for piece in pieces]
    return parts, text.finish(), text.stopped


def test_a_character_split_across_tokens_is_shown_whole() -> None:
    heart = "♥".encode()
    parts, rest, _ = shown([b"I ", heart[:1], heart[1:], b" tea"], [])
    assert parts == ["I ", "", "♥", " tea"] and rest == ""


def test_text_that_may_begin_a_stop_string_waits_for_the_next_token() -> None:
    parts, rest, stopped = shown([b"Yes.", b"\nUs", b"ual", b"ly"], ["\nUser:"])
    assert parts == ["Yes.", "", "\nUsual", "ly"] and rest == "" and not stopped


def test_a_stop_string_split_across_tokens_ends_the_reply_before_it() -> None:
    parts, rest, stopped = shown([b"Done", b".\nUs", b"er:", b" more"], ["\nUser:"])
    assert parts == ["Done", ".", "", ""] and rest == "" and stopped


def test_the_earliest_of_several_stop_strings_wins() -> None:
    parts, _, stopped = shown([b"a<end>b<stop>c"], ["<stop>", "<end>"])
    assert parts == ["a"] and stopped


def test_held_back_text_is_shown_when_the_reply_ends_without_a_stop() -> None:
    parts, rest, stopped = shown([b"The end\nUs"], ["\nUser:"])
    assert parts == ["The end"] and rest == "\nUs" and not stopped


def test_bytes_that_are_not_utf8_become_a_replacement_character() -> None:
    parts, rest, _ = shown([b"ok \xff!"], [])
    assert "".join(parts) + rest == "ok \ufffd!"
