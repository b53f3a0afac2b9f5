"""The sources under a reply written from the user's documents, as the conversation page
shows them: numbered as the model read them, each with its file and place, the passage
with the question's words highlighted, and a link that opens the file."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject

from app.chat.grounding import Source, excerpt, recorded_grounding

# What a source shows of its passage; Copy and Details are not needed to check it: the
# file opens at a click.
SHOWN_PASSAGE_CHARACTERS = 320
HIGHLIGHT = {False: "#fff1a8", True: "#6b5d00"}  # by dark palette


def _tr(text: str) -> str:
    return QCoreApplication.translate("ChatView", text)


class _Counted(QObject):
    """The sentences with a count: lupdate marks a message as plural only in a `tr` call,
    so that the English catalog gives "1 more passage", not "1 more passages"."""

    def left_out(self, count: int, notes: bool) -> str:
        if notes:
            return self.tr("%n more notes did not fit in what the model can read at once.", "", count)
        return self.tr("%n more passages did not fit in what the model can read at once.", "", count)


def highlighted(text: str, words: Sequence[str], dark: bool) -> str:
    """`text` as HTML, each occurrence of a word (or a word it begins) marked."""
    if not words:
        return html.escape(text)
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(word) for word in words) + r")\w*", re.IGNORECASE)
    pieces, last = [], 0
    for match in pattern.finditer(text):
        pieces.append(html.escape(text[last:match.start()]))
        pieces.append(f"<span style='background-color:{HIGHLIGHT[dark]}'>{html.escape(match.group())}</span>")
        last = match.end()
    pieces.append(html.escape(text[last:]))
    return "".join(pieces)


def sources_html(provenance: dict[str, Any], open_link: Callable[[Source], str], dark: bool) -> str:
    """The sources block of a reply, '' for a reply without documents attached.
    `open_link(source)`: the href that opens the source's file."""
    grounding = recorded_grounding(provenance)
    if grounding is None:
        return ""
    sources = grounding.sources
    parts = []
    for name in grounding.missing:
        parts.append(html.escape(_tr("“{name}” is no longer among your documents.").format(name=name)))
    if not sources:
        parts.append(html.escape(_tr("No passage of the attached documents matched this question: the answer is the model's own.")))
        return "<p style='color:gray'><small>" + "<br>".join(parts) + "</small></p>"
    if grounding.left_out:
        parts.append(html.escape(_Counted().left_out(grounding.left_out, grounding.every_document)))
    title = _tr("Sources (all of the attached documents were read)") if grounding.whole else _tr("Sources")
    lines = [f"<b>{html.escape(title)}</b>", *parts]
    for source in sources:
        headings = f" — {html.escape(' > '.join(source.headings))}" if source.headings else ""
        lines.append(
            f"[{source.number}] <b>{html.escape(source.where)}</b>{headings} &nbsp; "
            f"<a href=\"{open_link(source)}\">{html.escape(_tr('Open file'))}</a><br>"
            + highlighted(excerpt(source.text, source.words, SHOWN_PASSAGE_CHARACTERS), source.words, dark)
        )
    return "<p><small>" + "<br>".join(lines) + "</small></p>"
