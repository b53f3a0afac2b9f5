"""The words under a reply count in real English plurals: what did not fit, and its tokens."""

from __future__ import annotations

from app.chat.grounding import Grounding, Source, with_sources
from app.documents.blocks import PlaceKind
from app.gui.widgets.chat_view import stats_line
from app.gui.widgets.sources_html import sources_html

SOURCE = Source(1, "Handbook", "/docs/handbook.pdf", PlaceKind.PAGE, 3, (), "Overtime is paid at 1.5 times.", ("overtime",))


def shown(left_out: int, every_document: bool = False) -> str:
    notes = ("Paid at 1.5 times.",) if every_document else ()
    provenance = with_sources(Grounding((SOURCE,), notes=notes, every_document=every_document, left_out=left_out), "")
    return sources_html(provenance, lambda _source: "hearth-open:1", dark=False)


def test_what_did_not_fit_is_counted_in_the_singular_and_the_plural(english_plurals) -> None:
    assert "1 more passage did not fit in what the model can read at once." in shown(1)
    assert "3 more passages did not fit in what the model can read at once." in shown(3)
    assert "1 more note did not fit in what the model can read at once." in shown(1, every_document=True)
    assert "more" not in shown(0)


def test_the_reply_speed_line_counts_tokens_in_the_singular_and_the_plural(english_plurals) -> None:
    line = stats_line({"tokens_per_second": 12.5, "reply_tokens": 1, "prompt_tokens": 40, "time_to_first_token": 0.25})
    assert line == "12.5 tokens/s · 1 reply token · 40 prompt tokens · first token after 0.25 s"
