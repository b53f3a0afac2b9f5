"""The settings in force in this window: changing, saving and re-reading them.

A controller, not a widget. The chat session, the model loader, the Library and the
packs read `current()`; a change is announced once, and `engine_changed` says when the
loaded model must be loaded again.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

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
        """The user changed them (the settings dialog): the administrator's locks apply,
        this window's own state (its geometry) stays, and they are saved."""
        updated = self._policy.apply(chosen)
        updated.window_geometry = self._settings.window_geometry
        self._adopt(updated)
        self.save()

    def reread(self) -> None:
        """The file now holds other settings (a pack brought them); this window's own stay."""
        fresh = self._policy.apply(load_settings(self._file))
        fresh.window_geometry, fresh.last_model_id = self._settings.window_geometry, self._settings.last_model_id
        self._adopt(fresh)

    def set_safe_mode(self, model_id: str, on: bool) -> None:
        self._settings.model_preferences(model_id).safe_mode = on
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
