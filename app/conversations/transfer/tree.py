"""A whole conversation as it travels between Hearth and a file: every message of its
tree, named by UUID, with nothing that only one database knows (row ids).

Exporters read one from the store, importers build one from a file; the store adds
one with `add_conversation_trees`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.conversations.store import Role, Status


@dataclass(frozen=True)
class TreeMessage:
    uuid: str
    parent_uuid: str | None
    role: Role
    content: str
    status: Status
    created_at: float
    stats: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)  # what produced a reply (app/chat/provenance.py)


@dataclass(frozen=True)
class ConversationTree:
    """`messages` lists every parent before its children; `current_uuid` is the shown leaf;
    `settings` and `documents` are the store's `conversation_settings` and `attached_documents`."""

    uuid: str
    title: str
    created_at: float
    updated_at: float
    system_prompt: str | None
    model_id: str | None
    assistant_id: str | None
    current_uuid: str | None
    messages: tuple[TreeMessage, ...]
    settings: dict[str, Any] = field(default_factory=dict)  # its own reply settings, name -> value
    documents: tuple[str, ...] = ()  # the names of the document collections attached to it


@dataclass(frozen=True)
class AddedCount:
    """What an import did: conversations added, those already in the store that gained
    messages (continued elsewhere since), and those already there whole (skipped)."""

    added: int = 0
    already_there: int = 0
    extended: int = 0

    def __add__(self, other: AddedCount) -> AddedCount:
        return AddedCount(self.added + other.added, self.already_there + other.already_there, self.extended + other.extended)
