"""Conversations from a ChatGPT data export ("Export data" in ChatGPT's settings).

Its `conversations.json` (older exports) or `conversations-000.json`, `-001`, ...
(current ones) is a JSON array of conversations. Each holds a `mapping` of nodes
(id → {message, parent, children}) forming a tree, and the `current_node` shown.
Only what the user saw is kept: nodes without a message, system and tool messages,
messages hidden from the conversation (custom instructions, tool calls) and
non-text content are skipped, and a kept message hangs under its nearest kept
ancestor, so branches (edits, regenerations) stay branches.

A conversation and its messages get UUIDs derived from ChatGPT's ids (version 5), so
the same export imported twice is recognised and not added again.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from app.conversations.store import Role, Status, title_from
from app.conversations.transfer.checks import EntryProblem, field, parents_first
from app.conversations.transfer.json_stream import Opener, Progress, file_error, stream_items
from app.conversations.transfer.tree import ConversationTree, TreeMessage
from app.platform.i18n import _

# Fixed forever: changing it would make every earlier import look new.
NAMESPACE = uuid.UUID("6f1c2a8e-4d53-5b7e-9c0a-3e5f7d9b1c24")
_NAMESPACE_BYTES = NAMESPACE.bytes
_ROLES = {"user": Role.USER, "assistant": Role.ASSISTANT}
_STATUSES = {"finished_partial_completion": Status.STOPPED, "in_progress": Status.INTERRUPTED}
_TEXT_CONTENT = ("text", "multimodal_text", "code")


def conversation_uuid(chatgpt_id: str) -> str:
    return name_uuid(f"conversation:{chatgpt_id}")


def message_uuid(chatgpt_conversation: str, node_id: str) -> str:
    return name_uuid(f"message:{chatgpt_conversation}:{node_id}")


def name_uuid(name: str) -> str:
    """`str(uuid.uuid5(NAMESPACE, name))`, written out: uuid5 and its UUID object took
    13 µs a message, a sixth of a 200k-message import; this takes 2."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def read_chatgpt(name: str, opener: Opener, progress: Progress | None = None) -> Iterator[ConversationTree]:
    """The file's conversations that have something to show, checked one by one; the
    first problem raises an ImportFileError naming `name` and the conversation."""
    for number, entry in enumerate(stream_items(name, opener, "item", progress), start=1):
        try:
            tree = _tree(entry)
        except EntryProblem as exc:
            title = entry.get("title") if isinstance(entry, dict) else None
            where = (_("conversation {number} (“{title}”)").format(number=number, title=title)
                     if isinstance(title, str) else _("conversation {number}").format(number=number))
            raise file_error(name, where, str(exc)) from None
        if tree is not None:
            yield tree


def _tree(entry: Any) -> ConversationTree | None:
    source_id = field(entry, "conversation_id", str, optional=True) or field(entry, "id", str)
    mapping = field(entry, "mapping", dict)
    created = field(entry, "create_time", (int, float), optional=True) or 0.0
    kept: dict[str, TreeMessage] = {}
    for node_id, node in mapping.items():
        try:
            message = _message(source_id, node_id, node, created)
        except EntryProblem as exc:
            raise EntryProblem(_("node {id}: {problem}").format(id=node_id, problem=exc)) from None
        if message is not None:
            kept[node_id] = message
    shown_parent = _kept_ancestors(mapping, kept)
    messages = [  # not dataclasses.replace: it took 10 % of an import
        TreeMessage(m.uuid, _uuid_of(kept, shown_parent[node_id]), m.role, m.content, m.status, m.created_at)
        for node_id, m in kept.items()
    ]
    if not messages:
        return None
    ordered = parents_first(messages)
    current_node = field(entry, "current_node", str, optional=True)
    if current_node is not None and current_node not in mapping:
        raise EntryProblem(_("“current_node” names {id}, which is not in its mapping.").format(id=current_node))
    leaf = current_node if current_node in kept else shown_parent.get(current_node or "")
    current_uuid = kept[leaf].uuid if leaf is not None else ordered[-1].uuid
    title = field(entry, "title", str, optional=True)
    first_user = next((m.content for m in ordered if m.role is Role.USER), "")
    return ConversationTree(
        uuid=conversation_uuid(source_id), title=title.strip() if title and title.strip() else title_from(first_user),
        created_at=created, updated_at=field(entry, "update_time", (int, float), optional=True) or created,
        system_prompt=None, model_id=None, assistant_id=None, current_uuid=current_uuid, messages=ordered,
    )


def _uuid_of(kept: Mapping[str, TreeMessage], node_id: str | None) -> str | None:
    return kept[node_id].uuid if node_id is not None else None


def _message(source_id: str, node_id: str, node: Any, created: float) -> TreeMessage | None:
    """The node's message if the user saw it, else None."""
    field(node, "parent", str, optional=True)
    raw = field(node, "message", dict, optional=True)
    if raw is None:
        return None
    role = field(field(raw, "author", dict), "role", str)
    metadata = field(raw, "metadata", dict, optional=True) or {}
    content = field(raw, "content", dict)
    content_type = field(content, "content_type", str)
    hidden = metadata.get("is_visually_hidden_from_conversation") is True or raw.get("recipient", "all") != "all"
    if role not in _ROLES or hidden or content_type not in _TEXT_CONTENT:
        return None
    text = _text(content, content_type).strip()
    if not text:
        return None
    return TreeMessage(
        uuid=message_uuid(source_id, node_id), parent_uuid=None, role=_ROLES[role], content=text,
        status=_STATUSES.get(str(raw.get("status")), Status.COMPLETE),
        created_at=field(raw, "create_time", (int, float), optional=True) or created,
    )


def _text(content: Mapping[str, Any], content_type: str) -> str:
    if content_type == "code":
        language = content.get("language") if isinstance(content.get("language"), str) else ""
        return f"```{language if language != 'unknown' else ''}\n{field(content, 'text', str)}\n```"
    parts = field(content, "parts", list)
    # Images and files are references into the export's other files: named, not shown.
    return "\n\n".join(part if isinstance(part, str) else _("[attachment]") for part in parts if part != "")


def _kept_ancestors(mapping: Mapping[str, Any], kept: Mapping[str, TreeMessage]) -> dict[str, str | None]:
    """For each node, the nearest kept node above it (None at the top); a parent that
    is not in the mapping, or a loop, is an EntryProblem."""
    above: dict[str, str | None] = {}
    for start in mapping:
        path: list[str] = []
        on_path: set[str] = set()
        node_id: str | None = start
        result: str | None = None
        while node_id is not None and node_id not in above:
            if node_id in on_path:
                raise EntryProblem(_("its nodes' parents form a loop."))
            path.append(node_id)
            on_path.add(node_id)
            parent = mapping[node_id].get("parent")
            if parent is not None and parent not in mapping:
                raise EntryProblem(_("node {id}: its parent {parent} is not in the mapping.").format(
                    id=node_id, parent=parent))
            node_id = parent
        if node_id is not None:
            result = node_id if node_id in kept else above[node_id]
        # Each node on the path gets the nearest kept node above it, walking back down.
        for step in reversed(path):
            above[step] = result
            if step in kept:
                result = step
    return above
