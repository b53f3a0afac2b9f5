"""A model's own chat template is code from the model file: bounded, stoppable, and
writing the same text as llama-cpp-python for the templates real models ship."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from app.backends.llama.template_guard import (
    Fault,
    RenderLimits,
    TemplateFault,
    TemplateStopped,
    fault_message,
    render_chat_template,
)
from app.modelfile.gguf_info import read_gguf_info
from tests.gguf_factory import CHATML_TEMPLATE

# Gemma 3's instruction template (as published with gemma-3-*-it); the test Gemma is the
# base model, which has none.
GEMMA3_TEMPLATE = (Path(__file__).parent / "templates" / "gemma3.jinja").read_text(encoding="utf-8")

CONVERSATIONS = [
    [{"role": "user", "content": "Hi"}],
    [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello! {{ not a template }} 50 % off"},
        {"role": "user", "content": "What is 2+2?\n\n```py\nprint(1)\n```"},
    ],
    [
        {"role": "user", "content": "a" * 5000},
        {"role": "assistant", "content": "  spaced  "},
        {"role": "user", "content": "call tel:0123456789 or {:>99999999} or %12345678d"},
    ],
]

NESTED_LOOPS = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
HELLO_WORLD = "{% for i in range(100000) %}{{ 'hello world ' * 100 }}{% endfor %}"


def render(template: str, messages: list[dict[str, str]] | None = None, *, seconds: float = 30.0,
           cancel: threading.Event | None = None) -> str:
    messages = CONVERSATIONS[0] if messages is None else messages
    return render_chat_template(template, messages, "<s>", "</s>", RenderLimits(seconds, 100_000, cancel))


def fault_of(template: str, **kwargs: object) -> TemplateFault:
    with pytest.raises(TemplateFault) as caught:
        render(template, **kwargs)  # type: ignore[arg-type]
    return caught.value


@pytest.mark.parametrize("messages", CONVERSATIONS)
def test_real_templates_write_what_llama_cpp_python_writes(smollm_path: Path, messages: list[dict[str, str]]) -> None:
    smollm_template = read_gguf_info(smollm_path).chat_template
    assert smollm_template is not None
    for template in (smollm_template, GEMMA3_TEMPLATE, CHATML_TEMPLATE):
        expected = Jinja2ChatFormatter(template=template, eos_token="</s>", bos_token="<s>")(messages=messages).prompt  # type: ignore[arg-type]
        limits = RenderLimits.for_context(2048, messages, None)
        assert render_chat_template(template, messages, "<s>", "</s>", limits) == expected


def test_loops_that_never_end_are_told_as_too_slow() -> None:
    assert fault_of(NESTED_LOOPS, seconds=0.2).kind is Fault.SLOW
    per_message = "{% for m in messages %}" + NESTED_LOOPS + "{% endfor %}"
    assert fault_of(per_message, seconds=0.2).kind is Fault.SLOW
    doubling = "{% macro f(n) %}{% if n > 0 %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(60) }}"
    assert fault_of(doubling, seconds=0.2).kind is Fault.SLOW


def test_stop_ends_a_template_that_never_ends() -> None:
    cancel = threading.Event()
    threading.Timer(0.2, cancel.set).start()
    with pytest.raises(TemplateStopped):
        render(NESTED_LOOPS, seconds=600, cancel=cancel)


@pytest.mark.parametrize("template", [
    HELLO_WORLD,
    "{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    "{% set ns = namespace(s='ab') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
    "{% set x %}{% for a in range(100000) %}{{ 'y' * 1000 }}{% endfor %}{% endset %}{{ x|length }}",
    "{{ 'x'|center(1000000000) }}",
    "{{ 'x'.ljust(1000000000) }}",
    "{{ '%999999999d' % 1 }}",
    "{{ '{:>999999999}'.format(1) }}",
    "{{ [1] * 1000000000 }}",
    "{% set ns = namespace(n=3) %}{% for i in range(40) %}{% set ns.n = ns.n * ns.n %}{% endfor %}",
    "{{ 7 ** 100000000 }}",
])
def test_templates_that_write_too_much_are_stopped_early(template: str) -> None:
    assert fault_of(template).kind is Fault.LARGE


def test_a_template_longer_than_any_real_one_is_refused() -> None:
    assert fault_of("x" * 1_000_000).kind is Fault.LARGE


@pytest.mark.parametrize("template", [
    "{{ 1/0 }}", "{% for %}", "{{ messages.__class__.__base__.x }}", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
])
def test_broken_templates_are_told_as_broken(template: str) -> None:
    assert fault_of(template).kind is Fault.BROKEN


def test_what_the_template_raises_is_not_kept() -> None:
    secret = [{"role": "user", "content": "my password is hunter2"}]
    fault = fault_of("{{ raise_exception('x' ~ messages[-1]['content']) }}", messages=secret)
    assert fault.kind is Fault.REFUSED
    assert "hunter2" not in str(fault) and "hunter2" not in fault.detail and "hunter2" not in repr(fault.__cause__)


@pytest.mark.parametrize("kind", list(Fault))
def test_each_fault_is_a_sentence_naming_the_model(kind: Fault) -> None:
    text = fault_message(kind, "SmolLM2 135M")
    assert "chat template of the model SmolLM2 135M" in text and "Settings" in text and text.endswith(".")


# Text a template builds in one C call (a str method, a filter, a list written out) is all
# built before anything can count it: each of these is measured first and refused, with
# max_output 20,000, where each would otherwise take from 200 MB to tens of GB.
_S = "{% set s = 'a' * 15000 %}"
_LIST = "{% set ns = namespace(l=[s]) %}{% for i in range(14) %}{% set ns.l = ns.l + ns.l %}{% endfor %}"
ONE_CALL_ATTACKS = {
    "replace": _S + "{{ s.replace('', s)|length }}",
    "replace_count": _S + "{{ s.replace('a', s, 10000)|length }}",
    "join": _S + "{{ s.join([s] * 15000)|length }}",
    "join_generator": _S + _LIST + "{{ s.join(ns.l|map('string'))|length }}",
    "join_filter": _S + _LIST + "{{ ns.l|join|length }}",
    "expandtabs": "{{ ('\t' * 15000).expandtabs(15000)|length }}",
    "ljust": "{{ 'x'.ljust(15000).ljust(15000)|length }}{% set t = 'x'.rjust(19000) %}{{ t.center(20001)|length }}",
    "format_width": "{{ '{:>19999}{:>19999}'.format(1, 2)|length }}{{ '{:>{}}'.format(1, 19999)|length }}",
    "percent_width": "{{ ('%*d' % (19999, 1))|length }}{{ ('%19999d%19999d' % (1, 2))|length }}",
    "list_written": _S + _LIST + "{{ ns.l|length }}{{ ns.l }}",
    "list_concat": _S + _LIST + "{{ ('' ~ ns.l)|length }}",
    "list_string": _S + _LIST + "{{ ns.l|string|length }}",
    "list_tojson": _S + _LIST + "{{ ns.l|tojson|length }}",
    "tojson_indent": "{% set ns = namespace(l=[[1]]) %}{% for i in range(13) %}{% set ns.l = ns.l + ns.l %}{% endfor %}"
                     "{{ ns.l|tojson(indent=19999)|length }}",
    "list_repeat": _S + "{{ ([s] * 15000)|length }}",
    "filter_replace": _S + "{{ s|replace('', s)|length }}",
    "indent": "{{ ('a\n' * 7500)|indent(15000)|length }}",
    "wordwrap": _S + "{{ ('a ' * 7000)|wordwrap(1, wrapstring=s)|length }}",
    "sum": _S + _LIST + "{{ ([ns.l] * 1000)|sum(start=[])|length }}",
    "lipsum": "{{ lipsum(10000, false, 9999, 10000)|length }}",
    "translate": _S + "{{ s.translate({97: s})|length }}",
}

_MEASURE = """
import resource, sys, time
from app.backends.llama.template_guard import RenderLimits, TemplateFault, render_chat_template
messages = [{"role": "user", "content": "Hi"}]
render_chat_template("{{ 'warm' }}", messages, "", "", RenderLimits(30.0, 20000))
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
try:
    render_chat_template(sys.argv[1], messages, "", "", RenderLimits(30.0, 20000))
    kind = "none"
except TemplateFault as fault:
    kind = fault.kind.value
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(kind, grown // 1024, time.monotonic() - start)
"""


@pytest.mark.parametrize("name", list(ONE_CALL_ATTACKS))
def test_text_built_in_one_call_is_refused_before_it_is_built(name: str) -> None:
    # A process of its own: the peak memory it reports is this template's alone.
    result = subprocess.run([sys.executable, "-c", _MEASURE, ONE_CALL_ATTACKS[name]],
                            capture_output=True, text=True, timeout=60, check=True)
    kind, grown_mb, seconds = result.stdout.split()
    assert kind in (Fault.LARGE.value, Fault.BROKEN.value), result.stdout
    assert int(grown_mb) < 50 and float(seconds) < 3.0, result.stdout
