"""Adding whole conversation trees to the SQLite store in one transaction, without
overwriting or duplicating.

A conversation whose UUID is new is added whole. One already here gains only the
messages it lacks: a conversation exported, continued on another computer and
imported back gets the new turns, and nothing already here is changed. A tree whose
conversation UUID is new but whose messages are already here is a copy of another
conversation and is left out (it would break the messages' unique UUIDs). One in the
Trash here is taken out of it, and counted as added: it is back in the list.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable

from app.conversations.store import chain_from, documents_column, settings_column
from app.conversations.transfer.tree import AddedCount, ConversationTree, TreeMessage


def add_trees(db: sqlite3.Connection, trees: Iterable[ConversationTree]) -> AddedCount:
    """Insert `trees` on `db`, inside the caller's transaction."""
    count = AddedCount()
    for tree in trees:
        row = db.execute("SELECT id, deleted_at FROM conversations WHERE uuid = ?", (tree.uuid,)).fetchone()
        if row is not None and row[1] is not None:
            # In the Trash here: imported, it comes back to the list (left there, the Trash
            # would delete it and what the import added to it for good)
            _extend(db, row[0], tree)
            db.execute("UPDATE conversations SET deleted_at = NULL WHERE id = ?", (row[0],))
            count += AddedCount(added=1)
        elif row is not None:
            count += AddedCount(extended=1) if _extend(db, row[0], tree) else AddedCount(already_there=1)
        elif _any_message_present(db, tree):
            count += AddedCount(already_there=1)
        else:
            _add(db, tree)
            count += AddedCount(added=1)
    return count


def _add(db: sqlite3.Connection, tree: ConversationTree) -> None:
    cursor = db.execute(
        "INSERT INTO conversations (uuid, title, created_at, updated_at, system_prompt, model_id, assistant_id,"
        " settings, documents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (tree.uuid, tree.title, tree.created_at, tree.updated_at, tree.system_prompt, tree.model_id,
         tree.assistant_id, settings_column(tree.settings), documents_column(tree.documents)),
    )
    assert cursor.lastrowid is not None
    ids: dict[str, int] = {}
    for message in tree.messages:
        parent = ids[message.parent_uuid] if message.parent_uuid is not None else None
        ids[message.uuid] = _insert(db, cursor.lastrowid, parent, message)
    if tree.current_uuid is not None:
        db.execute("UPDATE conversations SET current_leaf_id = ? WHERE id = ?", (ids[tree.current_uuid], cursor.lastrowid))


def _extend(db: sqlite3.Connection, conversation_id: int, tree: ConversationTree) -> bool:
    """Add the messages of `tree` that the conversation lacks; True when there were any.

    A message already here, anywhere, is never touched; one whose parent is not in
    this conversation (it is in another one, or was left out) is left out with its
    descendants. The conversation shows the imported thread only where that continues
    the one it showed."""
    ids = {uuid: row_id for uuid, row_id in db.execute(
        "SELECT uuid, id FROM messages WHERE conversation_id = ?", (conversation_id,))}
    added: set[str] = set()
    for message in tree.messages:
        if message.uuid in ids or db.execute("SELECT 1 FROM messages WHERE uuid = ?", (message.uuid,)).fetchone():
            continue
        if message.parent_uuid is not None and message.parent_uuid not in ids:
            continue
        parent = ids[message.parent_uuid] if message.parent_uuid is not None else None
        ids[message.uuid] = _insert(db, conversation_id, parent, message)
        added.add(message.uuid)
    if not added:
        return False
    shown = db.execute("SELECT current_leaf_id FROM conversations WHERE id = ?", (conversation_id,)).fetchone()[0]
    leaf = ids[tree.current_uuid] if tree.current_uuid in added else None
    if leaf is not None and (shown is None or shown in _path_to(db, leaf)):
        db.execute("UPDATE conversations SET current_leaf_id = ? WHERE id = ?", (leaf, conversation_id))
    db.execute("UPDATE conversations SET updated_at = max(updated_at, ?) WHERE id = ?", (tree.updated_at, conversation_id))
    return True


def _path_to(db: sqlite3.Connection, message_id: int) -> set[int]:
    rows = db.execute(chain_from("SELECT :message, 0") + "SELECT id FROM chain", {"message": message_id})
    return {row[0] for row in rows}


def _insert(db: sqlite3.Connection, conversation_id: int, parent_id: int | None, message: TreeMessage) -> int:
    cursor = db.execute(
        "INSERT INTO messages (uuid, conversation_id, parent_id, role, content, status, stats, provenance,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (message.uuid, conversation_id, parent_id, message.role.value, message.content, message.status.value,
         json.dumps(message.stats) if message.stats else None,
         json.dumps(message.provenance) if message.provenance else None, message.created_at),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _any_message_present(db: sqlite3.Connection, tree: ConversationTree) -> bool:
    return any(
        db.execute("SELECT 1 FROM messages WHERE uuid = ?", (message.uuid,)).fetchone()
        for message in tree.messages
    )
