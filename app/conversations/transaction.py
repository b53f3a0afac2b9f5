"""One write transaction on a connection in autocommit mode (`isolation_level=None`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Everything inside is written together or not at all.

    IMMEDIATE takes the write lock at the start, so a second process waits
    here (up to the connection's timeout) instead of failing halfway through.
    """
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:  # also when COMMIT itself failed (disk full)
            db.execute("ROLLBACK")
        raise
