"""A check box and a number field for each reply setting an assistant or a chat may set
(SAMPLING_SPECS): a checked one is set there, an unchecked one comes from the layer below.
The Assistants dialog and Settings in force both show them."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QGridLayout, QSpinBox

from app.assistants.model import SAMPLING_SPECS
from app.config import schema
from app.platform.hardware import physical_cores

Spec = schema.NumberSetting[int] | schema.NumberSetting[float]


class OptionalSettings:
    def __init__(self, grid: QGridLayout) -> None:
        """The rows go into `grid` from its first row, in SAMPLING_SPECS' order."""
        self.boxes: dict[str, QCheckBox] = {}
        self.fields: dict[str, QSpinBox | QDoubleSpinBox] = {}
        for row, spec in enumerate(SAMPLING_SPECS):
            box = QCheckBox(spec.label_text)
            box.setToolTip(spec.help_text)
            field: QSpinBox | QDoubleSpinBox
            if spec.whole:
                field = QSpinBox(minimum=int(spec.minimum), maximum=int(spec.maximum), singleStep=int(spec.step))
            else:
                field = QDoubleSpinBox(minimum=spec.minimum, maximum=spec.maximum, singleStep=spec.step, decimals=spec.decimals)
            field.setSpecialValueText(spec.special_text.format(cores=physical_cores()))
            box.toggled.connect(field.setEnabled)
            grid.addWidget(box, row, 0)
            grid.addWidget(field, row, 1)
            self.boxes[spec.name], self.fields[spec.name] = box, field

    def show(self, values: Mapping[str, object], unset: Callable[[Spec], float]) -> None:
        """Check the settings `values` holds and show their values; the others unchecked,
        showing `unset(spec)` (what they come to without a value here)."""
        for spec in SAMPLING_SPECS:
            value = values.get(spec.name)
            given = isinstance(value, int | float)
            self.boxes[spec.name].setChecked(given)
            field = self.fields[spec.name]
            field.setEnabled(given)
            number = value if isinstance(value, int | float) else unset(spec)
            if isinstance(field, QSpinBox):
                field.setValue(int(number))
            else:
                field.setValue(float(number))

    def chosen(self) -> dict[str, int | float]:
        """The checked settings' values."""
        return {name: self.fields[name].value() for name, box in self.boxes.items() if box.isChecked()}
