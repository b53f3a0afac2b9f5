"""Markdown to the HTML subset Qt's rich text understands.

Model output is untrusted: raw HTML is escaped, images become plain links (no
remote image is ever fetched), and links are only followed when clicked.
Code blocks are highlighted with Pygments and get a copy link each. A single
newline is a line break, as the model wrote it (a list of lines stays a list of
lines).

A reply that is still streaming is rendered in pieces: `settled` says how much
of its start later text can no longer change, so only the rest is re-rendered.

What one render may cost is bounded by the text's shape (RenderCost): past it, the
text is shown as plain (escaped) text, line by line, instead of as Markdown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name, guess_lexer
from pygments.util import ClassNotFound

from app.platform.i18n import _

COPY_CODE_SCHEME = "hearth-copy-code"
# A paragraph still being written is settled line by line once it is this long...
PARAGRAPH_SETTLE_LINES = 8
# ...except its last lines: a table's delimiter row may still turn the line above it
# into a table header.
UNSETTLED_PARAGRAPH_LINES = 2
_SPAN_MARKS = "*_`~[]<"  # left as plain text, they may still pair with a later one
LINE_END = re.compile(r"\r\n?|\n")  # what markdown-it counts as a line end

# The bounds of one render, past which text is shown plain. Measured on this 2-core
# machine with other work running (render = markdown-it parse + HTML):
# - brackets: 10,000 `[` and 9,000 `]` took 1.7 s (markdown-it looks for each link's end
#   again); 500 `[` take 95 ms, and 500 links are more than a shown reply holds
#   (SHOWN_CHARACTERS: 20,000 characters are 555 of the shortest links).
MAX_BRACKETS = 500
# - tables: a 3,000-column table streamed stalled the window 6.25 s (its layout in Qt
#   most of all); 100 columns x 22 rows take 91 ms to render.
MAX_TABLE_COLUMNS = 64
# - emphasis and code marks: 10,000 `*a` took 344 ms, 10,000 `_a` 251 ms; 2,000 marks
#   take about 60 ms.
MAX_SPAN_MARKS = 2_000
_SPAN_MARK = re.compile(r"[*_`<(~]")
# - lines: 10,000 one-word lines took 434 ms (and 1.2 s to settle); 2,000 about 90 ms.
MAX_LINES = 2_000


@dataclass(frozen=True)
class Palette:
    code_background: str
    code_border: str
    pygments_style: str
    muted: str


LIGHT = Palette("#f5f5f4", "#d6d3d1", "friendly", "#78716c")
DARK = Palette("#1c1917", "#44403c", "monokai", "#a8a29e")


@dataclass
class RenderedMarkdown:
    html: str
    code_blocks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Settled:
    """The start of a streaming message that later text cannot re-render differently."""

    length: int  # characters
    mid_paragraph: bool = False  # it ends between two lines of one paragraph


def too_costly(text: str) -> bool:
    """Whether rendering `text` as Markdown would cost more than one render may."""
    if text.count("[") > MAX_BRACKETS or text.count("\n") > MAX_LINES:
        return True
    if "|" in text and any(line.count("|") > MAX_TABLE_COLUMNS + 1 for line in LINE_END.split(text)):
        return True
    return len(_SPAN_MARK.findall(text)) > MAX_SPAN_MARKS


def plain_html(text: str) -> str:
    """`text` as escaped plain text, each line on its own line, as Markdown would break it."""
    lines = [html.escape(line) for line in LINE_END.split(text)]
    return f"<p>{'<br />'.join(lines)}</p>\n"


class _Renderer(RendererHTML):
    def __init__(self, parser: MarkdownIt | None = None) -> None:
        super().__init__(parser)
        self.palette = LIGHT

    def fence(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        language = token.info.strip().split(" ")[0] if token.info else ""
        return self._code_block(token.content, language, env)

    def code_block(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return self._code_block(tokens[idx].content, "", env)

    def image(self, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        source = str(token.attrGet("src") or "")
        label = html.escape(_("[image: {description}]").format(description=token.content or _("image")))
        return f'<a href="{html.escape(source)}">{label}</a>'

    def _code_block(self, code: str, language: str, env: EnvType) -> str:
        blocks: list[str] = env.setdefault("code_blocks", [])
        number = f"{env.get('block_prefix', '')}{len(blocks)}"
        blocks.append(code)
        palette = self.palette
        lexer = None
        try:
            lexer = get_lexer_by_name(language) if language else guess_lexer(code)
        except ClassNotFound:
            lexer = None
        if lexer is not None:
            formatter = HtmlFormatter(noclasses=True, nowrap=True, style=palette.pygments_style)
            body = highlight(code, lexer, formatter).rstrip("\n")
        else:
            body = html.escape(code.rstrip("\n"))
        caption = html.escape(language or _("code"))
        return (
            f'<table width="100%" cellspacing="0" cellpadding="6" '
            f'style="background-color:{palette.code_background};'
            f'border:1px solid {palette.code_border};margin-top:4px;margin-bottom:4px">'
            f'<tr><td><span style="color:{palette.muted}">{caption}</span> &nbsp; '
            f'<a href="{COPY_CODE_SCHEME}:{number}">{html.escape(_("Copy code"))}</a></td></tr>'
            f"<tr><td><pre style=\"margin:0\">{body}</pre></td></tr></table>\n"
        )


class MarkdownRenderer:
    """Renders one message at a time; cheap to call repeatedly while streaming."""

    def __init__(self, dark: bool = False) -> None:
        self._parser = MarkdownIt("js-default", {"breaks": True}, renderer_cls=_Renderer).enable("table")
        self.set_dark(dark)

    def set_dark(self, dark: bool) -> None:
        self.dark = dark
        renderer = self._parser.renderer
        assert isinstance(renderer, _Renderer)
        renderer.palette = DARK if dark else LIGHT

    def render(
        self, text: str, block_prefix: str = "", joins_previous: bool = False, joins_next: bool = False
    ) -> RenderedMarkdown:
        """`block_prefix` keeps copy links unique when several messages share a page:
        block N links to `hearth-copy-code:{block_prefix}N`.

        `joins_previous` / `joins_next` drop the paragraph margin at the start / end,
        for a piece of a streaming message cut between two lines of one paragraph."""
        if too_costly(text):
            return RenderedMarkdown(html=plain_html(text))
        env: EnvType = {"block_prefix": block_prefix}
        tokens = self._parser.parse(text, env)
        blocks = _top_level_blocks(tokens)
        if joins_previous and blocks and blocks[0].type == "paragraph_open":
            _add_style(blocks[0], "margin-top:0px")
        if joins_next and blocks and blocks[-1].type == "paragraph_open":
            _add_style(blocks[-1], "margin-bottom:0px")
        body = self._parser.renderer.render(tokens, self._parser.options, env)
        return RenderedMarkdown(html=body, code_blocks=list(env.get("code_blocks", [])))

    def settled(self, text: str) -> Settled:
        """How much of `text`, a message still being written, is final.

        Every top-level block but the last is: whatever follows, Markdown cannot
        pull it into another block. A long last paragraph settles its earlier lines
        too, so a model writing one line after another never makes the whole
        message render again. (A Setext underline or a link definition arriving
        later is only applied when the finished message is rendered whole.) Text too
        costly to render as Markdown is shown plain, where every finished line is final."""
        if too_costly(text):
            return Settled(max((match.end() for match in LINE_END.finditer(text)), default=0))
        tokens = self._parser.parse(text)
        opening = [i for i, token in enumerate(tokens) if _opens_top_level_block(token)]
        if not opening:
            return Settled(0)
        last = tokens[opening[-1]]
        assert last.map is not None
        starts = _line_starts(text)
        if last.type == "paragraph_open":
            cut = self._paragraph_cut(text, starts, last.map, tokens[opening[-1] + 1])
            if cut is not None:
                return Settled(starts[cut], mid_paragraph=True)
        return Settled(starts[last.map[0]])

    def _paragraph_cut(self, text: str, starts: list[int], lines: list[int], inline: Token) -> int | None:
        """The line where a long paragraph being written can be cut, or None.

        Rendered alone, the lines before the cut must give exactly the inline tokens
        they give inside the paragraph (no emphasis, link or code span crosses the
        cut), with no delimiter left unmatched that later text could still close,
        and the line after it must still read as paragraph text (not as code, a
        list item or a heading)."""
        first, end = lines
        cut = end - UNSETTLED_PARAGRAPH_LINES
        if cut - first < PARAGRAPH_SETTLE_LINES:
            return None
        start, middle = starts[first], starts[cut]
        next_line = text[middle : starts[cut + 1]]
        if _top_level_blocks(self._parser.parse(next_line))[0].type != "paragraph_open":
            return None
        head = self._parser.parse(text[start:middle])
        if len(head) != 3 or head[0].type != "paragraph_open":
            return None
        breaks = [i for i, t in enumerate(inline.children or []) if t.type in ("softbreak", "hardbreak")]
        if len(breaks) < cut - first:
            return None
        inside = (inline.children or [])[: breaks[cut - first - 1]]
        alone = head[1].children or []
        if [(t.type, t.content) for t in alone] != [(t.type, t.content) for t in inside]:
            return None
        if any(mark in t.content for t in alone if t.type == "text" for mark in _SPAN_MARKS):
            return None
        return cut


def _opens_top_level_block(token: Token) -> bool:
    """The opening token of a top-level block (paragraph, list, fence, table...)."""
    return token.level == 0 and token.nesting != -1 and bool(token.map)


def _top_level_blocks(tokens: list[Token]) -> list[Token]:
    return [token for token in tokens if _opens_top_level_block(token)]


def _add_style(token: Token, rule: str) -> None:
    existing = token.attrGet("style")
    token.attrSet("style", f"{existing}; {rule}" if existing else rule)


def _line_starts(text: str) -> list[int]:
    """Where each line starts in `text`, as markdown-it numbers lines, and then the end."""
    return [0, *(match.end() for match in LINE_END.finditer(text)), len(text)]
