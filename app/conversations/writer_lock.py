"""Which processes have the conversation store open, so one never marks another's reply as cut off.

Each open store holds an operating-system lock on a file of its own in a folder beside
the database. The lock goes when the process goes, however it ends (kill -9, a
crash), so a file that can be locked again belongs to a process that is gone. A reply
still marked 'streaming' is cut off only when no other live process has the store open.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import uuid
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)


def writers_folder(database: Path) -> Path:
    """Where the processes that have `database` open keep their lock files."""
    return database.with_name(database.name + ".writers")


class WriterLock:
    """This store's lock file, held until `release`."""

    def __init__(self, file: Path, handle: BinaryIO) -> None:
        self._file, self._handle = file, handle

    @classmethod
    def taken(cls, database: Path) -> WriterLock | None:
        """A lock for a store just opened on `database`; None where none can be made (it
        only holds back `mark_interrupted` in other processes, so the store works without)."""
        folder = writers_folder(database)
        name = f"{os.getpid()}-{uuid.uuid4().hex}"
        try:
            folder.mkdir(exist_ok=True)
            handle = (folder / (name + ".new")).open("a+b")
            if not _try_lock(handle):
                handle.close()
                return None
            # Locked before it gets the name others look for: an unlocked '.lock' file is a dead process's.
            os.replace(folder / (name + ".new"), folder / (name + ".lock"))
        except OSError as exc:
            log.warning("no writer lock for %s: %s", database, exc)
            return None
        return cls(folder / (name + ".lock"), handle)

    def release(self) -> None:
        # Removed before the lock goes, so no one sees it unlocked. On Windows an open file
        # stays behind: the next start that finds it unlocked removes it.
        with contextlib.suppress(OSError):
            self._file.unlink(missing_ok=True)
        self._handle.close()

    @staticmethod
    def others_alive(database: Path) -> bool:
        """True when another live process has `database` open; lock files of processes
        that are gone are removed on the way."""
        folder = writers_folder(database)
        try:
            files = sorted(folder.glob("*.lock"))
        except OSError:
            return False
        mine = f"{os.getpid()}-"
        alive = False
        for file in files:
            if file.name.startswith(mine):
                continue
            try:
                with file.open("a+b") as handle:
                    if not _try_lock(handle):
                        alive = True
                        continue
                    file.unlink(missing_ok=True)
            except OSError:
                alive = True  # cannot tell: assume it is writing
        return alive


if sys.platform == "win32":
    import msvcrt

    def _try_lock(handle: BinaryIO) -> bool:
        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(handle: BinaryIO) -> bool:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False
        return True
