"""What Hearth asks of a backend: anything that loads a model and answers a list of messages.

llama.cpp in this process is one (app/backends/llama); an OpenAI-compatible server or an
embedding model are others. The interface is message-level on purpose: token ids, prompt
formats and fitting a conversation into the context stay inside each backend, so one that
has none of them (a server formats its own prompts) implements every method for real.
GPT4All's token-level interface left its remote backend full of "not implemented" stubs.
What a loaded model cannot do is said by its capabilities, and asking anyway raises
CapabilityError.

The values here are frozen dataclasses: they cross threads in the GUI worker's signals.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from app.config.settings import EngineSettings, SamplingSettings
from app.platform.crash_marker import CrashMarker
from app.platform.errors import HearthError
from app.platform.i18n import N_, _


class CapabilityError(HearthError):
    """A model was asked for something its capabilities say it cannot do
    (embeddings from a chat model, a reply from an embedding model)."""


@dataclass(frozen=True)
class ModelRef:
    """Which model to load: a file on this computer, or a model a server offers by name."""

    path: Path | None = None  # a model file on this computer
    name: str = ""  # the model's name at the server
    url: str = ""  # the server's address, e.g. "http://127.0.0.1:8080/v1"


def _go_on(_fraction: float) -> bool:
    return True


def _ignore(_text: str) -> None:
    return None


def _ignore_reading(_fraction: float) -> None:
    return None


@dataclass(frozen=True)
class LoadOptions:
    """How to load: the engine settings, safe mode, and who hears how it goes.

    `on_progress(fraction)` is called from 0.0 to 1.0; returning False abandons the
    load. `on_warning(sentence)` hears, before loading starts, what the user should
    know (e.g. that memory is short)."""

    engine: EngineSettings
    safe_mode: bool = False
    on_progress: Callable[[float], bool] = _go_on
    on_warning: Callable[[str], None] = _ignore
    # Where the backend may keep what it has read of each conversation between runs, so
    # that a long conversation reopened answers without reading it all again (keyed by
    # ChatRequest.conversation_key; at most engine.saved_state_mb). None: nowhere.
    state_dir: Path | None = None


@dataclass(frozen=True)
class Capabilities:
    """What a backend can do with a model, or offers before one is loaded."""

    chat: bool  # reply() answers
    embeddings: bool  # embed() turns texts into vectors
    # The values ChatRequest.prompt_format may take, "auto" (the backend chooses) first;
    # empty where the backend formats prompts itself (a server applies its own template).
    # Identities: a person reads prompt_format_label(name).
    prompt_formats: tuple[str, ...] = ()


# The prompt formats that are not a chat format's own name: the backend's choice, the
# model's template (from its GGUF), and plain text.
_PROMPT_FORMAT_LABELS = {
    "auto": N_("Automatic (recommended)"),
    "model": N_("The model's own chat template"),
    "completion": N_("Plain text completion"),
}


def prompt_format_label(name: str) -> str:
    """What the settings call the prompt format `name` (one of Capabilities.prompt_formats)."""
    if name in _PROMPT_FORMAT_LABELS:
        return _(_PROMPT_FORMAT_LABELS[name])
    return _("{name} chat format").format(name=name)


@dataclass(frozen=True)
class ModelFacts:
    """The loaded model, as the window and the command line describe it."""

    ref: ModelRef
    name: str
    architecture: str  # "llama", "gemma3", ...; "" where the backend does not say
    parameters: str  # a label: "134.5M", "7.6B"
    quantization: str  # "Q4_K_M", ...
    context_length: int  # tokens this load reads at once
    license: str
    has_chat_template: bool
    threads: int  # 0 where another computer runs the model
    safe_mode: bool
    load_seconds: float
    capabilities: Capabilities
    # What runs the model, for the reply's provenance: "llama-cpp-python 0.3.36 (llama.cpp
    # 0.5.0-dev)", or the server's name; "" where the backend cannot say.
    engine_version: str = ""


@dataclass(frozen=True)
class ChatTurn:
    role: str  # "system", "user" or "assistant"
    content: str


@dataclass(frozen=True)
class ChatRequest:
    """A conversation to answer: the backend fits it into its context and formats it."""

    system_prompt: str
    turns: Sequence[ChatTurn]  # oldest first, ending with the user's message
    sampling: SamplingSettings
    prompt_format: str  # one of Capabilities.prompt_formats
    # Which conversation this is (its uuid), for a backend that keeps what it has read of
    # each conversation (LoadOptions.state_dir); "" for none (nothing is kept).
    conversation_key: str = ""
    # Reproduce: how much of the prompt the original reply took from the cache (its stats'
    # prompt_tokens_reused). A backend with a cache reads the rest in the same batches as
    # then: read in other batches, the same tokens give logits up to 0.6 apart on SmolLM2,
    # and the same seed drew another reply in 6 of 60 cases.
    read_from: int | None = None


@dataclass(frozen=True)
class ReplyStats:
    prompt_tokens: int
    prompt_tokens_reused: int  # taken from the cache of the previous turn, not read again
    reply_tokens: int
    time_to_first_token: float
    tokens_per_second: float
    total_seconds: float
    stopped: bool  # the cancel event ended the reply
    omitted_turns: int  # the oldest turns left out of the prompt to fit the context
    prompt_format: str  # the format the prompt was written in
    # The seed the sampler ran with: the request's, or the random one chosen for a request
    # of -1. Kept in the reply's provenance (app/chat/provenance.py), not in as_dict.
    seed: int = -1
    # Cached tokens kept by moving them back over the turns left out (a context shift):
    # their memory was computed with those turns before them.
    shifted_tokens: int = 0

    def as_dict(self) -> dict[str, Any]:
        """What the store keeps with the reply."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "prompt_tokens_reused": self.prompt_tokens_reused,
            "reply_tokens": self.reply_tokens,
            "time_to_first_token": round(self.time_to_first_token, 4),
            "tokens_per_second": round(self.tokens_per_second, 2),
            "total_seconds": round(self.total_seconds, 3),
            "stopped": self.stopped,
            "omitted_turns": self.omitted_turns,
            "prompt_format": self.prompt_format,
            "shifted_tokens": self.shifted_tokens,
        }


# Tokens a chat template adds around each message (role markers, separators): what a prompt
# is estimated at before it is written out (the llama backend's fitting, a summary's reach).
PER_MESSAGE_OVERHEAD = 8


def reply_budget(context_length: int, max_tokens: int) -> int:
    """Tokens of the context a backend keeps free for the reply: what the user asked for, at
    most half the context. The rest is the prompt's (what documents may add is measured
    against it: app/chat/grounding.py)."""
    return max(16, min(max_tokens, context_length // 2))


class Backend(Protocol):
    """One loaded model at a time. Not thread-safe: exactly one owner (the GUI's inference
    worker, or the command line) calls it, one call at a time, from one thread.

    Errors the user should read are HearthError; anything else is a bug."""

    @property
    def loaded(self) -> ModelFacts | None:
        """The model loaded now, if any."""
        ...

    def load(self, model: ModelRef, options: LoadOptions) -> ModelFacts:
        """Free any loaded model, then load `model`."""
        ...

    def unload(self) -> None: ...

    def reply(
        self,
        request: ChatRequest,
        cancel: threading.Event,
        on_text: Callable[[str], None],
        on_started: Callable[[int], None],
        on_reading: Callable[[float], None] = _ignore_reading,
    ) -> ReplyStats:
        """Stream a reply into `on_text` until it ends or `cancel` is set.

        `on_started(omitted_turns)` is called once the prompt is built, before any
        text, in every reply that returns: a caller shows and saves the reply from then on. An error raised before
        it (a message too long for the context) means no reply was begun. `on_reading(fraction)`
        may be called between the two while a long prompt is read (on a CPU the wait for the
        first word is mostly that)."""
        ...

    def count_tokens(self, text: str) -> int:
        """The tokens `text` takes in the loaded model's vocabulary."""
        ...

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text; CapabilityError unless capabilities.embeddings."""
        ...


class BackendFactory(Protocol):
    """A kind of backend, as the composition root (app/__main__.py) hands it to the front
    ends: they create their backend with it and never import the backend's package."""

    @property
    def capabilities(self) -> Capabilities:
        """What its backends offer before a model is loaded (the settings' prompt formats)."""
        ...

    def create(self, crash_marker: CrashMarker | None) -> Backend:
        """A backend with nothing loaded. `crash_marker`: where it records the steps
        that can take the process down (none: not recorded)."""
        ...

    def accelerator_memory(self) -> int:
        """Bytes of memory on the graphics card this kind of backend would use, 0 when none.
        May take a while (it can run a system tool): not on the GUI thread at start."""
        ...
