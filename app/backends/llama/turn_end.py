"""Where a base model's answer ends. A model without a chat template writes its answer and
then goes on with a conversation of its own ("What is the capital of Peru?", "Question 1:")
until the token limit: Gemma 3 270M did so for 3 of 3 seeds. The reply ends before the
first line that begins a new turn: a line that opens with a speaker or question label
("User:", "Q:", "Question 2:"), or a question after a blank line (a line that ends with it). Lists, counts and
paragraphs go on.

Each line is held until it can be judged (its end, or its first LOOKAHEAD characters), so a
base model's text appears a line at a time.
"""

from __future__ import annotations

import re

# Enough of a line to judge it: a label or a question is at its start.
LOOKAHEAD = 80
_LABEL = re.compile(r"\s*(?:q|question|user|human|you|me)\s*\d*\s*[:.)]", re.IGNORECASE)


# A question that begins a turn ends its line, or nearly: "What is the capital of Peru?"
# (Gemma 3 270M added a stray word after it: "?payments"). "Why? Because…" goes on.
QUESTION_TAIL = 12


def begins_a_turn(line: str, after_blank_line: bool) -> bool:
    if _LABEL.match(line):
        return True
    return after_blank_line and "?" in line and len(line.rsplit("?", 1)[1].strip()) <= QUESTION_TAIL


class TurnEnd:
    """Takes a base model's text as it is shown and passes on what belongs to its answer;
    `stopped` once a line begins a new turn."""

    def __init__(self) -> None:
        self._line = ""  # the start of the current line, held until it is judged
        self._judged = False  # the current line was judged part of the answer: it streams on
        self._begun = False  # the answer has words (its first line is never a new turn)
        self._after_blank = False  # the line before the current one was empty
        self.stopped = False

    def add(self, text: str) -> str:
        shown: list[str] = []
        for part in re.split(r"(\n)", text):
            if self.stopped or not part:
                continue
            if part == "\n":
                shown.append(self._end_line())
            elif self._judged:
                shown.append(part)
            else:
                self._line += part
                if len(self._line) >= LOOKAHEAD:
                    shown.append(self._judge())
        return "".join(shown)

    def finish(self) -> str:
        """What is held at the end of the reply."""
        return "" if self.stopped or self._judged else self._judge()

    def _end_line(self) -> str:
        if self._judged:  # it streamed: it had words
            self._judged, self._after_blank = False, False
            return "\n"
        blank = not self._line.strip()
        line = self._judge()
        if self.stopped:
            return ""
        self._judged, self._after_blank = False, blank
        return line + "\n"

    def _judge(self) -> str:
        """The held line, shown, unless it begins a new turn (then nothing more is)."""
        line, self._line = self._line, ""
        if self._begun and line.strip() and begins_a_turn(line, self._after_blank):
            self.stopped = True
            return ""
        self._begun = self._begun or bool(line.strip())
        self._judged = True
        return line
