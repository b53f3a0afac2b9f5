"""What a failed SQLite call means for the user, in one plain sentence.

Told apart by SQLite's result code (`sqlite3.Error.sqlite_errorcode`), not by the
wording of its message, which SQLite does not promise to keep.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.platform.errors import StorageError

# Why a save failed, by primary result code (the low byte of an extended code such as
# SQLITE_READONLY_DBMOVED or SQLITE_IOERR_WRITE).
_REASONS = {
    sqlite3.SQLITE_READONLY: "the folder where Hearth keeps conversations is read-only",
    sqlite3.SQLITE_FULL: "the disk is full",
    sqlite3.SQLITE_BUSY: "another program is holding the conversation database",
    sqlite3.SQLITE_LOCKED: "another program is holding the conversation database",
    sqlite3.SQLITE_IOERR: "the disk reported an error while reading or writing",
}
_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def storage_error(exc: sqlite3.Error, database: Path, *, reading: bool = False) -> StorageError:
    """The error to show for `exc`, raised while saving to (or `reading`) the conversation file `database`."""
    code = getattr(exc, "sqlite_errorcode", None)  # absent on errors of the sqlite3 module itself
    primary = code & 0xFF if code is not None else None
    if primary in _DAMAGED:
        return StorageError(
            f"The conversation file {database} is damaged or is not a Hearth database, so Hearth "
            "cannot read or save conversations in it. Nothing was deleted: move the file elsewhere "
            "(keep it, it may still be recovered) and Hearth will start a new one."
        )
    if primary == sqlite3.SQLITE_CANTOPEN:
        reason = f"Hearth cannot open the file {database} (check that its folder exists and that you may write there)"
    elif primary in _REASONS:
        reason = _REASONS[primary]
    else:
        reason = f"the database reported: {str(exc).rstrip('.')}"
    failed = "Your conversations could not be read" if reading else "Your conversation could not be saved"
    return StorageError(f"{failed} because {reason}.")
