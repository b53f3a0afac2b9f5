"""The window's model menu: the installed chat models the administrator allows (an
embedding model is for the documents, never offered here)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from app.library.model_library import ModelEntry


class ModelPicker(QComboBox):
    def __init__(self) -> None:
        super().__init__()
        self.setMinimumWidth(320)
        # Without a name of its own a screen reader says only the chosen model's label.
        self.setAccessibleName(self.tr("Model"))
        self.setAccessibleDescription(self.tr("The model that writes the replies. Choosing another one loads it."))
        self.view().setAccessibleName(self.tr("Installed models"))
        self.has_models = False

    def show_models(self, entries: list[ModelEntry], last_used: str, default: str) -> str:
        """List the chat models of `entries` and select the last used one (else the default,
        else the first). Returns the selected model's id, '' when there is none: an embedding
        model is neither listed nor selected (it cannot reply)."""
        self.clear()
        embedders = [entry for entry in entries if entry.is_embedding]
        entries = [entry for entry in entries if not entry.is_embedding]
        for entry in entries:
            label = (self.tr("{name}  ·  {megabytes:,.0f} MB") if entry.has_chat_template
                     else self.tr("{name}  ·  {megabytes:,.0f} MB  ·  not made for chat"))
            self.addItem(label.format(name=entry.shown_name, megabytes=entry.size / 1e6), entry.id)
            lines = [self.tr("{millions:,.0f}M parameters, {quantization}, license: {license}\nSource: {source}").format(
                millions=entry.parameters / 1e6, quantization=entry.quantization,
                license=entry.license or self.tr("unknown"), source=entry.source,
            )]
            if not entry.has_chat_template:
                lines.append(self.tr("A base model: it continues text and was not taught to chat, so its answers may wander."))
            self.setItemData(self.count() - 1, "\n".join(lines), Qt.ItemDataRole.ToolTipRole)
        self.has_models = bool(entries)
        self.setEnabled(self.has_models)
        if not entries:
            self.addItem(self.tr("No chat model installed") if embedders else self.tr("No models installed"))
            return ""
        wanted = last_used if self.findData(last_used) >= 0 else default
        index = max(0, self.findData(wanted))
        self.setCurrentIndex(index)
        return entries[index].id
