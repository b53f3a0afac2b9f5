"""The window's model menu: the installed chat models the administrator allows (an
embedding model is for the documents, never offered here). A long name is shortened,
never its size or its "not made for chat" (app/gui/widgets/name_eliding.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QComboBox, QStyle, QStyleOptionComboBox, QStylePainter

from app.gui.widgets.name_eliding import NAME_ROLE, NameElidingDelegate, fit_name
from app.library.model_library import ModelEntry


class ModelPicker(QComboBox):
    def __init__(self) -> None:
        super().__init__()
        self.setMinimumWidth(320)
        # Without a name of its own a screen reader says only the chosen model's label.
        self.setAccessibleName(self.tr("Model"))
        self.setAccessibleDescription(self.tr("The model that writes the replies. Choosing another one loads it."))
        self.view().setAccessibleName(self.tr("Installed models"))
        self.view().setItemDelegate(NameElidingDelegate(self.view()))
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
            self.setItemData(self.count() - 1, entry.shown_name, NAME_ROLE)
            lines = [entry.shown_name, self.tr("{millions:,.0f}M parameters, {quantization}, license: {license}\nSource: {source}").format(
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

    def paintEvent(self, event: QPaintEvent) -> None:
        """QComboBox's own painting, with the chosen model's name shortened to fit."""
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        name = self.currentData(NAME_ROLE)
        if isinstance(name, str):
            field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                                QStyle.SubControl.SC_ComboBoxEditField, self)
            # The style draws the text one pixel in from each side of the field.
            option.currentText = fit_name(option.currentText, name, self.fontMetrics(), field.width() - 2)
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)
