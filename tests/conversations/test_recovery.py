"""A damaged, truncated, newer, read-only or unreadable conversation file never stops a
start: the damaged file is kept aside untouched, what SQLite can still read is
recovered, and the user is told in plain words (issue 12)."""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.conversations.opener import check_after_start, open_at_start, open_conversations, pages_intact
from app.conversations.store import SqliteConversationStore, Status
from app.platform.errors import StorageError
from app.platform.paths import AppPaths
from tests.conftest import REPO, subprocess_env

CONVERSATIONS, TURNS = 30, 10  # 600 messages, about 140 pages of 4 KB


def fill(paths: AppPaths) -> None:
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    store = SqliteConversationStore(paths.database)
    for number in range(CONVERSATIONS):
        conversation = store.create_conversation(f"Conversation {number}")
        parent = None
        for turn in range(TURNS):
            parent = store.add_message(conversation, parent, "user", f"question {number}.{turn} " + "words " * 40)
            parent = store.add_message(conversation, parent, "assistant", f"answer {number}.{turn} " + "reply " * 40)
    store.close()
    assert CONVERSATIONS * TURNS * 2 == 600


def page_count(database: Path) -> int:
    return database.stat().st_size // 4096


def message_page(database: Path) -> int:
    """A page in the middle of the messages table's data (0-based)."""
    db = sqlite3.connect(database)
    try:
        pages = [row[0] for row in db.execute("SELECT pageno FROM dbstat WHERE name = 'messages' AND pagetype = 'leaf'")]
    except sqlite3.OperationalError:  # an SQLite built without dbstat: the middle of the file
        pages = [page_count(database) // 2]
    db.close()
    return pages[len(pages) // 2] - 1


def index_page(database: Path) -> int:
    """A leaf page of the index of the messages' uuids (0-based): neither a start nor
    reading a conversation reads it, only adding a message or the page check does."""
    db = sqlite3.connect(database)
    try:
        pages = [row[0] for row in db.execute("SELECT pageno FROM dbstat WHERE name = 'messages_by_uuid' AND pagetype = 'leaf'")]
    except sqlite3.OperationalError:  # an SQLite built without dbstat: the index's first page
        pages = [db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'messages_by_uuid'").fetchone()[0]]
    db.close()
    return pages[len(pages) // 2] - 1


def overwrite_page(database: Path, page: int, data: bytes) -> None:
    with database.open("r+b") as file:
        file.seek(page * 4096)
        file.write(data)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def kept_files(paths: AppPaths) -> list[Path]:
    return sorted(paths.data_dir.glob("conversations.damaged-*.sqlite3"))


def zero_a_page(database: Path) -> None:
    overwrite_page(database, message_page(database), bytes(4096))


def zero_an_index_page(database: Path) -> None:
    overwrite_page(database, index_page(database), bytes(4096))


def random_bytes_over_a_page(database: Path) -> None:
    overwrite_page(database, message_page(database), random.Random(12).randbytes(4096))


def truncate(database: Path) -> None:
    os.truncate(database, database.stat().st_size * 2 // 3)


def zero_the_first_page(database: Path) -> None:
    overwrite_page(database, 0, bytes(4096))


@pytest.mark.parametrize("damage", [zero_a_page, random_bytes_over_a_page, truncate, zero_the_first_page])
def test_a_damaged_file_is_kept_aside_and_what_can_be_read_is_recovered(
    paths: AppPaths, damage: Callable[[Path], None]
) -> None:
    fill(paths)
    damage(paths.database)
    before = digest(paths.database)

    started = open_at_start(paths, clock=lambda: 1_800_000_000.0)

    [kept] = kept_files(paths)
    assert digest(kept) == before  # the damaged file, untouched
    assert kept.name.startswith("conversations.damaged-2027")
    recovered = started.store.list_conversations()
    assert started.notice == (
        f"Your conversation file was damaged. Hearth kept it unchanged as {kept.name} and recovered "
        f"{len(recovered)} conversation{'s' if len(recovered) != 1 else ''} from it; some messages may be missing.")
    assert not started.read_only
    if damage is not zero_the_first_page:  # without its first page SQLite cannot read the file at all
        assert len(recovered) >= CONVERSATIONS - 2
        total = sum(len(started.store.all_messages(c.id)) for c in recovered)
        # truncation takes the last third of the pages, which messages share with the search
        # index and the other indexes (394 of 600 messages were left at schema 6)
        assert 300 <= total < 600 if damage is truncate else 560 <= total < 600
        shown = started.store.thread(recovered[-1].id)
        assert shown and shown[0].parent_id is None  # every shown thread reads from its start
        assert started.store.search("question")  # the search index was rebuilt
    started.store.add_message(started.store.create_conversation(), None, "user", "saved after the repair")
    started.store.close()
    again = open_at_start(paths)  # the repaired file opens as any other
    assert again.notice == "" and len(kept_files(paths)) == 1
    again.store.close()


def test_the_bisection_skips_only_the_rows_it_cannot_read(paths: AppPaths) -> None:
    fill(paths)
    zero_a_page(paths.database)
    started = open_at_start(paths)
    texts = [m.content for c in started.store.list_conversations() for m in started.store.all_messages(c.id)]
    # A 4 KB leaf holds about 10 of these 250-byte messages: only they are lost.
    assert 585 <= len(texts) < 600
    started.store.close()


def recovered_notice(kept: Path, conversations: int) -> str:
    return (f"Your conversation file was damaged. Hearth kept it unchanged as {kept.name} and recovered "
            f"{conversations} conversations from it; some messages may be missing.")


def test_damage_in_an_index_found_after_the_start_is_recovered_at_the_next(paths: AppPaths) -> None:
    fill(paths)
    zero_an_index_page(paths.database)
    started = open_at_start(paths, check_pages=False)  # the window's start
    assert started.notice == "" and not started.read_only and started.pages_unchecked
    assert len(started.store.list_conversations()) == CONVERSATIONS
    assert not pages_intact(paths.database)
    assert check_after_start(paths) == (
        "Hearth found damage in your conversation file. Your conversations are still here: restart Hearth "
        "and it will repair the file (the damaged file is kept aside, nothing is deleted).")
    assert paths.repair_marker.exists() and not kept_files(paths)  # nothing is repaired while the app runs
    started.store.close()

    again = open_at_start(paths, check_pages=False)

    [kept] = kept_files(paths)
    assert again.notice == recovered_notice(kept, CONVERSATIONS)
    assert not paths.repair_marker.exists()
    recovered = again.store.list_conversations()
    assert sum(len(again.store.all_messages(c.id)) for c in recovered) == 600  # an index holds no message of its own
    again.store.close()
    assert pages_intact(paths.database)
    assert open_at_start(paths, check_pages=False).notice == ""  # once: the marker is gone


def test_a_sound_file_checked_after_the_start_leaves_no_marker(paths: AppPaths) -> None:
    fill(paths)
    started = open_at_start(paths, check_pages=False)
    assert check_after_start(paths) == "" and not paths.repair_marker.exists()
    started.store.close()


def test_a_start_that_checks_pages_recovers_damage_in_an_index_at_once(paths: AppPaths) -> None:
    fill(paths)
    zero_an_index_page(paths.database)
    started = open_at_start(paths)  # `hearth chats`
    [kept] = kept_files(paths)
    assert started.notice == recovered_notice(kept, CONVERSATIONS) and not started.pages_unchecked
    started.store.close()


def test_a_newer_schema_is_left_in_place_and_opens_read_only(paths: AppPaths) -> None:
    fill(paths)
    db = sqlite3.connect(paths.database)
    db.execute("PRAGMA user_version = 99")
    db.close()
    before = digest(paths.database)
    started = open_at_start(paths)
    assert started.read_only and started.notice == (
        "Your conversations can be read but not changed: they were saved by a newer version of Hearth. "
        "Update Hearth to change them.")
    assert len(started.store.list_conversations()) == CONVERSATIONS  # still readable
    with pytest.raises(StorageError, match="could not be saved"):
        started.store.create_conversation()
    started.store.close()
    assert digest(paths.database) == before and not kept_files(paths)


@pytest.fixture
def unwritable() -> Iterator[Callable[[Path], None]]:
    """Makes a file or folder unwritable, also for root (which ignores permissions): by
    the immutable attribute where the tests run as root."""
    made: list[Path] = []

    def make(path: Path) -> None:
        if os.geteuid() == 0:
            if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
                pytest.skip("running as root on a file system without the immutable attribute")
        else:
            path.chmod(0o555 if path.is_dir() else 0o444)
        made.append(path)

    yield make
    for path in made:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(0o755 if path.is_dir() else 0o644)


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_read_only_file_or_folder_opens_read_only(
    paths: AppPaths, unwritable: Callable[[Path], None], what: str
) -> None:
    fill(paths)
    unwritable(paths.database if what == "file" else paths.data_dir)
    started = open_at_start(paths)
    assert started.read_only and started.notice == (
        f"Your conversations can be read but not changed: the file {paths.database} or its folder is read-only.")
    assert len(started.store.list_conversations()) == CONVERSATIONS
    worker = open_conversations(paths)  # a worker's store agrees
    with pytest.raises(StorageError, match="could not be saved"):
        worker.create_conversation()
    worker.close()
    started.store.close()


def test_a_file_that_cannot_be_opened_leaves_an_empty_store_and_is_not_touched(paths: AppPaths) -> None:
    paths.data_dir.mkdir(parents=True, exist_ok=True)
    paths.database.mkdir()  # not a file at all; as root, the one way to make it unopenable
    started = open_at_start(paths)
    assert started.read_only and started.notice == (
        f"Hearth cannot open your conversation file {paths.database}, so nothing you write now is saved. "
        "Nothing in it was changed: check that you may read and write it, then restart Hearth.")
    assert started.store.list_conversations() == []
    started.store.close()
    assert paths.database.is_dir()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_an_unreadable_file_leaves_an_empty_store(paths: AppPaths) -> None:
    fill(paths)
    paths.database.chmod(0)
    try:
        started = open_at_start(paths)
        assert started.read_only and "Hearth cannot open your conversation file" in started.notice
        started.store.close()
    finally:
        paths.database.chmod(0o644)
    assert len(SqliteConversationStore(paths.database).list_conversations()) == CONVERSATIONS


def another_process_with_the_store_open(paths: AppPaths, statement: str) -> subprocess.Popen[str]:
    """A process that opens the store, runs `statement` on it and keeps it open until killed."""
    process = subprocess.Popen(
        [sys.executable, "-c", (
            "import sys; from pathlib import Path; from app.conversations.store import SqliteConversationStore\n"
            "store = SqliteConversationStore(Path(sys.argv[1]))\n"
            f"{statement}\n"
            "print('open', flush=True); sys.stdin.readline()\n"
        ), str(paths.database)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO, env=subprocess_env(paths.data_dir))
    assert process.stdout is not None and process.stdout.readline() == "open\n"
    return process


def test_a_reply_another_live_process_is_writing_is_not_marked_interrupted(paths: AppPaths, tmp_path: Path) -> None:
    fill(paths)
    writer = another_process_with_the_store_open(paths, "store.add_message(1, None, 'assistant', 'still being written', 'streaming')")
    started = open_at_start(paths)
    [reply] = [m for m in started.store.all_messages(1) if m.content == "still being written"]
    assert reply.status is Status.STREAMING  # the other process is still writing it
    started.store.close()
    writer.kill()  # it dies mid-reply: the next start marks it
    writer.wait()
    started = open_at_start(paths)
    [reply] = [m for m in started.store.all_messages(1) if m.content == "still being written"]
    assert reply.status is Status.INTERRUPTED
    started.store.close()


def test_chats_list_after_damage_says_what_happened(paths: AppPaths) -> None:
    fill(paths)
    zero_a_page(paths.database)
    listed = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(paths.data_dir), "chats", "list"],
                            capture_output=True, text=True, cwd=REPO, env=subprocess_env(paths.data_dir), timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert "Your conversation file was damaged. Hearth kept it unchanged as conversations.damaged-" in listed.stderr
    assert listed.stdout.count("Conversation ") >= CONVERSATIONS - 2



def test_a_file_another_live_process_has_open_is_not_swapped_for_its_repair(paths: AppPaths) -> None:
    """Recovery puts a new file in place of the damaged one: the other process would go on
    writing to the old one, out of sight. The repair waits for the next start with no other."""
    fill(paths)
    holder = another_process_with_the_store_open(paths, "store.add_message(1, None, 'user', 'written by the other window')")
    paths.repair_marker.write_text("found damaged\n")  # as the other window's check after its start left it

    started = open_at_start(paths)
    assert started.notice.startswith("Your conversation file is damaged, and Hearth is open elsewhere on this computer")
    assert not kept_files(paths) and paths.repair_marker.exists()
    assert any(m.content == "written by the other window" for m in started.store.all_messages(1))
    started.store.close()
    holder.kill()
    holder.wait()

    again = open_at_start(paths)
    assert again.notice.startswith("Your conversation file was damaged. Hearth kept it unchanged as ")
    assert len(kept_files(paths)) == 1 and not paths.repair_marker.exists()
    again.store.close()
