"""Checks of one entry read from an import file, raising a plain-language problem that
the reader turns into an ImportFileError naming the file and the entry."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from app.conversations.transfer.tree import TreeMessage
from app.platform.i18n import _


class EntryProblem(Exception):
    """What is wrong with an entry (its text is for the user)."""


def field(entry: Any, key: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
    """`entry[key]`, which must be of `kind` (or None, or missing, when `optional`)."""
    if not isinstance(entry, dict):  # what JSON gives; an ABC check (Mapping) took 20 % of an import
        raise EntryProblem(_("it should be a JSON object."))
    value = entry.get(key)
    if value is None and optional:
        return None
    if value is None and key not in entry:
        raise EntryProblem(_("“{field}” is missing.").format(field=key))
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):  # JSON true is no number
        raise EntryProblem(_("“{field}” should be {kind}.").format(field=key, kind=_kind_name(kind)))
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if float in kinds or int in kinds:
        return _("a number")
    if str in kinds:
        return _("text")
    if list in kinds:
        return _("a list")
    return _("a JSON object")


def parents_first(messages: Iterable[TreeMessage]) -> tuple[TreeMessage, ...]:
    """The messages ordered so that each parent comes before its children. A parent
    that is not among them, or a loop, is an EntryProblem naming the message."""
    by_uuid: dict[str, TreeMessage] = {}
    for message in messages:
        if message.uuid in by_uuid:
            raise EntryProblem(_("the message {id} is there twice.").format(id=message.uuid))
        by_uuid[message.uuid] = message
    if _parents_come_first(by_uuid.values()):
        return tuple(by_uuid.values())  # the usual case: the file lists them so
    children: dict[str | None, list[TreeMessage]] = {}
    for message in by_uuid.values():
        if message.parent_uuid is not None and message.parent_uuid not in by_uuid:
            raise EntryProblem(_("the message {id} has the parent {parent}, which is not in the conversation.").format(
                id=message.uuid, parent=message.parent_uuid))
        children.setdefault(message.parent_uuid, []).append(message)
    # Depth first, children in the file's order: each parent before its children, and
    # alternatives (siblings) in the order the file gives them.
    ordered: list[TreeMessage] = []
    pending = list(reversed(children.get(None, [])))
    while pending:
        message = pending.pop()
        ordered.append(message)
        pending.extend(reversed(children.get(message.uuid, [])))
    if len(ordered) != len(by_uuid):
        raise EntryProblem(_("its messages' parents form a loop."))
    return tuple(ordered)


def _parents_come_first(messages: Iterable[TreeMessage]) -> bool:
    seen: set[str] = set()
    for message in messages:
        if message.parent_uuid is not None and message.parent_uuid not in seen:
            return False
        seen.add(message.uuid)
    return True
