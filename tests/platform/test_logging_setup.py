"""The log: a disk that cannot take it any more must not put Python's tracebacks on stderr."""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.platform.logging_setup import configure_logging


class FullDisk(io.StringIO):
    """A log file's stream on a disk with no space left (the real disk is shared: never fill it)."""

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@contextlib.contextmanager
def installed(log_file: Path) -> Iterator[logging.Handler]:
    """Hearth's file handler on the root logger, taken off again afterwards."""
    root = logging.getLogger()
    level = root.level
    configure_logging(log_file)
    handler = next(h for h in root.handlers if getattr(h, "hearth", False))
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(level)


@pytest.fixture
def log_handler(tmp_path: Path) -> Iterator[logging.Handler]:
    with installed(tmp_path / "logs" / "hearth.log") as handler:
        yield handler


def test_a_full_disk_stops_the_log_with_one_plain_line(log_handler: logging.Handler, capsys: pytest.CaptureFixture[str]) -> None:
    assert isinstance(log_handler, logging.StreamHandler)
    log_handler.setStream(FullDisk())
    log = logging.getLogger("hearth.test")
    for number in range(3):
        log.warning("record %d", number)
    stderr = capsys.readouterr().err
    assert "Logging error" not in stderr and "Traceback" not in stderr
    assert stderr.count("\n") == 1 and "could not be written" in stderr and "No space left on device" in stderr
    log.warning("the app goes on")
    assert capsys.readouterr().err == ""


def test_the_log_is_written_while_the_disk_has_room(log_handler: logging.Handler, tmp_path: Path) -> None:
    logging.getLogger("hearth.test").warning("a plain record")
    log_handler.flush()
    assert "a plain record" in (tmp_path / "logs" / "hearth.log").read_text(encoding="utf-8")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full, the device whose every write fails with ENOSPC")
def test_a_real_file_on_a_full_device(capsys: pytest.CaptureFixture[str]) -> None:
    with installed(Path("/dev/full")):
        logging.getLogger("hearth.test").warning("into a full disk")
        logging.getLogger("hearth.test").warning("and again")
    stderr = capsys.readouterr().err
    assert "Logging error" not in stderr and stderr.count("\n") == 1 and "/dev/full" in stderr
