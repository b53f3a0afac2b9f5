"""The settings in force in this window: changing, saving and re-reading them.

A controller, not a widget, and the one owner of the settings in force: the chat session,
the model loader, the Library and the packs read `current()` and change them only through
its methods. A change is announced once, and `engine_changed` says when the loaded model
must be loaded again.

Each change is saved by itself, to the settings file as it is at that moment
(`update_settings`): another process may have changed other settings since this window
read them (a pack imported with `hearth pack import`, a second window), and saving the
whole of this window's copy, as closing the window did, put the old values back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.config import schema
from app.config.policy import Policy
from app.config.settings import Settings, load_settings, update_settings
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

    def _save(self, change: Callable[[Settings], None]) -> None:
        """Make `change` here and in the file."""
        change(self._settings)
        self._write(change)

    def _write(self, change: Callable[[Settings], None]) -> None:
        """Make `change` in the file, where nothing else is touched."""
        try:
            update_settings(self._file, change)
        except HearthError as exc:
            self.save_failed.emit(str(exc))

    def edited(self, chosen: Settings) -> None:
        """The user changed them in the settings dialog: what the dialog shows (the schema's
        settings and the models' prompt formats) and the user changed there is taken from
        `chosen`; everything else stays as it is now (it may have changed while the dialog
        was open: a model loaded cleanly after a crash); the administrator's locks apply."""
        current = self._settings
        changed_specs = [spec for spec in schema.SETTINGS if spec.read(chosen) != spec.read(current)]
        formats = {model_id: preferences.prompt_format for model_id, preferences in chosen.models.items()
                   if preferences.prompt_format != current.preferences_of(model_id).prompt_format}

        def change(settings: Settings) -> None:
            for spec in changed_specs:
                spec.write(settings, spec.read(chosen))
            for model_id, prompt_format in formats.items():
                settings.model_preferences(model_id).prompt_format = prompt_format

        updated = copy.deepcopy(current)
        change(updated)
        self._adopt(self._policy.apply(updated))
        self._write(change)

    def reread(self) -> None:
        """The file now holds other settings (a pack brought them); this window's own stay."""
        fresh = self._policy.apply(load_settings(self._file))
        fresh.window_geometry, fresh.last_model_id = self._settings.window_geometry, self._settings.last_model_id
        self._adopt(fresh)

    def set_safe_mode(self, model_id: str, on: bool) -> None:
        self._save(lambda settings: setattr(settings.model_preferences(model_id), "safe_mode", on))

    def remember_model(self, model_id: str) -> None:
        """The model chosen last, loaded again at the next start."""
        self._save(lambda settings: setattr(settings, "last_model_id", model_id))

    def loaded_cleanly(self, model_id: str) -> None:
        """The model loaded: after a crash, it may load by itself at start again."""
        if self._settings.preferences_of(model_id).crashed:
            self._save(lambda settings: setattr(settings.model_preferences(model_id), "crashed", ""))

    def keep_geometry(self, geometry: str) -> None:
        self._save(lambda settings: setattr(settings, "window_geometry", geometry))

    def _adopt(self, updated: Settings) -> None:
        engine_changed = updated.engine != self._settings.engine
        self._settings = updated
        self.changed.emit(updated)
        if engine_changed:
            self.engine_changed.emit()
