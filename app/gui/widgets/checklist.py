"""Small shared pieces of the library's dialogs: a checked list, and .gguf drops."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QListWidget, QListWidgetItem


def checked_list(name: str, texts: list[str], tooltips: list[str] | None = None) -> QListWidget:
    """A list of rows, each with a checkbox, all checked; `name` is what a screen reader calls it."""
    widget = QListWidget()
    widget.setAccessibleName(name)
    for row, text in enumerate(texts):
        item = QListWidgetItem(text)
        item.setCheckState(Qt.CheckState.Checked)
        if tooltips:
            item.setToolTip(tooltips[row])
        widget.addItem(item)
    return widget


def checked_rows(widget: QListWidget) -> list[int]:
    return [row for row in range(widget.count()) if widget.item(row).checkState() == Qt.CheckState.Checked]


def dropped_models(mime: QMimeData) -> list[Path]:
    """The .gguf files among dropped URLs; [] when anything else is dropped."""
    paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    return paths if paths and all(p.suffix.lower() == ".gguf" for p in paths) else []


class ModelDropTarget:
    """Mixin for a window that takes .gguf files dropped on it (listed before the Qt class)."""

    def add_dropped_models(self, paths: list[Path]) -> None:
        raise NotImplementedError

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_models(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = dropped_models(event.mimeData())
        if paths:
            event.acceptProposedAction()
            self.add_dropped_models(paths)
