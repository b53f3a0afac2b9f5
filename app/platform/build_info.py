"""What this copy of Hearth was built from: shown in Help → About.

A bundle carries the record build.py wrote (resources/build_info.json); a
development checkout describes itself.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import subprocess
from pathlib import Path
from typing import Any

from app import __version__
from app.platform.i18n import _
from app.platform.paths import RESOURCES_DIR

BUILD_INFO_FILE = RESOURCES_DIR / "build_info.json"
# libggml-base.so.0.25.3 (Linux), libggml-base.0.25.3.dylib (macOS)
GGML_VERSION = re.compile(r"ggml-base(?:\.so)?\.(\d+\.\d+\.\d+)")
REPO = Path(__file__).resolve().parents[2]


def git_commit(repo: Path = REPO) -> str:
    try:
        return subprocess.run(
            ["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def llama_versions() -> dict[str, str]:
    """llama-cpp-python's version and the ggml library version it ships (from the
    library file names, so llama_cpp need not be imported here)."""
    try:
        binding = importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        binding = "unknown"
    ggml = "unknown"
    try:
        files = importlib.metadata.files("llama-cpp-python") or []
        found = [m.group(1) for f in files if (m := GGML_VERSION.search(f.name))]
        if found:
            ggml = found[0]
    except importlib.metadata.PackageNotFoundError:
        pass
    return {"llama_cpp_python": binding, "ggml": ggml}


def development_info() -> dict[str, str]:
    """This checkout's record, in the words build.py writes into a bundle's (in English:
    it is data, shown as written)."""
    return {
        "version": __version__, "commit": git_commit(), "build": "development checkout", **llama_versions(),
        "cpu_baseline": "this computer's own processor features (llama.cpp compiled here, natively)",
    }


def build_info() -> dict[str, Any]:
    try:
        info: dict[str, Any] = json.loads(BUILD_INFO_FILE.read_text(encoding="utf-8"))
        return info
    except (OSError, ValueError):
        return development_info()


def describe(info: dict[str, Any]) -> str:
    """Three lines for Help → About and the self-test: the version and build, llama.cpp's
    versions, the processor it needs."""
    return "\n".join((
        _("Hearth {version} ({build}, commit {commit})").format(
            version=info.get("version", "?"), build=info.get("build") or _("bundle"), commit=info.get("commit", "?")),
        f"llama-cpp-python {info.get('llama_cpp_python', '?')}, ggml {info.get('ggml', '?')}",
        _("llama.cpp needs: {processor}").format(processor=info.get("cpu_baseline") or _("unknown")),
    ))
