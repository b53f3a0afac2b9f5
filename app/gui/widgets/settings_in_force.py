""""Settings in force": each setting a reply in this chat is written with, its value, and
where that value comes from (Hearth's default, your Settings, the assistant, this
conversation, or the administrator). The values are `app.chat.reply.settings_in_force`'s:
the same the reply is written with. Below them, the sampling settings this chat keeps for
itself, over its assistant's, can be chosen."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.assistants.in_force import InForce, Value
from app.assistants.model import SAMPLING_SPECS
from app.config import schema
from app.gui.widgets.optional_settings import OptionalSettings

SHOWN_TEXT = 80  # characters of a system prompt shown in its cell; the whole of it is the cell's tooltip


def shown_value(forced: InForce) -> str:
    """The value as Settings shows it: 'Random' for a seed of -1, two decimals for a temperature."""
    spec, value = forced.spec, forced.value
    if isinstance(spec, schema.NumberSetting):
        assert isinstance(value, int | float)
        if spec.special and value == spec.minimum:
            return spec.special_text
        return f"{value:.{spec.decimals}f}" if not spec.whole else str(value)
    text = str(value).replace("\n", " ")
    return text if len(text) <= SHOWN_TEXT else text[: SHOWN_TEXT - 1] + "…"


class SettingsInForceDialog(QDialog):
    own_chosen = Signal(object)  # dict: the sampling settings this chat keeps for itself (name -> value)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings in force"))
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels([self.tr("Setting"), self.tr("Value"), self.tr("Where it comes from")])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)

        self.own = QGroupBox(self.tr("This chat's own settings (over its assistant's and yours)"))
        grid = QGridLayout(self.own)
        self.own_settings = OptionalSettings(grid)
        self.apply_button = QPushButton(self.tr("Use for this chat"))
        self.apply_button.clicked.connect(lambda: self.own_chosen.emit(self.chosen_own()))
        grid.addWidget(self.apply_button, len(SAMPLING_SPECS), 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.table)
        layout.addWidget(self.own)
        layout.addWidget(buttons)
        self.resize(720, 520)

    def show_forced(self, heading: str, forced: Mapping[str, InForce], own: Mapping[str, Value] | None) -> None:
        """Show `forced` under `heading`; `own`: the settings the chat keeps for itself, None
        for a chat not begun yet (it has nowhere to keep them)."""
        self.heading.setText(heading)
        self.table.setRowCount(len(forced))
        for row, item in enumerate(forced.values()):
            cells = (item.spec.label_text, shown_value(item), item.source.label)
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(str(item.value) if column == 1 else item.spec.help_text)
                self.table.setItem(row, column, cell)
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(2)
        self.own.setVisible(own is not None)
        self.own_settings.show(own or {}, lambda spec: float(forced[spec.name].value))

    def chosen_own(self) -> dict[str, Value]:
        return dict(self.own_settings.chosen())

    def rows(self) -> list[tuple[str, str, str]]:
        """What the table shows, row by row."""
        def text(row: int, column: int) -> str:
            item = self.table.item(row, column)
            return item.text() if item is not None else ""
        return [(text(row, 0), text(row, 1), text(row, 2)) for row in range(self.table.rowCount())]
