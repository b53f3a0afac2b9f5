"""A fake engine with the real engine's interface, for fast GUI tests."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import keyring.backend

from app.backends.llama.engine import EngineOptions, GenerationStats, LoadedModel, Prompt
from app.backends.prompting import ChatTurn, fit_to_context
from app.config.settings import EngineSettings, SamplingSettings
from app.modelfile.gguf_info import GgufInfo
from app.platform.errors import ModelLoadError

FAKE_REPLY = ["Hello", " from", " the", " **fake**", " engine", "."]


class FakeEngine:
    reply_words: list[str] = FAKE_REPLY
    delay = 0.0

    def __init__(self, crash_marker: object = None) -> None:
        self.loaded: LoadedModel | None = None
        self.prompts: list[Prompt] = []
        self.loads = 0
        self.safe_modes: list[bool] = []  # the safe_mode of each load asked for

    def load(
        self,
        path: Path,
        engine: EngineSettings,
        on_progress: Callable[[float], None] | None = None,
        info: object = None,
        safe_mode: bool = False,
    ) -> LoadedModel:
        self.safe_modes.append(safe_mode)
        for step in (0.0, 0.5, 1.0):
            if on_progress and on_progress(step) is False:
                raise ModelLoadError("The load was abandoned.")
        self.loads += 1  # completed loads only
        info = GgufInfo("fake", "Fake model", 1000, "Q4_0", 2048, "{{x}}", "MIT", 1)
        options = EngineOptions(1, 0, "f16", not safe_mode, not safe_mode, safe_mode)
        self.loaded = LoadedModel(path, info, min(engine.context_length, 2048), 0.0, options)
        return self.loaded

    def unload(self) -> None:
        self.loaded = None

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def build_prompt(self, system_prompt: str, history: Sequence[ChatTurn], sampling: SamplingSettings, fmt: str) -> Prompt:
        fitted = fit_to_context(system_prompt, history, self.count_tokens, 2048, sampling.max_tokens)
        roles = [turn.role for turn in fitted.turns if turn.role != "system"]
        if any(a == b for a, b in itertools.pairwise(roles)) or roles[:1] != ["user"]:
            # Like a strict chat template (Gemma, Mistral).
            raise ModelLoadError("Conversation roles must alternate user/assistant/user/assistant.")
        prompt = Prompt(list(range(len(fitted.turns))), [], fitted.omitted_turns, "model")
        self.prompts.append(prompt)
        return prompt

    def generate(self, prompt: Prompt, sampling: SamplingSettings, cancel: threading.Event, on_text: Callable[[str], None]) -> GenerationStats:
        sent = 0
        for word in self.reply_words:
            if cancel.is_set():
                break
            on_text(word)
            sent += 1
            time.sleep(self.delay)
        return GenerationStats(len(prompt.tokens), 0, sent, 0.01, 100.0, 0.1, cancel.is_set())


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring backend in memory: headless Linux has none (DESIGN.md)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self, saved: dict[tuple[str, str], str] | None = None) -> None:
        super().__init__()
        self.saved = {} if saved is None else saved

    def get_password(self, service: str, username: str) -> str | None:
        return self.saved.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.saved[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.saved.pop((service, username), None)
