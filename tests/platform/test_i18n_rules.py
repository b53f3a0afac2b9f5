"""The translation rules of the Qt-free code, read from its source (docs/TRANSLATING.md):

- an error shown to the user (HearthError or a subclass) is never given literal text:
  its message comes from `_()` or `ngettext()`, formatted after;
- `_()` is given one string or a marked (N_) value, never an f-string, a concatenation or
  formatted text (extractors could not find it, and no catalog holds the result);
  `N_()` and `ngettext()` are given string literals;
- `_()` and `ngettext()` run when a message is shown, inside a function, not at import
  (before a language is chosen: a module constant or a default argument);
- a module that translates never binds the name `_` itself (`for _ in ...` would make
  `_("...")` in that function call an int).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QT_FREE = ("platform", "config", "modelfile", "conversations", "library", "backends", "chat", "cli", "documents")
TRANSLATING = {"_", "ngettext"}


def qt_free_modules() -> list[Path]:
    return sorted(path for package in QT_FREE for path in (REPO / "app" / package).rglob("*.py"))


def _name_of(node: ast.expr) -> str:
    """`Error` for `Error` and for `module.Error`; '' for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def error_classes(trees: list[ast.Module]) -> set[str]:
    """HearthError and every class that derives from it, in any of `trees`."""
    found = {"HearthError"}
    classes = [node for tree in trees for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]
    while True:
        more = {c.name for c in classes if c.name not in found and any(_name_of(b) in found for b in c.bases)}
        if not more:
            return found
        found |= more


def _is_literal_text(node: ast.expr) -> bool:
    """Text written in the source: a string, an f-string, a concatenation or %-formatting with
    one, or `.format()` called on one."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_literal_text(node.left) or _is_literal_text(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _is_literal_text(node.func.value)
    return False


def _calls(tree: ast.Module, names: set[str]) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name_of(node.func) in names:
            yield node


def untranslated_errors(tree: ast.Module, errors: set[str]) -> list[int]:
    """Lines where an error is made with literal text."""
    return [
        call.lineno for call in _calls(tree, errors)
        if any(_is_literal_text(arg) for arg in [*call.args, *(keyword.value for keyword in call.keywords)])
    ]


def bad_translation_calls(tree: ast.Module) -> list[int]:
    """Lines where `_`, `N_` or `ngettext` is given something an extractor cannot read."""
    bad = []
    for call in _calls(tree, {"_", "N_", "ngettext"}):
        if not isinstance(call.func, ast.Name) or call.keywords:
            continue
        name, args = call.func.id, call.args
        literals = [isinstance(arg, ast.Constant) and isinstance(arg.value, str) for arg in args]
        if name == "_":
            ok = len(args) == 1 and (literals[0] or isinstance(args[0], (ast.Name, ast.Attribute, ast.Subscript)))
        elif name == "N_":
            ok = len(args) == 1 and literals[0]
        else:
            ok = len(args) == 3 and literals[0] and literals[1]
        if not ok:
            bad.append(call.lineno)
    return bad


class _ImportTimeTranslations(ast.NodeVisitor):
    """`_()` and `ngettext()` calls outside any function body (module and class level,
    default arguments, decorators)."""

    def __init__(self) -> None:
        self.lines: list[int] = []
        self._in_function = False

    def visit_Call(self, node: ast.Call) -> None:
        if not self._in_function and isinstance(node.func, ast.Name) and node.func.id in TRANSLATING:
            self.lines.append(node.lineno)
        self.generic_visit(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        outside = [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]
        if not isinstance(node, ast.Lambda):
            outside += [*node.decorator_list]
        for part in outside:
            self.visit(part)
        body = node.body if isinstance(node.body, list) else [node.body]
        was, self._in_function = self._in_function, True
        for statement in body:
            self.visit(statement)
        self._in_function = was

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function  # noqa: N815


def import_time_translations(tree: ast.Module) -> list[int]:
    visitor = _ImportTimeTranslations()
    visitor.visit(tree)
    return visitor.lines


def imports_underscore(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom) and node.module == "app.platform.i18n" and any(a.name == "_" for a in node.names)
        for node in ast.walk(tree)
    )


def underscore_bindings(tree: ast.Module) -> list[int]:
    """Lines that bind `_` to something else: targets, parameters, `as _`."""
    lines = []
    for node in ast.walk(tree):
        if (
            (isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store))
            or (isinstance(node, ast.arg) and node.arg == "_")
            or (isinstance(node, ast.alias) and node.asname == "_")
            or (isinstance(node, ast.ExceptHandler) and node.name == "_")
        ):
            lines.append(getattr(node, "lineno", 0))
    return sorted(lines)


def _parsed() -> dict[Path, ast.Module]:
    return {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in qt_free_modules()}


def _where(found: dict[Path, list[int]]) -> list[str]:
    return [f"{path.relative_to(REPO)}:{line}" for path, lines in found.items() for line in lines]


def test_every_error_shown_to_the_user_is_translated() -> None:
    trees = _parsed()
    errors = error_classes(list(trees.values()))
    assert {"StorageError", "ModelFileError", "NetworkError", "HttpStatusError", "PackError", "ChecksumMismatch"} <= errors
    assert not _where({path: untranslated_errors(tree, errors) for path, tree in trees.items()})


def test_translation_calls_are_given_what_an_extractor_reads() -> None:
    assert not _where({path: bad_translation_calls(tree) for path, tree in _parsed().items()})


def test_nothing_is_translated_at_import() -> None:
    assert not _where({path: import_time_translations(tree) for path, tree in _parsed().items()})


def test_no_translating_module_binds_the_name_underscore() -> None:
    trees = {path: tree for path, tree in _parsed().items() if imports_underscore(tree)}
    assert len(trees) > 20, "the Qt-free packages translate through app.platform.i18n"
    assert not _where({path: underscore_bindings(tree) for path, tree in trees.items()})


# The rules themselves, on code that breaks them: each must be caught.

ERRORS = {"HearthError", "StorageError"}


@pytest.mark.parametrize("source", [
    'raise HearthError("Plain text.")',
    'raise StorageError(f"Cannot read {path}.")',
    'raise errors.StorageError("Cannot " + "read.")',
    'raise HearthError("Cannot read {path}.".format(path=path))',
    'raise HearthError(message="Plain text.")',
    'return StorageError("Made, not raised.")',
])
def test_an_error_with_literal_text_is_caught(source: str) -> None:
    assert untranslated_errors(ast.parse(f"def f():\n    {source}"), ERRORS) == [2]


@pytest.mark.parametrize("source", [
    'raise HearthError(_("Plain text."))',
    'raise StorageError(_("Cannot read {path}.").format(path=path))',
    'raise HearthError(ngettext("{n} file", "{n} files", n).format(n=n))',
    "raise HearthError(message)",
    "raise HearthError(describe_failure(exc, what))",
    'raise ValueError("not an object")',  # not shown to the user
])
def test_a_translated_error_passes(source: str) -> None:
    assert untranslated_errors(ast.parse(f"def f():\n    {source}"), ERRORS) == []


@pytest.mark.parametrize("source", [
    '_(f"Cannot read {path}.")', '_("Cannot " + what)', '_("{path}".format(path=path))', "_()",
    "N_(text)", 'ngettext(singular, "{n} files", n)', 'ngettext("{n} file", "{n} files")',
])
def test_a_translation_call_an_extractor_cannot_read_is_caught(source: str) -> None:
    assert bad_translation_calls(ast.parse(source)) == [1]


@pytest.mark.parametrize("source", ['_("Cannot read {path}.")', "_(LABELS[key])", "_(self.label)", 'N_("Runs well")',
                                    'ngettext("{n} file", "{n} files", n)'])
def test_a_readable_translation_call_passes(source: str) -> None:
    assert bad_translation_calls(ast.parse(source)) == []


def test_translating_at_import_is_caught() -> None:
    source = '''
TITLE = _("New chat")
class Verdict:
    LABEL = _("Runs well")
def fetch(what=_("the file"), *, how=ngettext("a", "b", 2)):
    return _("Fetched {what}.").format(what=what)
check = lambda text=_("text"): _(text)
'''
    assert import_time_translations(ast.parse(source)) == [2, 4, 5, 5, 7]


def test_binding_the_name_underscore_is_caught() -> None:
    source = '''
for _ in range(3): pass
first, _ = pair
handler = lambda *_: None
def f(_): pass
import gettext as _
try: pass
except OSError as _: pass
'''
    assert underscore_bindings(ast.parse(source)) == [2, 3, 4, 5, 6, 8]
