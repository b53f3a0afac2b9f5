"""The window's small questions and answers: one way to show an error, one to confirm.

Module-level functions, so their words are translated in the fixed context "Dialogs"."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app.config.settings import ModelPreferences
from app.library.model_library import ModelEntry
from app.platform.build_info import build_info
from app.platform.build_info import describe as describe_build
from app.platform.errors import HearthError, described

log = logging.getLogger(__name__)


def failure_title() -> str:
    """The title of a failed action's box, when it has none of its own."""
    return QCoreApplication.translate("Dialogs", "That did not work")


def error_message(error: BaseException) -> str:
    """What the user is told about `error`: a HearthError's text as is (it is written for
    them); anything else in one plain sentence that points to the log. Whoever caught an
    unexpected exception logs its traceback (the background op and the last-resort hook do)."""
    if isinstance(error, HearthError):
        return str(error)
    return QCoreApplication.translate("Dialogs", "Something went wrong: {error}; details are in the log.").format(
        error=described(error)
    )


def present_error(parent: QWidget | None, title: str, error: BaseException) -> QMessageBox:
    """Show an exception the one way errors are shown (see `show_error`)."""
    return show_error(parent, title, error_message(error))


def show_error(parent: QWidget | None, title: str, message: str) -> QMessageBox:
    """A plain-language problem, in a box that does not block the window's other work.
    Without a parent (nothing to attach it to) the box waits for OK before returning."""
    log.info("shown to user: %s: %s", title, message)
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, parent)
    if parent is None:
        box.exec()  # a box without a parent is deleted with its last reference: this one
    else:
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
    return box


def confirm(parent: QWidget, title: str, text: str, action: str) -> bool:
    """Ask before something that cannot be undone; Cancel is the default."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, parent)
    accept = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is accept


def show_model_details(parent: QWidget, entry: ModelEntry, preferences: ModelPreferences, safe_mode_line: str) -> bool:
    """Help → About this model. True when the user chose to turn safe mode off."""
    details = QCoreApplication.translate(
        "Dialogs",
        "Architecture: {architecture}\nParameters: {parameters:,}\nQuantization: {quantization}\n"
        "Trained context: {context:,} tokens\nChat template: {template}\nLicense: {license}\n"
        "Source: {source}\nSHA-256: {sha256}",
    ).format(
        architecture=entry.architecture, parameters=entry.parameters, quantization=entry.quantization,
        context=entry.context_length,
        template=QCoreApplication.translate("Dialogs", "yes") if entry.has_chat_template
        else QCoreApplication.translate("Dialogs", "no"),
        license=entry.license or QCoreApplication.translate("Dialogs", "unknown"),
        source=entry.source, sha256=entry.sha256,
    )
    box = QMessageBox(
        QMessageBox.Icon.Information,
        entry.shown_name,
        details + (f"\n\n{safe_mode_line}" if safe_mode_line else ""),
        QMessageBox.StandardButton.Ok,
        parent,
    )
    turn_off = (box.addButton(QCoreApplication.translate("Dialogs", "Turn off safe mode"), QMessageBox.ButtonRole.ActionRole)
                if preferences.safe_mode else None)
    box.exec()
    return turn_off is not None and box.clickedButton() is turn_off


def show_about(parent: QWidget, policy_problems: Sequence[str] = ()) -> None:
    """What Hearth is, and, for the administrator, what is wrong with their policy file
    (its defaults apply meanwhile; the log has it too)."""
    text = QCoreApplication.translate(
        "Dialogs",
        "{build}\n\nPrivate AI chat that runs entirely on this computer. Nothing you type leaves it.\n\n"
        "Licensed under the Apache License 2.0.",
    ).format(build=describe_build(build_info()))
    if policy_problems:
        text += "\n\n" + QCoreApplication.translate("Dialogs", "The administrator's policy has errors:") + "\n"
        text += "\n".join(policy_problems)
    QMessageBox.about(parent, QCoreApplication.translate("Dialogs", "About Hearth"), text)
