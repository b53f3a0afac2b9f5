"""Engine and sampling settings, the default system prompt, and the prompt
format of the loaded model. One field for each entry of the settings schema
(app/config/schema.py), with its label, limits, step and help, the help written under
the field. What most people change is on the Everyday page; the rest, and the prompt
format, on the Advanced page."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.backends.base import prompt_format_label
from app.config import schema
from app.config.settings import Settings
from app.platform.hardware import physical_cores

Field = QSpinBox | QDoubleSpinBox | QLineEdit | QPlainTextEdit | QCheckBox
DIALOG_WIDTH = 720  # pixels: each help line wraps to two or three lines
SCREEN_MARGIN = 48  # pixels of the screen left around the dialog (its frame, a panel)
PAGE_INSET = 24  # pixels: the tab's frame and the page's margins, around the form


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
    elif isinstance(spec, schema.SwitchSetting):
        assert isinstance(value, bool)
        field = QCheckBox()
        field.setChecked(value)
        field.setAccessibleName(spec.label_text)  # its label is the row's, in front of it
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


def _add_row(form: QFormLayout, label: str, field: QWidget, help_text: str) -> None:
    """`field` after its label, and under it, in a smaller grey line, what it does."""
    form.addRow(label, field)
    explanation = QLabel(help_text)
    explanation.setWordWrap(True)
    explanation.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)  # under its field, however tall its row
    explanation.setForegroundRole(QPalette.ColorRole.PlaceholderText)  # grey in the light and dark palettes
    font = explanation.font()
    font.setPointSizeF(font.pointSizeF() * 0.9)
    explanation.setFont(font)
    form.addRow("", explanation)
    field.setAccessibleDescription(help_text)


def _scrolling_page(form: QFormLayout) -> QScrollArea:
    """`form` at the top of a page that scrolls when the dialog is shorter than it."""
    page = QWidget()
    column = QVBoxLayout(page)
    column.addLayout(form)
    column.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)  # the page as wide as the dialog: its help lines wrap to it
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidget(page)
    return scroll


def _page(tab: QWidget | None) -> QWidget:
    assert isinstance(tab, QScrollArea)
    page = tab.widget()
    assert page is not None
    return page


def _value_of(field: Field) -> Any:
    if isinstance(field, QPlainTextEdit):
        return field.toPlainText()
    if isinstance(field, QLineEdit):
        return field.text()
    if isinstance(field, QCheckBox):
        return field.isChecked()
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
        self.prompt_format.setAccessibleName(self.tr("Prompt format (this model)"))  # not its current choice
        self.prompt_format.view().setAccessibleName(self.tr("Prompt formats"))
        for choice in format_choices:
            self.prompt_format.addItem(prompt_format_label(choice), choice)
        self.prompt_format.setCurrentIndex(max(0, self.prompt_format.findData(settings.preferences_of(model_id).prompt_format)))
        self.prompt_format.setEnabled(bool(model_id))

        everyday, advanced = QFormLayout(), QFormLayout()
        fields: dict[str, Field] = {}
        for spec in schema.SETTINGS:
            field = fields[spec.name] = _field_for(spec, spec.read(settings))
            _add_row(advanced if spec.advanced else everyday, spec.label_text, field, spec.help_text)
        _add_row(advanced, self.tr("Prompt format (this model)"), self.prompt_format,
                 self.tr("How the conversation is written out for the model. Automatic picks the model's own."))
        self.fields: Mapping[str, Field] = fields
        self.pages = QTabWidget()  # made once the rows are in: a page measures its form when it is made
        for form, title in ((everyday, self.tr("Everyday")), (advanced, self.tr("Advanced"))):
            self.pages.addTab(_scrolling_page(form), title)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages)
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
            label = self.label_of(field)
            label.setText(self.tr("{setting}\n(set by your administrator)").format(setting=label.text()))
        if not downloads:
            hub = fields[schema.HUB_ENDPOINT.name]
            assert isinstance(hub, QLineEdit)
            hub.setReadOnly(True)
            hub.setToolTip(self.tr("Downloads are turned off by your administrator."))
        self._fit_screen()

    def _fit_screen(self) -> None:
        """As tall as the longer page with every help line wrapped whole, within the
        screen (a 1024 x 768 classroom laptop): a tab widget would squeeze each wrapped
        line to one, so each page scrolls instead."""
        screen = (self.parentWidget() or self).screen().availableGeometry()  # the window's, before this is shown
        width = min(DIALOG_WIDTH, screen.width() - SCREEN_MARGIN)
        page_width = width - 2 * PAGE_INSET
        tallest = max(_page(self.pages.widget(index)).heightForWidth(page_width) for index in range(self.pages.count()))
        chrome = self.sizeHint().height() - self.pages.sizeHint().height() + self.pages.tabBar().sizeHint().height()
        self.resize(width, min(tallest + chrome + PAGE_INSET, screen.height() - SCREEN_MARGIN))

    def label_of(self, field: QWidget) -> QLabel:
        """The label in front of `field`, on whichever page it is."""
        for form in self.pages.findChildren(QFormLayout):
            label = form.labelForField(field)
            if isinstance(label, QLabel):
                return label
        raise LookupError(field)

    def result_settings(self) -> Settings:
        """The edited copy, within the schema's limits; the caller decides whether to apply it."""
        result = copy.deepcopy(self._settings)
        for spec in schema.SETTINGS:
            spec.write(result, spec.within_limits(_value_of(self.fields[spec.name])))
        if self._model_id:
            result.model_preferences(self._model_id).prompt_format = self.prompt_format.currentData()
        return result
