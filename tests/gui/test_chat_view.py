"""The streaming reply is rendered in pieces; on screen it must match the reply rendered whole."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication

from app.chat.rendering import COPY_CODE_SCHEME, MarkdownRenderer, RenderedMarkdown, Settled
from app.gui.widgets.chat_view import ChatView

REPLY = (
    "# Tides\n\nThe sea rises *twice* a day\nand falls twice.\n\n"
    "- the moon\n- the sun\n\n  and the shape of the coast\n- the wind\n\n"
    "```python\nhigh = 2\nlow = -2\n```\n\n"
    "| port | range |\n|---|---|\n| Brest | 7 m |\n\n"
    + "\n".join(f"Hour {n}: the water is **{n * 10} cm** higher" for n in range(30))
    + "\n\n1. wait\n2. watch\n\n```\nprint('done')\n```\n\nThat is all."
)


class CountingRenderer(MarkdownRenderer):
    """Remembers how much text each render call was given."""

    def __init__(self) -> None:
        super().__init__()
        self.rendered_lengths: list[int] = []

    def render(self, text: str, *args: object, **kwargs: object) -> RenderedMarkdown:
        self.rendered_lengths.append(len(text))
        return super().render(text, *args, **kwargs)  # type: ignore[arg-type]


class WholeRenderer(MarkdownRenderer):
    """Never settles anything: the reply is rendered whole, in one piece."""

    def settled(self, text: str) -> Settled:
        return Settled(0)


def new_view(qtbot, renderer: MarkdownRenderer) -> ChatView:
    view = ChatView(renderer)
    qtbot.addWidget(view)
    view.resize(800, 600)
    view.show()
    view.begin_stream()
    return view


def stream_into(view: ChatView, text: str, render_every: int) -> None:
    """Stream `text` 7 characters at a time, rendering after every `render_every` pieces."""
    for number, start in enumerate(range(0, len(text), 7)):
        view.append_stream(text[start : start + 7])
        if number % render_every == render_every - 1:
            view._render_stream()  # what the render timer does
    view._render_stream()


def streamed_view(qtbot, text: str, render_every: int) -> tuple[ChatView, CountingRenderer]:
    renderer = CountingRenderer()
    view = new_view(qtbot, renderer)
    stream_into(view, text, render_every)
    return view, renderer


def whole_view(qtbot, text: str) -> ChatView:
    view = new_view(qtbot, WholeRenderer())
    stream_into(view, text, render_every=len(text))
    return view


def shown_lines(view: ChatView) -> list[str]:
    return [line for line in view.toPlainText().splitlines() if line.strip()]


def test_a_reply_streamed_in_pieces_looks_like_the_reply_rendered_whole(qtbot) -> None:
    for text in (REPLY, REPLY.replace("\n", "\r\n")):
        whole = whole_view(qtbot, text)
        assert "Hour 29: the water is 290 cm higher" in shown_lines(whole)
        for render_every in (1, 3, 10):
            pieces, renderer = streamed_view(qtbot, text, render_every)
            assert len(renderer.rendered_lengths) > 20  # it was rendered in pieces
            assert shown_lines(pieces) == shown_lines(whole)
            assert pieces.document().size().height() == whole.document().size().height()
            assert "**" not in pieces.toPlainText()


def test_a_reply_shown_again_after_the_page_was_rebuilt_still_looks_whole(qtbot) -> None:
    view, _ = streamed_view(qtbot, REPLY[:400], render_every=3)
    view.show_messages([], {})  # e.g. the user went to another chat and back
    view.resume_stream()
    stream_into(view, REPLY[400:], render_every=3)
    whole = whole_view(qtbot, REPLY)
    assert shown_lines(view) == shown_lines(whole)
    assert view.document().size().height() == whole.document().size().height()


def test_emphasis_across_lines_of_a_long_paragraph_is_never_cut(qtbot) -> None:
    text = "\n".join(f"line {n}" for n in range(9)) + "\n**bold\n" + "\n".join(
        f"still bold {n}" for n in range(20)) + "**\nplain"
    view, _ = streamed_view(qtbot, text, render_every=2)
    assert shown_lines(view) == shown_lines(whole_view(qtbot, text))
    assert "**" not in view.toPlainText()


def test_a_long_reply_never_renders_all_of_itself_again(qtbot) -> None:
    paragraphs = "\n\n".join(f"Paragraph {n} is about *lighthouses* and ships." for n in range(60))
    lines = "\n".join(f"line {n}" for n in range(200))  # one paragraph, a line at a time
    for text, last_line in ((paragraphs, "Paragraph 59 is about lighthouses and ships."), (lines, "line 199")):
        view, renderer = streamed_view(qtbot, text, render_every=3)
        assert max(renderer.rendered_lengths) < len(text) / 10
        assert shown_lines(view)[-1] == last_line


def test_copy_code_links_copy_their_own_block_after_streaming(qtbot) -> None:
    view, _ = streamed_view(qtbot, REPLY, render_every=2)
    links = []
    block = view.document().begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            href = fragments.fragment().charFormat().anchorHref()
            if href.startswith(COPY_CODE_SCHEME) and href not in links:
                links.append(href)
            fragments += 1
        block = block.next()
    copied = []
    for href in links:
        view.anchorClicked.emit(QUrl(href))
        copied.append(QGuiApplication.clipboard().text())
    assert copied == ["high = 2\nlow = -2\n", "print('done')\n"]


def test_streamed_text_shows_once_before_and_after_its_markdown(qtbot) -> None:
    view = new_view(qtbot, MarkdownRenderer())
    view._render_interval_ms = 60_000  # only this test renders
    view.append_stream("Tides **rise**")
    view.append_stream(" twice a day.\nAnd fall.")
    qtbot.waitUntil(lambda: "Tides **rise** twice a day." in view.toPlainText(), timeout=2000)
    assert view.document().lastBlock().text() == "Tides **rise** twice a day.\u2028And fall."  # one block
    view.append_stream(" Twice.")
    assert "Twice" not in view.toPlainText()  # shown a moment later, when llama.cpp holds no GIL
    view._render_stream()  # the render comes before the new text was shown as plain text
    qtbot.wait(50)  # longer than the show delay: nothing is added twice
    assert view.document().lastBlock().text() == "Tides rise twice a day.\u2028And fall. Twice."


def test_text_still_to_be_shown_when_the_page_is_rebuilt_shows_once(qtbot) -> None:
    view = new_view(qtbot, MarkdownRenderer())
    view.append_stream("Ebb and flow.")
    view.show_messages([], {})  # e.g. the user went to another chat and back
    view.resume_stream()
    qtbot.wait(50)
    assert shown_lines(view).count("Ebb and flow.") == 1
    view.append_stream(" Again.")
    view.end_stream()  # the reply finished; the window shows it from the store next
    qtbot.wait(50)
    assert "Again" not in view.toPlainText()
