"""Entry point for `python -m app` and the `hearth` console script."""

from __future__ import annotations

import sys


def main() -> int:
    argv = sys.argv[1:]
    from app.cli import run, wants_cli

    if wants_cli(argv):
        return run(argv)
    from app.main import run_gui

    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
