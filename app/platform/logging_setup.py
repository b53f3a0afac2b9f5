"""Logging to a rotating file in the log folder. Conversation text is never logged."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path


def configure_logging(log_file: Path, level: int = logging.INFO) -> None:
    root = logging.getLogger()
    root.setLevel(level)
    for old in list(root.handlers):
        if getattr(old, "hearth", False):
            root.removeHandler(old)
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        handler = logging.NullHandler()  # an unwritable log folder must not stop the app
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.hearth = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    logging.getLogger("llama.cpp").setLevel(max(level, logging.WARNING))
