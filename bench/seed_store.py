"""Write a large, realistic conversation store for the benchmarks.

    .venv/bin/python bench/seed_store.py OUT.sqlite3 [--conversations 10000] [--messages 1000000]

The schema is the app's own (SqliteConversationStore runs the real migrations and its
triggers fill the search index as the rows go in). The text is words drawn from a fixed
list with a seeded RNG, common words far more often than rare ones (Zipf, as in real
text), so the same arguments always write the same store. Most conversations have tens
of messages; a few have thousands (`--long`). Messages form one chain per conversation,
alternating question and answer; answers are longer. One transaction, executemany.
"""

from __future__ import annotations

import argparse
import itertools
import random
import sqlite3
import sys
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.conversations.store import SqliteConversationStore  # noqa: E402

# Real words lead the list (the most frequent); the benchmark searches some of them.
COMMON_TEXT = (
    "the of and to a in is it you that for was on are with as be this have from or one had by word but not what "
    "all were we when your can said there use an each which she do how their if will up other about out many then "
    "them these so some her would make like him into time has look two more write go see number no way could people "
    "my than first water been call who oil its now find long down day did get come made may part over new sound "
    "take only little work know place year live me back give most very after thing our just name good sentence man "
    "think say great where help through much before line right too mean old any same tell boy follow came want show "
    "also around form three small set put end does another well large must big even such because turn here why ask "
    "went men read need land different home us move try kind hand picture again change off play spell air away animal "
    "house point page letter mother answer found study still learn should world high every near add food between own "
    "below country plant last school father keep tree never start city earth eye light thought head under story saw "
    "left few while along might close something seem next hard open example begin life always those both paper together "
    "got group often run important until children side feet car mile night walk white sea began grow took river four "
    "carry state once book hear stop without second later miss idea enough eat face watch far really almost let above "
    "girl sometimes mountain cut young talk soon list song being leave family python function error model lighthouse"
)
COMMON = COMMON_TEXT.split()
SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qui", "dor", "fen", "gal", "hir", "jun", "bre", "str")
VOCABULARY_SIZE = 20_000


def vocabulary(rng: random.Random) -> list[str]:
    words = list(COMMON)
    seen = set(words)
    while len(words) < VOCABULARY_SIZE:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def thread_lengths(rng: random.Random, conversations: int, messages: int, long_threads: int) -> list[int]:
    """How many messages each conversation has: `long_threads` of them share a fifth of
    all messages, the rest share the others unevenly (at least two each)."""
    long_total = messages // 5 if long_threads else 0
    short = conversations - long_threads
    weights = [rng.expovariate(1.0) for _ in range(short)]
    spare = messages - long_total - 2 * short
    lengths = [2 + int(spare * w / sum(weights)) for w in weights]
    lengths += [long_total // long_threads] * long_threads if long_threads else []
    lengths[0] += messages - sum(lengths)  # rounding
    rng.shuffle(lengths)
    return lengths


def seed(path: Path, conversations: int, messages: int, long_threads: int = 10, seed_value: int = 15) -> None:
    rng = random.Random(seed_value)
    words = vocabulary(rng)
    cum_weights = list(itertools.accumulate(1.0 / rank for rank in range(1, len(words) + 1)))
    SqliteConversationStore(path).close()  # the app's schema, through its migrations
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")  # a benchmark fixture: a crash means seeding again
    lengths = thread_lengths(rng, conversations, messages, long_threads)
    start_time = 1.7e9
    db.execute("BEGIN")
    next_id = 1
    rows: list[tuple[object, ...]] = []
    conversation_rows = []
    clock = start_time
    for conversation_id, length in enumerate(lengths, 1):
        created = clock
        parent: int | None = None
        for turn in range(length):
            clock += rng.uniform(1, 120)
            user = turn % 2 == 0
            text = " ".join(rng.choices(words, cum_weights=cum_weights, k=rng.randint(3, 40) if user else rng.randint(15, 200)))
            rows.append((next_id, str(uuid.uuid4()), conversation_id, parent, "user" if user else "assistant",
                         text.capitalize() + ("?" if user else "."), clock))
            parent = next_id
            next_id += 1
        title = " ".join(rng.choices(words, cum_weights=cum_weights, k=rng.randint(2, 7))).capitalize()
        conversation_rows.append((conversation_id, str(uuid.uuid4()), title, created, clock, parent))
        if len(rows) >= 50_000:
            _insert_messages(db, rows)
            rows = []
    # Conversations first (messages refer to them); each one's current leaf is set after.
    db.executemany("INSERT INTO conversations (id, uuid, title, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                   [row[:5] for row in conversation_rows])
    _insert_messages(db, rows)
    db.executemany("UPDATE conversations SET current_leaf_id = ? WHERE id = ?", [(row[5], row[0]) for row in conversation_rows])
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def _insert_messages(db: sqlite3.Connection, rows: list[tuple[object, ...]]) -> None:
    # Foreign keys are off on this connection, so messages may precede their conversation.
    db.executemany(
        "INSERT INTO messages (id, uuid, conversation_id, parent_id, role, content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--long", type=int, default=10, help="conversations with thousands of messages")
    args = parser.parse_args()
    if args.out.exists():
        sys.exit(f"{args.out} exists already")
    started = time.perf_counter()
    seed(args.out, args.conversations, args.messages, args.long)
    print(f"{args.out}: {args.conversations:,} conversations, {args.messages:,} messages, "
          f"{args.out.stat().st_size / 1e6:.0f} MB, written in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
