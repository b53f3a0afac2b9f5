"""What one render may cost is bounded by the text's shape: past it, the text is shown
plain (escaped), never as Markdown that would stall the window."""

from __future__ import annotations

import pytest

from app.chat.rendering import MAX_BRACKETS, MAX_LINES, MAX_SPAN_MARKS, MAX_TABLE_COLUMNS, MarkdownRenderer, too_costly

WIDE_TABLE = (
    "|" + "|".join(f"c{i}" for i in range(3000)) + "|\n"
    + "|" + "|".join("-" for _ in range(3000)) + "|\n"
    + "|" + "|".join("x" for _ in range(3000)) + "|\n"
)
BRACKETS = "[" * 10_000 + "]" * 9_000
LINKS = "".join(f"[link {i}](https://example.com/{i}) " for i in range(20_000))


@pytest.mark.parametrize("text", [WIDE_TABLE, BRACKETS, LINKS, "*a" * 10_000, "a\n" * 10_000])
def test_costly_shapes_are_shown_as_plain_text(text: str) -> None:
    rendered = MarkdownRenderer().render(text + "<script>x</script>")
    assert "<table" not in rendered.html and "<a href" not in rendered.html and "<em>" not in rendered.html
    assert "&lt;script&gt;x&lt;/script&gt;" in rendered.html
    first_line = text.splitlines()[0][:200]
    assert first_line.replace("\n", "") in rendered.html.replace("<br />", "\n")


def test_a_costly_text_being_written_settles_every_finished_line() -> None:
    text = WIDE_TABLE + "|still being"
    settled = MarkdownRenderer().settled(text)
    assert settled.length == len(WIDE_TABLE) and not settled.mid_paragraph


def test_the_bounds_leave_ordinary_replies_as_markdown() -> None:
    columns = MAX_TABLE_COLUMNS
    table = "|" + "|".join("h" for _ in range(columns)) + "|\n|" + "|".join("-" for _ in range(columns)) + "|\n"
    links = " ".join(f"[a{i}](https://e.com/{i})" for i in range(MAX_BRACKETS))
    ordinary = [table, links, "*a* " * (MAX_SPAN_MARKS // 2), "line\n" * MAX_LINES]
    assert not any(too_costly(text) for text in ordinary)
    renderer = MarkdownRenderer()
    assert "<table" in renderer.render(table).html and "<a href" in renderer.render(links).html
