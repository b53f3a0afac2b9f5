"""The Hearth window: conversations on the left, the chat on the right.

Layout, menus and wiring. What a turn or a load does lives in the chat session and the
model loader (app/gui/controllers); this window shows what they report.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QItemSelectionModel, QMetaObject, QModelIndex, Qt, QThread, QTimer
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QInputDialog, QMainWindow, QMessageBox

from app.backends.base import ModelFacts, ReplyStats
from app.chat.crash_recovery import safe_mode_label
from app.chat.rendering import MarkdownRenderer
from app.config.settings import Settings, load_settings, save_settings
from app.conversations.store import ConversationStore
from app.gui.controllers.chat_session import ChatSession, ShownThread
from app.gui.controllers.library_access import LibraryAccess
from app.gui.controllers.model_loader import ModelLoader
from app.gui.dialogs import confirm, error_message, show_error, show_model_details
from app.gui.item_models.conversation_list import ConversationIdRole
from app.gui.library.library_window import LibraryServices, LibraryWindow
from app.gui.library.pack_dialogs import PackActions
from app.gui.ops import run_in_background
from app.gui.widgets.chat_layout import NO_MODEL_HINT, ChatLayout
from app.gui.widgets.checklist import ModelDropTarget
from app.gui.widgets.settings_dialog import SettingsDialog
from app.gui.workers.inference_worker import InferenceWorker
from app.library.model_library import ModelEntry, ModelLibrary, bundled_starter_file
from app.platform.build_info import build_info
from app.platform.build_info import describe as describe_build
from app.platform.crash_marker import EngineRun
from app.platform.errors import HearthError
from app.platform.paths import AppPaths

log = logging.getLogger(__name__)




class MainWindow(ModelDropTarget, ChatLayout, QMainWindow):
    def __init__(
        self,
        paths: AppPaths,
        settings: Settings,
        store: ConversationStore,
        library: ModelLibrary,
        worker: InferenceWorker,
        worker_thread: QThread,
        library_services: LibraryServices,
        crashed_run: EngineRun | None = None,
    ) -> None:
        """`crashed_run`: what stopped Hearth last time (app/platform/crash_marker.py)."""
        super().__init__()
        self.setWindowTitle("Hearth")
        self._paths, self._settings, self._store, self._library = paths, settings, store, library
        self._worker, self._worker_thread = worker, worker_thread
        self.library = LibraryAccess(library, library_services, lambda: self._settings, lambda: self.loader.model_id, self)
        self._shut_down = False
        self._crashed_model_key = library.preferences_key(Path(crashed_run.model_path)) if crashed_run else ""
        self.loader = ModelLoader(worker, library, library_services.policy, lambda: self._settings, self._save_settings)
        self.session = ChatSession(store, worker, self.loader, lambda: self._settings)
        self.conversations = self.session.conversations
        self.packs = PackActions(self, library, lambda: self._settings, paths.settings_file)
        self.packs.imported.connect(self._on_pack_imported)
        self.renderer = MarkdownRenderer(dark=self._is_dark())
        self.build_layout(self.renderer, self.conversations)
        self.build_menus(self.sidebar)
        self._connect()
        self.setAcceptDrops(True)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_color_scheme)
        if settings.window_geometry:
            self.restoreGeometry(QByteArray.fromHex(settings.window_geometry.encode()))
        else:
            self.resize(1100, 720)

        if crashed_run is not None:
            self.crash_notice.show_run(crashed_run, library.get(self._crashed_model_key) is not None)
        self.refresh_models()
        if not library.models() and bundled_starter_file() is not None:
            # First launch of a bundle: copy its starter model in (the bundle's own folder
            # may be temporary or read-only), so the user can chat straight away.
            self.chat_view.show_placeholder("Welcome to Hearth", "Setting up the starter model…")
            run_in_background(self, library.add_starter, on_success=self._on_starter_added,
                              on_failure=lambda error: self._on_starter_failed(error_message(error)))
        if library_services.policy.problems:  # reported once the window is up; defaults apply
            QTimer.singleShot(0, self._report_policy_problems)
        self.session.open_latest()

    def _connect(self) -> None:
        for item, slot in (
            (self.new_action, self.new_conversation), (self.library_action, self.open_library),
            (self.add_file_action, self.add_model_file), (self.export_action, self.packs.export),
            (self.import_action, self.packs.import_), (self.settings_action, self.open_settings),
            (self.quit_action, self.close), (self.rename_action, self.rename_conversation),
            (self.delete_action, self.delete_conversation), (self.stop_action, self.session.stop),
            (self.regenerate_action, self.session.regenerate), (self.model_details_action, self.show_model_details),
            (self.about_action, self.show_about),
        ):
            item.triggered.connect(slot)
        self.sidebar.selectionModel().currentChanged.connect(self._on_sidebar_current)
        self.conversations.modelReset.connect(self._select_current_row)
        self.new_button.clicked.connect(self.new_conversation)
        self.model_picker.activated.connect(self._on_model_picked)
        self.library_button.clicked.connect(self.open_library)
        self.crash_notice.retry_in_safe_mode.connect(self.retry_in_safe_mode)
        self.crash_notice.choose_another.connect(self.open_library)
        self.chat_view.branch_requested.connect(self.session.show_alternative)
        self.composer.submitted.connect(self.send)
        self.send_button.clicked.connect(lambda: self.send(self.composer.toPlainText()))
        self.stop_button.clicked.connect(self.session.stop)
        self.regenerate_button.clicked.connect(self.session.regenerate)

        session = self.session
        session.thread_shown.connect(self._show_thread)
        session.nothing_shown.connect(self._show_empty_state)
        session.message_added.connect(self.chat_view.append_message)
        session.reply_started.connect(self.chat_view.begin_stream)
        session.reply_started.connect(lambda: self.speed_status.setText("Thinking…"))
        session.reply_text.connect(self.chat_view.append_stream)
        session.reply_saved.connect(self.chat_view.finish_stream)
        session.reply_finished.connect(self._on_reply_finished)
        session.reply_failed.connect(self._on_reply_failed)
        session.state_changed.connect(self._update_controls)
        session.notice.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        session.error.connect(self.show_error)

        loader = self.loader
        loader.loading.connect(self._on_model_loading)
        loader.progress.connect(lambda fraction: self.load_progress.setValue(int(fraction * 100)))
        loader.loaded.connect(self._on_model_loaded)
        loader.failed.connect(self._on_model_failed)
        loader.warning.connect(lambda text: self.show_error("This model may not fit", text))
        loader.refused.connect(lambda text: self.show_error("Not allowed here", text))

        self.library.load_requested.connect(self._on_library_load)
        self.library.models_changed.connect(self.refresh_models)
        queue = self.library.services.queue
        queue.model_added.connect(self._on_model_downloaded)
        queue.download_failed.connect(
            lambda label, message: self.statusBar().showMessage(f"The download of {label} stopped: {message}", 20_000)
        )

    # Models ----------------------------------------------------------------

    def refresh_models(self) -> None:
        policy = self.library.services.policy
        chosen = self.model_picker.show_models([e for e in self._library.models() if policy.allows(*e.names)],
                                               self._settings.last_model_id, policy.default_model)
        if chosen and not self.loader.model_id:
            if self._settings.preferences_of(chosen).crashed:  # never by itself after a crash
                self.model_status.setText("No model loaded: the last one stopped Hearth")
            else:
                self.load_model(chosen)
        self._update_controls()

    def _on_model_picked(self, index: int) -> None:
        model_id = self.model_picker.itemData(index)
        if model_id and model_id != self.loader.model_id:
            self.load_model(model_id)

    def load_model(self, model_id: str) -> None:
        self.loader.load(model_id)

    def retry_in_safe_mode(self) -> None:
        """Load the model that stopped Hearth again, with the engine's speed-ups off."""
        self._settings.model_preferences(self._crashed_model_key).safe_mode = True
        self._save_settings()
        self.load_model(self._crashed_model_key)

    def _on_model_loading(self, name: str) -> None:
        self.model_status.setText(f"Loading {name}…")
        self.load_progress.setValue(0)
        self.load_progress.show()
        self._update_controls()

    def _on_model_loaded(self, facts: ModelFacts) -> None:
        self.library.show_in_use()
        self.load_progress.hide()
        entry = self.loader.entry()
        license_name = (entry.license if entry else "") or facts.license or "unknown license"
        self.model_status.setText(
            f"{facts.name} · {facts.parameters} · {facts.quantization} · "
            f"context {facts.context_length:,} · License: {license_name}"
            + (" · safe mode" if facts.safe_mode else "")
        )
        self._update_controls()
        self.composer.setFocus()

    def _on_model_failed(self, message: str) -> None:
        self.load_progress.hide()
        self.model_status.setText("No model loaded")
        self._update_controls()
        self.show_error("The model could not be loaded", message)

    def open_library(self) -> LibraryWindow:
        return self.library.open()

    def add_model_file(self) -> None:
        self.library.choose_files()

    def add_dropped_models(self, paths: list[Path]) -> None:
        self.library.add_files(paths)

    def _on_library_load(self, model_id: str) -> None:
        self.load_model(model_id)
        self.model_picker.setCurrentIndex(max(0, self.model_picker.findData(model_id)))

    def _on_model_downloaded(self, entry: ModelEntry) -> None:
        self.statusBar().showMessage(f"{entry.name} is downloaded, verified and ready to use.", 10_000)
        self.refresh_models()

    def _on_starter_added(self, entry: ModelEntry) -> None:
        log.info("starter model %s installed from the bundle", entry.id)
        self.refresh_models()
        self.session.refresh()

    def _on_starter_failed(self, message: str) -> None:
        self.show_error("The starter model could not be set up", message)
        self.session.refresh()

    def _report_policy_problems(self) -> None:
        self.show_error("The administrator's policy has errors", "\n\n".join(self.library.services.policy.problems))

    def _on_pack_imported(self, settings_applied: bool) -> None:
        if settings_applied:  # the file now holds the pack's settings; this window's own stay
            fresh = self.library.services.policy.apply(load_settings(self._paths.settings_file))
            fresh.window_geometry, fresh.last_model_id = self._settings.window_geometry, self._settings.last_model_id
            self._adopt_settings(fresh)
        self.refresh_models()

    # Conversations ---------------------------------------------------------

    def _show_empty_state(self) -> None:
        self.sidebar.clearSelection()
        self.sidebar.setCurrentIndex(self.conversations.index(-1, 0))
        self.chat_view.show_welcome(has_models=self.model_picker.has_models)

    def _select_current_row(self) -> None:
        """Highlight the shown conversation (again: refreshing the list resets its selection)."""
        conversation_id = self.session.conversation_id
        row = self.conversations.row_of(conversation_id) if conversation_id is not None else -1
        if row >= 0:
            self.sidebar.selectionModel().setCurrentIndex(
                self.conversations.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )

    def _show_thread(self, thread: ShownThread) -> None:
        self._select_current_row()
        self.chat_view.show_messages(thread.messages, thread.branches)
        if thread.streaming_here:
            self.chat_view.resume_stream()

    def _on_sidebar_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and current.data(ConversationIdRole) != self.session.conversation_id:
            self.select_conversation(current.data(ConversationIdRole))

    def new_conversation(self) -> None:
        self.session.new()
        self.composer.setFocus()

    def select_conversation(self, conversation_id: int) -> None:
        self.session.open(conversation_id)

    def show_alternative(self, message_id: int, step: int) -> None:
        self.session.show_alternative(message_id, step)

    def rename_conversation(self) -> None:
        if self.session.conversation_id is None:
            return
        title, ok = QInputDialog.getText(self, "Rename conversation", "New name:", text=self.session.title())
        if ok:
            self.session.rename(title)

    def delete_conversation(self) -> None:
        if self.session.conversation_id is None or self.session.busy:
            return
        if self.confirm("Delete conversation",
                        f"Delete “{self.session.title()}” and all its messages? This cannot be undone.", "Delete"):
            self.session.delete()

    # Chatting --------------------------------------------------------------

    def send(self, text: str) -> None:
        if self.session.send(text):
            self.composer.clear()

    def regenerate(self) -> None:
        self.session.regenerate()

    def _on_reply_finished(self, stats: ReplyStats) -> None:
        self.speed_status.setText(
            f"{stats.tokens_per_second:.1f} tokens/s · first token {stats.time_to_first_token:.2f} s"
        )

    def _on_reply_failed(self, message: str, unsaved: str) -> None:
        self.chat_view.end_stream()
        self.speed_status.clear()
        self.show_error("The reply could not be finished", message)
        if unsaved:
            self.chat_view.append_unsaved_reply(unsaved)

    # Controls and dialogs --------------------------------------------------

    def _update_controls(self) -> None:
        self.show_controls(
            ready=self.loader.ready, loading=bool(self.loader.model_id), busy=self.session.busy,
            can_reply=self.session.can_reply, has_thread=self.session.conversation_id is not None,
        )

    def open_settings(self) -> None:
        policy = self.library.services.policy
        dialog = SettingsDialog(self._settings, self.loader.model_id, self, frozenset(policy.locked),
                                format_choices=self._worker.capabilities.prompt_formats)
        if not dialog.exec():
            return
        updated = policy.apply(dialog.result_settings())
        updated.window_geometry = self._settings.window_geometry
        self._adopt_settings(updated)
        self._save_settings()

    def _adopt_settings(self, updated: Settings) -> None:
        """Use new settings everywhere: downloads, the Library, and the model if the
        engine settings changed."""
        reload_needed = updated.engine != self._settings.engine
        self._settings = updated
        self.library.apply_settings(updated)
        if reload_needed:
            self.loader.reload()

    def show_model_details(self) -> None:
        entry = self.loader.entry()
        if entry is None:
            self.show_error("No model loaded", NO_MODEL_HINT)
            return
        preferences = self._settings.preferences_of(entry.id)
        if show_model_details(self, entry, preferences, safe_mode_label(preferences)):
            self._settings.model_preferences(entry.id).safe_mode = False
            self._save_settings()
            self.load_model(entry.id)

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About Hearth",
            f"{describe_build(build_info())}\n\nPrivate AI chat that runs entirely on this computer. "
            "Nothing you type leaves it.\n\nLicensed under the Apache License 2.0.",
        )

    def confirm(self, title: str, text: str, action: str) -> bool:
        return confirm(self, title, text, action)

    def show_error(self, title: str, message: str) -> None:
        show_error(self, title, message)

    def _is_dark(self) -> bool:
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark

    def _on_color_scheme(self, _scheme: Qt.ColorScheme) -> None:
        self.renderer.set_dark(self._is_dark())
        self.session.refresh()

    def _save_settings(self) -> None:
        try:
            save_settings(self._settings, self._paths.settings_file)
        except HearthError as exc:
            self.show_error("Settings not saved", str(exc))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._shut_down:  # closed before: the worker threads are gone already
            super().closeEvent(event)
            return
        self._shut_down = True
        self.session.shutdown()  # before the store closes: late worker signals are ignored
        self.loader.shutdown()
        self._settings.window_geometry = bytes(self.saveGeometry().toHex().data()).decode()
        self._save_settings()
        QMetaObject.invokeMethod(self._worker, "shutdown", Qt.ConnectionType.BlockingQueuedConnection)
        self._worker_thread.quit()
        self.library.close()
        self._worker_thread.wait()
        self.library.services.thread.wait()
        self._store.close()
        super().closeEvent(event)
