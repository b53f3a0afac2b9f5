"""The settings dialog as the user sees it: one field per schema entry, with the schema's
label, limits, step and help; the prompt formats it is given; the administrator's locks."""

from __future__ import annotations

import contextlib
import subprocess
import sys

import pytest
from PySide6.QtCore import QPoint, QSize
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QPlainTextEdit, QScrollArea, QSpinBox, QWidget

from app.config import schema
from app.config.settings import Settings
from app.gui.widgets.settings_dialog import SettingsDialog
from app.platform.hardware import physical_cores
from tests.conftest import REPO

CHOICES = ["auto", "model", "chatml", "gemma", "completion"]


def open_dialog(qtbot, settings: Settings | None = None, model_id: str = "smollm2", **options) -> SettingsDialog:
    dialog = SettingsDialog(settings or Settings(), model_id, None, format_choices=CHOICES, **options)
    qtbot.addWidget(dialog)
    return dialog


def label_of(dialog: SettingsDialog, field) -> str:
    return dialog.label_of(field).text()


def test_each_setting_is_shown_as_the_schema_says(qtbot) -> None:
    dialog = open_dialog(qtbot)
    assert list(dialog.fields) == [spec.name for spec in schema.SETTINGS]
    for spec in schema.SETTINGS:
        field = dialog.fields[spec.name]
        assert label_of(dialog, field) == spec.label and field.toolTip() == spec.help
        if isinstance(spec, schema.NumberSetting):
            assert isinstance(field, QSpinBox if spec.whole else QDoubleSpinBox), spec.name
            assert (field.minimum(), field.maximum(), field.singleStep()) == (spec.minimum, spec.maximum, spec.step)
            assert field.value() == spec.default
    assert dialog.fields["temperature"].decimals() == 2
    assert dialog.fields["threads"].specialValueText() == f"Automatic ({physical_cores()})"
    assert dialog.fields["seed"].text() == "Random"
    assert isinstance(dialog.fields["system_prompt"], QPlainTextEdit)
    hub = dialog.fields["hub_endpoint"]
    assert isinstance(hub, QLineEdit) and hub.placeholderText() == "https://huggingface.co"


def test_the_prompt_formats_are_those_given_with_plain_names(qtbot) -> None:
    settings = Settings()
    settings.model_preferences("smollm2").prompt_format = "gemma"
    dialog = open_dialog(qtbot, settings)
    combo = dialog.prompt_format
    assert [combo.itemData(i) for i in range(combo.count())] == CHOICES
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "Automatic (recommended)", "The model's own chat template", "chatml chat format", "gemma chat format", "Plain text completion",
    ]
    assert combo.currentData() == "gemma" and combo.isEnabled()
    assert not open_dialog(qtbot, model_id="").prompt_format.isEnabled(), "no model loaded: nothing to choose for"


def page_of(dialog: SettingsDialog, field) -> str:
    page = next(i for i in range(dialog.pages.count()) if dialog.pages.widget(i).isAncestorOf(field))
    return dialog.pages.tabText(page)


def test_everyday_settings_come_first_and_each_field_says_what_it_does(qtbot) -> None:
    dialog = open_dialog(qtbot)
    assert [dialog.pages.tabText(i) for i in range(dialog.pages.count())] == ["Everyday", "Advanced"]
    assert dialog.pages.currentIndex() == 0
    everyday = [name for name, field in dialog.fields.items() if page_of(dialog, field) == "Everyday"]
    assert everyday == ["temperature", "max_tokens", "system_prompt", "hub_endpoint"]
    assert label_of(dialog, dialog.fields["temperature"]) == "Creativity (temperature)"
    assert page_of(dialog, dialog.prompt_format) == "Advanced"
    for name, field in dialog.fields.items():
        form = next(f for f in dialog.pages.findChildren(QFormLayout) if f.labelForField(field) is not None)
        row = form.getWidgetPosition(field)[0]
        under = form.itemAt(row + 1, QFormLayout.ItemRole.FieldRole).widget()
        assert isinstance(under, QLabel) and under.text() == schema.BY_NAME[name].help, name
        assert field.accessibleDescription() == schema.BY_NAME[name].help


def test_the_format_choices_must_be_given(qtbot) -> None:
    with pytest.raises(TypeError, match="format_choices"):
        SettingsDialog(Settings(), "smollm2", None)  # type: ignore[call-arg]


def test_locked_settings_say_who_set_them_numbers_greyed_texts_readable(qtbot) -> None:
    dialog = open_dialog(qtbot, locked=frozenset({"max_tokens", "hub_endpoint", "system_prompt"}))
    for name in ("max_tokens", "hub_endpoint", "system_prompt"):
        field = dialog.fields[name]
        assert field.toolTip() == "Set by your administrator"
        assert label_of(dialog, field) == f"{schema.BY_NAME[name].label}\n(set by your administrator)"
    assert not dialog.fields["max_tokens"].isEnabled()
    for name in ("hub_endpoint", "system_prompt"):  # text to read (and copy), not a greyed box
        field = dialog.fields[name]
        assert field.isEnabled() and field.isReadOnly()
    assert dialog.fields["top_p"].isEnabled() and label_of(dialog, dialog.fields["top_p"]) == "Top-p"


def test_where_downloads_come_from_is_only_shown_when_downloads_are_off(qtbot) -> None:
    off, on = open_dialog(qtbot, downloads=False), open_dialog(qtbot)
    assert off.fields["hub_endpoint"].isReadOnly() and "turned off" in off.fields["hub_endpoint"].toolTip()
    assert not on.fields["hub_endpoint"].isReadOnly()


def test_the_result_is_the_edited_copy_within_limits(qtbot) -> None:
    settings = Settings()
    dialog = open_dialog(qtbot, settings)
    dialog.fields["max_tokens"].setValue(300)
    dialog.fields["repeat_penalty"].setValue(1.25)
    dialog.fields["hub_endpoint"].setText(" mirror.school.example/ ")
    dialog.fields["system_prompt"].setPlainText("Answer in French.")
    dialog.prompt_format.setCurrentIndex(dialog.prompt_format.findData("completion"))
    result = dialog.result_settings()
    assert result.sampling.max_tokens == 300 and result.sampling.repeat_penalty == pytest.approx(1.25)
    assert result.library.hub_endpoint == "https://mirror.school.example"
    assert result.system_prompt == "Answer in French." and result.models["smollm2"].prompt_format == "completion"
    assert settings == Settings(), "the settings it was given are untouched"


def test_the_dialog_does_not_bring_in_llama_cpp() -> None:
    probe = "import sys, app.gui.widgets.settings_dialog; print(sorted(m for m in sys.modules if m.startswith('llama_cpp')))"
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.strip() == "[]"


def test_the_speed_under_each_reply_is_a_checkbox_on_the_advanced_page(qtbot) -> None:
    dialog = open_dialog(qtbot)
    box = dialog.fields["show_reply_speed"]
    assert isinstance(box, QCheckBox) and not box.isChecked(), "off by default"
    assert label_of(dialog, box) == "Show the speed under each reply"
    advanced = dialog.pages.widget(1)
    assert dialog.pages.tabText(1) == "Advanced" and advanced.isAncestorOf(box)
    explanation = [label.text() for label in advanced.findChildren(QLabel) if "Details always" in label.text()]
    assert explanation == [schema.SHOW_REPLY_SPEED.help]
    assert not dialog.result_settings().show_reply_speed
    box.setChecked(True)
    assert dialog.result_settings().show_reply_speed
    reopened = open_dialog(qtbot, dialog.result_settings())
    assert reopened.fields["show_reply_speed"].isChecked()


def help_lines_not_shown_whole(page: QWidget) -> list[str]:
    """The page's help lines cut short (shorter than their wrapped text) or wider than the
    page (a page may scroll: then its viewport is what shows)."""
    shown = page.viewport() if isinstance(page, QScrollArea) else page
    helps = [label for label in page.findChildren(QLabel) if label.wordWrap()]
    assert len(helps) >= 4
    return [label.text() for label in helps if label.height() < label.heightForWidth(label.width())
            or label.mapTo(shown, QPoint(label.width(), 0)).x() > shown.width()]


def test_every_help_line_is_shown_whole_and_the_dialog_fits_a_small_screen(qtbot) -> None:
    """A help line squeezed to one line of its wrapped text was cut off at 1024 x 768."""
    dialog = open_dialog(qtbot)
    dialog.show()
    qtbot.waitExposed(dialog)
    screen = dialog.screen().availableGeometry()
    assert dialog.frameGeometry().width() <= screen.width() and dialog.frameGeometry().height() <= screen.height()
    for size in (dialog.size(), QSize(1000, 700), QSize(640, 480)):  # as it opens; a 1024 x 768 laptop; a small window
        dialog.resize(size)
        for index in range(dialog.pages.count()):
            dialog.pages.setCurrentIndex(index)
            page = dialog.pages.currentWidget()
            with contextlib.suppress(qtbot.TimeoutError):  # the layout settles; then the lines are named
                qtbot.waitUntil(lambda page=page: not help_lines_not_shown_whole(page), timeout=2000)
            assert help_lines_not_shown_whole(page) == [], f"at {size.width()} x {size.height()}"
