"""Opening a 10,000-message conversation shows its end: what it costs the GUI thread.

    .venv/bin/python bench/long_chat.py [--messages 400 10000] [--repeats 3]

A window starts on a newer 1-message chat, then opens a conversation of N messages
(questions and bench/gui_turn.py's Markdown reply with a code block). Measured from
`session.open` until the conversation is read and the view rests at its end: the GUI
thread's CPU time (time.thread_time) and the wall time. Baselines of the same run:
opening a 2-message conversation the same way, and a bare SQLite query of the rows
(the newest page, and all N, which opening read before issue 15's pages). Last, a search
hit on the first reply of the longest: opening it there until it is shown, with the
longest single turn of the event loop (how long the window froze at most).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.conversations.store import SqliteConversationStore  # noqa: E402
from app.gui.app import create_window  # noqa: E402
from app.library.model_library import ModelLibrary, starter_model_file  # noqa: E402
from app.platform.paths import resolve_paths  # noqa: E402
from bench.gui_turn import EARLIER_REPLY  # noqa: E402
from tests.fakes import FakeBackendFactory  # noqa: E402

PAGE = 50  # the rows of the bare query's page: app/gui/controllers/chat_session.py's PAGE_MESSAGES


def _write_conversation(database: Path, messages: int) -> int:
    """The first conversation of a new store: `messages` messages on one branch, written in
    one transaction; its id."""
    store = SqliteConversationStore(database)
    conversation = store.create_conversation("A very long chat")
    store.close()
    rows = [
        (1 + n, str(uuid.uuid4()), conversation, n if n else None, "assistant" if n % 2 else "user",
         EARLIER_REPLY if n % 2 else f"Question {n}: how do I greet?", 1.7e9 + n)
        for n in range(messages)
    ]
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("BEGIN")
    db.executemany("INSERT INTO messages (id, uuid, conversation_id, parent_id, role, content, created_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    db.execute("UPDATE conversations SET current_leaf_id = ?, updated_at = 0 WHERE id = ?", (rows[-1][0], conversation))
    db.execute("COMMIT")
    db.close()
    return conversation


def _at_end(window: Any) -> bool:
    bar = window.chat_view.verticalScrollBar()
    return not window.session.reading and bar.value() == bar.maximum()


def _reading(window: Any) -> bool:
    """Still reading or showing what was read (a far hit's messages go in a part at a time)."""
    session = window.session
    return bool(session.reading or getattr(session, "reading_older", False) or not session.can_change)


def measure_open(messages: int, at_message: int | None = None) -> tuple[float, float, float, float]:
    """(GUI CPU s, wall s) opening a conversation of `messages` messages, then the bare
    query of its newest page and of all its rows (s); with `at_message`, opening it at that
    message (a search hit), then the longest turn of the event loop meanwhile (s) and 0."""
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as folder:
        paths = resolve_paths(Path(folder))
        paths.ensure()
        ModelLibrary(paths.models_dir).add(starter_model_file(), copy=False)
        conversation = _write_conversation(paths.database, messages)
        store = SqliteConversationStore(paths.database)
        newer = store.create_conversation("Newer")
        store.add_message(newer, None, "user", "Hello")
        store.close()
        window = create_window(paths, FakeBackendFactory())
        window.resize(1000, 800)
        window.show()
        deadline = time.monotonic() + 30
        while not (window.send_button.isEnabled() and _at_end(window)) and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.005)
        app.processEvents()
        cpu, wall, longest = time.thread_time(), time.perf_counter(), 0.0
        window.session.open(conversation, at_message)
        while _reading(window) or (at_message is None and not _at_end(window)):
            turn = time.perf_counter()
            app.processEvents()
            longest = max(longest, time.perf_counter() - turn)
            time.sleep(0.001)
        app.processEvents()
        cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
        window.close()
        app.processEvents()
        if at_message is not None:
            return cpu, wall, longest, 0.0
        db = sqlite3.connect(paths.database)
        queries = []
        for limit in (PAGE, messages):
            times = []
            for _ in range(3):  # the quickest: the file is in the page cache, as it is for the app
                started = time.perf_counter()
                db.execute("SELECT * FROM messages WHERE conversation_id = ? ORDER BY id DESC LIMIT ?",
                           (conversation, limit)).fetchall()
                times.append(time.perf_counter() - started)
            queries.append(min(times))
        db.close()
    return cpu, wall, queries[0], queries[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, nargs="+", default=[400, 10_000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"{'messages':>8} {'GUI ms':>8} {'ratio':>6} {'wall ms':>8} {'ratio':>6} {'SQL page ms':>12} {'SQL all ms':>11}")
    base: tuple[float, float] | None = None
    for messages in [2, *args.messages]:
        runs = [measure_open(messages) for _ in range(args.repeats)]
        cpu, wall, page, every = (statistics.median(run[i] for run in runs) for i in range(4))
        base = base or (cpu, wall)
        print(f"{messages:>8} {cpu * 1000:>8.1f} {cpu / base[0]:>6.2f} {wall * 1000:>8.1f} {wall / base[1]:>6.2f}"
              f" {page * 1000:>12.2f} {every * 1000:>11.2f}")
    runs = [measure_open(max(args.messages), at_message=2) for _ in range(args.repeats)]
    cpu, wall, longest = (statistics.median(run[i] for run in runs) for i in range(3))
    print(f"A search hit on the first reply of {max(args.messages):,}: GUI {cpu * 1000:.0f} ms, wall {wall * 1000:.0f} ms,"
          f" longest turn of the event loop {longest * 1000:.0f} ms")


if __name__ == "__main__":
    main()
