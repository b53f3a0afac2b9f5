"""The model library as the main window reaches it: the Library window, opened on
demand and kept in step with the loaded model, the settings and this computer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.config.settings import Settings
from app.gui.library.library_window import LibraryServices, LibraryWindow
from app.library.model_library import ModelLibrary
from app.modelfile.fit import Machine


class LibraryAccess(QObject):
    load_requested = Signal(str)  # model id, chosen in the Library window
    models_changed = Signal()  # models were added or removed there

    def __init__(
        self,
        library: ModelLibrary,
        services: LibraryServices,
        settings: Callable[[], Settings],
        in_use: Callable[[], str],
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.services = services
        self._settings = settings
        self._in_use = in_use
        self._parent = parent
        self.window: LibraryWindow | None = None

    def open(self) -> LibraryWindow:
        if self.window is None:
            self.window = LibraryWindow(self.library, self.services, self._settings(), self._parent)
            self.window.load_requested.connect(self.load_requested)
            self.window.models_changed.connect(self.models_changed)
        self.window.refresh(self._in_use())
        self.window.show()
        self.window.raise_()
        return self.window

    def add_files(self, paths: list[Path]) -> None:
        self.open().add_files(paths)

    def choose_files(self) -> None:
        self.open().choose_files()

    def show_loading(self, name: str) -> None:
        if self.window is not None:
            self.window.show_loading(name)

    def show_loaded(self, name: str) -> None:
        """The model `name` is loaded: the Library marks it in use and says so."""
        if self.window is not None:
            self.window.refresh(self._in_use())
            self.window.show_loaded(name)

    def show_load_failed(self, message: str) -> None:
        """A load failed: nothing is in use now (the loader let the earlier model go)."""
        if self.window is not None:
            self.window.refresh(self._in_use())
            self.window.show_load_failed(message)

    def set_accelerator_memory(self, size: int) -> None:
        """The graphics card's memory, probed off the GUI thread after start."""
        self.services.machine = Machine(self.services.machine.total_memory, size)
        if self.window is not None:
            self.window.set_machine(self.services.machine)

    def apply_settings(self, settings: Settings) -> None:
        self.services.queue.set_hub_endpoint(settings.library.hub_endpoint)
        if self.window is not None:
            self.window.apply_settings(settings)

    def close(self) -> None:
        """Close the window and pause the downloads (kept on disk; Resume continues next time)."""
        if self.window is not None:
            self.window.close()
        self.services.queue.pause_all()
        self.services.thread.quit()
