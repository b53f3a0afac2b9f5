"""A real decode on this machine's CPU path, in a child process (the AMX crash trap)."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, decode_problem


def test_a_real_model_answers_on_this_cpu() -> None:
    """Not marked real_model on purpose: it must run, and fail, even where the
    real-model tests cannot (conftest.pytest_runtest_setup fails those with this text)."""
    assert decode_problem() == ""


def test_about_says_which_processors_this_llama_cpp_needs() -> None:
    from app.platform.build_info import describe, development_info

    assert "llama.cpp needs: this computer's own processor features" in describe(development_info())
    bundle = {"version": "1", "build": "Linux x86_64 bundle", "cpu_baseline": "x86-64 with AVX2"}
    assert describe(bundle).endswith("llama.cpp needs: x86-64 with AVX2")


# A child process loads Gemma with the engine's default options, prints the weight buffers
# llama.cpp's load log names, and writes a few tokens: a decode on an AMX buffer would kill it.
GEMMA_ON_THIS_CPU = """
import json, logging, sys, threading
from pathlib import Path
from app.backends.base import ChatTurn, LoadOptions, ModelRef
from app.backends.llama.engine import LlamaBackend
from app.config.settings import EngineSettings, SamplingSettings

buffers = []
class Buffers(logging.Handler):
    def emit(self, record):
        if "model buffer" in record.getMessage():
            buffers.append(record.getMessage().split("model buffer")[0].split(":")[-1].strip())
logging.getLogger("llama.cpp").addHandler(Buffers())
logging.getLogger("llama.cpp").setLevel(logging.INFO)
backend = LlamaBackend()
backend.load(ModelRef(path=Path(sys.argv[1])), LoadOptions(EngineSettings(context_length=512)))
sampling = SamplingSettings(temperature=0.0, max_tokens=8, seed=1)
prompt = backend.build_prompt("", [ChatTurn("user", "The capital of France is")], sampling, "auto")
pieces = []
stats = backend.generate(prompt, sampling, threading.Event(), pieces.append)
print(json.dumps({"buffers": sorted(set(buffers)), "tokens": stats.reply_tokens, "text": "".join(pieces)}))
"""


@pytest.mark.real_model
def test_the_cpu_repacking_runs_here_and_nothing_goes_into_the_amx_buffer(gemma_path: Path) -> None:
    """Gemma's Q4_K_M has tensors that both the AMX buffer and CPU_REPACK take; on an AMX
    CPU llama.cpp would put them in the AMX buffer first, and the decode would segfault."""
    result = subprocess.run([sys.executable, "-c", GEMMA_ON_THIS_CPU, str(gemma_path)], capture_output=True,
                            text=True, cwd=REPO, timeout=300)
    assert result.returncode == 0, f"exit {result.returncode}:\n{result.stderr[-1500:]}"
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert "AMX" not in loaded["buffers"]
    assert "CPU_REPACK" in loaded["buffers"], f"llama.cpp repacked nothing: {loaded['buffers']}"
    assert loaded["tokens"] > 0 and loaded["text"].strip()


@pytest.mark.real_model
def test_repacking_off_puts_every_weight_in_plain_buffers(gemma_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Safe mode's switch reaches llama.cpp: its load log then names no repacked buffer."""
    from app.backends.base import LoadOptions, ModelRef
    from app.backends.llama.cpu_buffers import buffer_names
    from app.backends.llama.engine import LlamaBackend
    from app.config.settings import EngineSettings

    backend = LlamaBackend(repacking_safe=False)
    assert "AMX" not in buffer_names()
    try:  # loading only: this process must not decode if the rule broke
        with caplog.at_level(logging.INFO, logger="llama.cpp"):
            backend.load(ModelRef(path=gemma_path), LoadOptions(EngineSettings(context_length=512)))
    finally:
        backend.unload()
    messages = [r.getMessage() for r in caplog.records]
    assert any("model buffer" in m for m in messages)
    assert [m for m in messages if "model buffer" in m and ("REPACK" in m or "AMX" in m)] == []


def test_the_launcher_names_what_an_older_processor_lacks(tmp_path: Path) -> None:
    from app.platform.cpu_check import missing_cpu_flags, too_old_sentence

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse4_2 avx popcnt\n\nprocessor\t: 1\nflags\t\t: fpu sse4_2 avx\n")
    missing = missing_cpu_flags(["sse4_2", "avx", "avx2", "fma"], cpuinfo)
    assert missing == ["avx2", "fma"]
    assert "lacks avx2, fma" in too_old_sentence(missing)
    assert missing_cpu_flags(["avx2"], tmp_path / "absent") == []  # unknown: never refuse
