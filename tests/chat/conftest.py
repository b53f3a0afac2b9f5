"""What the chat tests share: a conversation store of their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.conversations.store import ConversationStore, SqliteConversationStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    opened = SqliteConversationStore(tmp_path / "conversations.sqlite3")
    yield opened
    opened.close()
