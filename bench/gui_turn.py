"""What one chat turn, and opening a conversation, cost the GUI thread as the conversation grows.

    .venv/bin/python bench/gui_turn.py [--turns 1 21 50] [--repeats 3]

A conversation of N-1 earlier turns (Markdown with a code block, as models write) is
saved, the window opens it, and one more message is sent to the fake backend (no model:
only the window's own work is measured). Per turn it prints the SQLite statements run
on the GUI thread and the GUI thread's CPU time from send to the reply's end, and both
as a ratio to the first turn of the same run (the baseline). Then the same for opening
a conversation of N turns from another one (its reading and rendering included).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
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
from tests.fakes import FakeBackendFactory  # noqa: E402

EARLIER_REPLY = (
    "Here is how you could do it:\n\n```python\ndef greet(name: str) -> str:\n"
    "    return f\"Hello, {name}!\"\n```\n\nThen call `greet(\"Ada\")`. **Note** that it "
    "returns the text instead of printing it, so you can reuse it.\n"
)

_main_thread = threading.main_thread()
statements = 0


def _count(statement: str) -> None:
    """Statements the GUI thread asked for; not those SQLite runs inside them, which its
    trace reports as comments ("-- INSERT INTO 'main'.'message_text_data' ..."): the
    full-text index's own writes when a message is added."""
    global statements
    if threading.current_thread() is _main_thread and not statement.startswith("--"):
        statements += 1


def _counting_connect(original):  # type: ignore[no-untyped-def]
    def connect(*args, **kwargs):  # type: ignore[no-untyped-def]
        connection = original(*args, **kwargs)
        connection.set_trace_callback(_count)
        return connection

    return connect


def _save_conversation(store: SqliteConversationStore, turns: int) -> int:
    conversation = store.create_conversation("A long chat")
    parent = None
    for number in range(turns):
        parent = store.add_message(conversation, parent, "user", f"Question {number}: how do I greet?")
        parent = store.add_message(conversation, parent, "assistant", EARLIER_REPLY)
    return conversation


def _open_window(paths: Any, app: QApplication) -> Any:
    window = create_window(paths, FakeBackendFactory())
    window.show()
    deadline = time.monotonic() + 30
    while not window.send_button.isEnabled() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    app.processEvents()
    return window


def _gui_thread_cost(turns: int, newer_chat: bool, act: Callable[[Any, int], None]) -> tuple[int, float]:
    """(GUI-thread statements, GUI-thread CPU seconds) from `act(window, conversation)` until
    the window can send again and has shown everything, in a window opened on a store with
    a conversation of `turns` turns (and, with `newer_chat`, a newer one it opens with)."""
    global statements
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="hearth-bench-") as folder:
        paths = resolve_paths(Path(folder))
        paths.ensure()
        ModelLibrary(paths.models_dir).add(starter_model_file(), copy=False)
        store = SqliteConversationStore(paths.database)
        conversation = _save_conversation(store, turns)
        if newer_chat:
            _save_conversation(store, 1)
        store.close()
        window = _open_window(paths, app)
        statements = 0
        started = time.thread_time()
        act(window, conversation)
        while not window.send_button.isEnabled() or window.chat_view.finishing:
            app.processEvents()
            time.sleep(0.001)
        app.processEvents()
        cpu = time.thread_time() - started
        counted = statements
        window.close()
        app.processEvents()
    return counted, cpu


def measure_turn(earlier_turns: int) -> tuple[int, float]:
    """One more message sent after `earlier_turns`, until its reply is shown."""
    return _gui_thread_cost(earlier_turns, False, lambda window, _conversation: window.send("One more question, please."))


def measure_open(turns: int) -> tuple[int, float]:
    """Opening a conversation of `turns` turns, not shown before, from a newer one."""
    return _gui_thread_cost(turns, True, lambda window, conversation: window.session.open(conversation))


def _table(title: str, results: dict[int, tuple[int, float]]) -> None:
    base_statements, base_cpu = next(iter(results.values()))
    print(title)
    print(f"{'turns':>5} {'statements':>11} {'ratio':>6} {'GUI ms':>8} {'ratio':>6}")
    for turn, (count, cpu) in results.items():
        print(f"{turn:>5} {count:>11} {count / max(base_statements, 1):>6.2f} {cpu * 1000:>8.1f} {cpu / base_cpu:>6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, nargs="+", default=[1, 21, 50])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sqlite3.connect = _counting_connect(sqlite3.connect)  # type: ignore[assignment]
    for title, measure, turns in (("A turn (turn N)", measure_turn, [t - 1 for t in args.turns]),
                                  ("Opening a conversation of N turns", measure_open, args.turns)):
        results = {}
        for shown, turn in zip(args.turns, turns, strict=True):
            runs = [measure(turn) for _ in range(args.repeats)]
            results[shown] = (runs[0][0], statistics.median(cpu for _, cpu in runs))
        _table(title, results)


if __name__ == "__main__":
    main()
