"""A conversation as a Markdown file: the shown thread, each message under its
author's heading, with a note where other versions (branches) of a message exist and,
under each reply, what produced it (app/chat/provenance.py)."""

from __future__ import annotations

from app.chat.provenance import describe
from app.chat.summary import heading, is_summary
from app.conversations.store import ConversationStore
from app.platform.i18n import _


def conversation_markdown(store: ConversationStore, conversation_id: int) -> str:
    conversation = store.conversation(conversation_id)
    if conversation is None:
        raise LookupError(conversation_id)
    shown = store.thread_with_branches(conversation_id)
    parts = [f"# {_one_line(conversation.title)}\n"]
    if conversation.system_prompt:
        parts.append(_("System prompt:") + "\n\n" + _quoted(conversation.system_prompt) + "\n")
    for message in shown.messages:
        parts.append(f"## {heading(message)}\n")
        parts.append(message.content.rstrip() + "\n")
        position, count = shown.branches.get(message.id, (1, 1))
        if count > 1:
            parts.append(_quoted(_(
                "Version {position} of {count}: the other versions are in Hearth's JSON export."
            ).format(position=position, count=count)) + "\n")
        if message.status.note:
            parts.append(f"*{message.status.note}*\n")
        if message.provenance and not is_summary(message):  # a summary's record is what it covers
            facts = describe(message.provenance).splitlines()
            parts.append(_quoted("\n".join([_("How this reply was written:"), *(f"- {fact}" for fact in facts)])) + "\n")
    return "\n".join(parts)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _quoted(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())
