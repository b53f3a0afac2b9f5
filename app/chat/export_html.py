"""A conversation as one self-contained HTML page: the shown thread, rendered by the
app's Markdown renderer (raw HTML in messages escaped), styles inline, nothing loaded
from anywhere else."""

from __future__ import annotations

import html
import re

from app.chat.provenance import describe
from app.chat.rendering import MarkdownRenderer
from app.chat.summary import heading, is_summary
from app.conversations.store import ConversationStore, Role
from app.platform.i18n import _

# The chat view's "Copy code" links only work inside Hearth.
_COPY_LINK = re.compile(r' &nbsp; <a href="hearth-copy-code:[^"]*">[^<]*</a>')
_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 46em; margin: 2em auto; padding: 0 1em; color: #1c1917; }
.message { margin: 1em 0; padding: 0.6em 1em; border-radius: 8px; }
.user { background: #f5f5f4; }
.assistant { border: 1px solid #e7e5e4; }
.author { font-weight: 600; margin-bottom: 0.3em; }
.note { color: #78716c; font-size: 0.9em; }
pre { white-space: pre-wrap; }
"""


def conversation_html(store: ConversationStore, conversation_id: int, renderer: MarkdownRenderer | None = None) -> str:
    conversation = store.conversation(conversation_id)
    if conversation is None:
        raise LookupError(conversation_id)
    renderer = renderer or MarkdownRenderer(dark=False)
    shown = store.thread_with_branches(conversation_id)
    title = html.escape(conversation.title)
    body = [f"<h1>{title}</h1>"]
    if conversation.system_prompt:
        body.append(f'<p class="note">{html.escape(_("System prompt:"))} {html.escape(conversation.system_prompt)}</p>')
    for number, message in enumerate(shown.messages):
        rendered = _COPY_LINK.sub("", renderer.render(message.content, block_prefix=f"{number}-").html)
        notes = []
        position, count = shown.branches.get(message.id, (1, 1))
        if count > 1:
            notes.append(_("Version {position} of {count}").format(position=position, count=count))
        if message.status.note:
            notes.append(message.status.note)
        note = f'<div class="note">{html.escape(" · ".join(notes))}</div>' if notes else ""
        if message.provenance and not is_summary(message):  # a summary's record is what it covers
            facts = "".join(f"<li>{html.escape(fact)}</li>" for fact in describe(message.provenance).splitlines())
            note += (f'<details class="note"><summary>{html.escape(_("How this reply was written"))}</summary>'
                     f"<ul>{facts}</ul></details>")
        kind = "user" if message.role is Role.USER else "assistant"
        body.append(f'<div class="message {kind}"><div class="author">{html.escape(heading(message))}</div>'
                    f"{rendered}{note}</div>")
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
        f"<title>{title}</title><style>{_STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
