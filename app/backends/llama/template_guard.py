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
import inspect
import itertools
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
from jinja2.utils import Namespace, _PassArg, generate_lorem_ipsum
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

_ITERATE = "hearth_guarded_iteration"
_SIZE = "hearth_guarded_size"
_TEXT = "hearth_guarded_text"
_END = object()

# The widths and precisions of a format ("%9999999d", "{:>9999999}", "%.99999f"), and
# a width given by another field ("{:>{}}"), which writes as much as that field says.
_FORMAT_SPEC = re.compile(r"[%:]([^\s%{}]*)")
_SPEC_NUMBER = re.compile(r"\d+")
_NESTED_FIELD = re.compile(r"\{[^{}]*:[^{}]*\{")

# The str methods a template may call. Chat templates use the ones that find, compare,
# trim, split and change case (none of them writes more than a few times the text it is
# given); those that can write far more than they are given (replace, join, expandtabs,
# the paddings, format) are measured before they run (_str_method_size). The rest
# (translate, encode, ...) no chat template needs: they are refused as an error.
_STR_METHODS = frozenset({
    "capitalize", "casefold", "count", "endswith", "find", "index", "isalnum", "isalpha", "isascii", "isdecimal",
    "isdigit", "isidentifier", "islower", "isnumeric", "isprintable", "isspace", "istitle", "isupper", "lower",
    "lstrip", "partition", "removeprefix", "removesuffix", "rfind", "rindex", "rpartition", "rsplit", "rstrip",
    "split", "splitlines", "startswith", "strip", "swapcase", "title", "upper",
    "center", "expandtabs", "format", "format_map", "join", "ljust", "replace", "rjust", "zfill",
})

# Filters that pick, count or order values without writing them out as text; every
# other filter is measured by the text its value and arguments write (_text_size).
_STRUCTURAL_FILTERS = frozenset({
    "abs", "attr", "batch", "bool", "count", "d", "default", "dictsort", "first", "float", "groupby", "int", "items",
    "last", "length", "list", "map", "max", "min", "random", "reject", "rejectattr", "reverse", "round", "select",
    "selectattr", "slice", "sort", "unique", _ITERATE, _SIZE, _TEXT,
})

# Integer powers and products are refused past this many bits (a loop of squarings
# would otherwise take minutes on numbers of millions of digits).
MAX_INT_BITS = 64_000



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

    def refuse_size(self, size: int) -> None:
        """What a step would build, measured before it runs: one C call (a replace, a join,
        a list written out) builds all of it before anything can be counted."""
        if size > self.max_output:
            raise _Exceeded(Fault.LARGE)

    def refuse_wide_format(self, text: Any) -> None:
        """A format ("%9999999d", "{:>9999999}") that writes more than the output may hold
        by itself, or whose width another field gives ("{:>{}}")."""
        if not isinstance(text, str):
            return
        if _NESTED_FIELD.search(text):
            raise _Exceeded(Fault.LARGE)
        for spec in _FORMAT_SPEC.finditer(text):
            for number in _SPEC_NUMBER.findall(spec.group(1)):
                if len(number) > 9 or int(number) > self.max_output:
                    raise _Exceeded(Fault.LARGE)

    def refuse_large_text(self, *values: Any, indent: int = 0, separator: int = 2) -> None:
        """Values about to be written out as text (a list shown, joined or turned into JSON)."""
        self.refuse_size(sum(_text_size(value, self.max_output + 1, indent, separator) for value in values))

    def materialise(self, iterable: Any) -> list[Any]:
        """The items of an iterable that a C call would take all at once, taken here one
        by one within the budget."""
        items: list[Any] = []
        for item in iterable:
            self.check()
            items.append(item)
            if len(items) > self.max_output:
                raise _Exceeded(Fault.LARGE)
        return items


def _text_size(value: Any, limit: int, indent: int = 0, separator: int = 2) -> int:
    """About how many characters `value` writes as text (str(), JSON, pprint), counting a
    string as often as a list holds it; counting stops past `limit`. Within a few times
    the true size: what matters is that a list of 20,000 copies of one long string is
    seen as the gigabytes it writes, not as the 20,000 items it holds."""
    if isinstance(value, str):
        return len(value)
    size = 0
    # One iterator per level: the stack holds a path, never a level's items all at once.
    stack: list[Iterator[Any]] = [iter((value,))]
    while stack and size <= limit:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
            continue
        size += separator + indent * len(stack)
        if isinstance(item, str):
            size += len(item)
        elif isinstance(item, int):
            size += item.bit_length() // 3
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.append(iter(item))
        elif isinstance(item, dict):
            stack.append(itertools.chain.from_iterable(item.items()))
        elif isinstance(item, Namespace):
            stack.append(iter((object.__getattribute__(item, "_Namespace__attrs"),)))
        else:
            size += 16
    return size


def _str_method(obj: Any) -> tuple[str, str] | None:
    """(the text, the method's name) when `obj` is a method of a string (str.format as
    the sandbox wraps it included)."""
    method = getattr(obj, "__wrapped__", obj)
    text = getattr(method, "__self__", None)
    if isinstance(text, str) and isinstance(getattr(method, "__name__", None), str):
        return text, method.__name__
    return None


class _GuardLoopsAndJoins(NodeTransformer):
    """Every `for` loop iterates through the budget; every `~` join is measured, each of
    its parts before it is written out as text."""

    def visit_For(self, node: nodes.For) -> nodes.Node:  # noqa: N802  # Jinja's visitor names
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _ITERATE, [], [], None, None, lineno=node.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:  # noqa: N802
        self.generic_visit(node)
        node.nodes = [nodes.Filter(part, _TEXT, [], [], None, None, lineno=node.lineno) for part in node.nodes]
        return nodes.Filter(node, _SIZE, [], [], None, None, lineno=node.lineno)


def _repeat_size(left: Any, right: Any, limit: int) -> int:
    """The text `left * right` writes, when it repeats a string or a list."""
    if isinstance(right, (str, list, tuple)) and isinstance(left, int):
        left, right = right, left
    if isinstance(left, (str, list, tuple)) and isinstance(right, int) and right > 0:
        return _text_size(left, limit // right + 1) * right
    return 0


def _argument(args: Sequence[Any], kwargs: Mapping[str, Any], at: int, name: str, default: Any) -> Any:
    return args[at] if len(args) > at else kwargs.get(name, default)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


class _GuardedEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, budget: _Budget) -> None:
        super().__init__(
            loader=jinja2.BaseLoader(),
            trim_blocks=True,
            lstrip_blocks=True,
            extensions=[Jinja2ChatFormatter.IgnoreGenerationTags, jinja2.ext.loopcontrols],
            finalize=self._written,  # each {{ value }}, measured before it is written as text
        )
        self.budget = budget
        self.filters["tojson"] = Jinja2ChatFormatter.tojson
        self.filters = {name: self._guarded_filter(name, function) for name, function in self.filters.items()}
        self.filters[_ITERATE] = self._iterate
        self.filters[_SIZE] = budget.spend
        self.filters[_TEXT] = self._written

    def _written(self, value: Any) -> Any:
        if not isinstance(value, str):
            self.budget.refuse_large_text(value)
        return value

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr not in _STR_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def _guarded_filter(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        budget = self.budget
        # The filtered value comes after the context or environment a filter may ask for.
        value_at = 0 if _PassArg.from_obj(function) is None else 1
        signature = inspect.signature(function)
        newline = self.newline_sequence

        def measure(args: list[Any], kwargs: dict[str, Any]) -> None:
            """Refuses what the filter would build past the budget; a join's items are
            taken first, one by one."""
            if name in _STRUCTURAL_FILTERS:
                return
            if name == "sum":
                if not isinstance(signature.bind(*args, **kwargs).arguments.get("start", 0), (int, float)):
                    raise _Exceeded(Fault.LARGE)  # sum() of lists or strings: one C call, quadratic
                return
            if name == "join":
                args[value_at] = budget.materialise(args[value_at])
            given = signature.bind(*args, **kwargs)
            given.apply_defaults()
            arguments = given.arguments
            value = args[value_at]
            budget.refuse_large_text(*args[value_at:], *kwargs.values())
            if name == "join":
                budget.refuse_size(_text_size(value, budget.max_output + 1) + len(_text(arguments["d"])) * len(value))
            elif name == "replace":
                text, old, new, count = _text(value), _text(arguments["old"]), _text(arguments["new"]), arguments["count"]
                found = text.count(old) if count is None else min(text.count(old), max(0, count))
                budget.refuse_size(len(text) + found * max(0, len(new) - len(old)))
            elif name == "indent":
                text, width = _text(value), arguments["width"]
                budget.refuse_size(len(text) + (text.count("\n") + 1) * (len(width) if isinstance(width, str) else width))
            elif name == "wordwrap":
                text, wrap = _text(value), arguments["wrapstring"] or newline
                lines = min(len(text), len(text) // max(1, arguments["width"]) + text.count(" ") + text.count("\n") + text.count("-")) + 1
                budget.refuse_size(len(text) + lines * len(_text(wrap)))
            elif name == "tojson":
                indent, separators = arguments["indent"], arguments["separators"] or ()
                budget.refuse_large_text(
                    value,
                    indent=len(indent) if isinstance(indent, str) else (indent or 0),
                    separator=2 + sum(len(_text(part)) for part in separators),
                )
            elif name == "format":
                budget.refuse_wide_format(value)

        @functools.wraps(function)  # keeps jinja_pass_arg: the filter gets its context as before
        def guarded(*args: Any, **kwargs: Any) -> Any:
            budget.check()
            budget.refuse_large_numbers(args[value_at + 1 :])
            budget.refuse_large_numbers(kwargs.values())
            arguments = list(args)
            if len(arguments) > value_at:
                measure(arguments, kwargs)
            return budget.spend(function(*arguments, **kwargs))

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
            budget.refuse_size(_repeat_size(left, right, budget.max_output + 1))
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise _Exceeded(Fault.LARGE)
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0 and max(1, left.bit_length()) * right > MAX_INT_BITS:
                raise _Exceeded(Fault.LARGE)
        elif operator == "+":
            if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)) and len(left) + len(right) > budget.max_output:
                raise _Exceeded(Fault.LARGE)
        elif isinstance(left, str):  # "%": a format, its values written into it
            budget.refuse_wide_format(left)
            values = right if isinstance(right, tuple) else (right,)
            budget.refuse_large_numbers(values)  # "%*d" % (width, n)
            budget.refuse_large_text(*values)
        return budget.spend(super().call_binop(context, operator, left, right))

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805  # as Jinja's own
        budget = __self.budget
        budget.check()
        if __obj is not safe_range:
            budget.refuse_large_numbers(args)
            budget.refuse_large_numbers(value for key, value in kwargs.items() if not key.startswith("_"))
            method = _str_method(__obj)
            if method is not None:
                args = __self._measure_str_method(*method, args, kwargs)
            elif __obj is generate_lorem_ipsum:  # lipsum(n, html, min, max): n paragraphs of up to max words
                budget.refuse_size(_argument(args, kwargs, 0, "n", 5) * _argument(args, kwargs, 3, "max", 100) * 16)
        return budget.spend(super().call(__context, __obj, *args, **kwargs))

    def _measure_str_method(self, text: str, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
        """Refuses a str method that would build more than the output may hold; it runs in
        C and builds all of it before anything can be counted. Returns the arguments to
        call it with (a join's items, taken first one by one)."""
        budget = self.budget
        if name == "replace":
            old, new = _argument(args, kwargs, 0, "old", ""), _argument(args, kwargs, 1, "new", "")
            count = _argument(args, kwargs, 2, "count", -1)
            if isinstance(old, str) and isinstance(new, str) and isinstance(count, int):
                found = text.count(old) if count < 0 else min(count, text.count(old))
                budget.refuse_size(len(text) + found * max(0, len(new) - len(old)))
        elif name == "join" and args:
            items = budget.materialise(args[0])
            size = sum(len(item) for item in items if isinstance(item, str)) + len(text) * len(items)
            budget.refuse_size(size)
            args = (items, *args[1:])
        elif name == "expandtabs":
            tabsize = _argument(args, kwargs, 0, "tabsize", 8)
            if isinstance(tabsize, int):
                budget.refuse_size(len(text) + text.count("\t") * max(0, tabsize))
        elif name in ("center", "ljust", "rjust", "zfill"):
            width = _argument(args, kwargs, 0, "width", 0)
            if isinstance(width, int):
                budget.refuse_size(max(len(text), width))
        elif name in ("format", "format_map"):
            budget.refuse_wide_format(text)
            budget.refuse_large_text(*args, *kwargs.values())
        return args


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
