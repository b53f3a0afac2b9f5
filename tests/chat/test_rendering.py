from __future__ import annotations

from app.chat.rendering import COPY_CODE_SCHEME, MarkdownRenderer


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


def test_a_single_newline_is_a_line_break() -> None:
    assert "one<br>" in MarkdownRenderer().render("one\ntwo").html


def test_every_block_but_the_last_is_settled() -> None:
    text = "# Title\n\nFirst paragraph.\n\n- a\n- b\n\nStill writ"
    settled = MarkdownRenderer().settled(text)
    assert text[: settled.length] == "# Title\n\nFirst paragraph.\n\n- a\n- b\n\n"
    assert not settled.mid_paragraph


def test_an_open_code_fence_is_not_settled() -> None:
    text = "Intro.\n\n```python\nx = 1\n\ny = 2\n"
    assert text[: MarkdownRenderer().settled(text).length] == "Intro.\n\n"


def test_a_long_paragraph_settles_all_but_its_last_lines() -> None:
    lines = [f"line {n}" for n in range(12)]
    text = "\n".join(lines)  # the last line is still being written
    settled = MarkdownRenderer().settled(text)
    assert text[: settled.length] == "\n".join(lines[:10]) + "\n"
    assert settled.mid_paragraph


def test_a_short_paragraph_or_a_lone_block_is_not_settled() -> None:
    renderer = MarkdownRenderer()
    assert renderer.settled("one\ntwo\nthree").length == 0
    assert renderer.settled("").length == 0


def test_settled_offsets_count_windows_line_ends() -> None:
    text = "First.\r\n\r\nSecond"
    assert text[: MarkdownRenderer().settled(text).length] == "First.\r\n\r\n"


def test_pieces_of_one_paragraph_join_without_margins() -> None:
    renderer = MarkdownRenderer()
    assert renderer.render("a\nb\n", joins_next=True).html.startswith('<p style="margin-bottom:0px">')
    assert renderer.render("c", joins_previous=True).html.startswith('<p style="margin-top:0px">')
    both = renderer.render("d", joins_previous=True, joins_next=True).html
    assert both.startswith('<p style="margin-top:0px; margin-bottom:0px">')


def test_a_paragraph_is_not_cut_where_the_rest_would_read_as_another_block() -> None:
    lines = [f"step {n} done" for n in range(10)] + ["2. not a list here", "last"]
    assert MarkdownRenderer().settled("\n".join(lines)).length == 0  # "2. ..." alone would be a list


def test_a_paragraph_is_not_cut_after_an_unclosed_emphasis() -> None:
    lines = ["**the start"] + [f"line {n}" for n in range(11)]
    assert MarkdownRenderer().settled("\n".join(lines)).length == 0
