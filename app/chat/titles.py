"""A conversation's title, written by the loaded model after its first reply.

The first words of the question (`title_from`) title a conversation from its start; once
the first reply is complete, the model is asked for a short title, which replaces them
unless the user has named the conversation meanwhile (renaming always wins: the store
keeps which titles are the user's). A base model (no chat template) or plain text
completion would only continue the text, so they write no title. What the model writes
is cleaned: one line, no "Title:", no quotes or Markdown, at most TITLE_LENGTH characters.

Called from the one thread that owns the backend (the GUI's inference worker), one
request at a time like a reply; `cancel` ends it as soon as the user asks for a reply.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from app.backends.base import Backend, ChatRequest, ChatTurn
from app.config.settings import SamplingSettings
from app.conversations.store import TITLE_LENGTH, ConversationStore, Message, Role, Status, title_from

# A title is a few words: 24 tokens leave room for a long word or two and stop a model
# that would explain itself. Greedy and seeded: the same exchange gets the same title.
TITLE_SAMPLING = SamplingSettings(temperature=0.0, top_p=1.0, max_tokens=24, repeat_penalty=1.1, seed=0)
# The question is shortened to this many characters: its first lines say what the
# conversation is about, and a short prompt keeps the title quick (and inside any context).
EXCERPT_CHARACTERS = 600
# More words than this is a sentence, not a title: the first words are kept instead.
TITLE_WORDS = 8
# Asked plainly ("Write a short title for this question"), SmolLM2-135M answered the
# question in 5 of 5 tries; shown these examples first, it wrote a title in 5 of 7 ("Capital
# of France", "Photosynthesis for children") and the other two were over TITLE_WORDS. The
# examples are the same every time, so llama.cpp reuses them from its cache: 0.1 s a title.
_SYSTEM = "Give each message a short title of a few words, in the language of the message."
_EXAMPLES = (
    ("What's a good recipe for a quick pasta dinner tonight?", "Quick pasta dinner"),
    ("how do black holes form", "How black holes form"),
    ("Can you fix the grammar in my cover letter?", "Cover letter grammar"),
    ("write a short poem about autumn leaves", "Autumn leaves poem"),
    ("Explain fractions to a ten-year-old.", "Fractions for children"),
)
_ASK = "Title: {message}"
_LABEL = re.compile(r"^\W*(title|titre|titel|título|titolo)\s*[:：-]\s*", re.IGNORECASE)
_EMPHASIS = re.compile(r"\*+|`+")
_WRAPPING = "\"'“”‘’«»„`*_#[]() \t"


@dataclass(frozen=True)
class TitleRequest:
    """Title the conversation of `reply_id` if it is that conversation's first reply."""

    reply_id: int
    prompt_format: str  # as for the reply: "auto", a chat format's name, "model" or "completion"


@dataclass(frozen=True)
class FirstExchange:
    conversation_id: int
    question: str


def is_greeting(message: Message) -> bool:
    """Whether `message` is an assistant's greeting: the first message of its chat, the assistant's."""
    return message.role == Role.ASSISTANT and message.parent_id is None


def first_exchange(store: ConversationStore, reply_id: int) -> FirstExchange | None:
    """The first question when `reply_id` is the first reply of its conversation
    (and its first version: a regenerated first reply does not retitle), complete. An
    assistant's greeting before the question is not a reply."""
    path = [m for m in store.path_to(reply_id) if m.role != Role.SYSTEM]
    if path and is_greeting(path[0]):
        path = path[1:]
    if [m.role for m in path] != [Role.USER, Role.ASSISTANT] or path[1].status != Status.COMPLETE:
        return None
    if store.siblings(reply_id)[:1] != [reply_id]:
        return None
    return FirstExchange(path[1].conversation_id, path[0].content)


def clean_title(text: str) -> str:
    """What the model wrote, as a title: its first line without a "Title:" label, quotes,
    Markdown or a closing full stop, shortened at a word to TITLE_LENGTH; '' when nothing is left."""
    line = next((line for line in text.splitlines() if line.strip(_WRAPPING)), "")
    line = _LABEL.sub("", _EMPHASIS.sub("", line).strip(_WRAPPING))
    line = " ".join(line.strip(_WRAPPING).split()).rstrip(".:;,!-–— ")
    if len(line) > TITLE_LENGTH:
        line = line[: TITLE_LENGTH + 1].rsplit(" ", 1)[0] if " " in line[:TITLE_LENGTH] else line[:TITLE_LENGTH]
    return line.strip(_WRAPPING).rstrip(".:;,!-–— ")


def title_prompt(question: str, prompt_format: str) -> ChatRequest:
    """The request for a title of the conversation that `question` began: a few examples, then it."""
    turns: list[ChatTurn] = []
    for message, title in _EXAMPLES:
        turns += [ChatTurn("user", _ASK.format(message=message)), ChatTurn("assistant", title)]
    turns.append(ChatTurn("user", _ASK.format(message=" ".join(question[:EXCERPT_CHARACTERS].split()))))
    return ChatRequest(_SYSTEM, tuple(turns), TITLE_SAMPLING, prompt_format)


def write_title(backend: Backend, store: ConversationStore, request: TitleRequest, cancel: threading.Event) -> str | None:
    """Have the loaded model title the conversation of `request.reply_id`, and keep the title.
    The title kept, or None when none was written (not a first reply, no chat model, the user
    renamed it, cancelled, nothing usable)."""
    facts = backend.loaded
    if facts is None or not facts.has_chat_template or request.prompt_format == "completion":
        return None
    exchange = first_exchange(store, request.reply_id)
    if exchange is None:
        return None
    conversation = store.conversation(exchange.conversation_id)
    if conversation is None or conversation.title != title_from(exchange.question):
        return None  # renamed (or imported) since: the user's name stays
    written: list[str] = []
    stats = backend.reply(title_prompt(exchange.question, request.prompt_format), cancel, written.append, lambda _omitted: None)
    title = clean_title("".join(written))
    if (stats.stopped or cancel.is_set() or not title or len(title.split()) > TITLE_WORDS
            or title.casefold() == conversation.title.casefold()):
        return None
    return title if store.set_generated_title(exchange.conversation_id, title) else None
