"""Search and the sidebar on a large history: 10,000 conversations, 1,000,000 messages.

    .venv/bin/python bench/search.py [--conversations 10000] [--messages 1000000] [--repeats 9]

Seeds the store with bench/seed_store.py in the temporary folder (or reuses the one an
earlier run left there) and prints, as medians of `--repeats` runs, each figure as an
absolute time and as a ratio to a bare SQLite query of the same rows in the same run:
- the sidebar: `list_conversations` plus the list model's reset and the sidebar shown,
  against `SELECT id, title, updated_at FROM conversations ORDER BY updated_at DESC`;
- a search's first page (50 hits) against `SELECT ... FROM messages WHERE id IN (...)`
  of the same messages; and the same search ordered by rank, which is why hits are not;
- the database's size on disk and what the search index adds to it;
- with `--upgrade`: the first start after updating to the search migration, which
  indexes the whole history once (against copying the database file).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from PySide6.QtWidgets import QApplication  # noqa: E402

from app.conversations import search  # noqa: E402
from app.conversations.migrations import MIGRATIONS, SCHEMA_VERSION  # noqa: E402
from app.conversations.store import SqliteConversationStore  # noqa: E402
from app.gui.controllers.history_search import HistorySearch  # noqa: E402
from app.gui.item_models.conversation_list import ConversationListModel  # noqa: E402
from app.gui.widgets.conversation_sidebar import ConversationSidebar  # noqa: E402
from app.gui.workers.store_reader import StoreReader  # noqa: E402
from app.platform.paths import resolve_paths  # noqa: E402
from bench.seed_store import seed  # noqa: E402

# A common word, a rarer one, two words, a word being typed, one letter typed, a pasted
# phrase with FTS syntax, and four of the commonest words (every one a long list to intersect).
QUERIES = ("the", "lighthouse", "python error", "lightho", "t", 'NEAR("model" -light*', "the of and to")


def median_seconds(work: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def seeded_store(conversations: int, messages: int) -> Path:
    path = Path(tempfile.gettempdir()) / "hearth-bench" / f"store-{conversations}-{messages}-v{SCHEMA_VERSION}.sqlite3"
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        partial = path.with_suffix(".part")
        partial.unlink(missing_ok=True)
        started = time.perf_counter()
        seed(partial, conversations, messages)
        partial.rename(path)
        print(f"seeded {path} in {time.perf_counter() - started:.0f} s")
    return path


def sidebar(path: Path, repeats: int) -> None:
    app = QApplication.instance() or QApplication([])
    bare = sqlite3.connect(path)
    baseline = median_seconds(
        lambda: bare.execute("SELECT id, title, updated_at FROM conversations ORDER BY updated_at DESC").fetchall(), repeats
    )
    store = SqliteConversationStore(path)
    model = ConversationListModel(store)
    reader = StoreReader(resolve_paths(path.parent))  # not started: nothing is searched here
    view = ConversationSidebar(model, lambda: None, HistorySearch(reader))
    view.resize(240, 700)
    view.show()
    app.processEvents()

    def reset_and_show() -> None:
        model.refresh()
        view.repaint()  # lays out and paints the visible rows now, not at the next event loop turn

    listing = median_seconds(store.list_conversations, repeats)
    shown = median_seconds(reset_and_show, repeats)
    print(f"sidebar, {model.rowCount():,} conversations: list_conversations {listing * 1e3:.1f} ms, "
          f"with the model reset and the sidebar painted {shown * 1e3:.1f} ms; "
          f"bare query {baseline * 1e3:.1f} ms -> {shown / baseline:.1f}x (target <= 150 ms)")
    view.close()
    store.close()


def searches(path: Path, repeats: int) -> None:
    store = SqliteConversationStore(path)
    bare = sqlite3.connect(path)
    by_rank = search._MESSAGE_HITS.replace("ORDER BY message_text.rowid DESC", "ORDER BY rank")
    for text in QUERIES:
        hits = store.search(text)
        messages = [hit.message_id for hit in hits if hit.message_id is not None]
        titles = [hit.conversation_id for hit in hits if hit.message_id is None]

        def same_rows(messages: list[int] = messages, titles: list[int] = titles) -> None:
            bare.execute(f"SELECT id, conversation_id, role, content, created_at FROM messages WHERE id IN ({', '.join('?' * len(messages))})",
                         messages).fetchall()
            bare.execute(f"SELECT id, title, updated_at FROM conversations WHERE id IN ({', '.join('?' * len(titles))})",
                         titles).fetchall()

        seconds = median_seconds(lambda text=text: store.search(text), repeats)
        baseline = median_seconds(same_rows, repeats)
        query = search.match_expression(text)
        ranked = median_seconds(lambda query=query: bare.execute(by_rank, {"query": query, "limit": 50, "offset": 0}).fetchall(),
                                max(1, repeats // 3))
        total = bare.execute("SELECT COUNT(*) FROM message_text WHERE message_text MATCH ?", (query,)).fetchone()[0]
        print(f"search {text!r:24} {len(titles):2} titles + {len(messages):2} of {total:>7,} messages: {seconds * 1e3:5.1f} ms;"
              f" bare rows {baseline * 1e3:4.2f} ms -> {seconds / baseline:4.0f}x; messages by rank instead {ranked * 1e3:6.0f} ms"
              " (target <= 100 ms)")
    store.close()


def sizes(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page = db.execute("PRAGMA page_size").fetchone()[0]
    total = path.stat().st_size
    try:  # the dbstat table is compiled into most SQLite builds, not all
        by_table = dict(db.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name").fetchall())
    except sqlite3.OperationalError:
        print(f"database {total / 1e6:.0f} MB (this SQLite has no dbstat: no breakdown)")
        return
    index = sum(size for name, size in by_table.items() if name.startswith(("message_text", "title_text")))
    messages = by_table.get("messages", 0)
    print(f"database {total / 1e6:.0f} MB ({page}-byte pages); the search index {index / 1e6:.0f} MB of it "
          f"({index / (total - index):.0%} on top of the {(total - index) / 1e6:.0f} MB without it; "
          f"the messages table alone {messages / 1e6:.0f} MB)")


def upgrade(path: Path) -> None:
    """The store as the release before search left it, then opened by this one."""
    search_migration = next(i for i, text in enumerate(MIGRATIONS) if "message_text" in text)
    old = path.with_name("before-search.sqlite3")
    started = time.perf_counter()
    shutil.copy(path, old)
    copied = time.perf_counter() - started
    db = sqlite3.connect(old, isolation_level=None)
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        db.execute(f"DROP TRIGGER {name}")
    db.execute("DROP TABLE message_text")
    db.execute("DROP TABLE title_text")
    db.execute(f"PRAGMA user_version = {search_migration}")
    db.close()
    started = time.perf_counter()
    SqliteConversationStore(old).close()
    migrated = time.perf_counter() - started
    old.unlink()
    print(f"first start after the update: the search migration took {migrated:.1f} s; copying the file {copied:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--upgrade", action="store_true", help="also time the search migration on the whole store")
    args = parser.parse_args()
    path = seeded_store(args.conversations, args.messages)
    sizes(path)
    sidebar(path, args.repeats)
    searches(path, args.repeats)
    if args.upgrade:
        upgrade(path)


if __name__ == "__main__":
    main()
