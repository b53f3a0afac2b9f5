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
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from app.backends.llama.engine import LlamaEngine
from app.chat.reply import generate_reply
from app.config.settings import Settings, usable_context
from app.conversations.opener import open_conversations
from app.conversations.store import ConversationStore
from app.modelfile.fit import memory_warning
from app.modelfile.gguf_info import read_gguf_info
from app.platform.crash_marker import CrashMarker
from app.platform.errors import HearthError
from app.platform.hardware import available_memory
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


class InferenceWorker(QObject):
    # Loads carry the id the GUI gave them, so a superseded load is recognised.
    model_loading = Signal(int, float)  # load id, 0..1
    model_loaded = Signal(int, dict)  # load id, facts about the loaded model
    model_failed = Signal(int, str)  # load id, plain message
    warning = Signal(int, str)  # load id, plain message
    reply_started = Signal(int, int, int)  # request id, reply message id, omitted turns
    token = Signal(int, str)  # request id, text since the last flush
    finished = Signal(int, dict)  # request id, stats
    failed = Signal(int, str)  # request id, plain message

    def __init__(self, paths: AppPaths, engine_factory: type[LlamaEngine] = LlamaEngine) -> None:
        super().__init__()
        self._paths = paths
        self._engine_factory = engine_factory
        self._engine: Any = None
        self._store: ConversationStore | None = None
        self.cancel = threading.Event()
        # The load the GUI wants now, set directly from the GUI thread (an int assignment is
        # atomic); a queued load for another id is skipped, a running one abandoned. -1: none.
        self.wanted_load = 0

    def _ensure(self) -> tuple[Any, ConversationStore]:
        # Created on first use so that both live on this worker's thread.
        if self._engine is None:
            self._engine = self._engine_factory(CrashMarker(self._paths.crash_markers))
        if self._store is None:
            self._store = open_conversations(self._paths)
        return self._engine, self._store

    @Slot(int, str, object, bool)
    def load_model(self, load_id: int, path: str, settings: Settings, safe_mode: bool) -> None:
        """Load a model unless the GUI has asked for another one since (see wanted_load)."""
        if load_id != self.wanted_load:
            return

        def progress(fraction: float) -> bool:
            self.model_loading.emit(load_id, fraction)
            return load_id == self.wanted_load

        try:
            engine, _ = self._ensure()
            model_file = Path(path)
            info = read_gguf_info(model_file)
            context = usable_context(settings.engine.context_length, info.context_length)
            warning = memory_warning(info.file_size, info.kv_bytes_per_token, context, available_memory())
            if warning:
                self.warning.emit(load_id, warning)
            progress(0.0)
            loaded = engine.load(model_file, settings.engine, progress, info, safe_mode)
        except HearthError as exc:
            self.model_failed.emit(load_id, str(exc))
            return
        except OSError as exc:
            self.model_failed.emit(load_id, f"The model file could not be opened ({exc.strerror or exc}).")
            return
        except Exception as exc:
            log.exception("model load failed")
            self.model_failed.emit(load_id, f"The model could not be loaded: {exc}")
            return
        info = loaded.info
        self.model_loaded.emit(
            load_id,
            {
                "path": str(loaded.path),
                "name": info.name,
                "architecture": info.architecture,
                "parameters": info.parameters_label,
                "quantization": info.quantization,
                "context_length": loaded.context_length,
                "threads": loaded.options.threads,
                "safe_mode": loaded.options.safe_mode,
                "license": info.license,
                "has_chat_template": info.chat_template is not None,
                "load_seconds": round(loaded.load_seconds, 2),
            }
        )

    @Slot(object)
    def generate(self, request: ReplyRequest) -> None:
        self.cancel.clear()
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
            engine, store = self._ensure()
            result = generate_reply(
                engine,
                store,
                request.parent_id,
                request.settings,
                request.format_preference,
                self.cancel,
                take,
                lambda message_id, omitted: self.reply_started.emit(
                    request.request_id, message_id, omitted
                ),
            )
        except HearthError as exc:
            flush()
            self.failed.emit(request.request_id, str(exc))
            return
        except Exception as exc:
            log.exception("reply failed")
            flush()
            self.failed.emit(request.request_id, f"Something went wrong while answering: {exc}")
            return
        flush()
        stats = result.stats.as_dict()
        stats["message_id"] = result.message_id
        stats["omitted_turns"] = result.omitted_turns
        self.finished.emit(request.request_id, stats)

    @Slot()
    def shutdown(self) -> None:
        """Free the model and the database; call through a queued connection before quitting."""
        if self._engine is not None:
            self._engine.unload()
            self._engine = None
        if self._store is not None:
            self._store.close()
            self._store = None
