"""Hearth's own conversation file: every conversation's whole message tree with its
UUIDs, versioned (docs/CONVERSATION_FORMAT.md). Written and read one conversation at a
time, so a backup of any size needs the memory of its largest conversation only."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import IO, Any

from app.conversations.store import ConversationStore, Role, Status
from app.conversations.transfer.checks import EntryProblem, field, parents_first
from app.conversations.transfer.json_stream import Opener, Progress, file_error, first_values, stream_items
from app.conversations.transfer.tree import ConversationTree, TreeMessage
from app.platform.i18n import _

FORMAT_NAME = "hearth-conversations"
FORMAT_VERSION = 1


def tree_of(store: ConversationStore, conversation_id: int) -> ConversationTree:
    """The conversation and all its branches, as they are written to a file."""
    conversation = store.conversation(conversation_id)
    if conversation is None:
        raise LookupError(conversation_id)
    messages = store.all_messages(conversation_id)
    uuid_of = {message.id: message.uuid for message in messages}
    return ConversationTree(
        uuid=conversation.uuid, title=conversation.title, created_at=conversation.created_at,
        updated_at=conversation.updated_at, system_prompt=conversation.system_prompt,
        model_id=conversation.model_id, assistant_id=conversation.assistant_id,
        current_uuid=uuid_of.get(conversation.current_leaf_id) if conversation.current_leaf_id else None,
        settings=store.conversation_settings(conversation_id),
        documents=tuple(store.attached_documents(conversation_id)),
        messages=tuple(
            TreeMessage(uuid=m.uuid, parent_uuid=uuid_of[m.parent_id] if m.parent_id is not None else None,
                        role=m.role, content=m.content, status=m.status, created_at=m.created_at, stats=m.stats,
                        provenance=m.provenance)
            for m in messages
        ),
    )


def write_hearth_json(trees: Iterable[ConversationTree], out: IO[str], clock: float | None = None) -> int:
    """Write the file to `out`, one conversation at a time. Returns how many."""
    header = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "exported_at": time.time() if clock is None else clock}
    out.write(json.dumps(header, ensure_ascii=False)[:-1] + ', "conversations": [')
    count = 0
    for tree in trees:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(_conversation_entry(tree), ensure_ascii=False))
        count += 1
    out.write("\n]}\n")
    return count


def _conversation_entry(tree: ConversationTree) -> dict[str, Any]:
    return {
        "uuid": tree.uuid, "title": tree.title, "created_at": tree.created_at, "updated_at": tree.updated_at,
        "system_prompt": tree.system_prompt, "model_id": tree.model_id, "assistant_id": tree.assistant_id,
        "settings": tree.settings, "documents": list(tree.documents), "current_message": tree.current_uuid,
        "messages": [
            {"uuid": m.uuid, "parent": m.parent_uuid, "role": m.role.value, "content": m.content,
             "status": m.status.value, "created_at": m.created_at, "stats": m.stats, "provenance": m.provenance}
            for m in tree.messages
        ],
    }


def read_hearth_json(name: str, opener: Opener, progress: Progress | None = None) -> Iterator[ConversationTree]:
    """The file's conversations, checked one by one; the first problem raises an
    ImportFileError naming `name` and the entry."""
    header = first_values(opener, ("format", "version"))
    if header.get("format") != FORMAT_NAME:
        raise file_error(name, _("the start of the file"), _("this is not a Hearth conversations file."))
    version = header.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise file_error(name, _("the start of the file"), _(
            "it was written by a newer version of Hearth (format {version}). Please update Hearth to import it."
        ).format(version=version))
    for number, entry in enumerate(stream_items(name, opener, "conversations.item", progress), start=1):
        try:
            yield _tree(entry)
        except EntryProblem as exc:
            title = entry.get("title") if isinstance(entry, dict) else None
            where = (_("conversation {number} (“{title}”)").format(number=number, title=title)
                     if isinstance(title, str) else _("conversation {number}").format(number=number))
            raise file_error(name, where, str(exc)) from None


def _tree(entry: Any) -> ConversationTree:
    conversation_uuid = _uuid(field(entry, "uuid", str))
    raw_messages = field(entry, "messages", list)
    messages = []
    for index, raw in enumerate(raw_messages, start=1):
        try:
            messages.append(_message(raw))
        except EntryProblem as exc:
            raise EntryProblem(_("message {number}: {problem}").format(number=index, problem=exc)) from None
    ordered = parents_first(messages)
    current = field(entry, "current_message", str, optional=True)
    if current is None and ordered:  # shown from its newest message, as a ChatGPT import is
        current = max(ordered, key=lambda m: m.created_at).uuid
    current = _uuid(current) if current is not None else None
    if current is not None and current not in {m.uuid for m in ordered}:
        raise EntryProblem(_("“current_message” names {id}, which is not one of its messages.").format(id=current))
    return ConversationTree(
        uuid=conversation_uuid, title=field(entry, "title", str), created_at=field(entry, "created_at", (int, float)),
        updated_at=field(entry, "updated_at", (int, float)),
        system_prompt=field(entry, "system_prompt", str, optional=True),
        model_id=field(entry, "model_id", str, optional=True),
        assistant_id=field(entry, "assistant_id", str, optional=True),
        current_uuid=current, messages=ordered, settings=field(entry, "settings", dict, optional=True) or {},
        documents=_collection_names(entry),
    )


def _collection_names(entry: dict[str, Any]) -> tuple[str, ...]:
    names = field(entry, "documents", list, optional=True) or []
    if not all(isinstance(name, str) for name in names):
        raise EntryProblem(_("“documents” should be a list of collection names (text)."))
    return tuple(names)


def _message(raw: Any) -> TreeMessage:
    role, status = field(raw, "role", str), field(raw, "status", str)
    if role not in set(Role):
        raise EntryProblem(_("“role” is “{value}”; it should be one of: {choices}.").format(
            value=role, choices=", ".join(Role)))
    if status not in set(Status):
        raise EntryProblem(_("“status” is “{value}”; it should be one of: {choices}.").format(
            value=status, choices=", ".join(Status)))
    parent = field(raw, "parent", str, optional=True)
    return TreeMessage(
        uuid=_uuid(field(raw, "uuid", str)), parent_uuid=_uuid(parent) if parent is not None else None,
        role=Role(role), content=field(raw, "content", str),
        # A reply that was being written when the file was made did not finish.
        status=Status.INTERRUPTED if status == Status.STREAMING else Status(status),
        created_at=field(raw, "created_at", (int, float)), stats=field(raw, "stats", dict, optional=True) or {},
        provenance=field(raw, "provenance", dict, optional=True) or {},
    )


def _uuid(text: str) -> str:
    """The UUID in its one spelling (lower case, hyphens): the same one written as
    "{ABC…}" or "urn:uuid:…" must be recognised as already here."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise EntryProblem(_("“{value}” is not a UUID.").format(value=text)) from None
