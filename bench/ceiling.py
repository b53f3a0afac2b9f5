"""The ceiling: Hearth's reply speed against llama.cpp's own `llama-bench`, built from the
same llama.cpp source as the installed llama-cpp-python, on the same model and threads.

    .venv/bin/python bench/ceiling.py [--models smollm gemma] [--tokens 256] [--rounds 20]

The first run downloads llama-cpp-python's source package (the registry's, the version
installed) and compiles llama-bench from the llama.cpp inside it, natively like the
venv's build (about 5 minutes on 2 cores; kept in ~/.cache/Hearth/llama-bench). Then, in
turns: llama-bench, a fresh process with the app's engine, llama-bench, ... Each engine
figure is divided by the mean of the llama-bench figures either side of it. Both sides are
a new process each round: one process's speed can sit several per cent off another's for
its whole life, so an engine kept for a whole run counted that draw in every round.
Each figure is a median of per-round ratios with its 95 % interval (distribution-free,
from the rounds' order), and the target (engine ≥ 0.97 of llama-bench) is called met or
missed only where the whole interval lies on one side of it.

Same settings on both sides: 2 threads, keys q8_0 and values f16, no flash attention,
llama.cpp's weight repacking, except on a CPU with AMX: there llama-bench would put the
weights in the AMX buffer and crash (it cannot leave that buffer alone out), so both sides
run with `--repack 0`. llama-bench decodes without sampling, after as many tokens of
context (`-d`) as the engine's one-line prompt; the engine samples (greedy, with the
app's repeat penalty, in llama.cpp's chain: app/backends/llama/sampling.py). Each engine
process, after a short warm-up reply (llama-bench warms up too), also times two loops that
only decode, on the engine's own context: a Python loop with the engine's one-token decode
(the nearest to llama-bench that a reply loop in Python comes before it samples or handles
any text), and llama-bench's own loop in C (decode_loop.c, compiled against the venv's
libllama.so) before and after the reply: what lies between that loop and llama-bench is
the engine's context (bench/repacking.py's SETTINGS, larger than llama-bench's, which
holds only its depth and tokens) and its process; what lies between the engine and that
loop, in one process, is Hearth's.
"""

from __future__ import annotations

import argparse
import ctypes
import importlib.metadata
import json
import math
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import platformdirs  # noqa: E402
from llama_cpp import Llama  # noqa: E402
from llama_cpp import llama_cpp as llama_cpp_lib  # noqa: E402

from app.backends.base import ChatTurn, LoadOptions, ModelRef  # noqa: E402
from app.backends.llama.decoding import OneTokenDecode, keep_first  # noqa: E402
from app.backends.llama.engine import LlamaBackend, Prompt, cpu_features  # noqa: E402
from app.config.settings import SamplingSettings  # noqa: E402
from bench.repacking import SETTINGS  # noqa: E402
from bench.run import PROMPTS, THREADS, aba_ratios, bench_sampling, model_paths  # noqa: E402


def llama_cpp_source(cache: Path) -> Path:
    """The llama.cpp inside the registry's source package of the installed
    llama-cpp-python, downloaded the first time."""
    version = importlib.metadata.version("llama-cpp-python")
    source = cache / version / "source"
    if not any(source.glob("llama_cpp_python-*")):
        with tempfile.TemporaryDirectory() as download:
            subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                            "--dest", download, f"llama-cpp-python=={version}"], check=True)
            archive = next(Path(download).glob("llama_cpp_python-*.tar.gz"))
            with tarfile.open(archive) as tar:
                tar.extractall(source, filter="data")
    return next(source.glob("llama_cpp_python-*")) / "vendor" / "llama.cpp"


def llama_bench(cache: Path) -> Path:
    version = importlib.metadata.version("llama-cpp-python")
    binary = cache / version / "build" / "bin" / "llama-bench"
    if binary.is_file():
        return binary
    llama_cpp = llama_cpp_source(cache)
    build = cache / version / "build"
    print(f"compiling llama-bench from {llama_cpp} (once)", file=sys.stderr, flush=True)
    subprocess.run(["cmake", "-S", str(llama_cpp), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                    "-DLLAMA_CURL=OFF", "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_EXAMPLES=OFF",
                    "-DLLAMA_BUILD_SERVER=OFF", "-DBUILD_SHARED_LIBS=OFF"], check=True, stdout=subprocess.DEVNULL)
    # llama-quantize too: it makes the Q4_0 model of bench/repacking.py's figure
    # (llama-quantize --allow-requantize SmolLM2-135M-Instruct.Q4_1.gguf smollm2-q4_0.gguf Q4_0).
    subprocess.run(["cmake", "--build", str(build), "--target", "llama-bench", "llama-quantize",
                    "-j", str(os.cpu_count() or 2)],
                   check=True, stdout=subprocess.DEVNULL)
    return binary


def compile_decode_loop(cache: Path, build: Path) -> Path:
    """decode_loop.c compiled (in under a second) into `build` against the libllama.so
    that llama-cpp-python loads, with the headers of its own llama.cpp source: compiled
    in each run, so an edited loop is never stale."""
    llama_cpp = llama_cpp_source(cache)
    library_dir = llama_cpp_lib._base_path
    library = build / "libdecode_loop.so"
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", f"-I{llama_cpp / 'include'}", f"-I{llama_cpp / 'ggml' / 'include'}",
                    str(REPO / "bench" / "decode_loop.c"), f"-L{library_dir}", "-lllama", f"-Wl,-rpath,{library_dir}",
                    "-o", str(library)], check=True)
    return library


def load_decode_loop(library: Path) -> Callable[[int, int, int], int]:
    """decode_loop.c's decode_tokens(context, token, count)."""
    decode_tokens = ctypes.CDLL(str(library)).decode_tokens
    decode_tokens.argtypes = [ctypes.c_void_p, ctypes.c_int32, ctypes.c_int]
    decode_tokens.restype = ctypes.c_int
    return decode_tokens


# llama-bench's repacking would use the AMX buffer, which segfaults (app/backends/llama/cpu_buffers.py).
REPACK = "AMX_INT8" not in cpu_features()


def bench_tokens_per_second(binary: Path, model: Path, tokens: int, depth: int) -> float:
    result = subprocess.run([str(binary), "-m", str(model), "-p", "0", "-n", str(tokens), "-d", str(depth), "-t", str(THREADS),
                             "-ctk", "q8_0", "-fa", "0", "--repack", str(int(REPACK)), "-r", "1", "-o", "json"],
                            capture_output=True, text=True, check=True, timeout=600)
    return float(json.loads(result.stdout)[0]["avg_ts"])


def engine_tokens_per_second(engine: LlamaBackend, prompt: Prompt, sampling: SamplingSettings) -> float:
    return engine.generate(prompt, sampling, threading.Event(), lambda _: None).tokens_per_second


def prompt_read(engine: LlamaBackend, prompt: Prompt) -> Llama:
    """The engine's model with its cache emptied and the whole prompt read into it."""
    llm = engine._model()
    llm.reset()
    llm.eval(list(prompt.tokens))
    return llm


def decode_only_tokens_per_second(engine: LlamaBackend, prompt: Prompt, tokens: int) -> float:
    """A Python loop that does nothing but decode (the prompt's last token again and again,
    as llama-bench decodes without sampling): how near the ceiling a reply loop in Python
    can come at all, before any sampling or text."""
    step = OneTokenDecode(prompt_read(engine, prompt))
    started = time.perf_counter()
    for _ in range(tokens - 1):
        step.decode(prompt.tokens[-1])
    return (tokens - 1) / (time.perf_counter() - started)


def c_loop_tokens_per_second(engine: LlamaBackend, prompt: Prompt, tokens: int,
                             decode_tokens: Callable[[int, int, int], int]) -> float:
    """llama-bench's loop in C on the engine's context, after the same prompt."""
    llm = prompt_read(engine, prompt)
    started = time.perf_counter()
    if decode_tokens(llm._ctx.ctx, prompt.tokens[-1], tokens - 1) != 0:
        raise SystemExit("llama.cpp failed to decode in decode_loop.c")
    elapsed = time.perf_counter() - started
    keep_first(llm, len(prompt.tokens))  # the cache again holds what llama-cpp-python's record says
    return (tokens - 1) / elapsed


# How many tokens a fresh process's engine replies with before it is timed, as llama-bench
# decodes before its own timed run.
WARM_UP_TOKENS = 16
TARGET = 0.97


def one_round(name: str, path: Path, tokens: int, decode_tokens: Callable[[int, int, int], int]) -> dict:
    """One round in a process of its own: the engine loaded and warmed up, then in turn
    llama-bench's loop in C on its context, the engine's reply, the Python loop that only
    decodes, and the C loop again."""
    engine = LlamaBackend(repacking_safe=REPACK)
    engine.load(ModelRef(path=path), LoadOptions(SETTINGS))
    sampling = bench_sampling(tokens)
    prompt = engine.build_prompt("", [ChatTurn("user", PROMPTS[name])], sampling, "auto")
    engine_tokens_per_second(engine, prompt, bench_sampling(WARM_UP_TOKENS))
    before = c_loop_tokens_per_second(engine, prompt, tokens, decode_tokens)
    app = engine_tokens_per_second(engine, prompt, sampling)
    decode_only = decode_only_tokens_per_second(engine, prompt, tokens)
    after = c_loop_tokens_per_second(engine, prompt, tokens, decode_tokens)
    engine.unload()
    return {"depth": len(prompt.tokens), "engine": app, "decode_only": decode_only, "c_loop": [before, after]}


def run_round(name: str, tokens: int, library: Path) -> dict:
    result = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--round", name, "--tokens", str(tokens), "--loop", str(library)],
                            capture_output=True, text=True, check=False, timeout=600)
    if result.returncode != 0 or not result.stdout.strip():
        raise SystemExit(f"the engine's round for {name} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.splitlines()[-1])


def median_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """The distribution-free interval for the median of what `values` were drawn from: the
    k-th smallest and k-th largest, for the largest k whose binomial tails leave at least
    `confidence` between them; None for too few values (under 6 at 95 %)."""
    ordered = sorted(values)
    n = len(ordered)
    below, k = 0.0, 0
    while True:
        below += math.comb(n, k) / 2**n  # P(fewer than k + 1 values lie below the median)
        if 2 * below > 1 - confidence:
            break
        k += 1
    return (ordered[k - 1], ordered[n - k]) if k else None


def summary(ratios: list[float]) -> dict:
    interval = median_interval(ratios)
    return {"median": round(statistics.median(ratios), 3),
            "interval_95": [round(x, 3) for x in interval] if interval else None,
            "rounds": [round(r, 3) for r in ratios]}


def verdict(interval: tuple[float, float] | None) -> str:
    if interval is None:
        return "too few rounds to tell"
    if interval[0] >= TARGET:
        return f"met: the whole interval lies at or above {TARGET}"
    if interval[1] < TARGET:
        return f"missed: the whole interval lies below {TARGET}"
    return f"not shown: the interval holds {TARGET}"


def measure(binary: Path, library: Path, name: str, path: Path, tokens: int, rounds: int) -> dict:
    """llama-bench and a fresh engine process in turns, each a process of its own, so both
    sides draw anew whatever a process's memory layout costs."""
    depth = run_round(name, WARM_UP_TOKENS, library)["depth"]  # also warms the model file's pages
    if depth + tokens > SETTINGS.context_length:
        raise SystemExit(f"--tokens {tokens} after a {depth}-token prompt do not fit the context")
    ceiling = [bench_tokens_per_second(binary, path, tokens, depth)]
    results = []
    for _ in range(rounds):
        results.append(run_round(name, tokens, library))
        ceiling.append(bench_tokens_per_second(binary, path, tokens, depth))
    app = [r["engine"] for r in results]
    c_loop = [statistics.mean(r["c_loop"]) for r in results]
    engine_vs_llama_bench = aba_ratios(app, ceiling)
    return {
        "model": name,
        "llama_bench_tokens_per_second": [round(t, 1) for t in ceiling],
        "engine_tokens_per_second": [round(t, 1) for t in app],
        "engine_vs_llama_bench": summary(engine_vs_llama_bench),
        "target": verdict(median_interval(engine_vs_llama_bench)),
        "decode_only_vs_llama_bench": summary(aba_ratios([r["decode_only"] for r in results], ceiling)),
        "c_loop_tokens_per_second": [round(t, 1) for t in c_loop],
        "c_loop_vs_llama_bench": summary(aba_ratios(c_loop, ceiling)),
        "engine_vs_c_loop": summary([a / c for a, c in zip(app, c_loop, strict=True)]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["smollm", "gemma"])
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--round", help=argparse.SUPPRESS)  # one round, in the process run_round starts
    parser.add_argument("--loop", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    paths = model_paths()
    if args.round:
        print(json.dumps(one_round(args.round, paths[args.round], args.tokens, load_decode_loop(args.loop))))
        return
    cache = Path(platformdirs.user_cache_dir("Hearth")) / "llama-bench"
    binary = llama_bench(cache)
    with tempfile.TemporaryDirectory() as build:
        library = compile_decode_loop(cache, Path(build))
        for name in args.models:
            print(json.dumps(measure(binary, library, name, paths[name], args.tokens, args.rounds)), flush=True)


if __name__ == "__main__":
    main()
