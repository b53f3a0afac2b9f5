"""Entry point for `python -m app` and the `hearth` console script."""

from __future__ import annotations

import os
import sys


def main() -> int:
    argv = sys.argv[1:]
    from app.cli import run, wants_cli

    if wants_cli(argv):
        if sys.stdout is None or sys.stderr is None:  # a windowed build: no console to write to
            sys.stdout = sys.stdout or open(os.devnull, "w")  # noqa: SIM115 - for the whole run
            sys.stderr = sys.stderr or open(os.devnull, "w")  # noqa: SIM115
        return run(argv)
    from app.main import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
