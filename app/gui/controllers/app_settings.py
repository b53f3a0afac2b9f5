"""The settings in force in this window: changing, saving and re-reading them.

A controller, not a widget, and the one owner of the settings in force: the chat session,
the model loader, the Library and the packs read `current()` and change them only through
its methods. A change is announced once, and `engine_changed` says when the loaded model
must be loaded again.
"""

from __future__ import annotations

import copy
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.config import schema
from app.config.policy import Policy
from app.config.settings import Settings, load_settings, save_settings
from app.platform.errors import HearthError


class AppSettings(QObject):
    changed = Signal(object)  # Settings: the ones now in force
    engine_changed = Signal()  # the loaded model must be loaded again to follow them
    save_failed = Signal(str)  # plain message

    def __init__(self, settings: Settings, settings_file: Path, policy: Policy) -> None:
        super().__init__()
        self._settings, self._file, self._policy = settings, settings_file, policy

    def current(self) -> Settings:
        return self._settings

    @property
    def locked(self) -> frozenset[str]:
        """The settings the administrator locked (schema names)."""
        return frozenset(self._policy.locked)

    def save(self) -> None:
        try:
            save_settings(self._settings, self._file)
        except HearthError as exc:
            self.save_failed.emit(str(exc))

    def edited(self, chosen: Settings) -> None:
        """The user changed them in the settings dialog: what the dialog shows (the schema's
        settings and the models' prompt formats) is taken from `chosen`, everything else
        stays as it is now (it may have changed while the dialog was open: a model loaded
        cleanly after a crash); the administrator's locks apply; they are saved."""
        updated = copy.deepcopy(self._settings)
        for spec in schema.SETTINGS:
            spec.write(updated, spec.read(chosen))
        for model_id, preferences in chosen.models.items():
            updated.model_preferences(model_id).prompt_format = preferences.prompt_format
        self._adopt(self._policy.apply(updated))
        self.save()

    def reread(self) -> None:
        """The file now holds other settings (a pack brought them); this window's own stay."""
        fresh = self._policy.apply(load_settings(self._file))
        fresh.window_geometry, fresh.last_model_id = self._settings.window_geometry, self._settings.last_model_id
        self._adopt(fresh)

    def set_safe_mode(self, model_id: str, on: bool) -> None:
        self._settings.model_preferences(model_id).safe_mode = on
        self.save()

    def remember_model(self, model_id: str) -> None:
        """The model chosen last, loaded again at the next start (saved with the window's geometry)."""
        self._settings.last_model_id = model_id

    def loaded_cleanly(self, model_id: str) -> None:
        """The model loaded: after a crash, it may load by itself at start again."""
        if self._settings.preferences_of(model_id).crashed:
            self._settings.model_preferences(model_id).crashed = ""
            self.save()

    def keep_geometry(self, geometry: str) -> None:
        self._settings.window_geometry = geometry
        self.save()

    def _adopt(self, updated: Settings) -> None:
        engine_changed = updated.engine != self._settings.engine
        self._settings = updated
        self.changed.emit(updated)
        if engine_changed:
            self.engine_changed.emit()
