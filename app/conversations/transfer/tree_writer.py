"""Adding whole conversation trees to the SQLite store in one transaction, without
overwriting or duplicating: a conversation whose UUID (or any of whose message UUIDs)
is already in the database is left as it is and counted as already there."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from app.conversations.transfer.tree import AddedCount, ConversationTree


def add_trees(db: sqlite3.Connection, trees: Iterable[ConversationTree]) -> AddedCount:
    """Insert `trees` on `db`, inside the caller's transaction."""
    added = already = 0
    for tree in trees:
        if _present(db, tree):
            already += 1
            continue
        cursor = db.execute(
            "INSERT INTO conversations (uuid, title, created_at, updated_at, system_prompt, model_id, assistant_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (tree.uuid, tree.title, tree.created_at, tree.updated_at, tree.system_prompt, tree.model_id,
             tree.assistant_id),
        )
        conversation_id = cursor.lastrowid
        ids: dict[str, int] = {}
        for message in tree.messages:
            cursor = db.execute(
                "INSERT INTO messages (uuid, conversation_id, parent_id, role, content, status, stats, provenance,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (message.uuid, conversation_id,
                 ids[message.parent_uuid] if message.parent_uuid is not None else None,
                 message.role.value, message.content, message.status.value,
                 json.dumps(message.stats) if message.stats else None,
                 json.dumps(message.provenance) if message.provenance else None, message.created_at),
            )
            assert cursor.lastrowid is not None
            ids[message.uuid] = cursor.lastrowid
        if tree.current_uuid is not None:
            db.execute("UPDATE conversations SET current_leaf_id = ? WHERE id = ?",
                       (ids[tree.current_uuid], conversation_id))
        added += 1
    return AddedCount(added, already)


def _present(db: sqlite3.Connection, tree: ConversationTree) -> bool:
    if db.execute("SELECT 1 FROM conversations WHERE uuid = ?", (tree.uuid,)).fetchone():
        return True
    # A copy under another conversation UUID would break the messages' unique UUIDs.
    return any(
        db.execute("SELECT 1 FROM messages WHERE uuid = ?", (message.uuid,)).fetchone()
        for message in tree.messages
    )
