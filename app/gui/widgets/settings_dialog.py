"""Engine and sampling settings, the default system prompt, and the prompt
format of the loaded model."""

from __future__ import annotations

import copy
from collections.abc import Sequence

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.config.policy import SET_BY_ADMIN
from app.config.settings import Settings, clean_hub_endpoint
from app.platform.hardware import physical_cores

_FORMAT_LABELS = {
    "auto": "Automatic (recommended)",
    "model": "The model's own chat template",
    "completion": "Plain text completion",
}


class SettingsDialog(QDialog):
    def __init__(
        self,
        settings: Settings,
        model_id: str,
        prompt_formats: Sequence[str],
        parent: QWidget | None = None,
        locked: frozenset[str] = frozenset(),
    ) -> None:
        """`prompt_formats`: the backend's choices (Capabilities.prompt_formats). `locked`:
        policy setting names (the same as this dialog's field names) that the
        administrator set; they are shown, greyed, with who set them."""
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._settings = copy.deepcopy(settings)
        self._model_id = model_id
        form = QFormLayout()

        self.context_length = QSpinBox(minimum=256, maximum=262144, singleStep=1024)
        self.context_length.setValue(settings.engine.context_length)
        self.context_length.setToolTip("How much of the conversation the model can read at once, in tokens. More uses more memory.")
        form.addRow("Context length", self.context_length)

        self.threads = QSpinBox(minimum=0, maximum=256)
        self.threads.setSpecialValueText(f"Automatic ({physical_cores()})")
        self.threads.setValue(settings.engine.threads)
        form.addRow("CPU threads", self.threads)

        sampling = settings.sampling
        self.temperature = QDoubleSpinBox(minimum=0.0, maximum=2.0, singleStep=0.05, decimals=2)
        self.temperature.setValue(sampling.temperature)
        self.temperature.setToolTip("Lower is more focused and repeatable; higher is more varied.")
        form.addRow("Temperature", self.temperature)
        self.top_p = QDoubleSpinBox(minimum=0.0, maximum=1.0, singleStep=0.05, decimals=2)
        self.top_p.setValue(sampling.top_p)
        form.addRow("Top-p", self.top_p)
        self.max_tokens = QSpinBox(minimum=16, maximum=131072, singleStep=128)
        self.max_tokens.setValue(sampling.max_tokens)
        form.addRow("Longest reply (tokens)", self.max_tokens)
        self.repeat_penalty = QDoubleSpinBox(minimum=0.5, maximum=2.0, singleStep=0.05, decimals=2)
        self.repeat_penalty.setValue(sampling.repeat_penalty)
        form.addRow("Repeat penalty", self.repeat_penalty)
        self.seed = QSpinBox(minimum=-1, maximum=2**31 - 1)
        self.seed.setSpecialValueText("Random")
        self.seed.setValue(sampling.seed)
        form.addRow("Seed", self.seed)

        self.prompt_format = QComboBox()
        for choice in prompt_formats:
            self.prompt_format.addItem(_FORMAT_LABELS.get(choice, f"{choice} chat format"), choice)
        current = settings.models.get(model_id)
        self.prompt_format.setCurrentIndex(
            max(0, self.prompt_format.findData(current.prompt_format if current else "auto"))
        )
        self.prompt_format.setEnabled(bool(model_id))
        form.addRow("Prompt format (this model)", self.prompt_format)

        self.system_prompt = QPlainTextEdit(settings.system_prompt)
        self.system_prompt.setMaximumHeight(100)
        form.addRow("Default system prompt", self.system_prompt)

        self.hub_endpoint = QLineEdit(settings.library.hub_endpoint)
        self.hub_endpoint.setPlaceholderText("https://huggingface.co")
        self.hub_endpoint.setToolTip("Where models are downloaded from: leave empty for Hugging Face, "
                                     "or enter your school's or company's mirror.")
        form.addRow("Download models from", self.hub_endpoint)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        for name in sorted(locked):
            field = getattr(self, name)
            field.setEnabled(False)
            field.setToolTip(SET_BY_ADMIN)
            label = form.labelForField(field)
            assert isinstance(label, QLabel)
            label.setText(f"{label.text()}\n({SET_BY_ADMIN.lower()})")

    def result_settings(self) -> Settings:
        """The edited copy; the caller decides whether to apply it."""
        result = copy.deepcopy(self._settings)
        result.engine.context_length = self.context_length.value()
        result.engine.threads = self.threads.value()
        result.sampling.temperature = self.temperature.value()
        result.sampling.top_p = self.top_p.value()
        result.sampling.max_tokens = self.max_tokens.value()
        result.sampling.repeat_penalty = self.repeat_penalty.value()
        result.sampling.seed = self.seed.value()
        result.system_prompt = self.system_prompt.toPlainText()
        result.library.hub_endpoint = clean_hub_endpoint(self.hub_endpoint.text())
        if self._model_id:
            result.model_preferences(self._model_id).prompt_format = self.prompt_format.currentData()
        return result
