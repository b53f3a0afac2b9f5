"""`hearth chats list | search | export` leave out what the user moved to the Trash."""

from __future__ import annotations

import json
from pathlib import Path

from app.conversations.store import SqliteConversationStore
from app.platform.paths import resolve_paths
from tests.cli.test_cli_chats import hearth, seeded


def test_trashed_conversations_are_not_listed_searched_or_exported(tmp_path: Path) -> None:
    soup, bikes = seeded(tmp_path / "data")
    store = SqliteConversationStore(resolve_paths(tmp_path / "data").database)
    trashed = store.conversation_by_uuid(bikes)
    assert trashed is not None
    store.delete_conversation(trashed.id)
    store.close()

    listing = hearth(tmp_path / "data", "list")
    assert listing.returncode == 0 and soup in listing.stdout and bikes not in listing.stdout
    found = hearth(tmp_path / "data", "search", "chain")
    assert found.returncode == 1 and "No conversation mentions “chain”." in found.stdout
    exported = hearth(tmp_path / "data", "export", "--format", "json", str(tmp_path / "out"))
    assert exported.returncode == 0, exported.stderr
    [written] = (tmp_path / "out").glob("*.json")
    assert [c["title"] for c in json.loads(written.read_text())["conversations"]] == ["Soup"]
