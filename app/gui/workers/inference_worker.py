"""The worker that owns the one loaded model, on its own thread.

The GUI calls its slots through queued signals and hears back through its
signals. Stop uses a threading.Event set directly from the GUI thread: while a
reply streams, this thread's event loop is busy, so a queued slot would never
run in time.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from app.assistants.book import AssistantBook
from app.backends.base import Backend, BackendFactory, Capabilities, LoadOptions, ModelFacts, ModelRef, ReplyStats
from app.chat.grounding import DocumentGrounder
from app.chat.provenance import ModelFile
from app.chat.reply import generate_reply
from app.chat.reproduce import Reproduction, reproduce_reply
from app.chat.summary import summarise_left_out
from app.chat.titles import TitleRequest, write_title
from app.config.policy import Policy
from app.config.settings import EngineSettings, Settings
from app.conversations.late_saves import LateSaves
from app.conversations.opener import open_conversations
from app.conversations.store import ConversationStore
from app.documents.embedder_loading import LoadedEmbedder, embedder_that_built
from app.documents.embedders import Embedder
from app.documents.index import Collection, DocumentIndex
from app.library.model_library import ModelLibrary
from app.platform.crash_marker import CrashMarker
from app.platform.errors import HearthError, described
from app.platform.paths import AppPaths

log = logging.getLogger(__name__)

# Ten updates a second read as smooth streaming. Each update costs the GUI thread
# a layout and a repaint, CPU the decoding threads then lack: at 20 a second the
# window took 2.9 % of a core for Gemma 3 270M, at 10 a second 2.1 % (bench/run.py).
TOKEN_FLUSH_SECONDS = 0.1


@dataclass(frozen=True)
class ReplyRequest:
    request_id: int
    parent_id: int
    settings: Settings
    format_preference: str
    locked: frozenset[str]  # what the administrator locked (schema names): no default, never forgotten
    model_file: ModelFile | None = None  # the loaded model's file, for the reply's provenance
    every_document: bool = False  # go through every attached document first (app/chat/every_document.py)


@dataclass(frozen=True)
class ReproduceRequest:
    """Write the reply `message_id` again from its provenance; today's settings only say
    what changed since."""

    request_id: int
    message_id: int
    settings: Settings
    format_preference: str
    locked: frozenset[str]
    model_file: ModelFile | None = None


@dataclass(frozen=True)
class SummaryRequest:
    """Summarise the oldest `left_out` messages a reply after `leaf_id` reads (app/chat/summary.py)."""

    request_id: int
    leaf_id: int
    left_out: int
    format_preference: str


class InferenceWorker(QObject):
    # Loads carry the id the GUI gave them, so a superseded load is recognised.
    model_loading = Signal(int, float)  # load id, 0..1
    model_loaded = Signal(int, ModelFacts)  # load id, the loaded model
    model_failed = Signal(int, str)  # load id, plain message
    warning = Signal(int, str)  # load id, plain message
    reply_started = Signal(int, int, int)  # request id, reply message id, omitted turns
    token = Signal(int, str)  # request id, text since the last flush
    documents_read = Signal(int, int, int)  # request id, parts gone through, parts in all
    prompt_read = Signal(int, float)  # request id, share of a long prompt read so far
    finished = Signal(int, ReplyStats)  # request id, how the reply went
    failed = Signal(int, str)  # request id, plain message
    reproduced = Signal(int, Reproduction)  # request id, how a Reproduce went
    titled = Signal(int, str)  # reply id, the title its conversation was given
    summary_progress = Signal(int, int, int)  # request id, parts summarised, parts in all
    summarised = Signal(int, int, str)  # request id, the summary's message id (0: none), plain message ('' fine)

    def __init__(self, paths: AppPaths, backend_factory: BackendFactory, policy: Policy) -> None:
        super().__init__()
        self._paths = paths
        self._policy = policy
        self._backend_factory = backend_factory
        self._backend: Backend | None = None
        self._store: ConversationStore | None = None
        self.cancel = threading.Event()
        # Set from the GUI thread when the user asks for a reply: a title waiting or being
        # written gives way (app/gui/controllers/titles.py).
        self.title_cancel = threading.Event()
        # The load the GUI wants now, set directly from the GUI thread (an int assignment is
        # atomic); a queued load for another id is skipped, a running one abandoned. -1: none.
        self.wanted_load = 0
        # Set from the GUI thread when the user asks for a reply or a model, cleared when this
        # thread begins it: indexing documents on this thread stops after its batch and goes
        # on after it (app/gui/workers/indexing_worker.py). The chat comes first.
        self.chat_waiting = threading.Event()
        # The embedding model for the documents, used on this thread only: by the replies
        # (the question's vector) and by indexing. Separate from the chat model.
        self.embedders = LoadedEmbedder(lambda: backend_factory.create(CrashMarker(paths.crash_markers)))
        self._documents: DocumentGrounder | None = None
        self._engine = EngineSettings()  # how the last reply asked llama.cpp to run: the embedder runs so too
        # Saves a reply's text when its next token is slow to come, with its own connection.
        self._late_saves = LateSaves(lambda: open_conversations(paths))

    @property
    def capabilities(self) -> Capabilities:
        """What the backend offers before a model is loaded (the settings' prompt formats);
        safe to read from any thread."""
        return self._backend_factory.capabilities

    def before_chat_request(self) -> None:
        """Called from the GUI thread just before it queues a reply, a Reproduce or a summary:
        indexing stops behind it, and a Stop pressed from now on counts (cleared here, not
        when this thread begins the request: a Stop in between was lost)."""
        self.chat_waiting.set()
        self.cancel.clear()

    def _ensure(self) -> tuple[Backend, ConversationStore]:
        # Created on first use so that both live on this worker's thread.
        if self._backend is None:
            self._backend = self._backend_factory.create(CrashMarker(self._paths.crash_markers))
        if self._store is None:
            self._store = open_conversations(self._paths)
        return self._backend, self._store

    def _grounder(self, settings: Settings) -> DocumentGrounder:
        """The conversation's documents, opened on this thread at the first question that
        has some attached."""
        self._engine = settings.engine
        if self._documents is None:
            self._documents = DocumentGrounder(lambda: DocumentIndex(self._paths.documents_index), self._embedder_for)
        return self._documents

    def _embedder_for(self, collection: Collection) -> Embedder | None:
        """The model that built `collection`, loaded here; None (its words only) where it
        is not installed, not allowed, or the collection has no vectors."""
        library = ModelLibrary(self._paths.models_dir)
        entry = embedder_that_built(library, self._policy, collection.embedder)
        if entry is None:
            return None
        try:
            return self.embedders.get(library.file_of(entry), entry.sha256, self._engine)
        except HearthError as error:  # the question is still answered, from the passages' words
            log.warning("the embedding model %s could not be loaded: %s", entry.id, error)
            return None

    @Slot(int, str, object, bool)
    def load_model(self, load_id: int, path: str, settings: Settings, safe_mode: bool) -> None:
        """Load a model unless the GUI has asked for another one since (see wanted_load)."""
        self.chat_waiting.clear()
        if load_id != self.wanted_load:
            return

        def progress(fraction: float) -> bool:
            self.model_loading.emit(load_id, fraction)
            return load_id == self.wanted_load

        def warn(text: str) -> None:
            self.warning.emit(load_id, text)

        try:
            backend, _ = self._ensure()
            options = LoadOptions(settings.engine, safe_mode, progress, warn, state_dir=self._paths.kv_states)
            facts = backend.load(ModelRef(path=Path(path)), options)
        except HearthError as exc:
            self.model_failed.emit(load_id, str(exc))
            return
        except OSError as exc:
            self.model_failed.emit(load_id, self.tr("The model file could not be opened ({reason}).").format(reason=exc.strerror or exc))
            return
        except Exception as exc:
            log.exception("model load failed")
            self.model_failed.emit(load_id, self.tr("The model could not be loaded: {error}").format(error=described(exc)))
            return
        self.model_loaded.emit(load_id, facts)

    @Slot(object)
    def generate(self, request: ReplyRequest) -> None:
        """Write a reply; Stop ends it (the GUI cleared `cancel` when it asked, so a Stop
        pressed before this began counts)."""
        self.chat_waiting.clear()
        pending: list[str] = []
        last_flush = time.monotonic()

        def flush() -> None:
            nonlocal last_flush
            if pending:
                self.token.emit(request.request_id, "".join(pending))
                pending.clear()
            last_flush = time.monotonic()

        def take(text: str) -> None:
            pending.append(text)
            if time.monotonic() - last_flush >= TOKEN_FLUSH_SECONDS:
                flush()

        try:
            backend, store = self._ensure()
            result = generate_reply(
                backend,
                store,
                request.parent_id,
                request.settings,
                request.format_preference,
                self.cancel,
                take,
                lambda message_id, omitted: self.reply_started.emit(
                    request.request_id, message_id, omitted
                ),
                locked=request.locked,
                model_file=request.model_file,
                assistants=AssistantBook(self._paths.assistants_dir).get,  # the conversation's, read here: one small file
                documents=self._grounder(request.settings),
                every_document=request.every_document,
                on_documents_read=lambda done, total: self.documents_read.emit(request.request_id, done, total),
                on_prompt_read=lambda fraction: self.prompt_read.emit(request.request_id, fraction),
                late_saves=self._late_saves,
            )
        except HearthError as exc:
            flush()
            self.failed.emit(request.request_id, str(exc))
            return
        except Exception as exc:
            log.exception("reply failed")
            flush()
            self.failed.emit(request.request_id, self.tr("Something went wrong while answering: {error}").format(error=described(exc)))
            return
        flush()
        self.finished.emit(request.request_id, result.stats)

    @Slot(object)
    def reproduce(self, request: ReproduceRequest) -> None:
        """Write a reply again on this thread (the one that owns the model); nothing is saved.
        `cancel` as for generate."""
        self.chat_waiting.clear()
        try:
            backend, store = self._ensure()
            outcome = reproduce_reply(
                backend, store, request.message_id, request.model_file, request.settings,
                request.format_preference, self.cancel, locked=request.locked,
                assistants=AssistantBook(self._paths.assistants_dir).get,
            )
        except HearthError as exc:
            outcome = Reproduction(request.message_id, refusal=str(exc))
        except Exception as exc:
            log.exception("reproduce failed")
            outcome = Reproduction(request.message_id, refusal=self.tr(
                "Something went wrong while writing the reply again: {error}").format(error=described(exc)))
        self.reproduced.emit(request.request_id, outcome)

    @Slot(object)
    def summarise(self, request: SummaryRequest) -> None:
        """Summarise the oldest messages of a conversation on this thread; Stop ends it (the
        GUI cleared `cancel` when it asked, so a Stop pressed before this began counts)."""
        self.chat_waiting.clear()
        try:
            backend, store = self._ensure()
            summary_id = summarise_left_out(
                backend, store, request.leaf_id, request.left_out, request.format_preference, self.cancel,
                lambda done, total: self.summary_progress.emit(request.request_id, done, total),
            )
        except HearthError as exc:  # Stop while a part's prompt was written out is a stop, not a failure
            self.summarised.emit(request.request_id, 0, "" if self.cancel.is_set() else str(exc))
            return
        except Exception as exc:
            log.exception("summarising failed")
            self.summarised.emit(request.request_id, 0, self.tr("Something went wrong while summarising: {error}").format(error=described(exc)))
            return
        self.summarised.emit(request.request_id, summary_id or 0, "")

    @Slot(object)
    def write_title(self, request: TitleRequest) -> None:
        """Title a conversation after its first reply, unless a reply was asked for since."""
        if self.title_cancel.is_set():
            return
        try:
            backend, store = self._ensure()
            title = write_title(backend, store, request, self.title_cancel)
        except Exception:  # its first words stay its title
            log.exception("writing a title failed")
            return
        if title is not None:
            self.titled.emit(request.reply_id, title)

    @Slot()
    def shutdown(self) -> None:
        """Free the model and the database, then end this worker's thread (call it queued)."""
        if self._backend is not None:
            self._backend.unload()
            self._backend = None
        self.embedders.unload()
        self._late_saves.close()
        if self._documents is not None and self._documents.opened:
            self._documents.index.close()
        self._documents = None
        if self._store is not None:
            self._store.close()
            self._store = None
        thread, application = self.thread(), QCoreApplication.instance()
        # Called directly on the GUI thread (a test's own worker), it must not end that thread's loop.
        if thread is QThread.currentThread() and (application is None or thread is not application.thread()):
            thread.quit()
