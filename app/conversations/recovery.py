"""Recovering what can still be read from a damaged conversation database.

Python's sqlite3 has no `.recover`, so the rows are read table by table in ranges of
rowids; a range that raises is halved until the single rows that cannot be read are
known, and only those are skipped. What was read goes into a new database with
today's schema (whose triggers index the messages for search as they are added).
The damaged file itself is kept, unchanged, under a name with the time in it.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.conversations.store import SqliteConversationStore
from app.platform.i18n import _

log = logging.getLogger(__name__)

_CHUNK = 1024  # rowids per read; a damaged range costs about 2 reads per row in it
# Where the largest rowid cannot be read, reading stops after this many rowids in a row
# without a row (a store rarely has gaps: rows are deleted a conversation at a time).
_EMPTY_STRETCH = 64 * _CHUNK
_SIDE_FILES = ("", "-wal", "-shm")


@dataclass(frozen=True)
class Recovered:
    kept_as: Path  # the damaged file, under its new name
    conversations: int
    messages: int


def damaged_name(database: Path, when: float) -> Path:
    """Where the damaged `database` is kept: beside it, named with the time it was found."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(when))
    candidate = database.with_name(f"{database.stem}.damaged-{stamp}{database.suffix}")
    number = 1
    while candidate.exists():
        number += 1
        candidate = database.with_name(f"{database.stem}.damaged-{stamp}-{number}{database.suffix}")
    return candidate


def recover(database: Path, clock: Callable[[], float] = time.time) -> Recovered:
    """Keep the damaged `database` aside and put in its place a new one holding every row
    that could still be read. Raises OSError when the folder cannot be written."""
    fresh = database.with_name(database.name + ".recovering")
    for suffix in _SIDE_FILES:
        Path(str(fresh) + suffix).unlink(missing_ok=True)
    conversations, messages = _read_all(database)
    SqliteConversationStore(fresh).close()  # today's schema
    added = _write(fresh, conversations, messages)
    kept_as = damaged_name(database, clock())
    # Copied, not moved, and on disk before anything at `database` changes: however the
    # swap is cut short, the damaged file stays whole somewhere, with its WAL (its latest
    # writes). The old WAL goes before the new file comes: left beside it, SQLite could
    # replay its frames into the new file.
    for suffix in _SIDE_FILES[:2]:
        if Path(str(database) + suffix).exists():
            _copy_to_disk(Path(str(database) + suffix), Path(str(kept_as) + suffix))
    for suffix in _SIDE_FILES[1:]:
        Path(str(database) + suffix).unlink(missing_ok=True)
    _sync(fresh)
    os.replace(fresh, database)
    log.warning("damaged conversation database kept as %s; recovered %d conversations, %d messages",
                kept_as, added[0], added[1])
    return Recovered(kept_as, *added)


def _copy_to_disk(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)
    _sync(target)


def _sync(path: Path) -> None:
    with path.open("rb+") as file:
        os.fsync(file.fileno())


def _read_all(database: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every readable row of the conversations and messages tables; nothing when even the
    file's first page (its header and list of tables) cannot be read.

    Read from a copy, so the damaged file stays exactly as it was, and so the copy's
    header can be mended: a truncated file's header still counts the pages it lost, and
    SQLite then refuses even to read the list of tables."""
    copy = database.with_name(database.name + ".reading")
    try:
        for suffix in _SIDE_FILES[:2]:
            if Path(str(database) + suffix).exists():
                shutil.copyfile(str(database) + suffix, str(copy) + suffix)
        _mend_header(copy)
        db = sqlite3.connect(copy, isolation_level=None)
        # Text damaged into invalid UTF-8 is kept with replacement characters, not dropped.
        db.text_factory = lambda raw: raw.decode("utf-8", "replace")
        try:
            return list(_rows(db, "conversations")), list(_rows(db, "messages"))
        finally:
            db.close()
    except sqlite3.Error as exc:
        log.warning("cannot open the damaged database at all: %s", exc)
        return [], []
    finally:
        for suffix in _SIDE_FILES:
            Path(str(copy) + suffix).unlink(missing_ok=True)


def _mend_header(copy: Path) -> None:
    """Make the header's page count (bytes 28-31) no larger than the file, and forget a
    free-page list that starts past its end (bytes 32-39): see sqlite.org/fileformat.html."""
    with copy.open("r+b") as file:
        header = bytearray(file.read(100))
        if len(header) < 100 or not header.startswith(b"SQLite format 3\0"):
            return
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = copy.stat().st_size // page_size if page_size else 0
        if int.from_bytes(header[28:32], "big") > pages:
            header[28:32] = pages.to_bytes(4, "big")
        if int.from_bytes(header[32:36], "big") > pages:
            header[32:40] = bytes(8)
        file.seek(0)
        file.write(header)


def _rows(db: sqlite3.Connection, table: str) -> Iterator[dict[str, Any]]:
    try:
        columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
    except sqlite3.DatabaseError as exc:
        log.warning("cannot read the columns of %s: %s", table, exc)
        return
    if not columns:
        return
    select = f"SELECT rowid, * FROM {table} WHERE rowid BETWEEN ? AND ?"
    try:
        top: int | None = db.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0
    except sqlite3.DatabaseError:
        top = None
    low, empty = 1, 0
    while (top is not None and low <= top) or (top is None and empty < _EMPTY_STRETCH):
        high = low + _CHUNK - 1
        found = list(_range(db, select, low, high))
        empty = 0 if found else empty + _CHUNK
        for row in found:
            yield dict(zip(["rowid", *columns], row, strict=False))
        low = high + 1


def _range(db: sqlite3.Connection, select: str, low: int, high: int) -> Iterator[tuple[Any, ...]]:
    try:
        rows = db.execute(select, (low, high)).fetchall()
    except sqlite3.DatabaseError:
        if low == high:
            return  # this row cannot be read
        middle = (low + high) // 2
        yield from _range(db, select, low, middle)
        yield from _range(db, select, middle + 1, high)
        return
    yield from rows


def _write(fresh: Path, conversations: list[dict[str, Any]], messages: list[dict[str, Any]]) -> tuple[int, int]:
    """Add the rows to the new database; returns how many conversations and messages it holds."""
    db = sqlite3.connect(fresh, isolation_level=None)
    try:
        db.execute("PRAGMA foreign_keys = OFF")  # references are mended below, not refused
        target = {table: [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
                  for table in ("conversations", "messages")}
        db.execute("BEGIN IMMEDIATE")
        leaves: dict[int, Any] = {}
        for row in conversations:
            row["id"] = row.get("id") or row["rowid"]
            leaves[row["id"]] = row.get("current_leaf_id")
            row["current_leaf_id"] = None  # set once the messages are in
            row["uuid"] = row.get("uuid") or str(uuid.uuid4())
            if not isinstance(row.get("title"), str):
                row["title"] = _("Recovered conversation")
            if _insert(db, "conversations", target["conversations"], row) is None:
                leaves.pop(row["id"], None)
        newest: dict[int, int] = {}  # conversation id -> its newest recovered message
        for row in sorted(messages, key=lambda m: int(m.get("id") or m["rowid"])):
            row["id"] = row.get("id") or row["rowid"]
            owner = row.get("conversation_id")
            if not isinstance(owner, int):
                continue
            if owner not in leaves:  # its conversation's row was lost: give it one
                orphan = {"id": owner, "uuid": str(uuid.uuid4()), "title": _("Recovered conversation"),
                          "created_at": row.get("created_at") or 0.0, "updated_at": row.get("created_at") or 0.0}
                if _insert(db, "conversations", target["conversations"], orphan) is None:
                    continue
                leaves[owner] = None
            if row.get("parent_id") is not None and not _exists(db, row["parent_id"]):
                # Its parent was lost: it follows the message before it, so the thread reads on.
                row["parent_id"] = newest.get(owner)
            row["uuid"] = row.get("uuid") or str(uuid.uuid4())
            if _insert(db, "messages", target["messages"], row) is not None:
                newest[owner] = row["id"]
        for conversation_id, leaf in leaves.items():
            shown = leaf if leaf is not None and _exists(db, leaf) else newest.get(conversation_id)
            db.execute("UPDATE conversations SET current_leaf_id = ? WHERE id = ?", (shown, conversation_id))
        db.execute("COMMIT")
        counts = (db.execute("SELECT count(*) FROM conversations").fetchone()[0],
                  db.execute("SELECT count(*) FROM messages").fetchone()[0])
    finally:
        db.close()
    return int(counts[0]), int(counts[1])


def _insert(db: sqlite3.Connection, table: str, columns: list[str], row: dict[str, Any]) -> int | None:
    """Add `row` (its columns that today's schema has); None when it is refused (a damaged
    value that breaks a rule of the schema)."""
    names = [column for column in columns if column in row]
    try:
        db.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                   [row[name] for name in names])
    except sqlite3.Error as exc:
        log.warning("a recovered %s row was refused: %s", table, exc)
        return None
    return int(row["id"])


def _exists(db: sqlite3.Connection, message_id: Any) -> bool:
    return db.execute("SELECT 1 FROM messages WHERE id = ?", (message_id,)).fetchone() is not None

