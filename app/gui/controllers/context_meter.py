"""How much of the model's context the conversation uses, for the meter by the message box.

Counted from what the engine reported: the last reply's prompt and reply tokens (system
prompt, kept turns and its passages included), plus what came after it and what is being
typed, estimated at four characters a token (the exact count needs the tokenizer, which
lives on the inference thread and may be busy), plus the passages the attached documents
will bring. So it is "about": it is exact only right after a reply.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from app.backends.base import ModelFacts
from app.chat.grounding import TOKENS_PER_PASSAGE, passage_count, recorded_grounding
from app.conversations.store import Role
from app.gui.controllers.app_settings import AppSettings
from app.gui.controllers.chat_session import ChatSession
from app.gui.controllers.model_loader import ModelLoader

# English text in the tokenizers of the test models (SmolLM2, Gemma 3): 4.1 and 4.3
# characters a token.
CHARACTERS_PER_TOKEN = 4


@dataclass(frozen=True)
class ContextUse:
    used: int  # tokens, about
    total: int  # the loaded model's context
    left_out: int  # older messages the last reply was written without

    @property
    def full(self) -> bool:
        return self.left_out > 0 or self.used >= self.total


def estimated_tokens(text: str) -> int:
    return -(-len(text) // CHARACTERS_PER_TOKEN)


class ContextMeter(QObject):
    changed = Signal(object)  # ContextUse, or None while no model is loaded

    def __init__(self, session: ChatSession, loader: ModelLoader, settings: AppSettings) -> None:
        super().__init__(session)
        self._session, self._settings = session, settings
        self._total = 0
        self._typed = ""
        self._documents = 0  # collections attached
        loader.loaded.connect(self._on_loaded)
        session.state_changed.connect(self.update)

    def set_typed(self, text: str) -> None:
        self._typed = text
        self.update()

    def set_documents(self, attached: int) -> None:
        self._documents = attached
        self.update()

    def use(self) -> ContextUse | None:
        if not self._total:
            return None
        shown = self._session.shown_messages()
        last_reply = next((i for i in range(len(shown) - 1, -1, -1)
                           if shown[i].role == Role.ASSISTANT and shown[i].stats.get("prompt_tokens")), None)
        if last_reply is None:
            used = estimated_tokens(self._settings.current().system_prompt) + sum(estimated_tokens(m.content) for m in shown)
            used += -(-self._session.characters_before // CHARACTERS_PER_TOKEN)  # the messages not read yet
            left_out = 0
        else:
            stats = shown[last_reply].stats
            used = int(stats["prompt_tokens"]) + int(stats.get("reply_tokens", 0))
            # Its question's passages were read with it; the next question brings its own.
            grounding = recorded_grounding(shown[last_reply].provenance)
            if grounding is not None:
                used -= sum(estimated_tokens(text) for text in (grounding.notes or [s.text for s in grounding.sources]))
            used += sum(estimated_tokens(m.content) for m in shown[last_reply + 1 :])
            left_out = int(stats.get("omitted_turns", 0))
        used += estimated_tokens(self._typed)
        if self._documents:
            used += passage_count(self._settings.current().documents.passages, self._total) * TOKENS_PER_PASSAGE
        return ContextUse(used, self._total, left_out)

    def update(self) -> None:
        self.changed.emit(self.use())

    def _on_loaded(self, facts: ModelFacts) -> None:
        self._total = facts.context_length
        self.update()
