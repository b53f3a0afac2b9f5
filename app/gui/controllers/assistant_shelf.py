"""The assistants this window offers: read from the user's assistants folder off the GUI
thread, and every change (save, duplicate, delete, import, export) made there too.

A controller, not a widget: the assistant picker and the Assistants dialog show `shelf`
and change it only through these methods; `changed` says when it was read again.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.assistants.book import AssistantBook, Shelf
from app.assistants.built_ins import BUILT_INS
from app.assistants.model import Assistant
from app.gui.dialogs import error_message
from app.gui.ops import run_in_background


class AssistantShelf(QObject):
    changed = Signal(object)  # Shelf: read again
    done = Signal(object)  # Assistant: the one a change (save, duplicate, import) made
    failed = Signal(str)  # plain message: a change that could not be made

    def __init__(self, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._book = AssistantBook(folder)
        self.shelf = Shelf(BUILT_INS)  # until the folder is read: the built-ins alone

    def read(self) -> None:
        run_in_background(self, self._book.read, on_success=self._adopt,
                          on_failure=lambda error: self.failed.emit(error_message(error)))

    def save(self, assistant: Assistant) -> None:
        self._change(lambda: self._book.save(assistant))

    def duplicate(self, assistant: Assistant) -> None:
        self._change(lambda: self._book.duplicate(assistant))

    def delete(self, assistant: Assistant) -> None:
        def work() -> Assistant:
            self._book.delete(assistant.id)
            return self._book.get(assistant.id) or assistant  # an edited built-in is back as it shipped
        self._change(work)

    def import_file(self, path: Path) -> None:
        self._change(lambda: self._book.import_file(path))

    def export(self, assistant: Assistant, path: Path) -> None:
        def work() -> Assistant:
            self._book.export(assistant, path)
            return assistant
        self._change(work)

    def _change(self, work: Callable[[], Assistant]) -> None:
        def changed_then_read() -> tuple[Assistant, Shelf]:
            return work(), self._book.read()

        def adopt(result: tuple[Assistant, Shelf]) -> None:
            self._adopt(result[1])
            self.done.emit(result[0])

        run_in_background(self, changed_then_read, on_success=adopt, on_failure=lambda error: self.failed.emit(error_message(error)))

    def _adopt(self, shelf: Shelf) -> None:
        self.shelf = shelf
        self.changed.emit(shelf)
