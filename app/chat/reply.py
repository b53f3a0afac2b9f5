"""One assistant reply, from the stored conversation to the stored answer.

Shared by the GUI's inference worker and the CLI, so both save exactly the same
way: the reply row is created when generation starts and grows as tokens
arrive, so a crash keeps what was already shown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from app.backends.llama.engine import GenerationStats, LlamaEngine
from app.backends.prompting import ChatTurn
from app.config.settings import Settings
from app.conversations.store import ConversationStore, GrowingReply


@dataclass(frozen=True)
class ReplyResult:
    message_id: int
    text: str
    stats: GenerationStats
    omitted_turns: int


def generate_reply(
    engine: LlamaEngine,
    store: ConversationStore,
    parent_id: int,
    settings: Settings,
    format_preference: str,
    cancel: threading.Event,
    on_text: Callable[[str], None],
    on_started: Callable[[int, int], None] = lambda message_id, omitted: None,
) -> ReplyResult:
    """Answer the user message `parent_id`; a new reply beside any earlier ones.

    `on_started(message_id, omitted_turns)` is called once the prompt is built
    and the reply row exists. Raises HearthError before that row exists when
    the prompt cannot be built (e.g. the message is too long).
    """
    path = store.path_to(parent_id)
    history = [ChatTurn(m.role, m.content) for m in path if m.role != "system"]
    prompt = engine.build_prompt(
        settings.system_prompt, history, settings.sampling, format_preference
    )
    conversation_id = path[-1].conversation_id
    message_id = store.add_message(conversation_id, parent_id, "assistant", "", status="streaming")
    on_started(message_id, prompt.omitted_turns)
    growing = GrowingReply(store, message_id)

    def take(text: str) -> None:
        on_text(text)  # shown first: what is saved is never ahead of what was shown
        growing.append(text)

    try:
        stats = engine.generate(prompt, settings.sampling, cancel, take)
    except BaseException:
        growing.finish("failed")
        raise
    details = {**stats.as_dict(), "omitted_turns": prompt.omitted_turns,
               "prompt_format": prompt.prompt_format}
    growing.finish("stopped" if stats.stopped else "complete", details)
    return ReplyResult(message_id, growing.text, stats, prompt.omitted_turns)
