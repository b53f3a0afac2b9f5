"""Logging to a rotating file in the log folder. Conversation text is never logged."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import sys
from pathlib import Path

from app.platform.i18n import _


class _LogFile(logging.handlers.RotatingFileHandler):
    """A rotating log file that stops, with one plain line on stderr, when it cannot be
    written (a full disk, a removed USB stick): logging's own handling would print a
    "--- Logging error ---" traceback to stderr for every record, and the app would go
    on trying to write each one."""

    stopped = False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.stopped:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        failure = sys.exc_info()[1]
        if not isinstance(failure, OSError):
            super().handleError(record)
            return
        self.stopped = True
        with contextlib.suppress(OSError):
            self.close()  # what is still buffered cannot be written either
        if sys.stderr is not None:  # a windowed build has none
            reason = failure.strerror or str(failure)
            print("hearth: " + _("The log file {file} could not be written ({reason}); Hearth goes on without it.").format(
                file=self.baseFilename, reason=reason), file=sys.stderr)


def configure_logging(log_file: Path, level: int = logging.INFO) -> None:
    root = logging.getLogger()
    root.setLevel(level)
    for old in list(root.handlers):
        if getattr(old, "hearth", False):
            root.removeHandler(old)
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = _LogFile(log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()  # an unwritable log folder must not stop the app
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.hearth = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    logging.getLogger("llama.cpp").setLevel(max(level, logging.WARNING))
