"""A real decode on this machine's CPU path, in a child process (the AMX crash trap)."""

from __future__ import annotations

from tests.conftest import decode_problem


def test_a_real_model_answers_on_this_cpu() -> None:
    """Not marked real_model on purpose: it must run, and fail, even where the
    real-model tests cannot (conftest.pytest_runtest_setup fails those with this text)."""
    assert decode_problem() == ""


def test_llama_cpp_has_a_cpu_backend_for_this_processor() -> None:
    from app.inference.backends import load_backends

    assert load_backends() is None


def test_about_says_which_processors_this_llama_cpp_needs() -> None:
    from app.core.build_info import describe, development_info

    assert "llama.cpp needs: this computer's own processor features" in describe(development_info())
    bundle = {"version": "1", "build": "Linux x86_64 bundle", "cpu_baseline": "x86-64 with AVX2"}
    assert describe(bundle).endswith("llama.cpp needs: x86-64 with AVX2")
