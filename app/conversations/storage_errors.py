"""What a failed SQLite call means for the user, in one plain sentence.

Told apart by SQLite's result code (`sqlite3.Error.sqlite_errorcode`), not by the
wording of its message, which SQLite does not promise to keep.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from app.platform.errors import StorageError
from app.platform.i18n import N_, _

# Why a save failed, by primary result code (the low byte of an extended code such as
# SQLITE_READONLY_DBMOVED or SQLITE_IOERR_WRITE): the clause after "because".
_REASONS = {
    sqlite3.SQLITE_READONLY: N_("the folder where Hearth keeps conversations is read-only"),
    sqlite3.SQLITE_FULL: N_("the disk is full"),
    sqlite3.SQLITE_BUSY: N_("another program is holding the conversation database"),
    sqlite3.SQLITE_LOCKED: N_("another program is holding the conversation database"),
    sqlite3.SQLITE_IOERR: N_("the disk reported an error while reading or writing"),
}
_DAMAGED = (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def storage_error(exc: sqlite3.Error, database: Path, *, reading: bool = False) -> StorageError:
    """The error to show for `exc`, raised while saving to (or `reading`) the conversation file `database`."""
    code = getattr(exc, "sqlite_errorcode", None)  # absent on errors of the sqlite3 module itself
    primary = code & 0xFF if code is not None else None
    if primary in _DAMAGED:
        return StorageError(_(
            "The conversation file {file} is damaged or is not a Hearth database, so Hearth "
            "cannot read or save conversations in it. Nothing was deleted: move the file elsewhere "
            "(keep it, it may still be recovered) and Hearth will start a new one."
        ).format(file=database))
    if primary == sqlite3.SQLITE_CANTOPEN:
        reason = _(
            "Hearth cannot open the file {file} (check that its folder exists and that you may write there)"
        ).format(file=database)
    elif primary in _REASONS:
        reason = _(_REASONS[primary])
    else:
        reason = _("the database reported: {message}").format(message=str(exc).rstrip("."))
    if reading:
        return StorageError(_("Your conversations could not be read because {reason}.").format(reason=reason))
    return StorageError(_("Your conversation could not be saved because {reason}.").format(reason=reason))
