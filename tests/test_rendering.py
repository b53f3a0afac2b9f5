from __future__ import annotations

from app.core.rendering import COPY_CODE_SCHEME, MarkdownRenderer


def test_raw_html_from_the_model_is_shown_as_text() -> None:
    html = MarkdownRenderer().render("<script>alert(1)</script> <b>x</b>").html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in html


def test_images_become_links_and_are_never_embedded() -> None:
    html = MarkdownRenderer().render("![cat](https://example.com/cat.png)").html
    assert "<img" not in html
    assert 'href="https://example.com/cat.png"' in html and "[image: cat]" in html


def test_code_blocks_are_highlighted_with_a_copy_link() -> None:
    rendered = MarkdownRenderer().render("```python\nprint('hi')\n```\n\n```\nplain\n```", block_prefix="7-")
    assert rendered.code_blocks == ["print('hi')\n", "plain\n"]
    assert f'href="{COPY_CODE_SCHEME}:7-0"' in rendered.html
    assert f'href="{COPY_CODE_SCHEME}:7-1"' in rendered.html
    assert "<span style=" in rendered.html  # Pygments colours


def test_dark_palette_changes_the_code_background() -> None:
    renderer = MarkdownRenderer(dark=False)
    light = renderer.render("```\nx\n```").html
    renderer.set_dark(True)
    assert renderer.render("```\nx\n```").html != light
