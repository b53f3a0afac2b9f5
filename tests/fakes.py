"""A fake backend typed against the backend protocol, for fast GUI tests, a fake embedding
backend beside it, and an in-memory keyring."""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Sequence

import keyring.backend

from app.backends.base import (
    Backend,
    BackendFactory,
    Capabilities,
    CapabilityError,
    ChatRequest,
    LoadOptions,
    ModelFacts,
    ModelRef,
    ReplyStats,
)
from app.backends.llama.prompting import fit_to_context
from app.chat.titles import TITLE_SAMPLING
from app.modelfile.gguf_info import EMBEDDING_ARCHITECTURES, read_gguf_info
from app.platform.crash_marker import CrashMarker
from app.platform.errors import ModelLoadError
from tests.documents.word_embedder import WordEmbedder

FAKE_REPLY = ("Hello", " from", " the", " **fake**", " engine", ".")
FAKE_CONTEXT = 2048
FAKE_ENGINE_VERSION = "fake engine 1.0"
FAKE_CAPABILITIES = Capabilities(chat=True, embeddings=False, prompt_formats=("auto", "model", "chatml", "completion"))


def fake_facts(
    model: ModelRef, options: LoadOptions, *, name: str, architecture: str, quantization: str, context_length: int,
    has_chat_template: bool, capabilities: Capabilities,
) -> ModelFacts:
    """What a fake backend says it loaded: the same for both fakes but what they are."""
    return ModelFacts(
        ref=model, name=name, architecture=architecture, parameters="1K", quantization=quantization,
        context_length=context_length, license="MIT", has_chat_template=has_chat_template, threads=1,
        safe_mode=options.safe_mode, load_seconds=0.0, capabilities=capabilities, engine_version=FAKE_ENGINE_VERSION,
    )


class FakeBackend(Backend):
    """Answers every conversation with `reply_words`, `delay` seconds apart. It fits the
    conversation into 2,048 tokens of a word each and, like a strict chat template (Gemma,
    Mistral), refuses roles that do not alternate. A test configures its own instance
    and reads back what it was asked. Asked for a conversation's title (app/chat/titles.py,
    known by its sampling), it answers `title`: by default nothing, so a conversation keeps
    its first words."""

    def __init__(self, reply_words: Sequence[str] = FAKE_REPLY, delay: float = 0.0, load_delay: float = 0.0) -> None:
        self.reply_words = list(reply_words)
        self.title = ""  # what it answers when asked for a title
        self.delay = delay  # seconds between two words of a reply
        self.load_delay = load_delay  # seconds between two steps of a load's progress
        self.loads = 0  # completed loads only
        self.safe_modes: list[bool] = []  # the safe mode of each load asked for
        self.requests: list[ChatRequest] = []  # each reply asked for
        self.reading_steps: list[float] = []  # how far through the prompt it says it is, before the reply
        self._loaded: ModelFacts | None = None

    @property
    def loaded(self) -> ModelFacts | None:
        return self._loaded

    def load(self, model: ModelRef, options: LoadOptions) -> ModelFacts:
        self.safe_modes.append(options.safe_mode)
        for step in (0.0, 0.5, 1.0):
            if not options.on_progress(step):
                raise ModelLoadError("The load was abandoned.")
            time.sleep(self.load_delay)
        self.loads += 1
        self._loaded = fake_facts(model, options, name="Fake model", architecture="fake", quantization="Q4_0",
                                  context_length=min(options.engine.context_length, FAKE_CONTEXT), has_chat_template=True,
                                  capabilities=FAKE_CAPABILITIES)
        return self._loaded

    def unload(self) -> None:
        self._loaded = None

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def reply(
        self,
        request: ChatRequest,
        cancel: threading.Event,
        on_text: Callable[[str], None],
        on_started: Callable[[int], None],
        on_reading: Callable[[float], None] = lambda _fraction: None,
    ) -> ReplyStats:
        self.requests.append(request)
        fitted = fit_to_context(request.system_prompt, request.turns, self.count_tokens, FAKE_CONTEXT,
                                request.sampling.max_tokens)
        roles = [turn.role for turn in fitted.turns if turn.role != "system"]
        if any(a == b for a, b in itertools.pairwise(roles)) or roles[:1] != ["user"]:
            raise ModelLoadError("Conversation roles must alternate user/assistant/user/assistant.")
        on_started(fitted.omitted_turns)
        for fraction in self.reading_steps:
            on_reading(fraction)
        sent = 0
        for word in [self.title] if request.sampling == TITLE_SAMPLING else self.reply_words:
            if cancel.is_set():
                break
            on_text(word)
            sent += 1
            time.sleep(self.delay)
        seed = request.sampling.seed if request.sampling.seed >= 0 else random.getrandbits(31)
        return ReplyStats(
            len(fitted.turns), 0, sent, 0.01, 100.0, 0.1, cancel.is_set(), fitted.omitted_turns, "model", seed
        )

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        raise CapabilityError("The fake model cannot turn text into embeddings.")


FAKE_EMBEDDING_CAPABILITIES = Capabilities(chat=False, embeddings=True)


class FakeEmbeddingBackend(Backend):
    """Embeds with tests/documents/word_embedder.py's WordEmbedder (texts that share words are
    near). `before_embed(texts)`, when set, is called on the embedding thread before each
    batch: a test holds indexing there, or notes what had happened by then."""

    def __init__(self) -> None:
        self.words = WordEmbedder()
        self.before_embed: Callable[[Sequence[str]], None] | None = None
        self.loads = 0
        self._loaded: ModelFacts | None = None

    @property
    def loaded(self) -> ModelFacts | None:
        return self._loaded

    def load(self, model: ModelRef, options: LoadOptions) -> ModelFacts:
        self.loads += 1
        self._loaded = fake_facts(model, options, name="Fake embedder", architecture="bert", quantization="F32",
                                  context_length=512, has_chat_template=False, capabilities=FAKE_EMBEDDING_CAPABILITIES)
        return self._loaded

    def unload(self) -> None:
        self._loaded = None

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def reply(
        self, request: ChatRequest, cancel: threading.Event, on_text: Callable[[str], None], on_started: Callable[[int], None],
        on_reading: Callable[[float], None] = lambda _fraction: None,
    ) -> ReplyStats:
        raise CapabilityError("The fake embedding model cannot chat.")

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if self.before_embed is not None:
            self.before_embed(texts)
        return self.words(texts)

    @property
    def embedded(self) -> list[str]:
        """Every text embedded, in order (the dimension probe "dimension" among them)."""
        return self.words.embedded


class _ByModelKind(Backend):
    """What the factory hands out when it has an embedding backend too: like llama.cpp, one
    backend per create(), here the chat fake or the embedding fake by the model file loaded
    (its GGUF architecture), so a window's chat model and its embedding model are apart."""

    def __init__(self, chat: FakeBackend, embedding: FakeEmbeddingBackend) -> None:
        self._chat, self._embedding = chat, embedding
        self._chosen: Backend = chat

    @property
    def loaded(self) -> ModelFacts | None:
        return self._chosen.loaded

    def load(self, model: ModelRef, options: LoadOptions) -> ModelFacts:
        embeds = model.path is not None and read_gguf_info(model.path).architecture in EMBEDDING_ARCHITECTURES
        self._chosen = self._embedding if embeds else self._chat
        return self._chosen.load(model, options)

    def unload(self) -> None:
        self._chosen.unload()

    def count_tokens(self, text: str) -> int:
        return self._chosen.count_tokens(text)

    def reply(
        self, request: ChatRequest, cancel: threading.Event, on_text: Callable[[str], None], on_started: Callable[[int], None],
        on_reading: Callable[[float], None] = lambda _fraction: None,
    ) -> ReplyStats:
        return self._chosen.reply(request, cancel, on_text, on_started, on_reading)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self._chosen.embed(texts)


class FakeBackendFactory(BackendFactory):
    """Hands out its one FakeBackend, which the test keeps to configure and inspect; given a
    FakeEmbeddingBackend too, each backend it makes loads an embedding model (a GGUF of an
    embedding architecture) into that one and anything else into the chat one."""

    def __init__(self, backend: FakeBackend | None = None, embedding: FakeEmbeddingBackend | None = None) -> None:
        self.backend = backend if backend is not None else FakeBackend()
        self.embedding = embedding

    @property
    def capabilities(self) -> Capabilities:
        return FAKE_CAPABILITIES

    def create(self, crash_marker: CrashMarker | None) -> Backend:
        if self.embedding is not None:
            return _ByModelKind(self.backend, self.embedding)
        return self.backend

    def accelerator_memory(self) -> int:
        return 0


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring backend in memory: headless Linux has none (DESIGN.md)."""

    priority = 1

    def __init__(self, saved: dict[tuple[str, str], str] | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring leaves its __init__ unannotated
        self.saved = {} if saved is None else saved

    def get_password(self, service: str, username: str) -> str | None:
        return self.saved.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.saved[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.saved.pop((service, username), None)
