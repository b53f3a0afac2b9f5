"""A real decode on this machine's CPU path, in a child process (the AMX crash trap)."""

from __future__ import annotations

from tests.conftest import decode_problem


def test_a_real_model_answers_on_this_cpu() -> None:
    """Not marked real_model on purpose: it must run, and fail, even where the
    real-model tests cannot (conftest.pytest_runtest_setup fails those with this text)."""
    assert decode_problem() == ""
