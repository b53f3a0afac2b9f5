"""A model's own chat template, rendered without trusting it.

The template comes from the GGUF file: any file the user downloads or is handed. It is
Jinja2 code run on every reply, so it is rendered here in a sandbox whose work is
bounded: every loop iteration, call, filter and string-building operator checks a
deadline and the reply's cancel event, and the text it writes (and the text it builds
on the way) is capped relative to the model's context. Before this, two nested
`range(100000)` loops rendered forever (Stop and closing the window waited for them),
and `{{ 'hello world ' * 100 }}` in a `range(100000)` loop took 63-74 s and 3.2 GB.

The environment is set up as llama-cpp-python's Jinja2ChatFormatter sets up its own
(the same options, extensions, filters and globals), so a normal template writes the
same text as before.
"""

from __future__ import annotations

import enum
import functools
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jinja2
import jinja2.ext
import jinja2.filters
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, safe_range
from jinja2.utils import _PassArg
from jinja2.visitor import NodeTransformer
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from app.platform.i18n import _

# A normal template writes a conversation in milliseconds (SmolLM2's and Gemma's: under
# 5 ms for 100 messages here); three seconds is that with room for a slow computer, and
# short enough that the user is told within seconds.
RENDER_SECONDS = 3.0

# The largest chat templates published (tool-calling ones) are about 20,000 characters.
MAX_TEMPLATE_CHARS = 200_000

# What a template may write beyond the conversation's own text: its markers and
# separators, which a context of N tokens cannot hold more than a few characters of per
# token. Past this the prompt could never fit, so writing on is only waste.
CHARS_PER_CONTEXT_TOKEN = 16
EXTRA_CHARS = 65_536

# The text a template may build on the way (strings it concatenates, repeats, formats,
# then throws away), as a multiple of what it may write.
WORK_PER_OUTPUT = 16

# A number format wide enough to write megabytes by itself ("%9999999d", "{:>9999999}").
_WIDE_FORMAT = re.compile(r"[%:][^\s%{}]*?\d{7,}")

# Integer powers and products are refused past this many bits (a loop of squarings
# would otherwise take minutes on numbers of millions of digits).
MAX_INT_BITS = 64_000

_ITERATE = "hearth_guarded_iteration"
_SIZE = "hearth_guarded_size"


class Fault(enum.Enum):
    """Why a template could not be used; the engine says it in words."""

    SLOW = "slow"
    LARGE = "large"
    BROKEN = "broken"
    REFUSED = "refused"  # the template's own raise_exception()


class TemplateFault(Exception):
    """The template could not write out the conversation. `kind` and `detail` (an
    exception's type and the template line, never text the template made) are safe to log."""

    def __init__(self, kind: Fault, detail: str) -> None:
        super().__init__(kind.value)
        self.kind = kind
        self.detail = detail


class TemplateStopped(Exception):
    """The cancel event was set while the template was being written out."""


class _Exceeded(Exception):
    def __init__(self, kind: Fault) -> None:
        super().__init__(kind.value)
        self.kind = kind


class _TemplateRaised(Exception):
    """raise_exception() from the template: its message may quote the conversation, so
    it is not kept."""


@dataclass(frozen=True)
class RenderLimits:
    seconds: float
    max_output: int  # characters
    cancel: threading.Event | None = None

    @classmethod
    def for_context(cls, context_tokens: int, messages: Sequence[Mapping[str, Any]], cancel: threading.Event | None) -> RenderLimits:
        own_text = sum(len(str(message.get("content") or "")) for message in messages)
        return cls(RENDER_SECONDS, 2 * own_text + CHARS_PER_CONTEXT_TOKEN * context_tokens + EXTRA_CHARS, cancel)


class _Budget:
    """The work one render may still do; each guarded step calls check()."""

    def __init__(self, limits: RenderLimits) -> None:
        self._deadline = time.monotonic() + limits.seconds
        self._cancel = limits.cancel
        self.max_output = limits.max_output
        self._work_left = WORK_PER_OUTPUT * limits.max_output

    def check(self) -> None:
        if self._cancel is not None and self._cancel.is_set():
            raise TemplateStopped
        if time.monotonic() > self._deadline:
            raise _Exceeded(Fault.SLOW)

    def spend(self, value: Any) -> Any:
        """Count a value the template built; refuse one longer than the output may be."""
        self.check()
        if isinstance(value, (str, bytes, list, tuple, dict)):
            size = len(value)
            if size > self.max_output:
                raise _Exceeded(Fault.LARGE)
            self._work_left -= size
            if self._work_left < 0:
                raise _Exceeded(Fault.LARGE)
        return value

    def refuse_large_numbers(self, args: Iterable[Any]) -> None:
        """A number that alone asks for more text than the output may hold (a width, a
        repeat count) is refused before it runs."""
        if any(isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > self.max_output for arg in args):
            raise _Exceeded(Fault.LARGE)

    @staticmethod
    def refuse_wide_format(text: Any) -> None:
        """A format ("%9999999d", "{:>9999999}") that writes megabytes by itself."""
        if isinstance(text, str) and _WIDE_FORMAT.search(text):
            raise _Exceeded(Fault.LARGE)


class _GuardLoopsAndJoins(NodeTransformer):
    """Every `for` loop iterates through the budget; every `~` join is measured."""

    def visit_For(self, node: nodes.For) -> nodes.Node:  # noqa: N802  # Jinja's visitor names
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _ITERATE, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        return nodes.Filter(node, _SIZE, [], [], None, None, lineno=node.lineno)


def _repeat_size(left: Any, right: Any) -> int:
    if isinstance(left, (str, list, tuple)) and isinstance(right, int):
        return len(left) * right
    if isinstance(right, (str, list, tuple)) and isinstance(left, int):
        return len(right) * left
    return 0


class _GuardedEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, budget: _Budget) -> None:
        super().__init__(
            loader=jinja2.BaseLoader(),
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=[Jinja2ChatFormatter.IgnoreGenerationTags, jinja2.ext.loopcontrols],
        )
        self.budget = budget
        self.filters["tojson"] = Jinja2ChatFormatter.tojson
        self.filters = {name: self._guarded_filter(function) for name, function in self.filters.items()}
        self.filters[_ITERATE] = self._iterate
        self.filters[_SIZE] = budget.spend

    def _guarded_filter(self, function: Callable[..., Any]) -> Callable[..., Any]:
        budget = self.budget
        # The filtered value comes after the context or environment a filter may ask for.
        value_at = 0 if _PassArg.from_obj(function) is None else 1
        formats = function is jinja2.filters.do_format

        @functools.wraps(function)  # keeps jinja_pass_arg: the filter gets its context as before
        def guarded(*args: Any, **kwargs: Any) -> Any:
            budget.check()
            budget.refuse_large_numbers(args[value_at + 1 :])
            budget.refuse_large_numbers(kwargs.values())
            if formats and len(args) > value_at:
                budget.refuse_wide_format(args[value_at])
            return budget.spend(function(*args, **kwargs))

        return guarded

    def _iterate(self, iterable: Any) -> Iterator[Any]:
        for item in iterable:
            self.budget.check()
            yield item

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = _GuardLoopsAndJoins().visit(super()._parse(source, name, filename))
        tree.set_environment(self)
        return tree  # type: ignore[no-any-return]  # visit returns the node it was given

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        budget = self.budget
        budget.check()
        if operator == "*":
            if _repeat_size(left, right) > budget.max_output:
                raise _Exceeded(Fault.LARGE)
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise _Exceeded(Fault.LARGE)
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0 and max(1, left.bit_length()) * right > MAX_INT_BITS:
                raise _Exceeded(Fault.LARGE)
        elif operator == "+":
            if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)) and len(left) + len(right) > budget.max_output:
                raise _Exceeded(Fault.LARGE)
        else:  # "%": a format when its left side is text
            budget.refuse_wide_format(left)
        return budget.spend(super().call_binop(context, operator, left, right))

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805  # as Jinja's own
        budget = __self.budget
        budget.check()
        if __obj is not safe_range:
            budget.refuse_large_numbers(args)
            budget.refuse_large_numbers(value for key, value in kwargs.items() if not key.startswith("_"))
            if getattr(__obj, "__name__", "") in ("format", "format_map"):
                budget.refuse_wide_format(getattr(__obj, "__self__", None))
        return budget.spend(super().call(__context, __obj, *args, **kwargs))


def fault_message(kind: Fault, model: str) -> str:
    """The plain sentence for a template that could not be used, naming the model."""
    if kind is Fault.SLOW:
        text = _("The chat template of the model {model} could not be used: it takes too long to write out the conversation. "
                 "Choose another prompt format for this model in Settings.")
    elif kind is Fault.LARGE:
        text = _("The chat template of the model {model} could not be used: it writes far more than the model can read. "
                 "Choose another prompt format for this model in Settings.")
    elif kind is Fault.REFUSED:
        text = _("The chat template of the model {model} refused this conversation. "
                 "Choose another prompt format for this model in Settings.")
    else:
        text = _("The chat template of the model {model} could not be used: it has an error. "
                 "Choose another prompt format for this model in Settings.")
    return text.format(model=model)


def _raise_exception(message: str) -> None:
    raise _TemplateRaised


def _template_line(exc: BaseException) -> str:
    """The template line an exception came from, when Jinja recorded it."""
    lineno = getattr(exc, "lineno", None)
    traceback = exc.__traceback__
    while lineno is None and traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            lineno = traceback.tb_lineno
        traceback = traceback.tb_next
    return f"line {lineno}" if lineno is not None else "line unknown"


def render_chat_template(
    template: str,
    messages: Sequence[Mapping[str, Any]],
    bos_token: str,
    eos_token: str,
    limits: RenderLimits,
) -> str:
    """The conversation as `template` writes it, with a generation prompt at the end, as
    llama-cpp-python's Jinja2ChatFormatter would write it; within `limits`.

    Raises TemplateFault (too slow, too large, broken or refused by the template) or
    TemplateStopped (the cancel event was set)."""
    if len(template) > MAX_TEMPLATE_CHARS:
        raise TemplateFault(Fault.LARGE, f"template of {len(template)} characters")
    budget = _Budget(limits)
    try:
        compiled = _GuardedEnvironment(budget).from_string(template)
        chunks: list[str] = []
        written = 0
        for chunk in compiled.generate(
            messages=messages,
            eos_token=eos_token,
            bos_token=bos_token,
            raise_exception=_raise_exception,
            add_generation_prompt=True,
            functions=None,
            function_call=None,
            tools=None,
            tool_choice=None,
            strftime_now=Jinja2ChatFormatter.strftime_now,
        ):
            written += len(chunk)
            if written > budget.max_output:
                raise _Exceeded(Fault.LARGE)
            budget.check()
            chunks.append(chunk)
        return "".join(chunks)
    except TemplateStopped:
        raise
    except _Exceeded as exc:
        raise TemplateFault(exc.kind, _template_line(exc)) from None
    except _TemplateRaised as exc:
        raise TemplateFault(Fault.REFUSED, _template_line(exc)) from None
    except MemoryError as exc:
        raise TemplateFault(Fault.LARGE, f"MemoryError at {_template_line(exc)}") from None
    except RecursionError as exc:
        raise TemplateFault(Fault.BROKEN, f"RecursionError at {_template_line(exc)}") from None
    except Exception as exc:  # noqa: BLE001  # a template is code: any error it makes is its own
        raise TemplateFault(Fault.BROKEN, f"{type(exc).__name__} at {_template_line(exc)}") from None
