"""A real decode on this machine's CPU path, in a child process (the AMX crash trap)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.conftest import decode_problem


def test_a_real_model_answers_on_this_cpu() -> None:
    """Not marked real_model on purpose: it must run, and fail, even where the
    real-model tests cannot (conftest.pytest_runtest_setup fails those with this text)."""
    assert decode_problem() == ""


def test_about_says_which_processors_this_llama_cpp_needs() -> None:
    from app.platform.build_info import describe, development_info

    assert "llama.cpp needs: this computer's own processor features" in describe(development_info())
    bundle = {"version": "1", "build": "Linux x86_64 bundle", "cpu_baseline": "x86-64 with AVX2"}
    assert describe(bundle).endswith("llama.cpp needs: x86-64 with AVX2")


@pytest.mark.real_model
def test_where_llama_cpp_reports_amx_no_weights_are_repacked(gemma_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The AMX rule reaches llama.cpp: its load log lists a repacked buffer only without it.
    (Gemma's Q4_K_M has tensors llama.cpp repacks on any AVX2 CPU.)"""
    from app.backends.base import LoadOptions, ModelRef
    from app.backends.llama.engine import LlamaBackend, cpu_features
    from app.config.settings import EngineSettings

    def repacked_buffers(features: frozenset[str]) -> list[str]:
        backend = LlamaBackend(features=features)
        caplog.clear()
        try:  # loading repacks; only a decode would meet the AMX crash
            with caplog.at_level(logging.INFO, logger="llama.cpp"):
                backend.load(ModelRef(path=gemma_path), LoadOptions(EngineSettings(context_length=512)))
        finally:
            backend.unload()
        return [m for m in (r.getMessage() for r in caplog.records)
                if "model buffer" in m and ("REPACK" in m or "AMX" in m)]

    assert repacked_buffers(cpu_features() - {"AMX_INT8"}), "llama.cpp repacked nothing"
    assert repacked_buffers(cpu_features() | {"AMX_INT8"}) == []


def test_the_launcher_names_what_an_older_processor_lacks(tmp_path: Path) -> None:
    from app.platform.cpu_check import missing_cpu_flags, too_old_sentence

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse4_2 avx popcnt\n\nprocessor\t: 1\nflags\t\t: fpu sse4_2 avx\n")
    missing = missing_cpu_flags(["sse4_2", "avx", "avx2", "fma"], cpuinfo)
    assert missing == ["avx2", "fma"]
    assert "lacks avx2, fma" in too_old_sentence(missing)
    assert missing_cpu_flags(["avx2"], tmp_path / "absent") == []  # unknown: never refuse
