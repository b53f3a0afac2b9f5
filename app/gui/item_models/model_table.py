"""My models as a table: what is installed, how well it fits, whether it is in use."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, QPersistentModelIndex, Qt

from app.config.settings import usable_context
from app.gui.widgets.fit_look import verdict_colour
from app.gui.widgets.name_eliding import NAME_ROLE
from app.library.model_library import ModelEntry
from app.modelfile.fit import Fit, Machine, judge
from app.modelfile.gguf_info import parameters_label

Index = QModelIndex | QPersistentModelIndex
ModelIdRole = Qt.ItemDataRole.UserRole + 1

COLUMNS = ("Name", "Fit", "Size", "Parameters", "Quantization", "Context", "Source", "Added", "License", "Status")  # ids; headers: _headers


def size_label(size: int) -> str:
    if size >= 1e9:
        return QCoreApplication.translate("ModelTableModel", "{gigabytes:,.1f} GB").format(gigabytes=size / 1e9)
    return QCoreApplication.translate("ModelTableModel", "{megabytes:,.0f} MB").format(megabytes=size / 1e6)


class ModelTableModel(QAbstractTableModel):
    def __init__(self, machine: Machine, context_length: int) -> None:
        super().__init__()
        self._machine = machine
        self._context_length = context_length
        self._rows: list[tuple[ModelEntry, Fit]] = []
        self._in_use = ""
        self._updates: set[str] = set()
        self._headers = {
            "Name": self.tr("Name"), "Fit": self.tr("Fit"), "Size": self.tr("Size"), "Parameters": self.tr("Parameters"),
            "Quantization": self.tr("Quantization"), "Context": self.tr("Context"), "Source": self.tr("Source"),
            "Added": self.tr("Added"), "License": self.tr("License"), "Status": self.tr("Status"),
        }

    def set_machine(self, machine: Machine) -> None:
        """Judge against `machine` from the next `set_entries` on."""
        self._machine = machine

    def set_entries(self, entries: list[ModelEntry], context_length: int | None = None) -> None:
        """Show `entries`, judged at `context_length` tokens (or the last one given),
        capped at what each model was trained for, as the engine does."""
        if context_length is not None:
            self._context_length = context_length
        self.beginResetModel()
        self._rows = [(e, self._judge(e)) for e in sorted(entries, key=lambda e: e.added_at, reverse=True)]
        self.endResetModel()

    def _judge(self, entry: ModelEntry) -> Fit:
        context = usable_context(self._context_length, entry.context_length)
        return judge(entry.size, entry.kv_bytes_per_token, context, self._machine.total_memory, self._machine.gpu_memory)

    @property
    def in_use(self) -> str:
        return self._in_use

    def set_in_use(self, model_id: str) -> None:
        self._in_use = model_id
        self._status_changed()

    def set_updates(self, model_ids: set[str]) -> None:
        self._updates = model_ids
        self._status_changed()

    def entry(self, row: int) -> ModelEntry | None:
        return self._rows[row][0] if 0 <= row < len(self._rows) else None

    def row_of(self, model_id: str) -> int:
        return next((i for i, (e, _) in enumerate(self._rows) if e.id == model_id), -1)

    def status_of(self, entry: ModelEntry) -> str:
        words = [self.tr("For documents (an embedding model)")] if entry.is_embedding else []
        if entry.id == self._in_use:
            words.append(self.tr("In use"))
        if entry.id in self._updates:
            words.append(self.tr("Update available"))
        return ", ".join(words)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            return self._headers[COLUMNS[section]]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        entry, fit = self._rows[index.row()]
        if role == ModelIdRole:
            return entry.id
        if role == NAME_ROLE and COLUMNS[index.column()] == "Name":
            return entry.shown_name  # shortened where the column is narrow, never its mark
        if role == Qt.ItemDataRole.ForegroundRole and COLUMNS[index.column()] == "Fit":
            return verdict_colour(fit.verdict)
        if role == Qt.ItemDataRole.ToolTipRole:
            if COLUMNS[index.column()] == "Name":  # the whole name, where the column shows it shortened
                return f"{self._cell(entry, fit, 'Name')}\n{self.file_tooltip(entry)}"
            return fit.explanation if COLUMNS[index.column()] == "Fit" else self.file_tooltip(entry)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return self._cell(entry, fit, COLUMNS[index.column()])

    @staticmethod
    def file_tooltip(entry: ModelEntry) -> str:
        if entry.in_place:
            return QCoreApplication.translate("ModelTableModel", "{path} (used where it is)").format(path=entry.path)
        return QCoreApplication.translate("ModelTableModel", "{path} (in Hearth's models folder)").format(path=entry.path)

    def _cell(self, entry: ModelEntry, fit: Fit, column: str) -> str:
        if column == "Name":
            if entry.has_chat_template or entry.is_embedding:  # an embedding model's Status says what it is for
                return entry.shown_name
            return self.tr("{name}  ·  not made for chat").format(name=entry.shown_name)  # as the model picker says it
        if column == "Fit":
            return fit.label
        if column == "Size":
            return size_label(entry.size)
        if column == "Parameters":
            return parameters_label(entry.parameters, million_decimals=0)
        if column == "Quantization":
            return entry.quantization
        if column == "Context":
            return f"{entry.context_length:,}"
        if column == "Source":
            return f"{entry.repo} ({entry.revision[:7]})" if entry.repo else entry.source
        if column == "Added":
            return time.strftime("%Y-%m-%d", time.localtime(entry.added_at))
        if column == "License":
            return entry.license or self.tr("unknown")
        return self.status_of(entry)

    def _status_changed(self) -> None:
        if self._rows:
            column = COLUMNS.index("Status")
            self.dataChanged.emit(self.index(0, column), self.index(len(self._rows) - 1, column))
