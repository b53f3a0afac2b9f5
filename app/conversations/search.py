"""Full-text search over every conversation: what a person types, turned into a query
SQLite's FTS5 cannot refuse, and the hits it finds.

The index (`message_text`, `title_text`) is built and kept in step by triggers in
app/conversations/migrations.py. Hits come newest first, not by rank: FTS5 walks its
index in rowid order, so `ORDER BY rowid DESC LIMIT n` stops after one page, while
ordering by bm25 scores every match first (bench/search.py, a million messages: a word
in 9 of 10 of them took 3.8 s by rank, 17 ms newest first). Conversations whose title matches come before
the messages, as the one hit for each such conversation. Conversations in the Trash are
not searched: the user deleted them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.conversations.store import Role
from app.platform.fts import match_expression

# Around each matched word in a snippet. Not HTML: model output is untrusted text, so
# the GUI escapes the snippet first and only then turns these into bold.
MATCH_START = "\x02"
MATCH_END = "\x03"
ELLIPSIS = "…"
SNIPPET_WORDS = 14
Read = Callable[[str, Sequence[Any] | Mapping[str, Any]], list[sqlite3.Row]]


@dataclass(frozen=True)
class SearchHit:
    """One place the words were found. `message_id` and `role` are None for a conversation
    found by its title; `snippet` is the text around the match with each matched word
    between MATCH_START and MATCH_END; `created_at` is the message's (or, for a title,
    the conversation's last activity)."""

    conversation_id: int
    conversation_title: str
    message_id: int | None
    role: Role | None
    snippet: str
    created_at: float


_TITLE_HITS = """
    SELECT c.id AS conversation_id, c.title AS conversation_title,
        highlight(title_text, 0, char(2), char(3)) AS snippet, c.updated_at AS created_at
    FROM title_text JOIN conversations c ON c.id = title_text.rowid
    WHERE title_text MATCH :query AND c.deleted_at IS NULL
    ORDER BY c.updated_at DESC, c.id DESC LIMIT :limit OFFSET :offset
"""
_TITLE_COUNT = """
    SELECT COUNT(*) AS n FROM title_text JOIN conversations c ON c.id = title_text.rowid
    WHERE title_text MATCH :query AND c.deleted_at IS NULL
"""
_MESSAGE_HITS = f"""
    SELECT m.id AS message_id, m.conversation_id, c.title AS conversation_title, m.role, m.created_at,
        snippet(message_text, 0, char(2), char(3), '{ELLIPSIS}', {SNIPPET_WORDS}) AS snippet
    FROM message_text
    JOIN messages m ON m.id = message_text.rowid
    JOIN conversations c ON c.id = m.conversation_id
    WHERE message_text MATCH :query AND c.deleted_at IS NULL
    ORDER BY message_text.rowid DESC LIMIT :limit OFFSET :offset
"""


def search(read: Read, text: str, limit: int, offset: int) -> list[SearchHit]:
    """Hits `offset` to `offset + limit` for `text`: conversations by title (latest
    activity first), then messages (newest first). `read` runs a query on the store."""
    query = match_expression(text)
    if query is None or limit <= 0:
        return []
    titles = read(_TITLE_HITS, {"query": query, "limit": limit, "offset": offset})
    hits = [
        SearchHit(row["conversation_id"], row["conversation_title"], None, None, row["snippet"], row["created_at"])
        for row in titles
    ]
    if len(hits) == limit:
        return hits
    title_count = offset + len(hits) if hits else int(read(_TITLE_COUNT, {"query": query})[0]["n"])
    messages = read(_MESSAGE_HITS, {"query": query, "limit": limit - len(hits), "offset": max(0, offset - title_count)})
    hits.extend(
        SearchHit(row["conversation_id"], row["conversation_title"], row["message_id"], Role(row["role"]),
                  row["snippet"], row["created_at"])
        for row in messages
    )
    return hits
