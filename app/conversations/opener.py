"""The one way the app opens its conversations.

GUI, CLI, the inference worker and the self-test all call `open_conversations`,
so where and how conversations are kept (later: encrypted, one store per
person) is decided here and nowhere else. A start (the window, `hearth chats`)
calls `open_at_start`, which never stops the app over the file: a damaged
database is kept aside and what can be read is recovered; one that cannot be
changed (a read-only disk or folder, a newer Hearth's) opens read-only; one that
cannot be read at all leaves an empty, read-only store. The window leaves the page
check, which grows with the file, to a thread of its own (`check_after_start`).
"""

from __future__ import annotations

import enum
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.conversations.migrations import SCHEMA_VERSION
from app.conversations.recovery import recover
from app.conversations.storage_errors import storage_error
from app.conversations.store import ConversationStore, SqliteConversationStore
from app.conversations.writer_lock import WriterLock
from app.platform.errors import StorageError
from app.platform.i18n import _, ngettext
from app.platform.paths import AppPaths

log = logging.getLogger(__name__)
_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


class Access(enum.Enum):
    """What this run may do with the conversation file."""

    WRITE = "write"
    READ_ONLY = "read-only"  # the file or its folder cannot be written
    NEWER = "newer"  # a newer Hearth's schema: read, never migrated or changed
    NONE = "none"  # it cannot be opened at all: an empty store that keeps nothing
    DAMAGED = "damaged"  # only open_at_start acts on it (recovery); others open it as it is


@dataclass(frozen=True)
class StartedStore:
    """The store a start opened, and what the user must be told about it ('' when nothing)."""

    store: ConversationStore
    notice: str = ""
    read_only: bool = False
    pages_unchecked: bool = False  # opened with check_pages=False: check_after_start is still to run


def open_conversations(paths: AppPaths, *, in_memory: bool = False) -> ConversationStore:
    """This run's conversation store; `in_memory` keeps nothing once closed (`hearth ask --no-save`).

    Each thread opens its own: SQLite connections are not shared between threads. Every
    one of them opens the file the same way (read-only where a start found it so).
    """
    if in_memory:
        return SqliteConversationStore(Path(":memory:"))
    access = file_access(paths.database)
    if access is Access.NONE:
        return SqliteConversationStore(Path(":memory:"), read_only=True)
    return SqliteConversationStore(paths.database, read_only=access in (Access.READ_ONLY, Access.NEWER))


def file_access(database: Path) -> Access:
    """How the conversation file at `database` can be used, found without changing it."""
    folder = database.parent
    if not database.exists():
        if folder.is_dir() and not os.access(folder, os.W_OK | os.X_OK):
            return Access.NONE  # nothing to read, and no file can be made
        return Access.WRITE  # a first start makes it
    if not database.is_file() or not os.access(database, os.R_OK):
        return Access.NONE
    try:
        version = _schema_version(database)
    except sqlite3.Error as exc:
        return Access.DAMAGED if _code(exc) in _DAMAGED else Access.NONE
    if version > SCHEMA_VERSION:
        return Access.NEWER
    if not os.access(database, os.W_OK) or not os.access(folder, os.W_OK | os.X_OK):
        return Access.READ_ONLY
    return Access.WRITE


def open_at_start(paths: AppPaths, clock: Callable[[], float] = time.time, *, check_pages: bool = True) -> StartedStore:
    """The store for a start of the window or a command, whatever state its file is in.

    `check_pages=False` leaves out the page check (`pages_intact`), for the window's GUI
    thread: a damaged index page is then found by `check_after_start`, and the file it
    marked is recovered here, at the next start, regardless of `check_pages`.
    Raises StorageError only for what is not the file's fault (a full disk, another
    program holding the database): the file itself never stops a start."""
    database = paths.database
    access = file_access(database)
    if access is Access.NONE:
        return StartedStore(open_conversations(paths), _(
            "Hearth cannot open your conversation file {file}, so nothing you write now is saved. "
            "Nothing in it was changed: check that you may read and write it, then restart Hearth."
        ).format(file=database), read_only=True)
    if access is Access.NEWER:
        return StartedStore(open_conversations(paths), _(
            "Your conversations can be read but not changed: they were saved by a newer version "
            "of Hearth. Update Hearth to change them."
        ), read_only=True)
    if access is Access.READ_ONLY:
        return StartedStore(open_conversations(paths), _(
            "Your conversations can be read but not changed: the file {file} or its folder is read-only."
        ).format(file=database), read_only=True)
    if access is Access.WRITE and _sound(paths, check_pages):
        store = open_conversations(paths)
        try:
            store.mark_interrupted()
        except StorageError as exc:
            if _damaged(exc):
                store.close()
                return _recovered(paths, clock)
            log.warning("cut-off replies not marked: %s", exc)  # not worth refusing the start over
        return StartedStore(store, pages_unchecked=not check_pages)
    return _recovered(paths, clock)


def check_after_start(paths: AppPaths) -> str:
    """The page check a start with check_pages=False left out, for a thread of its own: what
    the user must be told ('' when the file is sound). Damage is only marked, for the next
    start to recover: the running app's threads have the file open."""
    if pages_intact(paths.database):
        return ""
    _mark_for_repair(paths)
    return _(
        "Hearth found damage in your conversation file. Your conversations are still here: restart Hearth "
        "and it will repair the file (the damaged file is kept aside, nothing is deleted)."
    )


def _sound(paths: AppPaths, check_pages: bool) -> bool:
    """Whether the writable file may be opened as it is, not recovered first."""
    if not paths.database.exists():
        paths.repair_marker.unlink(missing_ok=True)  # the file it marked is gone: a new one is made
        return True
    if paths.repair_marker.exists():
        return False
    return not check_pages or pages_intact(paths.database)


def _mark_for_repair(paths: AppPaths) -> None:
    paths.repair_marker.write_text("this database was found damaged; the next start recovers it\n", encoding="utf-8")


def _recovered(paths: AppPaths, clock: Callable[[], float]) -> StartedStore:
    if WriterLock.others_alive(paths.database):
        # Recovery puts a new file in place of this one: another Hearth still writing to the
        # old one would lose all it writes from then on. The file is used as it is meanwhile.
        _mark_for_repair(paths)
        return StartedStore(open_conversations(paths), _(
            "Your conversation file is damaged, and Hearth is open elsewhere on this computer (another "
            "window or a command), so it was not repaired now. Close Hearth everywhere, then start it "
            "again: it will repair the file and keep the damaged one aside."
        ))
    try:
        result = recover(paths.database, clock)
    except OSError as exc:
        raise StorageError(_(
            "The conversation file {file} is damaged and Hearth could not write a repaired copy "
            "beside it ({reason}). Nothing was deleted."
        ).format(file=paths.database, reason=exc.strerror or exc)) from exc
    paths.repair_marker.unlink(missing_ok=True)
    store = open_conversations(paths)
    store.mark_interrupted()
    return StartedStore(store, ngettext(
        "Your conversation file was damaged. Hearth kept it unchanged as {file} and recovered "
        "{count} conversation from it; some messages may be missing.",
        "Your conversation file was damaged. Hearth kept it unchanged as {file} and recovered "
        "{count} conversations from it; some messages may be missing.",
        result.conversations,
    ).format(file=result.kept_as.name, count=result.conversations))


def _schema_version(database: Path) -> int:
    """The file's `user_version`, read without writing anything (not even the WAL's index
    where the folder is read-only)."""
    uri = database.resolve().as_uri()
    for mode in ("?mode=ro", "?immutable=1"):
        try:
            db = sqlite3.connect(uri + mode, uri=True)
        except sqlite3.OperationalError:
            continue
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return int(db.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if _code(exc) in _DAMAGED:
                raise
        finally:
            db.close()
    raise sqlite3.OperationalError("cannot open " + str(database))


def pages_intact(database: Path) -> bool:
    """False where SQLite finds a page of the file damaged. `quick_check` reads every page
    once (it skips only the check that indexes match their tables): 6 ms for 600
    messages, 1.2 s for 100,000 (78 MB, warm cache), against 0.1 s for the scan
    `mark_interrupted` already made. A damaged index page is found only this way. It grows
    with the file, so the window runs it on a thread of its own once shown
    (`check_after_start`; its start without it: 49 ms against 417 ms for 100,000 messages
    in 106 MB); `hearth chats` runs it at the start. Opens its own connection."""
    db = sqlite3.connect(database, timeout=10)
    try:
        return bool(db.execute("PRAGMA quick_check(1)").fetchone()[0] == "ok")
    except sqlite3.DatabaseError as exc:
        if _code(exc) in _DAMAGED:
            return False
        raise storage_error(exc, database, reading=True) from exc
    finally:
        db.close()


def _code(exc: BaseException | None) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _damaged(exc: StorageError) -> bool:
    return _code(exc.__cause__) in _DAMAGED
