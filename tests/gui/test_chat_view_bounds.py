"""A reply too costly to show as Markdown streams into the view as plain text."""

from __future__ import annotations

from PySide6.QtGui import QTextTable

from app.chat.rendering import MarkdownRenderer
from app.gui.widgets.chat_view import ChatView


def test_a_wide_table_and_a_bracket_storm_stream_in_as_plain_text(qtbot) -> None:
    view = ChatView(MarkdownRenderer())
    qtbot.addWidget(view)
    view.show()
    view.begin_stream()
    # Within what the view shows of a reply (SHOWN_CHARACTERS).
    table = "|" + "|".join(f"c{i}" for i in range(1000)) + "|\n|" + "|".join("-" for _ in range(1000)) + "|\n"
    text = table + "\n" + "[" * 1500 + "]" * 1000
    for start in range(0, len(text), 500):
        view.append_stream(text[start : start + 500])
        view._render_stream()  # what the render timer does
    view.end_stream()
    shown = view.toPlainText()
    assert "|c0|c1|c2|" in shown and "[[[[[[" in shown
    frames = view.document().rootFrame().childFrames()
    assert not any(isinstance(frame, QTextTable) for frame in frames)
