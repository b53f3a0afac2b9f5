"""The layer rules of DESIGN.md: core and inference never import Qt, only ui imports QtWidgets."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parent.parent / "app"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _layer_files(*parts: str) -> list[Path]:
    base = APP.joinpath(*parts)
    return sorted(base.rglob("*.py")) if base.is_dir() else [base]


FORBIDDEN = {
    ("core",): ("PySide6", "llama_cpp", "app.inference", "app.workers", "app.models", "app.ui", "app.main"),
    ("inference",): ("PySide6", "app.workers", "app.models", "app.ui", "app.main"),
    ("cli.py",): ("PySide6", "llama_cpp", "app.workers", "app.models", "app.ui", "app.main"),
    ("self_test.py",): ("PySide6", "llama_cpp", "app.workers", "app.models", "app.ui", "app.main"),
    ("cli_library.py",): ("PySide6", "llama_cpp", "app.inference", "app.workers", "app.models", "app.ui", "app.main"),
    ("workers",): ("PySide6.QtWidgets", "app.ui", "app.main", "llama_cpp"),
    ("models",): ("PySide6.QtWidgets", "app.ui", "app.main", "llama_cpp"),
    ("ui",): ("llama_cpp", "app.main"),
    ("main.py",): ("llama_cpp",),
}


@pytest.mark.parametrize("layer", list(FORBIDDEN), ids=lambda parts: "/".join(parts))
def test_layer_imports_only_what_it_may(layer: tuple[str, ...]) -> None:
    files = _layer_files(*layer)
    assert files, f"no files found for layer {layer}"
    offenders = [
        f"{path.relative_to(APP)} imports {name}"
        for path in files
        for name in _imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert offenders == []


def test_the_rule_catches_a_qt_import(tmp_path: Path) -> None:
    sample = tmp_path / "bad.py"
    sample.write_text("from PySide6.QtCore import QObject\n")
    assert "PySide6.QtCore" in _imports(sample)
