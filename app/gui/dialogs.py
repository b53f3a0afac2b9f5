"""The window's small questions and answers: one way to show an error, one to confirm."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app.config.settings import ModelPreferences
from app.library.model_library import ModelEntry

log = logging.getLogger(__name__)


def show_error(parent: QWidget, title: str, message: str) -> None:
    """A plain-language problem, in a box that does not block the window's other work."""
    log.info("shown to user: %s: %s", title, message)
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.open()


def confirm(parent: QWidget, title: str, text: str, action: str) -> bool:
    """Ask before something that cannot be undone; Cancel is the default."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, parent)
    accept = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is accept


def show_model_details(parent: QWidget, entry: ModelEntry, preferences: ModelPreferences, safe_mode_line: str) -> bool:
    """Help → About this model. True when the user chose to turn safe mode off."""
    box = QMessageBox(
        QMessageBox.Icon.Information,
        entry.name,
        f"Architecture: {entry.architecture}\nParameters: {entry.parameters:,}\n"
        f"Quantization: {entry.quantization}\nTrained context: {entry.context_length:,} tokens\n"
        f"Chat template: {'yes' if entry.has_chat_template else 'no'}\n"
        f"License: {entry.license or 'unknown'}\nSource: {entry.source}\nSHA-256: {entry.sha256}"
        + (f"\n\n{safe_mode_line}" if safe_mode_line else ""),
        QMessageBox.StandardButton.Ok,
        parent,
    )
    turn_off = box.addButton("Turn off safe mode", QMessageBox.ButtonRole.ActionRole) if preferences.safe_mode else None
    box.exec()
    return turn_off is not None and box.clickedButton() is turn_off
