"""The one way the app opens its conversations.

GUI, CLI, the inference worker and the self-test all call `open_conversations`,
so where and how conversations are kept (later: encrypted, one store per
person) is decided here and nowhere else.
"""

from __future__ import annotations

from pathlib import Path

from app.conversations.store import ConversationStore, SqliteConversationStore
from app.platform.paths import AppPaths


def open_conversations(paths: AppPaths, *, in_memory: bool = False) -> ConversationStore:
    """This run's conversation store; `in_memory` keeps nothing once closed (`hearth ask --no-save`).

    Each thread opens its own: SQLite connections are not shared between threads.
    """
    return SqliteConversationStore(Path(":memory:") if in_memory else paths.database)
