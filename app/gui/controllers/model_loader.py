"""The model loader: which model is loaded or loading, and its load's progress.

A controller, not a widget. Each load has an id; the worker skips a queued load and
abandons a running one that is no longer the wanted one (`InferenceWorker.wanted_load`),
and the answers of a superseded load are ignored here.
"""

from __future__ import annotations

import copy

from PySide6.QtCore import QObject, Signal

from app.backends.base import ModelFacts
from app.config.policy import Policy
from app.gui.controllers.app_settings import AppSettings
from app.gui.workers.inference_worker import InferenceWorker
from app.library.model_library import ModelEntry, ModelLibrary


class ModelLoader(QObject):
    loading = Signal(str)  # the model's name: a load began
    progress = Signal(float)  # 0..1
    loaded = Signal(object)  # ModelFacts
    failed = Signal(str)  # plain message
    warning = Signal(str)  # plain message: the model may not fit
    refused = Signal(str)  # plain message: the administrator does not allow it
    request_load = Signal(int, str, object, bool)  # to the worker's thread

    def __init__(
        self,
        worker: InferenceWorker,
        library: ModelLibrary,
        policy: Policy,
        settings: AppSettings,
    ) -> None:
        super().__init__()
        self._worker = worker
        self._library = library
        self._policy = policy
        self._settings = settings
        self._load_id = 0
        self._ready = False
        self._model_id = ""
        self.request_load.connect(worker.load_model)
        worker.model_loading.connect(self._on_progress)
        worker.model_loaded.connect(self._on_loaded)
        worker.model_failed.connect(self._on_failed)
        worker.warning.connect(self._on_warning)

    @property
    def ready(self) -> bool:
        """A model is loaded and can answer."""
        return self._ready

    @property
    def model_id(self) -> str:
        """The model loaded or loading ('' for none)."""
        return self._model_id

    def entry(self) -> ModelEntry | None:
        return self._library.get(self._model_id) if self._model_id else None

    def load(self, model_id: str) -> None:
        entry = self._library.get(model_id)
        if entry is None:
            return
        if not self._policy.allows(*entry.names):
            self.refused.emit(self.tr("Your administrator does not allow {name} on this computer.").format(name=entry.shown_name))
            return
        self._worker.cancel.set()  # a reply being written stops: its model is going away
        self._load_id += 1
        self._worker.wanted_load = self._load_id  # abandons a load still in progress
        self._ready = False
        self._model_id = entry.id
        self._settings.remember_model(entry.id)
        settings = self._settings.current()
        safe_mode = settings.preferences_of(entry.id).safe_mode
        self.loading.emit(entry.shown_name)
        self._worker.chat_waiting.set()  # a load waits behind no indexing run
        self.request_load.emit(self._load_id, str(self._library.file_of(entry)), copy.deepcopy(settings), safe_mode)

    def reload(self) -> None:
        """Load the current model again (the engine settings or its safe mode changed)."""
        if self._model_id:
            self.load(self._model_id)

    def shutdown(self) -> None:
        self._worker.wanted_load = -1
        self._load_id = -1

    def _on_progress(self, load_id: int, fraction: float) -> None:
        if load_id == self._load_id:
            self.progress.emit(fraction)

    def _on_loaded(self, load_id: int, facts: ModelFacts) -> None:
        if load_id != self._load_id:
            return
        self._ready = True
        self._settings.loaded_cleanly(self._model_id)
        self.loaded.emit(facts)

    def _on_failed(self, load_id: int, message: str) -> None:
        if load_id != self._load_id:
            return
        self._ready = False
        self._model_id = ""
        self.failed.emit(message)

    def _on_warning(self, load_id: int, text: str) -> None:
        if load_id == self._load_id:
            self.warning.emit(text)
