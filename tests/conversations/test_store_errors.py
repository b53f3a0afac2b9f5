"""What the user reads when the conversation database fails, told apart by SQLite's
result code; each failure is produced for real, and nothing already saved is lost."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from app.conversations.storage_errors import storage_error
from app.conversations.store import SqliteConversationStore
from app.platform.errors import StorageError

DAMAGED = "is damaged or is not a Hearth database"


def _raised(action: str, db: sqlite3.Connection) -> sqlite3.Error:
    with pytest.raises(sqlite3.Error) as caught:
        db.execute(action)
    return caught.value


def test_a_read_only_database_is_named_read_only(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    SqliteConversationStore(path).close()
    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    error = storage_error(_raised("DELETE FROM conversations", read_only), path)
    assert str(error) == (
        "Your conversation could not be saved because the folder where Hearth keeps conversations is read-only.")


def test_a_full_disk_is_named_and_what_was_saved_stays(tmp_path: Path) -> None:
    store = SqliteConversationStore(tmp_path / "c.sqlite3")
    conversation = store.create_conversation()
    question = store.add_message(conversation, None, "user", "kept")
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full from now on
    with pytest.raises(StorageError) as caught:
        store.add_message(conversation, question, "assistant", "x" * 100_000)
    assert str(caught.value) == "Your conversation could not be saved because the disk is full."
    assert [m.content for m in store.thread(conversation)] == ["kept"]


def test_a_database_held_by_another_program_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = SqliteConversationStore(path)
    conversation = store.create_conversation()
    store._db.execute("PRAGMA busy_timeout = 0")  # instead of waiting the 10 s the app waits
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(StorageError, match="because another program is holding the conversation database[.]$"):
        store.rename_conversation(conversation, "Renamed")
    other.execute("ROLLBACK")
    store.rename_conversation(conversation, "Renamed")
    assert store.conversation_title(conversation) == "Renamed"


def test_a_file_that_is_not_a_database_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    path.write_bytes(b"These are my notes, not a database.\n" * 200)
    before = path.read_bytes()
    with pytest.raises(StorageError) as caught:
        SqliteConversationStore(path)
    assert str(caught.value).startswith(f"The conversation file {path} {DAMAGED}")
    assert "Nothing was deleted" in str(caught.value)
    assert path.read_bytes() == before


def test_a_damaged_database_is_named_when_read(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = SqliteConversationStore(path)
    conversation = store.create_conversation()
    store.add_message(conversation, None, "user", "Q")
    store.close()
    db = sqlite3.connect(path)
    root, page_size = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'messages'").fetchone()[0], 4096
    assert db.execute("PRAGMA page_size").fetchone()[0] == page_size
    db.close()
    data = bytearray(path.read_bytes())
    data[(root - 1) * page_size : root * page_size] = b"\xff" * page_size  # the messages table's page
    path.write_bytes(bytes(data))

    store = SqliteConversationStore(path)
    assert [c.id for c in store.list_conversations()] == [conversation]  # what is intact still reads
    with pytest.raises(StorageError, match=DAMAGED):
        store.thread(conversation)
    with pytest.raises(StorageError, match=DAMAGED):
        store.add_message(conversation, None, "user", "more")


def test_a_database_that_cannot_be_opened_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "conversations.sqlite3"
    folder.mkdir()  # a folder where the file should be
    with pytest.raises(StorageError) as caught:
        SqliteConversationStore(folder)
    assert str(caught.value) == (
        f"Your conversation could not be saved because Hearth cannot open the file {folder} "
        "(check that its folder exists and that you may write there).")


def test_other_failures_say_what_the_database_reported(tmp_path: Path) -> None:
    store = SqliteConversationStore(tmp_path / "c.sqlite3")
    with pytest.raises(StorageError) as caught:
        store.add_message(12345, None, "user", "to a conversation that does not exist")
    assert str(caught.value) == (
        "Your conversation could not be saved because the database reported: FOREIGN KEY constraint failed.")
    store.close()
    closed = _raised("SELECT 1", store._db)  # raised by Python's sqlite3 module: no SQLite result code
    assert str(storage_error(closed, tmp_path / "c.sqlite3", reading=True)) == (
        "Your conversations could not be read because the database reported: Cannot operate on a closed database.")


@pytest.mark.parametrize(("name", "code", "reason"), [
    ("SQLITE_IOERR_WRITE", 778, "the disk reported an error while reading or writing"),
    ("SQLITE_READONLY_DBMOVED", 1032, "the folder where Hearth keeps conversations is read-only"),
])
def test_extended_result_codes_count_as_their_primary_code(name: str, code: int, reason: str) -> None:
    # Not every failure can be caused on demand (a failing disk); SQLite's codes are stable.
    assert getattr(sqlite3, name) == code
    error = sqlite3.OperationalError("reported by SQLite")
    error.sqlite_errorcode = code
    assert str(storage_error(error, Path("c.sqlite3"))) == f"Your conversation could not be saved because {reason}."


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="counts open files through /proc")
def test_a_refused_file_is_not_kept_open(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(StorageError, match=DAMAGED):
        SqliteConversationStore(path)
    held = [link for link in Path("/proc/self/fd").iterdir() if link.resolve() == path]
    assert held == []
