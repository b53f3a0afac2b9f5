"""The Library window: My models, Discover and Downloads.

Everything slow (hashing, copying, looking in other apps' folders, asking the
Hub) runs off the GUI thread; this window only shows progress and results.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QThread, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.chat.crash_recovery import safe_mode_label
from app.config.policy import Policy
from app.config.settings import Settings
from app.gui.dialogs import error_message, failure_title, show_error
from app.gui.item_models.download_list import DownloadQueue
from app.gui.item_models.model_table import ModelTableModel, size_label
from app.gui.library.discover_tab import DiscoverTab
from app.gui.library.downloads_tab import DownloadsTab
from app.gui.ops import run_in_background
from app.gui.widgets.checklist import ModelDropTarget, checked_list, checked_rows
from app.gui.widgets.name_eliding import NameElidingDelegate
from app.library.catalog import CatalogModel
from app.library.downloads import DownloadJob, job_for_hub
from app.library.model_library import ModelEntry, ModelLibrary, embedding_model_note
from app.library.network import resolve_hub_file
from app.library.other_apps import FoundModel, find_other_apps_models
from app.library.updates import Update, find_updates
from app.modelfile.fit import Machine
from app.platform.errors import HearthError
from app.platform.secrets import TokenStore

# The answers `LibraryWindow.choose` offers, as given to it; its buttons show them translated.
COPY_IN = str(QT_TRANSLATE_NOOP("LibraryWindow", "Copy into Hearth"))
USE_IN_PLACE = str(QT_TRANSLATE_NOOP("LibraryWindow", "Use where it is"))
REMOVE = str(QT_TRANSLATE_NOOP("LibraryWindow", "Remove"))
DELETE = str(QT_TRANSLATE_NOOP("LibraryWindow", "Delete"))


@dataclass
class LibraryServices:
    """What the Library needs beyond the model library itself, built in app/gui/app.py.
    `machine` gains the graphics card's memory once it is probed."""

    catalog: list[CatalogModel]
    queue: DownloadQueue
    machine: Machine
    tokens: TokenStore
    thread: QThread  # the download worker's, stopped when the window closes
    policy: Policy = field(default_factory=Policy)  # the administrator's: downloads, allowed models


class LibraryWindow(ModelDropTarget, QDialog):
    load_requested = Signal(str)  # model id
    models_changed = Signal()

    def __init__(
        self,
        library: ModelLibrary,
        services: LibraryServices,
        settings: Settings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        catalog, queue, machine, tokens = services.catalog, services.queue, services.machine, services.tokens
        self.setWindowTitle(self.tr("Model library"))
        self.resize(1000, 640)
        self._library, self._catalog, self._queue = library, catalog, queue
        self._settings, self._tokens = settings, tokens
        self._updates: dict[str, Update] = {}
        self._load_line = ""  # what the status line last said of a model's load, while it still says it

        self.table = ModelTableModel(machine, settings.engine.context_length)
        self.view = QTableView()
        self.view.setAccessibleName(self.tr("My models"))
        self.view.setAccessibleDescription(self.tr("The models on this computer. Load (or a double click) chats with the chosen one."))
        self.view.setModel(self.table)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.doubleClicked.connect(self.load_selected)
        self.view.setColumnWidth(0, 240)
        self.view.setItemDelegateForColumn(0, NameElidingDelegate(self.view))

        self.buttons: dict[str, QPushButton] = {}
        selection_row, library_row = QHBoxLayout(), QHBoxLayout()
        # The tooltip is also each button's description for a screen reader.
        for row, key, text, tip, slot in (
            (selection_row, "load", self.tr("Load"), self.tr("Chat with the chosen model."), self.load_selected),
            (selection_row, "delete", self.tr("Delete…"), self.tr("Remove the chosen model from Hearth, after asking."),
             self.delete_selected),
            (selection_row, "folder", self.tr("Show in folder"), self.tr("Open the folder that holds the chosen model's file."),
             self.show_in_folder),
            (selection_row, "details", self.tr("Details…"), self.tr("Everything known about the chosen model."), self.show_details),
            (selection_row, "verify", self.tr("Verify"), self.tr("Check that the chosen model's file is whole and unchanged."),
             self.verify_selected),
            (selection_row, "update", self.tr("Get update"), self.tr("Download the newer version of the chosen model."),
             self.get_update),
            (library_row, "add", self.tr("Add file…"), self.tr("Add a GGUF model file from this computer."), self.choose_files),
            (library_row, "other_apps", self.tr("Use models from other apps…"),
             self.tr("Use models that other chat apps already downloaded, without copying them."), self.find_other_apps),
            (library_row, "check", self.tr("Check for updates"), self.tr("Ask where each model came from whether it has a newer version."),
             self.check_for_updates),
        ):
            button = QPushButton(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            row.addWidget(button)
            self.buttons[key] = button
        selection_row.addStretch()
        library_row.addStretch()
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setAccessibleName(self.tr("Progress"))
        self.progress.hide()

        self.found_banner = QLabel()
        self.found_banner.setWordWrap(True)
        self.use_found_button = QPushButton(self.tr("Use them without copying…"))
        self.use_found_button.clicked.connect(self.find_other_apps)
        banner = QHBoxLayout()
        banner.addWidget(self.found_banner, 1)
        banner.addWidget(self.use_found_button)
        self._show_banner(False)

        mine = QWidget()
        mine_layout = QVBoxLayout(mine)
        mine_layout.addLayout(banner)
        mine_layout.addWidget(self.view)
        mine_layout.addLayout(selection_row)
        mine_layout.addLayout(library_row)

        self.discover = DiscoverTab(catalog, machine, settings.engine.context_length, settings.library.hub_endpoint, tokens)
        self.discover.download_requested.connect(self.download)
        self.downloads = DownloadsTab(queue)
        self.tabs = QTabWidget()
        self.tabs.addTab(mine, self.tr("My models"))
        self.tabs.addTab(self.discover, self.tr("Discover"))
        self.tabs.addTab(self.downloads, self.tr("Downloads"))
        if not services.policy.downloads:
            discover_tab = self.tabs.indexOf(self.discover)
            self.tabs.setTabEnabled(discover_tab, False)
            turned_off = self.tr("Downloads are turned off. Set by your administrator.")
            self.tabs.setTabToolTip(discover_tab, turned_off)
            self.buttons["check"].setEnabled(False)
            self.buttons["check"].setToolTip(turned_off)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)

        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        queue.model_added.connect(self._on_downloaded)
        self.setAcceptDrops(True)
        self.refresh()
        run_in_background(self, find_other_apps_models, on_success=self._on_other_apps_scanned,
                          on_failure=lambda error: self._say(error_message(error)))

    # -- the table ------------------------------------------------------------------

    def apply_settings(self, settings: Settings) -> None:
        """New settings: the fit verdicts and the Hub follow them."""
        self._settings = settings
        self.discover.apply_settings(settings.library.hub_endpoint, settings.engine.context_length)
        self.table.set_entries(self._library.models(), settings.engine.context_length)

    def set_machine(self, machine: Machine) -> None:
        """The graphics card's memory became known (it is probed off the GUI thread at start)."""
        self.table.set_machine(machine)
        self.discover.set_machine(machine)
        self.refresh()

    def refresh(self, in_use: str | None = None) -> None:
        self.table.set_entries(self._library.models())
        if in_use is not None:
            self.table.set_in_use(in_use)
        self._update_buttons()

    def selected(self) -> ModelEntry | None:
        rows = self.view.selectionModel().selectedRows()
        return self.table.entry(rows[0].row()) if rows else None

    def select(self, model_id: str) -> None:
        row = self.table.row_of(model_id)
        if row >= 0:
            self.view.selectRow(row)

    def _update_buttons(self, *_: object) -> None:
        entry = self.selected()
        for key in ("load", "delete", "folder", "details", "verify"):
            self.buttons[key].setEnabled(entry is not None)
        if entry is not None and entry.is_embedding:  # it cannot chat: Load says why instead
            self.buttons["load"].setToolTip(embedding_model_note(entry.shown_name))
        else:
            self.buttons["load"].setToolTip(self.tr("Chat with the chosen model."))
        self.buttons["update"].setEnabled(entry is not None and entry.id in self._updates)

    def _say(self, text: str) -> None:
        self.status.setText(text)

    def _say_of_load(self, text: str) -> None:
        """Say how a load goes, replacing what was said of an earlier one (never another
        line: what the user did since is not overwritten)."""
        self._load_line = text
        self._say(text)

    def _follows_load(self) -> bool:
        """Whether the line may say how a load goes: it is empty, or says how one went."""
        return not self.status.text() or (bool(self._load_line) and self.status.text() == self._load_line)

    def show_loading(self, name: str) -> None:
        """A load began (here or in the main window)."""
        if self._follows_load():
            self._say_of_load(self.tr("Loading {name}…").format(name=name))

    def show_loaded(self, name: str) -> None:
        """The load ended well: "Loading…", or an earlier load's error, no longer holds."""
        if self._follows_load():
            self._say_of_load(self.tr("{name} is loaded: you can chat with it.").format(name=name))

    def show_load_failed(self, message: str) -> None:
        if self._follows_load():
            self._say_of_load(message)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, 1000)
        self.progress.setValue(int(1000 * done / total) if total else 0)
        self.progress.show()

    def _failed(self, error: Exception) -> None:
        self.progress.hide()
        message = error_message(error)
        self._say(message)
        self.show_error(message)

    def show_error(self, message: str) -> None:
        show_error(self, failure_title(), message)

    def choose(self, title: str, text: str, choices: list[str]) -> str | None:
        """Ask with one button per choice (and Cancel); the chosen one, or None. `choices`
        are source texts marked for this window's context (COPY_IN…): the buttons show them
        translated, and the choice is returned as given."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, self)
        buttons: dict[QAbstractButton, str] = {
            box.addButton(self.tr(choice), QMessageBox.ButtonRole.AcceptRole): choice for choice in choices
        }
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return buttons.get(box.clickedButton())

    # -- actions on one model -----------------------------------------------------

    def load_selected(self, *_: object) -> None:
        entry = self.selected()
        if entry is not None and entry.is_embedding:
            self._say(embedding_model_note(entry.shown_name))
        elif entry is not None:
            self._say_of_load(self.tr("Loading {name}…").format(name=entry.shown_name))
            self.load_requested.emit(entry.id)

    def delete_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        if entry.id == self.table.in_use:
            self.show_error(self.tr("{name} is in use. Load another model first, then delete this one.").format(name=entry.shown_name))
            return
        text = (
            self.tr("Hearth will forget {name}. Its file stays where it is:\n{file}").format(name=entry.shown_name, file=self._library.file_of(entry))
            if entry.in_place
            else self.tr("Delete {name}? This frees {size} of disk space.").format(name=entry.shown_name, size=size_label(entry.size))
        )
        if self.choose(self.tr("Delete model"), text, [REMOVE if entry.in_place else DELETE]) is None:
            return
        try:
            freed = self._library.remove(entry.id)
        except HearthError as exc:
            self._failed(exc)
            return
        self._say(self.tr("{name} was deleted; {size} freed.").format(name=entry.shown_name, size=size_label(freed)) if freed
                  else self.tr("{name} was removed from the library.").format(name=entry.shown_name))
        self.refresh()
        self.models_changed.emit()

    def show_in_folder(self) -> None:
        entry = self.selected()
        if entry is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self._library.file_of(entry).parent)))

    def show_details(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        dialog = QDialog(self)
        dialog.setWindowTitle(self.tr("About {name}").format(name=entry.shown_name))
        dialog.resize(640, 520)
        running = safe_mode_label(self._settings.preferences_of(entry.id))
        text = QPlainTextEdit(model_details(entry, self._library.file_of(entry), running))
        text.setReadOnly(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(text)
        layout.addWidget(close)
        dialog.open()

    def verify_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            return
        self._say(self.tr("Checking {name}…").format(name=entry.shown_name))
        library = self._library
        run_in_background(self, lambda report: (entry.shown_name, library.verify(entry, report)),
                          on_success=self._on_verified, on_failure=self._failed, on_progress=self._on_progress)

    def _on_verified(self, result: tuple[str, str]) -> None:
        self.progress.hide()
        name, problem = result
        self._say(problem or self.tr("{name} is whole and unchanged.").format(name=name))

    # -- adding models ----------------------------------------------------------------

    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, self.tr("Add model files"), str(Path.home()), self.tr("GGUF models (*.gguf)"))
        if paths:
            self.add_files([Path(p) for p in paths])

    def add_files(self, paths: list[Path], copy: bool | None = None) -> None:
        """Add files dropped or chosen; asks whether to copy them unless `copy` is given."""
        if copy is None:
            answer = self.choose(
                self.tr("Add models"),
                self.tr("Copy the model into Hearth's folder, or use it where it is? "
                        "A copy keeps working if the original is moved or deleted."),
                [COPY_IN, USE_IN_PLACE],
            )
            if answer is None:
                return
            copy = answer == COPY_IN
        self._add([(path, "", "") for path in paths], copy)

    def _add(self, files: list[tuple[Path, str, str]], copy: bool) -> None:
        """Add (path, name, source) files in one task; one bad file does not stop the rest."""
        library = self._library
        self._say(self.tr("Checking %n file(s)… this reads each whole file once.", "", len(files)))

        def work(report: Callable[[int, int], None]) -> tuple[list[ModelEntry], list[str]]:
            added, problems = [], []
            for path, name, source in files:
                try:
                    added.append(library.add(path, copy=copy, source=source, progress=report, name=name))
                except HearthError as exc:
                    problems.append(str(exc))
            return added, problems

        run_in_background(self, work, on_success=self._on_added, on_failure=self._failed, on_progress=self._on_progress)

    def _on_added(self, result: tuple[list[ModelEntry], list[str]]) -> None:
        added, problems = result
        self.progress.hide()
        names = ", ".join(e.shown_name for e in added)
        self._say(" ".join([self.tr("Added: {names}.").format(names=names) if added else "", *problems]).strip())
        if added:
            self.refresh()
            self.select(added[-1].id)
            self.models_changed.emit()
        if problems:
            self.show_error("\n\n".join(problems))

    def find_other_apps(self) -> None:
        self._say(self.tr("Looking in the folders of LM Studio, GPT4All, Jan and Ollama…"))
        run_in_background(self, find_other_apps_models, on_success=self._offer_found, on_failure=self._failed)

    def _not_in_library(self, found: list[FoundModel]) -> list[FoundModel]:
        known = {self._library.file_of(e).resolve() for e in self._library.models()}
        return [m for m in found if m.path.resolve() not in known]

    def _show_banner(self, visible: bool) -> None:
        self.found_banner.setVisible(visible)
        self.use_found_button.setVisible(visible)

    def _on_other_apps_scanned(self, found: list[FoundModel]) -> None:
        """Offered without being asked: models already on this computer cost no download."""
        new = self._not_in_library(found)
        if new:
            apps = sorted({m.app for m in new})
            self.found_banner.setText(self.tr(
                "%n model(s) from {apps} are already on this computer. Hearth can use them where they are.", "", len(new)
            ).format(apps=", ".join(apps)))
        self._show_banner(bool(new))

    def _offer_found(self, found: list[FoundModel]) -> None:
        new = self._not_in_library(found)
        self._show_banner(False)
        if not new:
            self._say(self.tr("No other models were found in LM Studio, GPT4All, Jan or Ollama's folders.")
                      if not found else self.tr("Every model found in other apps is already in your library."))
            return
        chosen = choose_found_models(self, new)
        if chosen:
            self._add([(m.path, m.name, self.tr("Used in place from {app}").format(app=m.app)) for m in chosen], copy=False)

    def add_dropped_models(self, paths: list[Path]) -> None:
        self.add_files(paths)

    # -- downloads and updates --------------------------------------------------------

    def download(self, job: DownloadJob) -> None:
        if not self._queue.enqueue(job):
            self._say(self.tr("{name} is already in the download list.").format(name=job.label))
        self.tabs.setCurrentWidget(self.downloads)
        self.downloads.select(job.id)

    def _on_downloaded(self, entry: ModelEntry) -> None:
        self._say(self.tr("{name} was downloaded and verified. It is ready to use.").format(name=entry.shown_name))
        if entry.repo:  # an update that arrived: the older version has none left
            self._updates = {k: u for k, u in self._updates.items() if (u.repo, u.repo_file) != (entry.repo, entry.repo_file)}
            self.table.set_updates(set(self._updates))
        self.refresh()
        self.select(entry.id)

    def check_for_updates(self) -> None:
        entries = self._library.models()
        if not any(e.repo for e in entries):
            self._say(self.tr("None of your models came from the Hugging Face Hub, so there is nothing to check."))
            return
        self._say(self.tr("Asking the Hub about newer versions…"))
        catalog, endpoint, tokens = self._catalog, self._settings.library.hub_endpoint, self._tokens

        def check() -> dict[str, Update]:
            token = tokens.get()  # the keyring is read here, off the GUI thread
            return find_updates(entries, catalog, lambda r, f: resolve_hub_file(r, f, "main", endpoint, token))

        run_in_background(self, check, on_success=self._show_updates, on_failure=self._failed)

    def _show_updates(self, updates: dict[str, Update]) -> None:
        self._updates = updates
        self.table.set_updates(set(updates))
        self._update_buttons()
        self._say(self.tr("%n update(s) available. Select a model and press Get update; "
                          "the current version stays until the new one is verified.", "", len(updates))
                  if updates else self.tr("All your models are up to date."))

    def get_update(self) -> None:
        entry = self.selected()
        update = self._updates.get(entry.id) if entry else None
        if entry is not None and update is not None:
            self.download(job_for_hub(update.repo, update.repo_file, update.revision, name=entry.name, license_name=entry.license))


def choose_found_models(parent: QWidget, found: list[FoundModel]) -> list[FoundModel]:
    dialog = QDialog(parent)
    dialog.setWindowTitle(QCoreApplication.translate("LibraryWindow", "Models from other apps"))
    items = checked_list(QCoreApplication.translate("LibraryWindow", "Models from other apps"), [
        QCoreApplication.translate("LibraryWindow", "{name}  ·  {app}  ·  {size}").format(
        name=m.name, app=m.app, size=size_label(m.size)) for m in found], [str(m.path) for m in found])
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    buttons.addButton(QCoreApplication.translate("LibraryWindow", "Use without copying"), QDialogButtonBox.ButtonRole.AcceptRole)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(QLabel(QCoreApplication.translate(
        "LibraryWindow", "These models are already on this computer. Hearth can use them where they are, "
        "without using more disk space. Their apps keep working as before."
    )))
    layout.addWidget(items)
    layout.addWidget(buttons)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return []
    return [found[row] for row in checked_rows(items)]


def model_details(entry: ModelEntry, file: Path, running: str = "") -> str:
    """`running`: how Hearth runs it, when not as usual (safe mode, after a crash)."""
    file_line = (QCoreApplication.translate("LibraryWindow", "File: {file} (used where it is)") if entry.in_place
                 else QCoreApplication.translate("LibraryWindow", "File: {file}"))
    template = (QCoreApplication.translate("LibraryWindow", "yes, its own") if entry.has_chat_template
                else QCoreApplication.translate("LibraryWindow", "none (Hearth picks a format; see Settings)"))
    lines = [
        QCoreApplication.translate("LibraryWindow", "Name: {name}").format(name=entry.shown_name),
        file_line.format(file=file),
        QCoreApplication.translate("LibraryWindow", "Size: {size} ({bytes:,} bytes)").format(size=size_label(entry.size), bytes=entry.size),
        QCoreApplication.translate("LibraryWindow", "Architecture: {architecture}").format(architecture=entry.architecture),
        QCoreApplication.translate("LibraryWindow", "Parameters: {parameters:,}").format(parameters=entry.parameters),
        QCoreApplication.translate("LibraryWindow", "Quantization: {quantization}").format(quantization=entry.quantization),
        QCoreApplication.translate("LibraryWindow", "Context length: {tokens:,} tokens").format(tokens=entry.context_length),
        QCoreApplication.translate("LibraryWindow", "Chat template: {template}").format(template=template),
        QCoreApplication.translate("LibraryWindow", "License: {license}").format(
            license=entry.license or QCoreApplication.translate("LibraryWindow", "unknown")),
        QCoreApplication.translate("LibraryWindow", "Source: {source}").format(source=entry.source),
        *([running] if running else []),
    ]
    if entry.repo:
        lines += [
            QCoreApplication.translate("LibraryWindow", "Hugging Face: {repo} / {file}").format(repo=entry.repo, file=entry.repo_file),
            QCoreApplication.translate("LibraryWindow", "Revision: {revision}").format(revision=entry.revision),
        ]
    lines += [
        QCoreApplication.translate("LibraryWindow", "Added: {time}").format(time=time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.added_at))),
        QCoreApplication.translate("LibraryWindow", "sha256: {sha256}").format(sha256=entry.sha256),
        "",
        QCoreApplication.translate("LibraryWindow", "From the file's GGUF metadata:"),
        *(f"  {key}: {value}" for key, value in entry.details.items()),
    ]
    return "\n".join(lines)
