"""File → Export for other computers… and Import from folder…: classroom packs in the window."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.config.settings import Settings
from app.gui.dialogs import failure_title, present_error
from app.gui.item_models.model_table import size_label
from app.gui.ops import run_in_background
from app.gui.widgets.checklist import checked_list, checked_rows
from app.library.model_library import ModelEntry, ModelLibrary
from app.library.packs import PACK_FOLDER, ImportResult, PackFile, export_pack, import_pack


@dataclass(frozen=True)
class ExportChoice:
    model_ids: list[str]
    include_settings: bool
    installer: Path | None


def choose_what_to_export(parent: QWidget, entries: list[ModelEntry]) -> ExportChoice | None:
    dialog = QDialog(parent)
    dialog.setWindowTitle(QCoreApplication.translate("PackActions", "Export for other computers"))
    items = checked_list(QCoreApplication.translate("PackActions", "Models to export"), [
        QCoreApplication.translate("PackActions", "{name}  ·  {size}  ·  {license}").format(
        name=e.shown_name, size=size_label(e.size), license=e.license or QCoreApplication.translate("PackActions", "license unknown"),
    ) for e in entries])
    settings_box = QCheckBox(QCoreApplication.translate("PackActions", "Include my settings (reply length, creativity, default system prompt)"))
    settings_box.setChecked(True)
    installer: list[Path] = []
    installer_label = QLabel(QCoreApplication.translate("PackActions", "No installer included."))
    add_installer = QPushButton(QCoreApplication.translate("PackActions", "Include an installer…"))

    def choose_installer() -> None:
        path, _ = QFileDialog.getOpenFileName(
            dialog, QCoreApplication.translate("PackActions", "Choose Hearth's installer (setup .exe, .dmg or .tar.gz)")
        )
        if path:
            installer[:] = [Path(path)]
            installer_label.setText(QCoreApplication.translate("PackActions", "Installer: {file}").format(file=Path(path).name))

    add_installer.clicked.connect(choose_installer)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    buttons.addButton(QCoreApplication.translate("PackActions", "Choose a folder…"), QDialogButtonBox.ButtonRole.AcceptRole)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    installer_row = QHBoxLayout()
    installer_row.addWidget(installer_label, 1)
    installer_row.addWidget(add_installer)
    layout = QVBoxLayout(dialog)
    intro = QLabel(QCoreApplication.translate(
        "PackActions",
        "Hearth writes the chosen models to a folder, for example on a USB stick, with a "
        "checksum for every file. On each other computer, choose File → Import from folder… "
        "No internet is needed.",
    ))
    intro.setWordWrap(True)
    layout.addWidget(intro)
    layout.addWidget(items)
    layout.addWidget(settings_box)
    layout.addLayout(installer_row)
    layout.addWidget(buttons)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    chosen = [entries[row].id for row in checked_rows(items)]
    return ExportChoice(chosen, settings_box.isChecked(), installer[0] if installer else None) if chosen else None


class PackActions(QObject):
    """Runs exports and imports off the GUI thread, with a progress dialog."""

    imported = Signal(bool)  # whether the pack's settings were applied to the settings file

    def __init__(self, parent: QWidget, library: ModelLibrary, settings: Callable[[], Settings], settings_file: Path) -> None:
        super().__init__(parent)
        self._parent, self._library, self._settings, self._settings_file = parent, library, settings, settings_file
        self._progress: QProgressDialog | None = None

    def export(self) -> None:
        entries = self._library.models()
        if not entries:
            self._tell(self.tr("Nothing to export"), self.tr("There are no models to export yet."))
            return
        choice = choose_what_to_export(self._parent, entries)
        if choice is None:
            return
        folder = QFileDialog.getExistingDirectory(self._parent, self.tr("Export the pack to this folder"))
        if folder:
            self.export_to(Path(folder) / PACK_FOLDER, choice)

    def export_to(self, folder: Path, choice: ExportChoice) -> None:
        # A copy: the export runs on another thread while the window may change its own.
        library, settings = self._library, copy.deepcopy(self._settings()) if choice.include_settings else None
        self._start(self.tr("Writing the pack…"))
        run_in_background(self, lambda report: (folder, export_pack(folder, library, settings, choice.model_ids,
                                                                    choice.installer, report)),
                          on_success=self._exported, on_failure=self._failed, on_progress=self._on_progress)

    def import_(self) -> None:
        folder = QFileDialog.getExistingDirectory(self._parent, self.tr("Choose the pack, or the folder it was exported to"))
        if folder:
            self.import_from(Path(folder))

    def import_from(self, folder: Path) -> None:
        library, settings_file = self._library, self._settings_file
        self._start(self.tr("Checking and copying the pack…"))
        run_in_background(self, lambda report: import_pack(folder, library, settings_file, report),
                          on_success=self._imported, on_failure=self._failed, on_progress=self._on_progress)

    def _start(self, text: str) -> None:
        self._progress = QProgressDialog(text, "", 0, 1000, self._parent)
        self._progress.setCancelButton(None)  # a half-written pack is refused anyway; no cancel needed
        self._progress.setWindowModality(Qt.WindowModality.WindowModal)
        self._progress.setMinimumDuration(300)

    def _on_progress(self, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress.setValue(int(1000 * done / total) if total else 0)

    def _finish(self) -> None:
        if self._progress is not None:
            self._progress.close()
            self._progress.deleteLater()
            self._progress = None

    def _exported(self, result: tuple[Path, list[PackFile]]) -> None:
        self._finish()
        folder, files = result
        kinds = {f.kind for f in files}
        # One whole sentence a line, not a list of translated fragments joined with commas.
        lines = [self.tr("The pack is written in {folder} ({gigabytes:.1f} GB). Copy this folder to the other computers.").format(
            folder=folder, gigabytes=sum(f.size for f in files) / 1e9)]
        lines.append(self.tr("It holds %n model(s).", "", sum(f.kind == "model" for f in files)))
        lines += [self.tr("It holds your settings.")] if "settings" in kinds else []
        lines += [self.tr("It holds the installer.")] if "installer" in kinds else []
        self._tell(self.tr("Pack written"), "\n".join(lines))

    def _imported(self, result: ImportResult) -> None:
        self._finish()
        lines = [self.tr("Added {name}.").format(name=e.shown_name) for e in result.added]
        lines += [self.tr("{name} was already here.").format(name=name) for name in result.already_there]
        if result.settings_applied:
            lines.append(self.tr("The pack's settings were applied."))
        self._tell(self.tr("Pack imported"), " ".join(lines) or self.tr("The pack held nothing new."))
        self.imported.emit(result.settings_applied)

    def _failed(self, error: Exception) -> None:
        self._finish()
        present_error(self._parent, failure_title(), error).setObjectName("pack-result")

    def _tell(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, self._parent)
        box.setObjectName("pack-result")
        box.open()
