"""Markdown to the HTML subset Qt's rich text understands.

Model output is untrusted: raw HTML is escaped, images become plain links (no
remote image is ever fetched), and links are only followed when clicked.
Code blocks are highlighted with Pygments and get a copy link each.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name, guess_lexer
from pygments.util import ClassNotFound

COPY_CODE_SCHEME = "hearth-copy-code"


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


class _Renderer(RendererHTML):
    def __init__(self, parser: MarkdownIt | None = None) -> None:
        super().__init__(parser)
        self.palette = LIGHT

    def fence(self, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        language = token.info.strip().split(" ")[0] if token.info else ""
        return self._code_block(token.content, language, env)

    def code_block(self, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        return self._code_block(tokens[idx].content, "", env)

    def image(self, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
        token = tokens[idx]
        source = str(token.attrGet("src") or "")
        label = html.escape(token.content or "image")
        return f'<a href="{html.escape(source)}">[image: {label}]</a>'

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
        caption = html.escape(language) if language else "code"
        return (
            f'<table width="100%" cellspacing="0" cellpadding="6" '
            f'style="background-color:{palette.code_background};'
            f'border:1px solid {palette.code_border};margin-top:4px;margin-bottom:4px">'
            f'<tr><td><span style="color:{palette.muted}">{caption}</span> &nbsp; '
            f'<a href="{COPY_CODE_SCHEME}:{number}">Copy code</a></td></tr>'
            f"<tr><td><pre style=\"margin:0\">{body}</pre></td></tr></table>\n"
        )


class MarkdownRenderer:
    """Renders one message at a time; cheap to call repeatedly while streaming."""

    def __init__(self, dark: bool = False) -> None:
        self._parser = MarkdownIt("js-default", renderer_cls=_Renderer).enable("table")
        self.set_dark(dark)

    def set_dark(self, dark: bool) -> None:
        renderer = self._parser.renderer
        assert isinstance(renderer, _Renderer)
        renderer.palette = DARK if dark else LIGHT

    def render(self, text: str, block_prefix: str = "") -> RenderedMarkdown:
        """`block_prefix` keeps copy links unique when several messages share a page:
        block N links to `hearth-copy-code:{block_prefix}N`."""
        env: EnvType = {"block_prefix": block_prefix}
        body = self._parser.render(text, env)
        return RenderedMarkdown(html=body, code_blocks=list(env.get("code_blocks", [])))
