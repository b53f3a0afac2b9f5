"""What the KV cache saves at a full context, after reopening and after switching (issue 14).

    .venv/bin/python bench/kv_cache.py [--model smollm|gemma] [--turns 24]

Three figures, each against a baseline measured in the same run:

- **a turn at a full context**: one conversation grows turn by turn (real replies of up to
  REPLY_TOKENS tokens) past the context; the first-token time of each turn whose oldest
  turns are left out, against the turns that still fit (the cache warm in both);
- **reopening**: a ~2,000-token conversation whose KV state was saved, answered by an
  engine whose cache is empty (as after a restart), against a one-line prompt on an empty
  cache; and the same conversation with no saved state, to show what the state saves;
- **switching**: two such conversations answered in turn by one engine, each restoring its
  own state, against the same one-line prompt.

Reopening and switching are timed from the reply's start (restoring the state included) to
its first text, on both sides. Before each timed reply the saved states are put back as they
were when the conversation was built, so every repeat restores the same state.

Needs the test models (./hearth.sh test installs them). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import THREADS, model_paths

from app.backends.base import ChatRequest, ChatTurn, LoadOptions, ModelRef
from app.backends.llama.engine import LlamaBackend
from app.config.settings import EngineSettings, SamplingSettings, Settings

REPLY_TOKENS = 200  # each reply of the growing conversation
FIRST_TOKEN = SamplingSettings(temperature=0.0, max_tokens=4, seed=1)  # the timed turns
TOPICS = (
    "lighthouses", "sailing ships", "tides", "sea birds", "coral reefs", "whales", "harbours",
    "storms at sea", "fishing boats", "ocean currents", "islands", "submarines", "penguins",
    "the Gulf Stream", "icebergs", "sea shells", "octopuses", "maps of the sea", "pirates",
    "sea salt", "dolphins", "waves", "mangroves", "the deep ocean", "seaweed", "crabs",
)
LINE = ChatTurn("user", "Thank you. Now say hello in French.")
REPEATS = 5


def question(topic: str) -> ChatTurn:
    return ChatTurn("user", f"Tell me about {topic}, in detail.")


def full_context(path: Path, turns: int, context: int) -> dict[str, object]:
    """First-token times of a growing conversation, split by whether turns were left out."""
    backend = LlamaBackend()
    backend.load(ModelRef(path=path), LoadOptions(EngineSettings(context_length=context, threads=THREADS)))
    system = Settings().system_prompt
    sampling = SamplingSettings(temperature=0.0, max_tokens=REPLY_TOKENS, seed=1)
    cancel = threading.Event()
    history: list[ChatTurn] = []
    rows = []
    for index in range(turns):
        history.append(question(TOPICS[index % len(TOPICS)]))
        parts: list[str] = []
        prompt = backend.build_prompt(system, history, sampling, "auto")
        stats = backend.generate(prompt, sampling, cancel, parts.append)
        history.append(ChatTurn("assistant", "".join(parts)))
        rows.append({
            "turn": index + 1,
            "ttft": round(stats.time_to_first_token, 4),
            "read": stats.prompt_tokens - stats.prompt_tokens_reused,
            "prompt": stats.prompt_tokens,
            "left_out": stats.omitted_turns,
        })
        print(json.dumps(rows[-1]), file=sys.stderr)
    backend.unload()
    # Turn 1 reads the system prompt on an empty cache: neither kind of turn.
    fits = [row["ttft"] for row in rows[1:] if row["left_out"] == 0]
    full = [row["ttft"] for row in rows if row["left_out"] > 0]
    if not fits or not full:
        raise SystemExit(f"{turns} turns at context {context}: {len(fits)} fit, {len(full)} at a full context; change --turns")
    return {
        "context": context,
        "turns": rows,
        "fits_median": statistics.median(fits),
        "fits_mean": statistics.mean(fits),
        "full_median": statistics.median(full),
        "full_mean": statistics.mean(full),
        "full_worst": max(full),
        "ratio_median": statistics.median(full) / statistics.median(fits),
        "ratio_mean": statistics.mean(full) / statistics.mean(fits),
    }


def build(backend: LlamaBackend, key: str, topics: tuple[str, ...], system: str) -> list[ChatTurn]:
    """A conversation of five long exchanges (~2,000 tokens), answered through reply() so
    that its KV state is saved under `key`."""
    sampling = SamplingSettings(temperature=0.0, max_tokens=475, seed=1)
    history: list[ChatTurn] = []
    for topic in topics:
        history.append(question(topic))
        parts: list[str] = []
        backend.reply(ChatRequest(system, list(history), sampling, "auto", key), threading.Event(), parts.append, lambda _o: None)
        history.append(ChatTurn("assistant", "".join(parts)))
    return history


def first_text(backend: LlamaBackend, request: ChatRequest) -> tuple[float, int]:
    """Seconds from the reply's start to its first text, and the prompt tokens reused."""
    started = time.perf_counter()
    first: list[float] = []

    def on_text(_text: str) -> None:
        if not first:
            first.append(time.perf_counter())

    stats = backend.reply(request, threading.Event(), on_text, lambda _o: None)
    return first[0] - started, stats.prompt_tokens_reused


def forget_cache(backend: LlamaBackend) -> None:
    """The cache empty and owned by no conversation: as after a restart."""
    assert backend._llm is not None
    backend._llm.reset()  # type: ignore[no-untyped-call]
    backend._llm._ctx.kv_cache_clear()
    backend._cache_owner = None


def reopening(path: Path, context: int) -> dict[str, object]:
    system = Settings().system_prompt
    with tempfile.TemporaryDirectory() as work:
        states, kept = Path(work) / "states", Path(work) / "kept"
        backend = LlamaBackend()
        backend.load(ModelRef(path=path), LoadOptions(EngineSettings(context_length=context, threads=THREADS), state_dir=states))
        first = build(backend, "first", TOPICS[:5], system)
        second = build(backend, "second", TOPICS[5:10], system)
        shutil.copytree(states, kept)

        def saved_as_built() -> None:
            shutil.rmtree(states)
            shutil.copytree(kept, states)

        reopen, switch, alone, cold, reused = [], [], [], [], []
        for _ in range(REPEATS):
            saved_as_built()
            forget_cache(backend)
            seconds, tokens = first_text(backend, ChatRequest(system, [LINE], FIRST_TOKEN, "auto", "new"))
            alone.append(seconds)
            saved_as_built()
            forget_cache(backend)
            seconds, tokens = first_text(backend, ChatRequest(system, [*first, LINE], FIRST_TOKEN, "auto", "first"))
            reopen.append(seconds)
            reused.append(tokens)
            # The cache holds the first conversation now: switch to the second.
            saved_as_built()
            seconds, tokens = first_text(backend, ChatRequest(system, [*second, LINE], FIRST_TOKEN, "auto", "second"))
            switch.append(seconds)
            reused.append(tokens)
            # The same reopening without a saved state: the whole conversation is read.
            shutil.rmtree(states)
            forget_cache(backend)
            seconds, _tokens = first_text(backend, ChatRequest(system, [*first, LINE], FIRST_TOKEN, "auto", "first"))
            cold.append(seconds)
        prompt = len(backend.build_prompt(system, [*first, LINE], FIRST_TOKEN, "auto").tokens)
        state_bytes = sum(file.stat().st_size for file in kept.iterdir())
        backend.unload()
    # Restored: all but the new line and the last reply's retokenized end come from the state.
    assert min(reused) > 0.9 * prompt, f"a saved state was not restored: reused {reused} of {prompt}"
    return {
        "conversation_tokens": prompt,
        "saved_bytes_two_states": state_bytes,
        "one_line_median": statistics.median(alone),
        "reopen_median": statistics.median(reopen),
        "switch_median": statistics.median(switch),
        "no_saved_state_median": statistics.median(cold),
        "reopen_ratio": statistics.median(reopen) / statistics.median(alone),
        "switch_ratio": statistics.median(switch) / statistics.median(alone),
        "no_saved_state_ratio": statistics.median(cold) / statistics.median(alone),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("smollm", "gemma"), default="smollm")
    parser.add_argument("--turns", type=int, default=24)
    parser.add_argument("--context", type=int, default=2048, help="context of the growing conversation")
    parser.add_argument("--parts", nargs="+", choices=("full", "reopen"), default=["full", "reopen"])
    args = parser.parse_args()
    path = model_paths()[args.model]
    result: dict[str, object] = {"model": args.model}
    if "full" in args.parts:
        result["full_context"] = full_context(path, args.turns, args.context)
    if "reopen" in args.parts:
        result["reopening"] = reopening(path, 4096)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
