"""The conversation database's schema: one migration per version, run in order.

`PRAGMA user_version` says which version a database has. Each entry of
`MIGRATIONS` takes the schema from version N to N+1 and runs inside one
transaction, so a failed migration leaves the previous version intact. Never
edit a released entry: databases in use were built by exactly that text
(tests/test_store_migrations.py keeps a hash of each).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from app.platform.errors import StorageError
from app.platform.i18n import _
from app.platform.sqlite_writes import statements, transaction

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        title TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        current_leaf_id INTEGER REFERENCES messages(id) ON DELETE SET NULL
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
        parent_id INTEGER REFERENCES messages(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),
        content TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'complete'
            CHECK (status IN ('complete', 'streaming', 'stopped', 'interrupted', 'failed')),
        stats TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX messages_by_conversation ON messages(conversation_id);
    CREATE INDEX messages_by_parent ON messages(parent_id);
    CREATE INDEX conversations_by_activity ON conversations(updated_at DESC);
    """,
    """
    ALTER TABLE conversations ADD COLUMN uuid TEXT;
    ALTER TABLE conversations ADD COLUMN system_prompt TEXT;
    ALTER TABLE conversations ADD COLUMN model_id TEXT;
    ALTER TABLE conversations ADD COLUMN assistant_id TEXT;
    ALTER TABLE messages ADD COLUMN uuid TEXT;
    -- A random (version 4) UUID for each existing row, in the usual 8-4-4-4-12 form.
    -- New rows get theirs from the store.
    UPDATE conversations SET uuid =
        lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
        || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1)
        || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)));
    UPDATE messages SET uuid =
        lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4'
        || substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1)
        || substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)));
    CREATE UNIQUE INDEX conversations_by_uuid ON conversations(uuid);
    CREATE UNIQUE INDEX messages_by_uuid ON messages(uuid);
    """,
    """
    -- Full-text search (app/conversations/search.py). External content: the index keeps
    -- no second copy of the text. A message is indexed when a person would look for it:
    -- not a system prompt, and not a reply still being written (its text changes every
    -- half second; it is indexed once it ends, however it ends). The update trigger
    -- removes the old text before adding the new: FTS5 needs exactly the indexed text
    -- to remove a row, and removing after adding would cancel the words both share.
    CREATE VIRTUAL TABLE message_text USING fts5(
        content, content='messages', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER message_text_insert AFTER INSERT ON messages
    WHEN NEW.role != 'system' AND NEW.status != 'streaming' BEGIN
        INSERT INTO message_text(rowid, content) VALUES (NEW.id, NEW.content);
    END;
    CREATE TRIGGER message_text_update AFTER UPDATE OF content, status ON messages
    WHEN NEW.role != 'system' AND (OLD.content IS NOT NEW.content
        OR (OLD.status = 'streaming') != (NEW.status = 'streaming')) BEGIN
        INSERT INTO message_text(message_text, rowid, content)
            SELECT 'delete', OLD.id, OLD.content WHERE OLD.status != 'streaming';
        INSERT INTO message_text(rowid, content)
            SELECT NEW.id, NEW.content WHERE NEW.status != 'streaming';
    END;
    CREATE TRIGGER message_text_delete AFTER DELETE ON messages
    WHEN OLD.role != 'system' AND OLD.status != 'streaming' BEGIN
        INSERT INTO message_text(message_text, rowid, content) VALUES ('delete', OLD.id, OLD.content);
    END;
    -- Not the 'rebuild' command: it would also index system prompts and streaming rows,
    -- which the triggers above would then add a second time.
    INSERT INTO message_text(rowid, content)
        SELECT id, content FROM messages WHERE role != 'system' AND status != 'streaming';

    CREATE VIRTUAL TABLE title_text USING fts5(
        title, content='conversations', content_rowid='id', tokenize='unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER title_text_insert AFTER INSERT ON conversations BEGIN
        INSERT INTO title_text(rowid, title) VALUES (NEW.id, NEW.title);
    END;
    CREATE TRIGGER title_text_update AFTER UPDATE OF title ON conversations
    WHEN OLD.title IS NOT NEW.title BEGIN
        INSERT INTO title_text(title_text, rowid, title) VALUES ('delete', OLD.id, OLD.title);
        INSERT INTO title_text(rowid, title) VALUES (NEW.id, NEW.title);
    END;
    CREATE TRIGGER title_text_delete AFTER DELETE ON conversations BEGIN
        INSERT INTO title_text(title_text, rowid, title) VALUES ('delete', OLD.id, OLD.title);
    END;
    INSERT INTO title_text(rowid, title) SELECT id, title FROM conversations;
    """,
    """
    -- What produced an assistant reply (app/chat/provenance.py), as JSON; NULL for
    -- messages from before it was recorded, and for the user's own.
    ALTER TABLE messages ADD COLUMN provenance TEXT;
    """,
    """
    -- A conversation's own reply settings, over its assistant's (app/assistants/in_force.py),
    -- as a JSON object of setting name to value; NULL: none of its own. The index serves
    -- the conversation list's filter by assistant.
    ALTER TABLE conversations ADD COLUMN settings TEXT;
    CREATE INDEX conversations_by_assistant ON conversations(assistant_id);
    """,
    """
    -- The conversation list (app/conversations/store.py, "Trash and pins"). A deleted
    -- conversation goes to the Trash: `deleted_at` says when, and nothing else changes until
    -- it is restored or deleted for good (NULL: not in the Trash). `title_by_user`: the user
    -- named it, so a generated title never replaces the name.
    ALTER TABLE conversations ADD COLUMN deleted_at REAL;
    ALTER TABLE conversations ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN title_by_user INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX conversations_in_trash ON conversations(deleted_at) WHERE deleted_at IS NOT NULL;
    -- The list's own order, so that it is read in index order without a sort.
    CREATE INDEX conversations_in_list ON conversations(pinned DESC, updated_at DESC, id DESC) WHERE deleted_at IS NULL;
    """,
    """
    -- The document collections attached to a conversation (app/chat/grounding.py): a JSON
    -- list of their names in the documents index; NULL: none.
    ALTER TABLE conversations ADD COLUMN documents TEXT;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)



def migrate(db: sqlite3.Connection, migrations: Sequence[str] = MIGRATIONS) -> None:
    """Bring the database on `db` (in autocommit mode) up to `len(migrations)`.

    Raises StorageError for a database from a newer Hearth and lets sqlite3.Error
    through for the caller to explain. Not `executescript`: it commits first and
    then runs outside any transaction, so a failing migration would leave half
    a schema behind.
    """
    if _user_version(db) == len(migrations):
        return  # the usual case, without taking the write lock
    while True:
        with transaction(db):
            version = _user_version(db)  # read again under the lock: another process may have migrated
            if version > len(migrations):
                raise StorageError(_(
                    "The conversation database was written by a newer version of Hearth. "
                    "Please update Hearth to open it."
                ))
            if version == len(migrations):
                return
            for statement in statements(migrations[version]):
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {version + 1}")


def _user_version(db: sqlite3.Connection) -> int:
    version: int = db.execute("PRAGMA user_version").fetchone()[0]
    return version
