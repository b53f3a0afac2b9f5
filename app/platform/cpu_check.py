"""Whether this processor has what the bundle's llama.cpp was compiled for.

Checked by the bundle's launcher before it imports anything heavy: NumPy, llama.cpp's
CPU module and its start-up code may all use these instructions, and on a processor
without them the program would die with "Illegal instruction" before it could say why.
Only Linux is checked (its /proc/cpuinfo names every flag); the distribution build is
made for Linux only (packaging/llama_dist.py).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from app.platform.build_info import build_info
from app.platform.i18n import _

CPUINFO = Path("/proc/cpuinfo")


def missing_cpu_flags(required: list[str], cpuinfo: Path = CPUINFO) -> list[str]:
    """The /proc/cpuinfo flags in `required` that this processor lacks ([] if unknown)."""
    if not sys.platform.startswith("linux") or not required:
        return []
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    flags_line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    flags = set(flags_line.partition(":")[2].split())
    return [flag for flag in required if flag not in flags] if flags else []


def too_old_sentence(missing: Sequence[str] = ()) -> str:
    """The plain sentence for a processor below this build's baseline (build_info)."""
    needs = build_info().get("cpu_baseline") or _("a newer processor")
    if missing:
        return _(
            "This computer's processor is too old for this copy of Hearth, which needs {needs} (this one lacks "
            "{missing}). Your conversations are safe; Hearth cannot answer on this computer."
        ).format(needs=needs, missing=", ".join(missing))
    return _(
        "This computer's processor is too old for this copy of Hearth, which needs {needs}. "
        "Your conversations are safe; Hearth cannot answer on this computer."
    ).format(needs=needs)
