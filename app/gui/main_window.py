"""The Hearth window: conversations on the left, the chat on the right."""

from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QItemSelectionModel, QMetaObject, QModelIndex, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListView,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.backends.base import ModelFacts, ReplyStats
from app.chat.crash_recovery import safe_mode_label
from app.chat.rendering import MarkdownRenderer
from app.config.settings import Settings, load_settings, save_settings
from app.conversations.store import ConversationStore, Message, title_from
from app.gui.item_models.conversation_list import ConversationIdRole, ConversationListModel
from app.gui.library.library_window import LibraryServices, LibraryWindow
from app.gui.library.pack_dialogs import PackActions
from app.gui.ops import run_task
from app.gui.widgets.chat_view import ChatView
from app.gui.widgets.checklist import ModelDropTarget
from app.gui.widgets.composer import Composer
from app.gui.widgets.crash_notice import CrashNotice
from app.gui.widgets.settings_dialog import SettingsDialog
from app.gui.workers.inference_worker import InferenceWorker, ReplyRequest
from app.library.model_library import ModelEntry, ModelLibrary, bundled_starter_file
from app.platform.build_info import build_info
from app.platform.build_info import describe as describe_build
from app.platform.crash_marker import EngineRun
from app.platform.errors import HearthError
from app.platform.paths import AppPaths

log = logging.getLogger(__name__)

NO_MODEL_HINT = "Choose a model above to start chatting."


class MainWindow(ModelDropTarget, QMainWindow):
    request_load = Signal(int, str, object, bool)
    request_generate = Signal(object)

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
        self._paths = paths
        self._settings = settings
        self._store = store
        self._library = library
        self._worker = worker
        self._worker_thread = worker_thread
        self._library_services = library_services
        self._library_window: LibraryWindow | None = None
        self._shut_down = False
        self._conversation_id: int | None = None
        self._request_id = 0
        self._active_request: int | None = None
        self._streaming_conversation: int | None = None
        self._streaming_reply_id: int | None = None
        self._streaming_parent: int | None = None
        self._load_id = 0
        self._model_ready = False
        self._loaded_model_id = ""
        self._crashed_model_key = library.preferences_key(Path(crashed_run.model_path)) if crashed_run else ""

        self.packs = PackActions(self, library, lambda: self._settings, paths.settings_file)
        self.packs.imported.connect(self._on_pack_imported)
        self.renderer = MarkdownRenderer(dark=self._is_dark())
        self._build_widgets()
        self._build_menus()
        self._connect_worker()
        library_services.queue.model_added.connect(self._on_model_downloaded)
        library_services.queue.download_failed.connect(self._on_download_failed)
        self.setAcceptDrops(True)
        hints = QGuiApplication.styleHints()
        hints.colorSchemeChanged.connect(self._on_color_scheme)

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
            run_task(self, library.add_starter, self._on_starter_added, self._on_starter_failed)
        if library_services.policy.problems:  # reported once the window is up; defaults apply
            QTimer.singleShot(0, self._report_policy_problems)
        first = self.conversations.index(0, 0)
        if first.isValid():
            self.select_conversation(first.data(ConversationIdRole))
        else:
            self._show_empty_state()
        self._update_controls()

    # Layout ----------------------------------------------------------------

    def _build_widgets(self) -> None:
        self.conversations = ConversationListModel(self._store)
        self.sidebar = QListView()
        self.sidebar.setModel(self.conversations)
        self.sidebar.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sidebar.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.sidebar.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.sidebar.selectionModel().currentChanged.connect(self._on_sidebar_current)
        new_button = QPushButton("New chat")
        new_button.clicked.connect(self.new_conversation)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 0, 6)
        left_layout.addWidget(new_button)
        left_layout.addWidget(self.sidebar)

        self.model_picker = QComboBox()
        self.model_picker.setMinimumWidth(320)
        self.model_picker.activated.connect(self._on_model_picked)
        self.load_progress = QProgressBar()
        self.load_progress.setRange(0, 100)
        self.load_progress.setMaximumWidth(160)
        self.load_progress.hide()
        header = QHBoxLayout()
        header.addWidget(QLabel("Model:"))
        header.addWidget(self.model_picker, 1)
        header.addWidget(self.load_progress)
        library_button = QPushButton("Library…")
        library_button.setToolTip("Your models, recommended models and downloads (Ctrl+L)")
        library_button.clicked.connect(self.open_library)
        header.addWidget(library_button)

        self.crash_notice = CrashNotice()
        self.crash_notice.retry_in_safe_mode.connect(self.retry_in_safe_mode)
        self.crash_notice.choose_another.connect(self.open_library)

        self.chat_view = ChatView(self.renderer)
        self.chat_view.branch_requested.connect(self.show_alternative)

        self.composer = Composer()
        self.composer.submitted.connect(self.send)
        self.send_button = QPushButton("Send")
        self.send_button.clicked.connect(lambda: self.send(self.composer.toPlainText()))
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the reply (Esc)")
        self.stop_button.clicked.connect(self.stop)
        self.regenerate_button = QPushButton("Regenerate")
        self.regenerate_button.setToolTip("Write the last reply again; the earlier one is kept")
        self.regenerate_button.clicked.connect(self.regenerate)
        self.composer_hint = QLabel()
        self.composer_hint.setStyleSheet("color: gray")
        buttons = QVBoxLayout()
        for button in (self.send_button, self.stop_button, self.regenerate_button):
            buttons.addWidget(button)
        composer_row = QHBoxLayout()
        composer_row.addWidget(self.composer, 1)
        composer_row.addLayout(buttons)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 6, 6, 6)
        right_layout.addLayout(header)
        right_layout.addWidget(self.crash_notice)
        right_layout.addWidget(self.chat_view, 1)
        right_layout.addWidget(self.composer_hint)
        right_layout.addLayout(composer_row)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 860])
        self.setCentralWidget(splitter)

        self.model_status = QLabel("No model loaded")
        self.speed_status = QLabel()
        self.statusBar().addWidget(self.model_status, 1)
        self.statusBar().addPermanentWidget(self.speed_status)

    def _build_menus(self) -> None:
        def action(menu: Any, text: str, slot: Any, shortcut: Any = None) -> QAction:
            item = QAction(text, self)
            if shortcut is not None:
                item.setShortcut(QKeySequence(shortcut))
            item.triggered.connect(slot)
            menu.addAction(item)
            return item

        file_menu = self.menuBar().addMenu("&File")
        self.new_action = action(file_menu, "&New chat", self.new_conversation, QKeySequence.StandardKey.New)
        action(file_menu, "Model &library…", self.open_library, "Ctrl+L")
        action(file_menu, "&Add model file…", self.add_model_file)
        file_menu.addSeparator()
        action(file_menu, "&Export for other computers…", self.packs.export)
        action(file_menu, "&Import from folder…", self.packs.import_)
        file_menu.addSeparator()
        action(file_menu, "&Settings…", self.open_settings, QKeySequence.StandardKey.Preferences)
        file_menu.addSeparator()
        action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        chat_menu = self.menuBar().addMenu("&Chat")
        self.rename_action = action(chat_menu, "&Rename…", self.rename_conversation, "F2")
        self.delete_action = action(chat_menu, "&Delete…", self.delete_conversation, QKeySequence.StandardKey.Delete)
        self.stop_action = action(chat_menu, "&Stop reply", self.stop, "Esc")
        self.regenerate_action = action(chat_menu, "Re&generate reply", self.regenerate, "Ctrl+R")
        self.sidebar.addAction(self.rename_action)
        self.sidebar.addAction(self.delete_action)

        help_menu = self.menuBar().addMenu("&Help")
        action(help_menu, "About this &model", self.show_model_details)
        action(help_menu, "&About Hearth", self.show_about)

    def _connect_worker(self) -> None:
        worker = self._worker
        self.request_load.connect(worker.load_model)
        self.request_generate.connect(worker.generate)
        worker.model_loading.connect(self._on_model_loading)
        worker.model_loaded.connect(self._on_model_loaded)
        worker.model_failed.connect(self._on_model_failed)
        worker.warning.connect(self._on_worker_warning)
        worker.reply_started.connect(self._on_reply_started)
        worker.token.connect(self._on_token)
        worker.finished.connect(self._on_reply_finished)
        worker.failed.connect(self._on_reply_failed)

    # Models ----------------------------------------------------------------

    def refresh_models(self) -> None:
        self.model_picker.clear()
        policy = self._library_services.policy
        entries = [e for e in self._library.models() if policy.allows(*e.names)]
        for entry in entries:
            self.model_picker.addItem(f"{entry.name}  ·  {entry.size / 1e6:,.0f} MB", entry.id)
            self.model_picker.setItemData(
                self.model_picker.count() - 1,
                f"{entry.parameters / 1e6:,.0f}M parameters, {entry.quantization}, "
                f"license: {entry.license or 'unknown'}\nSource: {entry.source}",
                Qt.ItemDataRole.ToolTipRole,
            )
        if not entries:
            self.model_picker.addItem("No models installed")
            self.model_picker.setEnabled(False)
            return
        self.model_picker.setEnabled(True)
        wanted = self._settings.last_model_id
        if self.model_picker.findData(wanted) < 0:
            wanted = policy.default_model
        index = max(0, self.model_picker.findData(wanted))
        self.model_picker.setCurrentIndex(index)
        if not self._loaded_model_id:
            chosen = entries[index].id if wanted not in {e.id for e in entries} else wanted
            if self._settings.preferences_of(chosen).crashed:  # never by itself after a crash
                self.model_status.setText("No model loaded: the last one stopped Hearth")
            else:
                self.load_model(chosen)

    def _on_model_picked(self, index: int) -> None:
        model_id = self.model_picker.itemData(index)
        if model_id and model_id != self._loaded_model_id:
            self.load_model(model_id)

    def load_model(self, model_id: str) -> None:
        entry = self._library.get(model_id)
        if entry is None:
            return
        if not self._library_services.policy.allows(*entry.names):
            self.show_error("Not allowed here", f"Your administrator does not allow {entry.name} on this computer.")
            return
        if self._active_request is not None:
            self._worker.cancel.set()
        self._load_id += 1
        self._worker.wanted_load = self._load_id  # abandons a load still in progress
        self._model_ready = False
        self._loaded_model_id = entry.id
        self._settings.last_model_id = entry.id
        self.model_status.setText(f"Loading {entry.name}…")
        self.load_progress.setValue(0)
        self.load_progress.show()
        self._update_controls()
        safe_mode = self._settings.preferences_of(entry.id).safe_mode
        self.request_load.emit(self._load_id, str(self._library.file_of(entry)), copy.deepcopy(self._settings), safe_mode)

    def retry_in_safe_mode(self) -> None:
        """Load the model that stopped Hearth again, with the engine's speed-ups off."""
        self._settings.model_preferences(self._crashed_model_key).safe_mode = True
        self._save_settings()
        self.load_model(self._crashed_model_key)

    def _current_entry(self) -> ModelEntry | None:
        return self._library.get(self._loaded_model_id) if self._loaded_model_id else None

    def _on_model_loading(self, load_id: int, fraction: float) -> None:
        if load_id == self._load_id:
            self.load_progress.setValue(int(fraction * 100))

    def _on_model_loaded(self, load_id: int, facts: ModelFacts) -> None:
        if load_id != self._load_id:
            return
        self._model_ready = True
        if self._settings.preferences_of(self._loaded_model_id).crashed:  # loaded cleanly: it may by itself again
            self._settings.model_preferences(self._loaded_model_id).crashed = ""
            self._save_settings()
        if self._library_window is not None:
            self._library_window.refresh(self._loaded_model_id)
        self.load_progress.hide()
        entry = self._current_entry()
        license_name = (entry.license if entry else "") or facts.license or "unknown license"
        self.model_status.setText(
            f"{facts.name} · {facts.parameters} · {facts.quantization} · "
            f"context {facts.context_length:,} · License: {license_name}"
            + (" · safe mode" if facts.safe_mode else "")
        )
        self._update_controls()
        self.composer.setFocus()

    def _on_model_failed(self, load_id: int, message: str) -> None:
        if load_id != self._load_id:
            return
        self._model_ready = False
        self._loaded_model_id = ""
        self.load_progress.hide()
        self.model_status.setText("No model loaded")
        self._update_controls()
        self.show_error("The model could not be loaded", message)

    def open_library(self) -> LibraryWindow:
        if self._library_window is None:
            self._library_window = LibraryWindow(self._library, self._library_services, self._settings, self)
            self._library_window.load_requested.connect(self._on_library_load)
            self._library_window.models_changed.connect(self.refresh_models)
        self._library_window.refresh(self._loaded_model_id)
        self._library_window.show()
        self._library_window.raise_()
        return self._library_window

    def add_model_file(self) -> None:
        self.open_library().choose_files()

    def _on_library_load(self, model_id: str) -> None:
        self.load_model(model_id)
        self.model_picker.setCurrentIndex(max(0, self.model_picker.findData(model_id)))

    def _on_model_downloaded(self, entry: ModelEntry) -> None:
        self.statusBar().showMessage(f"{entry.name} is downloaded, verified and ready to use.", 10_000)
        self.refresh_models()

    def _on_starter_added(self, entry: ModelEntry) -> None:
        log.info("starter model %s installed from the bundle", entry.id)
        self.refresh_models()
        self._show_empty_state()

    def _on_starter_failed(self, message: str) -> None:
        self.show_error("The starter model could not be set up", message)
        self._show_empty_state()

    def _report_policy_problems(self) -> None:
        self.show_error("The administrator's policy has errors", "\n\n".join(self._library_services.policy.problems))

    def _on_pack_imported(self, settings_applied: bool) -> None:
        if settings_applied:  # the file now holds the pack's settings; this window's own stay
            fresh = self._library_services.policy.apply(load_settings(self._paths.settings_file))
            fresh.window_geometry, fresh.last_model_id = self._settings.window_geometry, self._settings.last_model_id
            self._adopt_settings(fresh)
        self.refresh_models()

    def _on_download_failed(self, label: str, message: str) -> None:
        self.statusBar().showMessage(f"The download of {label} stopped: {message}", 20_000)

    def add_dropped_models(self, paths: list[Path]) -> None:
        self.open_library().add_files(paths)

    def _on_worker_warning(self, load_id: int, text: str) -> None:
        if load_id == self._load_id:
            self.show_error("This model may not fit", text)

    # Conversations ---------------------------------------------------------

    def _show_empty_state(self) -> None:
        if not self._library.models():
            self.chat_view.show_placeholder(
                "Welcome to Hearth",
                "Hearth needs a model to chat with. Open the Library (Ctrl+L) to download a "
                "recommended one, use a model you already have in another app, or drop a .gguf "
                "file on this window. Your conversations stay on this computer.",
            )
        else:
            self.chat_view.show_placeholder(
                "Start a conversation",
                "Type a message below and press Enter. Shift+Enter adds a new line. "
                "Nothing you type leaves this computer.",
            )

    def new_conversation(self) -> None:
        self._conversation_id = None
        self.sidebar.clearSelection()
        self.sidebar.setCurrentIndex(self.conversations.index(-1, 0))
        self._show_empty_state()
        self._update_controls()
        self.composer.setFocus()

    def _on_sidebar_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and current.data(ConversationIdRole) != self._conversation_id:
            self.select_conversation(current.data(ConversationIdRole))

    def select_conversation(self, conversation_id: int) -> None:
        self._conversation_id = conversation_id
        row = self.conversations.row_of(conversation_id)
        if row >= 0:
            self.sidebar.selectionModel().setCurrentIndex(
                self.conversations.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
        self.reload_thread()

    def reload_thread(self) -> None:
        if self._conversation_id is None:
            self._show_empty_state()
            return
        messages = self._store.thread(self._conversation_id)
        streaming_here = self._active_request is not None and self._streaming_conversation == self._conversation_id
        if streaming_here:
            # The reply being written is shown from memory, not from its (lagging) saved copy.
            messages = [m for m in messages if m.id != self._streaming_reply_id and m.status != "streaming"]
        self.chat_view.show_messages(messages, self._branches(messages))
        if streaming_here:
            self.chat_view.resume_stream()
        self._update_controls()

    def _branches(self, messages: list[Message]) -> dict[int, tuple[int, int]]:
        branches = {}
        for message in messages:
            if message.role == "assistant":
                siblings = self._store.siblings(message.id)
                branches[message.id] = (siblings.index(message.id) + 1, len(siblings))
        return branches

    def show_alternative(self, message_id: int, step: int) -> None:
        siblings = self._store.siblings(message_id)
        if message_id not in siblings or self._active_request is not None:
            return
        target = siblings[(siblings.index(message_id) + step) % len(siblings)]
        self._guard(lambda: self._store.show_branch(target))
        self.reload_thread()

    def rename_conversation(self) -> None:
        if self._conversation_id is None:
            return
        title, ok = QInputDialog.getText(
            self, "Rename conversation", "New name:", text=self._store.conversation_title(self._conversation_id)
        )
        if ok and title.strip():
            self._guard(lambda: self._store.rename_conversation(self._conversation_id, title))
            self.conversations.refresh()
            self.select_conversation(self._conversation_id)

    def delete_conversation(self) -> None:
        if self._conversation_id is None or self._active_request is not None:
            return
        title = self._store.conversation_title(self._conversation_id)
        if not self.confirm(
            "Delete conversation",
            f"Delete “{title}” and all its messages? This cannot be undone.",
            "Delete",
        ):
            return
        self._guard(lambda: self._store.delete_conversation(self._conversation_id))
        self.conversations.refresh()
        first = self.conversations.index(0, 0)
        if first.isValid():
            self.select_conversation(first.data(ConversationIdRole))
        else:
            self.new_conversation()

    # Chatting --------------------------------------------------------------

    def send(self, text: str) -> None:
        if not text.strip() or not self._model_ready or self._active_request is not None:
            return
        def add() -> int:
            if self._conversation_id is None:
                self._conversation_id = self._store.create_conversation(title_from(text))
            thread = self._store.thread(self._conversation_id)
            parent = thread[-1].id if thread else None
            return self._store.add_message(self._conversation_id, parent, "user", text)

        user_message_id = self._guard(add)
        if user_message_id is False or self._conversation_id is None:
            return  # nothing saved: the text stays in the composer
        self.composer.clear()
        self.conversations.refresh()
        self.select_conversation(self._conversation_id)
        self._start_reply(user_message_id)

    def regenerate(self) -> None:
        if self._conversation_id is None or not self._model_ready or self._active_request is not None:
            return
        thread = self._store.thread(self._conversation_id)
        if not thread:
            return
        last = thread[-1]
        parent_id = last.parent_id if last.role == "assistant" else last.id
        if parent_id is None or self._guard(
            lambda: self._store.set_current_leaf(self._conversation_id, parent_id)
        ) is False:
            return
        self.reload_thread()
        self._start_reply(parent_id)

    def _start_reply(self, parent_id: int) -> None:
        self._request_id += 1
        self._active_request = self._request_id
        self._streaming_conversation = self._conversation_id
        self._streaming_parent = parent_id
        self._streaming_reply_id = None
        self.chat_view.begin_stream()
        self.speed_status.setText("Thinking…")
        self._update_controls()
        preference = self._settings.model_preferences(self._loaded_model_id).prompt_format
        self.request_generate.emit(
            ReplyRequest(self._request_id, parent_id, copy.deepcopy(self._settings), preference)
        )

    def stop(self) -> None:
        if self._active_request is not None:
            self._worker.cancel.set()

    def _on_reply_started(self, request_id: int, message_id: int, omitted: int) -> None:
        if request_id != self._active_request:
            return
        self._streaming_reply_id = message_id
        if omitted:
            self.statusBar().showMessage(
                f"This conversation is longer than the model can read at once: the oldest "
                f"{omitted} messages were left out of this reply. They are still saved.",
                15000,
            )

    def _on_token(self, request_id: int, text: str) -> None:
        if request_id == self._active_request:
            self.chat_view.append_stream(text)

    def _on_reply_finished(self, request_id: int, stats: ReplyStats) -> None:
        if request_id != self._active_request:
            return
        self._end_reply()
        self.speed_status.setText(
            f"{stats.tokens_per_second:.1f} tokens/s · first token {stats.time_to_first_token:.2f} s"
        )

    def _on_reply_failed(self, request_id: int, message: str) -> None:
        if request_id != self._active_request:
            return
        partial = self.chat_view.streamed_text
        reply_id, shown_here = self._streaming_reply_id, self._streaming_conversation == self._conversation_id
        if reply_id is None and self._streaming_parent is not None:
            # No reply was started: show the question's earlier answers again, if any.
            self._guard(lambda: self._store.show_branch(self._streaming_parent))
        self._end_reply()
        self.speed_status.clear()
        self.show_error("The reply could not be finished", message)
        saved = self._store.message(reply_id) if reply_id is not None else None
        if partial and shown_here and (saved is None or saved.content != partial):
            self.chat_view.append_unsaved_reply(partial)

    def _end_reply(self) -> None:
        self.chat_view.end_stream()
        self._active_request = None
        self._streaming_conversation = None
        self.conversations.refresh()
        if self._conversation_id is not None:
            self.select_conversation(self._conversation_id)
        self._update_controls()

    # Controls and dialogs --------------------------------------------------

    def _update_controls(self) -> None:
        busy = self._active_request is not None
        ready = self._model_ready and not busy
        self.composer.setReadOnly(not self._model_ready)
        self.send_button.setEnabled(ready)
        self.stop_button.setEnabled(busy)
        self.stop_action.setEnabled(busy)
        has_thread = self._conversation_id is not None
        self.regenerate_button.setEnabled(ready and has_thread)
        self.regenerate_action.setEnabled(ready and has_thread)
        self.rename_action.setEnabled(has_thread)
        self.delete_action.setEnabled(has_thread and not busy)
        if not self._library.models():
            hint = "No model installed yet: add one with File → Add model file…"
        elif not self._model_ready:
            hint = "The model is loading…" if self._loaded_model_id else NO_MODEL_HINT
        elif busy:
            hint = "Writing a reply… press Esc or Stop to stop it."
        else:
            hint = "Enter sends · Shift+Enter adds a new line"
        self.composer_hint.setText(hint)
        self.composer.setPlaceholderText("Type a message" if self._model_ready else hint)
        self.composer.viewport().update()  # QPlainTextEdit does not repaint a changed placeholder

    def open_settings(self) -> None:
        policy = self._library_services.policy
        dialog = SettingsDialog(
            self._settings, self._loaded_model_id, self._worker.capabilities.prompt_formats, self, frozenset(policy.locked)
        )
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
        self._library_services.queue.set_hub_endpoint(updated.library.hub_endpoint)
        if self._library_window is not None:
            self._library_window.apply_settings(updated)
        if reload_needed and self._loaded_model_id:
            self.load_model(self._loaded_model_id)

    def show_model_details(self) -> None:
        entry = self._current_entry()
        if entry is None:
            self.show_error("No model loaded", NO_MODEL_HINT)
            return
        preferences = self._settings.preferences_of(entry.id)
        safe_mode = safe_mode_label(preferences)
        box = QMessageBox(
            QMessageBox.Icon.Information,
            entry.name,
            f"Architecture: {entry.architecture}\nParameters: {entry.parameters:,}\n"
            f"Quantization: {entry.quantization}\nTrained context: {entry.context_length:,} tokens\n"
            f"Chat template: {'yes' if entry.has_chat_template else 'no'}\n"
            f"License: {entry.license or 'unknown'}\nSource: {entry.source}\nSHA-256: {entry.sha256}"
            + (f"\n\n{safe_mode}" if safe_mode else ""),
            QMessageBox.StandardButton.Ok,
            self,
        )
        turn_off = box.addButton("Turn off safe mode", QMessageBox.ButtonRole.ActionRole) if preferences.safe_mode else None
        box.exec()
        if turn_off is not None and box.clickedButton() is turn_off:
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
        box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, self)
        accept = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is accept

    def show_error(self, title: str, message: str) -> None:
        log.info("shown to user: %s: %s", title, message)
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()

    def _guard(self, work: Any) -> Any:
        """Run a store write on this thread; a failure is shown, not raised.
        Returns the work's result (None when it returns nothing), or False when it failed."""
        try:
            return work()
        except HearthError as exc:
            self.show_error("Not saved", str(exc))
            return False

    def _is_dark(self) -> bool:
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark

    def _on_color_scheme(self, _scheme: Qt.ColorScheme) -> None:
        self.renderer.set_dark(self._is_dark())
        self.reload_thread()

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
        self._worker.cancel.set()
        self._worker.wanted_load = -1
        self._settings.window_geometry = bytes(self.saveGeometry().toHex().data()).decode()
        self._save_settings()
        if self._library_window is not None:
            self._library_window.close()
        QMetaObject.invokeMethod(self._worker, "shutdown", Qt.ConnectionType.BlockingQueuedConnection)
        self._worker_thread.quit()
        self._library_services.queue.pause_all()  # kept on disk; Resume continues next time
        self._library_services.thread.quit()
        self._worker_thread.wait()
        self._library_services.thread.wait()
        self._store.close()
        super().closeEvent(event)

