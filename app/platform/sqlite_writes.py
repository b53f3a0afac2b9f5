"""Writing to an SQLite file: one write transaction on a connection in autocommit mode
(`isolation_level=None`), and a script's statements one at a time. The conversations
store and the documents index both write this way."""

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


def statements(script: str) -> Iterator[str]:
    """The statements of `script`, one at a time.

    A statement ends at a semicolon only where SQLite agrees it is complete, so
    semicolons inside strings, comments and `CREATE TRIGGER ... BEGIN ...; END;`
    stay inside their statement (splitting on every `;` broke triggers).
    """
    start = 0
    for end, character in enumerate(script):
        if character == ";" and sqlite3.complete_statement(script[start : end + 1]):
            yield script[start : end + 1].strip()
            start = end + 1
    if script[start:].strip():
        yield script[start:].strip()  # the last statement may omit its semicolon
