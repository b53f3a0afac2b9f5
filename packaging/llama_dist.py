"""llama-cpp-python compiled for other people's computers, kept apart from the venv's.

The venv's llama-cpp-python is compiled with -march=native: on this server it uses
AVX-512 (and AMX on newer Intel CPUs), and a bundle made from it dies with "Illegal
instruction" on a school laptop. build.py bundles this build instead:

- a fixed x86-64 baseline, Haswell (2013) and newer: SSE4.2, AVX, AVX2, FMA, F16C,
  BMI2; no AVX-512, no AMX (so no AMX segfault either);
- as a backend module (GGML_BACKEND_DL), so llama.cpp itself asks the module whether
  this CPU can run it (a score function built without those flags) before it uses it,
  and Hearth can say "this processor is too old" in a sentence
  (app/backends/llama/ggml_modules.py) instead of dying. The launcher checks the same flags
  before importing anything, on Linux (app/platform/cpu_check.py): NumPy and the module's
  own start-up code may use them too.

pip's wheel cache is keyed on the package version, not on CMAKE_ARGS, so this wheel is
built with --no-cache-dir into a folder named by a hash of its flags, installed into a
folder of its own, and checked by what it contains, never by its file name.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# The version the venv has (pyproject.toml pins it), so the bundle matches what was tested.
LLAMA_CPP_PYTHON = f"llama-cpp-python=={importlib.metadata.version('llama-cpp-python')}"
# What the bundle's llama.cpp needs from the CPU: ggml's option, the feature's name (as
# llama.cpp reports it, where it does), Linux's /proc/cpuinfo flag. Shown in Help -> About,
# and checked by the launcher before anything that could use them is loaded.
BASELINE = (
    ("SSE42", "SSE4.2", "sse4_2"), ("AVX", "AVX", "avx"), ("AVX2", "AVX2", "avx2"),
    ("FMA", "FMA", "fma"), ("F16C", "F16C", "f16c"), ("BMI2", "BMI2", "bmi2"),
)
LEFT_OUT = ("AVX_VNNI", "AVX512", "AVX512_VBMI", "AVX512_VNNI", "AVX512_BF16", "AMX_TILE", "AMX_INT8", "AMX_BF16")
BASELINE_LABEL = "x86-64 with " + ", ".join(name for _, name, _ in BASELINE) + (
    " (most processors since 2013: Intel Core from Haswell on, AMD from Excavator and Zen on;"
    " not some Celeron, Pentium and Atom chips)"
)
CPU_FLAGS = [flag for _, _, flag in BASELINE]
CMAKE_ARGS = " ".join([
    "-DGGML_NATIVE=OFF",  # explicit flags below: NATIVE=OFF alone gives plain SSE2 when SOURCE_DATE_EPOCH is set
    "-DGGML_BACKEND_DL=ON", "-DGGML_CPU_ALL_VARIANTS=OFF",
    *(f"-DGGML_{option}=ON" for option, _, _ in BASELINE),
    *(f"-DGGML_{option}=OFF" for option in LEFT_OUT),
    # ggml installs the backend module to the install "bin" folder; llama_cpp loads from llama_cpp/lib.
    "-DCMAKE_INSTALL_BINDIR=llama_cpp/lib", "-DCMAKE_INSTALL_RPATH=$ORIGIN",
])
# ninja's progress lines while llama.cpp compiles: "[12/201] Building CXX object ..."
PROGRESS = re.compile(r"^\s*\[(\d+)/(\d+)\]")
# What llama.cpp must report once this build is loaded, and must not (it names no SSE4.2).
MUST_HAVE, MUST_NOT_HAVE = {name for _, name, _ in BASELINE} - {"SSE4.2"}, set(LEFT_OUT) - {"AMX_TILE", "AMX_BF16"}


def default_cache() -> Path:
    import platformdirs

    return Path(os.environ.get("HEARTH_LLAMA_DIST_CACHE") or platformdirs.user_cache_dir("Hearth")) / "llama-dist"


def build_key() -> str:
    return hashlib.sha256(f"{LLAMA_CPP_PYTHON} {CMAKE_ARGS}".encode()).hexdigest()[:12]


def distribution_site(cache: Path, python: str = sys.executable) -> Path:
    """A folder to put first on PYTHONPATH that holds the distribution llama_cpp;
    compiled the first time (5 minutes on this 2-core machine), then reused."""
    folder = cache / build_key()
    site = folder / "site"
    if (folder / "checked").is_file():
        return site
    shutil.rmtree(folder, ignore_errors=True)
    wheels = folder / "wheel"
    print(f"Compiling llama.cpp for distribution ({BASELINE_LABEL}); this takes a while, once.", flush=True)
    command = [python, "-m", "pip", "wheel", "--no-deps", "--no-cache-dir", "--no-binary", "llama-cpp-python",
               "--wheel-dir", str(wheels), "-v", LLAMA_CPP_PYTHON]
    env = {**os.environ, "CMAKE_ARGS": CMAKE_ARGS, "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 2)}
    env.pop("SOURCE_DATE_EPOCH", None)
    _run_with_progress(command, env, folder / "build.log")
    wheel = next(wheels.glob("llama_cpp_python-*.whl"))
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-cache-dir", "--quiet", "--target", str(site),
                    str(wheel)], check=True)
    _check(site, python)
    (folder / "checked").write_text(CMAKE_ARGS + "\n", encoding="utf-8")
    return site


def _run_with_progress(command: list[str], env: dict[str, str], log: Path) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    shown = -1
    with log.open("w", encoding="utf-8") as record:
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert process.stdout is not None
        for line in process.stdout:
            record.write(line)
            match = PROGRESS.match(line)
            if match and (percent := 100 * int(match[1]) // int(match[2])) // 10 > shown // 10:
                shown = percent
                print(f"  llama.cpp: {percent} %", flush=True)
        if process.wait() != 0:
            sys.exit(f"build.py: compiling llama.cpp failed; the log is {log}")


def _check(site: Path, python: str) -> None:
    """Load the built llama.cpp the way Hearth does and read back what it was built for."""
    probe = (
        "from app.backends.llama.ggml_modules import load_backends; problem = load_backends(); "
        "from app.backends.llama.engine import cpu_features; print(problem or ' '.join(sorted(cpu_features())))"
    )
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(root)])}
    result = subprocess.run([python, "-c", probe], capture_output=True, text=True, env=env, cwd=site)
    features = set(result.stdout.split())
    if result.returncode != 0 or not features >= MUST_HAVE or features & MUST_NOT_HAVE:
        sys.exit(f"build.py: the distribution llama.cpp is not what was asked for:\n{result.stdout}{result.stderr}")
