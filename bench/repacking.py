"""What llama.cpp's weight repacking is worth on this CPU: with it and without it, in turns.

    .venv/bin/python bench/repacking.py [--models smollm gemma] [--file X.gguf] [--tokens 256] [--rounds 3]

--file adds any other model (asked SmolLM2's question), e.g. a Q4_0 one: SmolLM2's Q4_1
has no repacked form on x86, and Gemma's Q4_K_M repacks only a small part.

Hearth keeps llama.cpp's AMX buffer out of the extra buffer types (its first matrix
multiply segfaults: app/backends/llama/cpu_buffers.py) and turns repacking off
altogether in safe mode, and on an AMX CPU where that buffer cannot be left out. This
measures what repacking is worth, on any CPU (on an AMX CPU: the CPU_REPACK buffer
alone against no repacking, the previous AMX rule): the
same model is loaded with repacking on and off in turns (on, off, on, off, ...) in one
process, with the app's engine and 2 threads, and each "off" figure is divided by the
mean of the "on" figures either side of it, so a drift in the machine hits both alike.
Prompt speed (a ~600-token prompt, read in batches) and reply speed (greedy) are both
measured: repacking reorders weights for the matrix-matrix kernels of prompt reading.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.backends.base import ChatTurn, LoadOptions, ModelRef  # noqa: E402
from app.backends.llama.cpu_buffers import buffer_names  # noqa: E402
from app.backends.llama.engine import LlamaBackend, cpu_features, repacking_is_safe  # noqa: E402
from app.config.settings import EngineSettings, SamplingSettings  # noqa: E402
from bench.run import PROMPTS, THREADS, aba_ratios, model_paths  # noqa: E402

# About 600 tokens of prompt for both models: long enough that reading it is batched work.
LONG_PROMPT = "Summarise the following notes in three sentences.\n\n" + " ".join(
    f"Note {i}: the lighthouse keeper logged the weather, the ships that passed and the oil used." for i in range(30)
)


class BufferSizes(logging.Handler):
    """Collects llama.cpp's 'model buffer size' lines: proof of which buffers were used."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "model buffer size" in message:
            self.lines.append(message.strip())


SETTINGS = EngineSettings(context_length=2048, threads=THREADS)


def one_round(path: Path, repacking: bool, prompt: str, tokens: int) -> dict:
    engine = LlamaBackend(repacking_safe=repacking)  # the AMX buffer is left out either way
    buffers = BufferSizes()
    llama_log = logging.getLogger("llama.cpp")
    llama_log.addHandler(buffers)
    llama_log.setLevel(logging.INFO)
    try:
        engine.load(ModelRef(path=path), LoadOptions(SETTINGS))
    finally:
        llama_log.removeHandler(buffers)
    try:
        sampling = SamplingSettings(temperature=0.0, max_tokens=tokens, seed=1)
        reading = engine.build_prompt("", [ChatTurn("user", LONG_PROMPT)], SamplingSettings(max_tokens=16), "auto")
        started = time.perf_counter()
        engine.generate(reading, SamplingSettings(temperature=0.0, max_tokens=1, seed=1), threading.Event(), lambda _: None)
        prompt_seconds = time.perf_counter() - started
        reply = engine.build_prompt("", [ChatTurn("user", prompt)], sampling, "auto")
        stats = engine.generate(reply, sampling, threading.Event(), lambda _: None)
    finally:
        engine.unload()
    return {
        "repacking": repacking,
        "prompt_tokens_per_second": len(reading.tokens) / prompt_seconds,
        "reply_tokens_per_second": stats.tokens_per_second,
        "reply_tokens": stats.reply_tokens,
        "buffers": buffers.lines,
    }


def measure(name: str, path: Path, tokens: int, rounds: int) -> dict:
    prompt = PROMPTS.get(name, PROMPTS["smollm"])
    one_round(path, repacking=True, prompt=prompt, tokens=tokens)  # warm-up: the file into memory
    runs = [one_round(path, repacking=i % 2 == 0, prompt=prompt, tokens=tokens) for i in range(2 * rounds + 1)]
    on, off = runs[0::2], runs[1::2]

    def ratios(key: str) -> list[float]:
        return aba_ratios([r[key] for r in off], [r[key] for r in on])

    return {
        "model": name,
        "cpu_features": sorted(cpu_features()),
        "buffers_on": on[0]["buffers"],
        "buffers_off": off[0]["buffers"],
        "prompt_tokens_per_second_on": [round(r["prompt_tokens_per_second"], 1) for r in on],
        "prompt_tokens_per_second_off": [round(r["prompt_tokens_per_second"], 1) for r in off],
        "reply_tokens_per_second_on": [round(r["reply_tokens_per_second"], 1) for r in on],
        "reply_tokens_per_second_off": [round(r["reply_tokens_per_second"], 1) for r in off],
        "prompt_ratios_off_vs_on": [round(r, 3) for r in ratios("prompt_tokens_per_second")],
        "reply_ratios_off_vs_on": [round(r, 3) for r in ratios("reply_tokens_per_second")],
        "prompt_ratio_off_vs_on": round(statistics.median(ratios("prompt_tokens_per_second")), 3),
        "reply_ratio_off_vs_on": round(statistics.median(ratios("reply_tokens_per_second")), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["smollm", "gemma"])
    parser.add_argument("--file", type=Path, action="append", default=[])
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    paths = model_paths()
    print(f"this CPU: repacking {'on' if repacking_is_safe() else 'OFF (AMX)'} by default, into {buffer_names()}",
          file=sys.stderr)
    chosen = {name: paths[name] for name in args.models} | {file.name: file for file in args.file}
    for name, path in chosen.items():
        print(json.dumps(measure(name, path, args.tokens, args.rounds)), flush=True)


if __name__ == "__main__":
    main()
