"""Which model the window offers and uses: the picker's list (the installed chat models
the administrator allows; an embedding model is for the documents), the model loaded by itself at start (the last used, else the
policy's default; never one that stopped Hearth), the choices made in the picker, the
Library and a finished download, safe mode, and the status line that says how it went.

A controller: it owns none of the loading (the model loader does) and draws nothing
itself (the window's layout does); it decides what to load and what to show.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.backends.base import ModelFacts
from app.chat.crash_recovery import safe_mode_label
from app.gui.controllers.app_settings import AppSettings
from app.gui.controllers.library_access import LibraryAccess
from app.gui.controllers.model_loader import ModelLoader
from app.gui.dialogs import show_model_details
from app.gui.widgets.chat_layout import ChatLayout, no_model_hint
from app.library.model_library import ModelEntry, ModelLibrary, embedding_model_note


class ModelChoice(QObject):
    controls_changed = Signal()  # what can be done now may have changed
    loaded = Signal()  # a model is ready: the message box may take the focus
    error = Signal(str, str)  # title, plain message
    notice = Signal(str)  # a passing remark for the status bar

    def __init__(
        self,
        layout: ChatLayout,
        loader: ModelLoader,
        library: ModelLibrary,
        access: LibraryAccess,
        settings: AppSettings,
        crashed_model: str,
    ) -> None:
        """`layout`: the window's widgets; `crashed_model`: the preferences key of the model
        that stopped Hearth last time ('' if none)."""
        super().__init__()
        self._layout, self._loader, self._library, self._access = layout, loader, library, access
        self._settings, self._crashed_model = settings, crashed_model
        layout.model_picker.activated.connect(self._on_picked)
        layout.crash_notice.retry_in_safe_mode.connect(self.retry_in_safe_mode)
        loader.loading.connect(self._on_loading)
        loader.progress.connect(layout.show_load_progress)
        loader.loaded.connect(self._on_loaded)
        loader.failed.connect(self._on_failed)
        loader.warning.connect(lambda text: self.error.emit(self.tr("This model may not fit"), text))
        loader.refused.connect(self._on_refused)
        access.load_requested.connect(self._on_chosen_in_library)
        access.models_changed.connect(self.refresh)
        access.services.queue.model_added.connect(self._on_downloaded)

    def refresh(self) -> None:
        """List the models again; with none loaded yet, load the one to start with."""
        policy = self._access.services.policy
        settings = self._settings.current()
        chosen = self._layout.model_picker.show_models([e for e in self._library.models() if policy.allows(*e.names)],
                                                       settings.last_model_id, policy.default_model)
        if chosen and not self._loader.model_id:
            if settings.preferences_of(chosen).crashed:  # never by itself after a crash
                self._layout.show_no_model(self.tr("No model loaded: the last one stopped Hearth"))
            else:
                self._loader.load(chosen)
        self.controls_changed.emit()

    def retry_in_safe_mode(self) -> None:
        """Load the model that stopped Hearth again, with the engine's speed-ups off."""
        self._settings.set_safe_mode(self._crashed_model, True)
        self._loader.load(self._crashed_model)

    def show_details(self, parent: QWidget) -> None:
        """The loaded model's facts; from there, safe mode can be turned off."""
        entry = self._loader.entry()
        if entry is None:
            self.error.emit(self.tr("No model loaded"), no_model_hint())
            return
        preferences = self._settings.current().preferences_of(entry.id)
        if show_model_details(parent, entry, preferences, safe_mode_label(preferences)):
            self._settings.set_safe_mode(entry.id, False)
            self._loader.load(entry.id)

    def _on_picked(self, index: int) -> None:
        model_id = self._layout.model_picker.itemData(index)
        if model_id and model_id != self._loader.model_id:
            self._loader.load(model_id)

    def _on_chosen_in_library(self, model_id: str) -> None:
        entry = self._library.get(model_id)
        if entry is not None and entry.is_embedding:  # it cannot reply: never the chat model
            self.error.emit(self.tr("Not a chat model"), embedding_model_note(entry.shown_name))
            return
        self._loader.load(model_id)
        picker = self._layout.model_picker
        picker.setCurrentIndex(max(0, picker.findData(model_id)))

    def _on_downloaded(self, entry: ModelEntry) -> None:
        self.notice.emit(self.tr("{name} is downloaded, verified and ready to use.").format(name=entry.shown_name))
        self.refresh()

    def _on_loading(self, name: str) -> None:
        self._layout.show_model_loading(name)
        self._access.show_loading(name)
        self.controls_changed.emit()

    def _on_loaded(self, facts: ModelFacts) -> None:
        entry = self._loader.entry()
        name = entry.shown_name if entry else facts.name
        self._access.show_loaded(name)
        self._layout.show_model_loaded(facts, name, (entry.license if entry else "") or facts.license)
        self._layout.crash_notice.hide()  # what it offered (safe mode, another model) was done: a model runs
        self.controls_changed.emit()
        self.loaded.emit()

    def _on_failed(self, message: str) -> None:
        self._layout.show_no_model(self.tr("No model loaded"))
        self._access.show_load_failed(message)
        self.controls_changed.emit()
        self.error.emit(self.tr("The model could not be loaded"), message)

    def _on_refused(self, message: str) -> None:
        self._access.show_load_failed(message)
        self.error.emit(self.tr("Not allowed here"), message)
