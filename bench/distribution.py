"""What the bundle's llama.cpp (AVX2 baseline, packaging/llama_dist.py) costs against the
venv's native build on this CPU.

    .venv/bin/python bench/distribution.py [--models smollm gemma] [--tokens 256] [--rounds 3]

Two builds of llama.cpp cannot share a process, so each round is a fresh process:
native, distribution, native, distribution, ... (A/B/A). Each distribution figure is
divided by the mean of the native ones either side of it. The distribution build is
compiled first if it is not there yet (build.py does the same).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "packaging"))

sys.path.insert(0, str(REPO))

from llama_dist import default_cache, distribution_site  # noqa: E402

from bench.run import aba_ratios  # noqa: E402

ROUND = (
    "import json, sys; sys.path.insert(0, {repo!r}); "
    "from bench.repacking import one_round; from bench.run import PROMPTS, model_paths; "
    "from app.backends.llama.engine import cpu_features; "
    "path = model_paths()[{name!r}]; "
    "result = one_round(path, True, PROMPTS[{name!r}], {tokens}); "
    "result['cpu_features'] = sorted(cpu_features()); print(json.dumps(result))"
)


def one_process(name: str, tokens: int, site: Path | None) -> dict:
    env = dict(os.environ)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    result = subprocess.run([sys.executable, "-c", ROUND.format(repo=str(REPO), name=name, tokens=tokens)],
                            capture_output=True, text=True, env=env, check=True, timeout=1800)
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(name: str, tokens: int, rounds: int, site: Path) -> dict:
    one_process(name, tokens, None)  # warm-up: the model file into the page cache
    runs = [one_process(name, tokens, site if i % 2 else None) for i in range(2 * rounds + 1)]
    native, distribution = runs[0::2], runs[1::2]

    def ratios(key: str) -> list[float]:
        return aba_ratios([r[key] for r in distribution], [r[key] for r in native])

    return {
        "model": name,
        "native_features": native[0]["cpu_features"],
        "distribution_features": distribution[0]["cpu_features"],
        "reply_tokens_per_second_native": [round(r["reply_tokens_per_second"], 1) for r in native],
        "reply_tokens_per_second_distribution": [round(r["reply_tokens_per_second"], 1) for r in distribution],
        "prompt_tokens_per_second_native": [round(r["prompt_tokens_per_second"], 1) for r in native],
        "prompt_tokens_per_second_distribution": [round(r["prompt_tokens_per_second"], 1) for r in distribution],
        "reply_ratios": [round(r, 3) for r in ratios("reply_tokens_per_second")],
        "prompt_ratios": [round(r, 3) for r in ratios("prompt_tokens_per_second")],
        "reply_ratio_distribution_vs_native": round(statistics.median(ratios("reply_tokens_per_second")), 3),
        "prompt_ratio_distribution_vs_native": round(statistics.median(ratios("prompt_tokens_per_second")), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["smollm", "gemma"])
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    site = distribution_site(default_cache())
    for name in args.models:
        print(json.dumps(measure(name, args.tokens, args.rounds, site)), flush=True)


if __name__ == "__main__":
    main()
