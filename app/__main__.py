"""Entry point for `python -m app` and the `hearth` console script."""

from __future__ import annotations

import os
import sys


def main() -> int:
    # On a failed assertion ggml forks gdb to print a backtrace; with two threads asserting
    # at once that hung the process for minutes instead of letting it exit (and the next
    # start report the crash). llama.cpp reads this variable when it aborts.
    os.environ.setdefault("GGML_NO_BACKTRACE", "1")
    argv = sys.argv[1:]
    from app.backends.llama.factory import LlamaBackendFactory
    from app.cli.main import run, wants_cli
    from app.platform.i18n import use_language

    use_language()  # the environment's language, before any word is shown

    backend_factory = LlamaBackendFactory()  # the one place that picks the backend
    if wants_cli(argv):
        if sys.stdout is None or sys.stderr is None:  # a windowed build: no console to write to
            sys.stdout = sys.stdout or open(os.devnull, "w")  # noqa: SIM115 - for the whole run
            sys.stderr = sys.stderr or open(os.devnull, "w")  # noqa: SIM115
        return run(argv, backend_factory)
    from app.gui.app import run_gui

    return run_gui(argv, backend_factory)


if __name__ == "__main__":
    sys.exit(main())
