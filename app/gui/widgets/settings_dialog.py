"""Engine and sampling settings, the default system prompt, and the prompt
format of the loaded model. One field for each entry of the settings schema
(app/config/schema.py), with its label, limits, step and help."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.backends.base import prompt_format_label
from app.config import schema
from app.config.settings import Settings
from app.platform.hardware import physical_cores

Field = QSpinBox | QDoubleSpinBox | QLineEdit | QPlainTextEdit


def _field_for(spec: schema.Setting, value: object) -> Field:
    field: Field
    if isinstance(spec, schema.TextSetting):
        assert isinstance(value, str)
        if spec.multiline:
            field = QPlainTextEdit(value)
            field.setMaximumHeight(100)
        else:
            field = QLineEdit(value)
            field.setPlaceholderText(spec.placeholder)
    else:
        assert isinstance(value, int | float)
        if spec.whole:
            field = QSpinBox(minimum=int(spec.minimum), maximum=int(spec.maximum), singleStep=int(spec.step))
            field.setValue(int(value))
        else:
            field = QDoubleSpinBox(minimum=spec.minimum, maximum=spec.maximum, singleStep=spec.step, decimals=spec.decimals)
            field.setValue(value)
        field.setSpecialValueText(spec.special_text.format(cores=physical_cores()))
    field.setToolTip(spec.help_text)
    return field


def _value_of(field: Field) -> Any:
    if isinstance(field, QPlainTextEdit):
        return field.toPlainText()
    if isinstance(field, QLineEdit):
        return field.text()
    return field.value()


class SettingsDialog(QDialog):
    def __init__(
        self,
        settings: Settings,
        model_id: str,
        parent: QWidget | None = None,
        locked: frozenset[str] = frozenset(),
        *,
        format_choices: Sequence[str],
        downloads: bool = True,
    ) -> None:
        """`locked`: names of settings (the schema's) that the administrator set; they are
        shown with who set them, numbers greyed, texts as text to read. `format_choices`: the
        prompt formats the backend offers for the model `model_id` ("auto", "model" and
        "completion" get plain names). `downloads`: False when the administrator turned
        downloads off: where they would come from is then only shown."""
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self._settings = copy.deepcopy(settings)
        self._model_id = model_id
        self.prompt_format = QComboBox()
        for choice in format_choices:
            self.prompt_format.addItem(prompt_format_label(choice), choice)
        self.prompt_format.setCurrentIndex(max(0, self.prompt_format.findData(settings.preferences_of(model_id).prompt_format)))
        self.prompt_format.setEnabled(bool(model_id))

        form = QFormLayout()
        fields: dict[str, Field] = {}
        for spec in schema.SETTINGS:
            if spec is schema.SYSTEM_PROMPT:  # with the other choices that shape a reply
                form.addRow(self.tr("Prompt format (this model)"), self.prompt_format)
            fields[spec.name] = _field_for(spec, spec.read(settings))
            form.addRow(spec.label_text, fields[spec.name])
        self.fields: Mapping[str, Field] = fields

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        for name in sorted(locked):
            field = fields[name]
            if isinstance(field, QPlainTextEdit):  # flowing text to read, not a greyed box
                field.setReadOnly(True)
                field.setFrameShape(QFrame.Shape.NoFrame)
            elif isinstance(field, QLineEdit):
                field.setReadOnly(True)
                field.setFrame(False)
            else:
                field.setEnabled(False)
            field.setToolTip(self.tr("Set by your administrator"))
            label = form.labelForField(field)
            assert isinstance(label, QLabel)
            label.setText(self.tr("{setting}\n(set by your administrator)").format(setting=label.text()))
        if not downloads:
            hub = fields[schema.HUB_ENDPOINT.name]
            assert isinstance(hub, QLineEdit)
            hub.setReadOnly(True)
            hub.setToolTip(self.tr("Downloads are turned off by your administrator."))

    def result_settings(self) -> Settings:
        """The edited copy, within the schema's limits; the caller decides whether to apply it."""
        result = copy.deepcopy(self._settings)
        for spec in schema.SETTINGS:
            spec.write(result, spec.within_limits(_value_of(self.fields[spec.name])))
        if self._model_id:
            result.model_preferences(self._model_id).prompt_format = self.prompt_format.currentData()
        return result
