"""A windowed build (Windows, macOS) has no stdout and no stderr: Hearth must still work,
and say what it did in its log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import subprocess_env

pytestmark = pytest.mark.real_model

WITHOUT_CONSOLE = (
    "import sys; sys.stdout = sys.stderr = None\n"
    "sys.argv = ['hearth', *{args!r}]\n"
    "from app.__main__ import main\n"
    "raise SystemExit(main())\n"
)


def run_without_console(data_dir: Path, *args: str) -> int:
    script = WITHOUT_CONSOLE.format(args=list(args))
    env = {**subprocess_env(data_dir), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-c", script], env=env, timeout=300,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode


def test_self_test_without_a_console(tmp_path: Path) -> None:
    assert run_without_console(tmp_path, "--data-dir", str(tmp_path), "--self-test") == 0
    log = (tmp_path / "logs" / "hearth.log").read_text(encoding="utf-8")
    assert "ok: answered in" in log and "Self-test passed." in log


def test_the_window_opens_and_closes_without_a_console(tmp_path: Path, smollm_path: Path) -> None:
    from app.library.model_library import ModelLibrary
    from app.platform.paths import resolve_paths

    paths = resolve_paths(tmp_path)
    paths.ensure()
    ModelLibrary(paths.models_dir).add(smollm_path, copy=False)
    assert run_without_console(tmp_path, "--data-dir", str(tmp_path), "--exit-when-shown") == 0
    assert "window shown" in (tmp_path / "logs" / "hearth.log").read_text(encoding="utf-8")
