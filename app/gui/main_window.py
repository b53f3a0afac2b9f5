"""The Hearth window: conversations on the left, the chat on the right.

Layout, menus and wiring. What a turn or a load does lives in the chat session and the
model loader (app/gui/controllers); this window shows what they report.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QMetaObject, Qt, QThread
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QBoxLayout, QInputDialog, QMainWindow, QMenu

from app.backends.base import ReplyStats
from app.chat.rendering import MarkdownRenderer
from app.chat.summary import is_summary
from app.config.settings import Settings
from app.conversations.opener import StartedStore, open_conversations
from app.conversations.store import ConversationStore, Role
from app.gui.assistant_actions import AssistantActions
from app.gui.attach_documents import AttachDocuments
from app.gui.controllers.app_settings import AppSettings
from app.gui.controllers.chat_session import ChatSession, ShownThread
from app.gui.controllers.context_meter import ContextMeter
from app.gui.controllers.conversation_trash import ConversationTrash
from app.gui.controllers.documents import DocumentsController
from app.gui.controllers.history_search import HistorySearch
from app.gui.controllers.library_access import LibraryAccess
from app.gui.controllers.model_choice import ModelChoice
from app.gui.controllers.model_loader import ModelLoader
from app.gui.controllers.titles import TitleWriter
from app.gui.conversation_print import ConversationPrint
from app.gui.conversation_transfer import ConversationTransfer
from app.gui.dialogs import confirm, error_message, show_about, show_error
from app.gui.documents.panel import DocumentsPanel
from app.gui.library.library_window import LibraryServices
from app.gui.library.pack_dialogs import PackActions
from app.gui.ops import run_in_background
from app.gui.provenance_dialog import ProvenanceDialog
from app.gui.shortcuts_sheet import ShortcutsSheet
from app.gui.speech import ReadAloud
from app.gui.summary_actions import SummaryActions
from app.gui.widgets.chat_layout import ChatLayout
from app.gui.widgets.chat_view import chat_keys
from app.gui.widgets.checklist import ModelDropTarget
from app.gui.widgets.composer import composer_keys
from app.gui.widgets.conversation_sidebar import ConversationSidebar
from app.gui.widgets.notice_bar import NoticeBar
from app.gui.widgets.settings_dialog import SettingsDialog
from app.gui.widgets.store_notice import StoreNotice
from app.gui.workers.indexing_worker import IndexingWorker
from app.gui.workers.inference_worker import InferenceWorker
from app.gui.workers.store_reader import StoreReader
from app.library.model_library import ModelEntry, ModelLibrary, bundled_starter_file
from app.platform.crash_marker import EngineRun
from app.platform.paths import AppPaths

log = logging.getLogger(__name__)

# How long closing waits for the inference worker to stop. A reply, a model load and a
# prompt being written all stop within a second of the cancel (template_guard.py,
# llama.cpp's abort callback); this is for a call that never returns.
WORKER_EXIT_MS = 15_000


class MainWindow(ModelDropTarget, ChatLayout, QMainWindow):
    def __init__(
        self,
        paths: AppPaths,
        settings: Settings,
        store: ConversationStore,
        library: ModelLibrary,
        reader: StoreReader,
        worker: InferenceWorker,
        worker_thread: QThread,
        library_services: LibraryServices,
        crashed_run: EngineRun | None = None,
        started_store: StartedStore | None = None,
    ) -> None:
        """`crashed_run`: what stopped Hearth last time (app/platform/crash_marker.py);
        `started_store`: what the start found of the conversation file (app/conversations/opener.py)."""
        super().__init__()
        self.setWindowTitle("Hearth")  # a name: not translated
        self._store, self._library, self._worker, self._worker_thread = store, library, worker, worker_thread
        self._reader = reader
        self.settings = AppSettings(settings, paths.settings_file, library_services.policy)
        current = self.settings.current
        self.library = LibraryAccess(library, library_services, current, lambda: self.loader.model_id, self)
        self._shut_down = False
        self.details_dialog: ProvenanceDialog | None = None  # the Details shown, kept from the garbage collector
        self.loader = ModelLoader(worker, library, library_services.policy, self.settings)
        self.session = ChatSession(store, reader, worker, self.loader, self.settings, prepare=lambda: self.chat_view.prepare(),
                                   open_store=lambda: open_conversations(paths))
        self.conversations = self.session.conversations
        self.packs = PackActions(self, library, current, paths.settings_file)
        self.renderer = MarkdownRenderer(dark=self._is_dark())
        self.build_layout(self.renderer, ConversationSidebar(self.conversations, lambda: self.session.conversation_id, HistorySearch(reader)))
        self.build_menus()
        self.read_aloud = ReadAloud.create(self)  # None: no speech here, and no action offers it
        self.read_aloud_action.setVisible(self.read_aloud is not None)
        self.chat_view.can_read_aloud = self.read_aloud is not None
        self.chat_view.show_reply_speed = current().show_reply_speed
        self._edit_conversation: int | None = None  # the conversation of the message being edited
        self._welcome_has_models: bool | None = None  # what the empty chat's page was shown for; None: a conversation
        self.trash = ConversationTrash(self.session, paths, self.sidebar.undo_bar, self)
        self.titles = TitleWriter(self.session, store, worker, self.loader, self.settings)
        self.transfer = ConversationTransfer(self, paths, self.session, self.transfer_actions)
        self.printing = ConversationPrint(self, paths, self.session, self.print_actions)
        self.context = ContextMeter(self.session, self.loader, self.settings)
        self.context.changed.connect(self.context_meter.show_use)
        self.composer.textChanged.connect(lambda: self.context.set_typed(self.composer.toPlainText()))
        self.documents = AttachDocuments(self, store, self.session, self.loader, self.settings, self.documents_button,
                                         self.chat_view, self.documents_hint, self.composer)
        self.documents.attached_count.connect(self.context.set_documents)
        self.assistants = AssistantActions(self, paths, store, self.session, self.settings, self.loader, library,
                                           self.assistant_picker, self.model_picker, self.sidebar)
        crashed_model = library.preferences_key(Path(crashed_run.model_path)) if crashed_run else ""
        self.models = ModelChoice(self, self.loader, library, self.library, self.settings, crashed_model)
        self._connect()
        self.setAcceptDrops(True)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_color_scheme)
        if settings.window_geometry:
            self.restoreGeometry(QByteArray.fromHex(settings.window_geometry.encode()))
        else:  # 1100 x 720, or the whole screen where it is smaller (a 1024 x 768 classroom laptop)
            screen = self.screen().availableGeometry()
            self.resize(min(1100, screen.width()), min(720, screen.height()))

        self.store_notice = StoreNotice()
        right = self.crash_notice.parentWidget()
        notices = right.layout() if right is not None else None
        assert isinstance(notices, QBoxLayout)
        notices.insertWidget(notices.indexOf(self.crash_notice), self.store_notice)
        self.summary = SummaryActions(self, notices, self.chat_view, self.summarise_action, self.statusBar(), self.speed_status,
                                      self.session, store, worker, self.loader, self.settings)
        if started_store is not None:
            self.store_notice.show_notice(started_store.notice, lasting=started_store.read_only)
        if crashed_run is not None:
            self.crash_notice.show_run(crashed_run, library.get(crashed_model) is not None)
        self.models.refresh()
        # Read above: a damaged model list was kept aside and rebuilt (ModelLibrary.notices).
        self.library_notice = NoticeBar("libraryNotice")
        notices.insertWidget(notices.indexOf(self.crash_notice), self.library_notice)
        if library.notices:
            self.library_notice.text.setText(" ".join(library.notices))
            self.library_notice.show()
        if not library.models() and bundled_starter_file() is not None:
            # First launch of a bundle: copy its starter model in (the bundle's own folder
            # may be temporary or read-only), so the user can chat straight away.
            self.chat_view.show_placeholder(self.tr("Welcome to Hearth"), self.tr("Setting up the starter model…"))
            run_in_background(self, library.add_starter, on_success=self._on_starter_added,
                              on_failure=lambda error: self._on_starter_failed(error_message(error)))
        for problem in library_services.policy.problems:  # for the administrator, not a dialog to a pupil
            log.warning("policy: %s", problem)
        self.session.open_latest()
        self.trash.empty_old()
        self.trash.follow_settings(self.settings.current())
        self._build_documents(paths, library, library_services)

    # Documents (issue 16) --------------------------------------------------

    def _build_documents(self, paths: AppPaths, library: ModelLibrary, services: LibraryServices) -> None:
        """The indexing worker shares the inference thread: llama.cpp is called from one thread."""
        self.indexing_worker = IndexingWorker(self._worker, paths.documents_index, library, services.policy)
        self.indexing_worker.moveToThread(self._worker_thread)
        self.collections = DocumentsController(self.indexing_worker, paths.documents_index, library, self.settings.current, self)
        self.collections.index_where_needed()
        self.settings.changed.connect(self.collections.follow_settings)
        self.library.models_changed.connect(self.collections.index_where_needed)
        # The composer's Documents menu offers what the panel made, and opens the panel.
        self.collections.collections_changed.connect(
            lambda: self.documents.attached.set_available([summary.name for summary in self.collections.collections]))
        self.documents_button.manage_requested.connect(self.open_documents)
        self.documents_button.menu_opening.connect(self.collections.reload)
        self.collections.reload()
        self.documents_panel: DocumentsPanel | None = None
        self.documents_action = QAction(self.tr("&Documents…"), self)
        self.documents_action.setShortcut(QKeySequence("Ctrl+Shift+D"))
        self.documents_action.triggered.connect(self.open_documents)
        file_menu = next(menu for menu in self.library_action.associatedObjects() if isinstance(menu, QMenu))
        file_menu.insertAction(self.add_file_action, self.documents_action)  # after Model library…

    def open_documents(self) -> DocumentsPanel:
        if self.documents_panel is None:
            self.documents_panel = DocumentsPanel(self.collections, self)
        self.collections.reload()
        self.documents_panel.show()
        self.documents_panel.raise_()
        return self.documents_panel

    def _close_documents(self) -> None:
        """Before the inference worker's shutdown is queued: indexing stops after its batch."""
        if self.documents_panel is not None:
            self.documents_panel.close()
        self.collections.shutdown()

    def _connect(self) -> None:
        for item, slot in (
            (self.new_action, self.new_conversation), (self.library_action, self.library.open),
            (self.add_file_action, self.library.choose_files), (self.export_action, self.packs.export),
            (self.import_action, self.packs.import_), (self.settings_action, self.open_settings),
            (self.quit_action, self.close), (self.rename_action, self.rename_conversation),
            (self.delete_action, self.delete_conversation), (self.stop_action, self.session.stop),
            (self.regenerate_action, lambda: self.session.regenerate()), (self.edit_last_action, self.edit_last_message),
            (self.copy_reply_action, lambda: self._copy_last_reply(as_markdown=False)),
            (self.copy_markdown_action, lambda: self._copy_last_reply(as_markdown=True)),
            (self.quote_action, self.quote_selection_or_last_reply), (self.branch_action, self._branch_last_message),
            (self.read_aloud_action, self._read_last_reply_aloud), (self.shortcuts_action, self.show_shortcuts),
            (self.model_details_action, lambda: self.models.show_details(self)),
            (self.about_action, lambda: show_about(self, self.library.services.policy.problems)),
        ):
            item.triggered.connect(slot)
        self.sidebar.chosen.connect(self.session.open)
        self.sidebar.hit_chosen.connect(self.session.open)
        self.sidebar.pin_requested.connect(self.session.set_pinned)
        self.sidebar.trash_requested.connect(self.trash.open_trash)
        self.new_button.clicked.connect(self.new_conversation)
        self.library_button.clicked.connect(self.library.open)
        self.crash_notice.choose_another.connect(self.library.open)
        self.chat_view.branch_requested.connect(self.session.show_alternative)
        self.chat_view.details_requested.connect(self.show_reply_details)
        self.chat_view.edit_requested.connect(self.edit_message)
        self.chat_view.regenerate_requested.connect(self.session.regenerate)
        self.chat_view.branch_to_new_requested.connect(self.session.branch_to_new_chat)
        self.chat_view.delete_requested.connect(self.trash.delete_message)
        self.chat_view.quote_requested.connect(self.composer.add_quote)
        self.chat_view.read_aloud_requested.connect(self._say)
        self.chat_view.older_wanted.connect(self.session.load_older)
        self.composer.edit_last_requested.connect(self.edit_last_message)
        self.composer.editing_changed.connect(self.show_editing)
        self.cancel_edit_button.clicked.connect(self.composer.end_edit)
        self.chat_view.link_used.connect(self.composer.setFocus)  # typing goes on where it was
        self.composer.submitted.connect(self.send)
        self.send_button.clicked.connect(lambda: self.send(self.composer.toPlainText()))
        self.stop_button.clicked.connect(self.session.stop)
        self.regenerate_button.clicked.connect(lambda: self.session.regenerate())

        session = self.session
        session.thread_shown.connect(self._show_thread)
        session.older_shown.connect(lambda page: self.chat_view.prepend_messages(
            page.messages, page.branches, page.prepared, page.has_older))
        session.newer_shown.connect(lambda page: self.chat_view.append_messages(page.messages, page.branches, page.prepared))
        session.nothing_shown.connect(self._show_empty_state)
        session.message_added.connect(self.chat_view.append_message)
        session.reply_started.connect(self.chat_view.begin_stream)
        session.reply_started.connect(lambda: self.speed_status.setText(self.tr("Thinking…")))
        session.reply_text.connect(self.chat_view.append_stream)
        session.documents_read.connect(lambda done, total: self.speed_status.setText(
            self.tr("Reading your documents: part {done} of {total}…").format(done=done, total=total)))
        session.prompt_read.connect(lambda fraction: self.speed_status.setText(
            self.tr("Reading the conversation… {percent:.0%}").format(percent=fraction)))
        session.reply_text.connect(self._show_writing)
        session.reply_saved.connect(self.chat_view.finish_stream)
        session.reply_finished.connect(self._on_reply_finished)
        session.reply_failed.connect(self._on_reply_failed)
        session.state_changed.connect(self._update_controls)
        session.notice.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        session.error.connect(self.show_error)

        self.models.controls_changed.connect(self._update_controls)
        self.models.controls_changed.connect(self._welcome_follows_models)
        self.models.loaded.connect(self.composer.setFocus)
        self.models.error.connect(self.show_error)
        self.models.notice.connect(lambda text: self.statusBar().showMessage(text, 10_000))

        self.settings.changed.connect(self.library.apply_settings)
        self.settings.engine_changed.connect(self.loader.reload)
        self.settings.changed.connect(self.trash.follow_settings)
        self.settings.changed.connect(self._follow_settings)
        self.settings.save_failed.connect(lambda text: self.show_error(self.tr("Settings not saved"), text))
        self.packs.imported.connect(self._on_pack_imported)
        self.library.services.queue.download_failed.connect(
            lambda label, message: self.statusBar().showMessage(
                self.tr("The download of {name} stopped: {reason}").format(name=label, reason=message), 20_000
            )
        )

    # Models ----------------------------------------------------------------

    def add_dropped_models(self, paths: list[Path]) -> None:
        self.library.add_files(paths)

    def _on_starter_added(self, entry: ModelEntry) -> None:
        log.info("starter model %s installed from the bundle", entry.id)
        self.models.refresh()
        self.session.refresh()

    def _on_starter_failed(self, message: str) -> None:
        self.show_error(self.tr("The starter model could not be set up"), message)
        self.session.refresh()

    def _on_pack_imported(self, settings_applied: bool) -> None:
        if settings_applied:
            self.settings.reread()
        self.models.refresh()

    # Conversations ---------------------------------------------------------

    def _show_empty_state(self) -> None:
        self._leave_edit_of_another_conversation()
        self.sidebar.show_current()
        self._welcome_has_models = self.model_picker.has_models
        self.chat_view.show_welcome(has_models=self._welcome_has_models)

    def _welcome_follows_models(self) -> None:
        """The empty chat's page says what to do first: once a model is installed (a
        download, a classroom pack, a file added) it no longer asks for one, and asks
        again when the last is deleted."""
        if (self.session.conversation_id is None and self._welcome_has_models is not None
                and self._welcome_has_models != self.model_picker.has_models):
            self._show_empty_state()

    def _show_thread(self, thread: ShownThread) -> None:
        self._welcome_has_models = None
        self._leave_edit_of_another_conversation()
        self.sidebar.show_current()
        self.chat_view.show_messages(thread.messages, thread.branches, thread.prepared, thread.has_older)
        if thread.unsaved:
            self.chat_view.append_unsaved_reply(thread.unsaved)
        if thread.streaming_here:
            self.chat_view.resume_stream()
        if thread.focus_message is not None:
            self.chat_view.scroll_to_message(thread.focus_message)

    def new_conversation(self) -> None:
        self.session.new()
        self.composer.setFocus()

    def rename_conversation(self) -> None:
        if self.session.conversation_id is None:
            return
        title, ok = QInputDialog.getText(self, self.tr("Rename conversation"), self.tr("New name:"), text=self.session.title())
        if ok:
            self.session.rename(title)

    def delete_conversation(self) -> None:
        self.trash.delete_shown()

    # Chatting --------------------------------------------------------------

    def send(self, text: str) -> None:
        """Send the message box's text: a new message, or the new version of the one edited."""
        editing = self.composer.editing
        if editing is None:
            if self.session.send(text):
                self.composer.clear()
        elif self.summary.summaries.edit(editing, text) or self.session.edit(editing, text):
            self.composer.end_edit()  # what was typed before the edit comes back

    def edit_message(self, message_id: int) -> None:
        """Put a question (or a summary) of the shown thread in the message box to be edited
        and sent again (kept as a new version, for a summary)."""
        message = self.session.shown_message(message_id)
        shown = self.session.shown_messages()
        if message is not None and is_summary(message) and shown and shown[-1].id != message.id:
            # Its new version would stand beside it without what followed it.
            self.statusBar().showMessage(self.tr(
                "A summary can be edited while it is the last message. To change what the model reads now, "
                "summarise again when more is left out."), 15_000)
            return
        if message is not None and (message.role == Role.USER or is_summary(message)):
            self._edit_conversation = message.conversation_id
            self.composer.begin_edit(message.id, message.content)

    def edit_last_message(self) -> None:
        message = self.session.last_message(Role.USER)
        if message is not None:
            self.edit_message(message.id)

    def _leave_edit_of_another_conversation(self) -> None:
        """An edit belongs to its conversation: showing another ends it (the text typed
        before it comes back)."""
        if self.composer.editing is not None and self.session.conversation_id != self._edit_conversation:
            self.composer.end_edit()

    def _copy_last_reply(self, as_markdown: bool) -> None:
        reply = self.session.last_message(Role.ASSISTANT)
        if reply is not None:
            self.chat_view.copy_message(str(reply.id), as_markdown=as_markdown)
            self.statusBar().showMessage(self.tr("Reply copied."), 5000)

    def quote_selection_or_last_reply(self) -> None:
        reply = self.session.last_message(Role.ASSISTANT)
        text = self.chat_view.quoted_selection() or (reply.content if reply is not None else "")
        if text:
            self.composer.add_quote(text)

    def _branch_last_message(self) -> None:
        last = self.session.last_message(Role.ASSISTANT) or self.session.last_message(Role.USER)
        if last is not None:
            self.session.branch_to_new_chat(last.id)

    def _read_last_reply_aloud(self) -> None:
        reply = self.session.last_message(Role.ASSISTANT)
        if reply is not None:
            self._say(self.chat_view.spoken_text(reply.id) or reply.content)

    def _say(self, text: str) -> None:
        if self.read_aloud is not None:
            self.read_aloud.say(text)

    def show_shortcuts(self) -> None:
        sheet = ShortcutsSheet(self.menuBar(), [(self.tr("Message box"), composer_keys()), (self.tr("Chat"), chat_keys())], self)
        sheet.exec()
        sheet.deleteLater()

    def _show_writing(self) -> None:
        """Once text streams, the status says so: the speed comes when the reply ends."""
        if self.speed_status.text() != self.tr("Writing…"):
            self.speed_status.setText(self.tr("Writing…"))

    def _on_reply_finished(self, stats: ReplyStats) -> None:
        self.speed_status.setText(self.tr("{speed:.1f} tokens/s · first token {seconds:.2f} s").format(
            speed=stats.tokens_per_second, seconds=stats.time_to_first_token
        ))

    def _on_reply_failed(self, message: str) -> None:
        self.chat_view.end_stream()
        self.speed_status.clear()
        self.show_error(self.tr("The reply could not be finished"), message)

    # Controls and dialogs --------------------------------------------------

    def show_reply_details(self, message_id: int) -> None:
        """The Details of a reply (one row read), with its Reproduce."""
        message = self._store.message(message_id)
        if message is None:
            return
        if self.details_dialog is not None:
            self.details_dialog.close()
        self.details_dialog = ProvenanceDialog(self.session, message, self)
        self.details_dialog.show()

    def _update_controls(self) -> None:
        self.show_controls(
            ready=self.loader.ready, loading=bool(self.loader.model_id),
            busy=self.session.busy or self.session.reproducing or self.session.held,
            can_reply=self.session.can_reply, has_thread=self.session.conversation_id is not None,
            can_change=self.session.can_change, busy_in=self.session.busy_elsewhere, summarising=self.session.held,
            opening=self.session.opening,
        )

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.settings.current(), self.loader.model_id, self,
                                frozenset(self.library.services.policy.locked),
                                format_choices=self._worker.capabilities.prompt_formats,
                                downloads=self.library.services.policy.downloads)
        if dialog.exec():
            self.settings.edited(dialog.result_settings())

    def _follow_settings(self, settings: Settings) -> None:
        if settings.show_reply_speed != self.chat_view.show_reply_speed:
            self.chat_view.show_reply_speed = settings.show_reply_speed
            self.session.refresh()  # the open conversation shown again, with or without it

    def confirm(self, title: str, text: str, action: str) -> bool:
        return confirm(self, title, text, action)

    def show_error(self, title: str, message: str) -> None:
        show_error(self, title, message)

    def _is_dark(self) -> bool:
        return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark

    def _on_color_scheme(self, _scheme: Qt.ColorScheme) -> None:
        self.renderer.set_dark(self._is_dark())
        self.session.refresh()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._shut_down:  # closed before: the worker threads are gone already
            super().closeEvent(event)
            return
        self._shut_down = True
        self.settings.keep_geometry(bytes(self.saveGeometry().toHex().data()).decode())
        self.hide()  # at once: what follows waits for the worker to stop
        self.session.shutdown()  # before the store closes: late worker signals are ignored
        self.titles.shutdown()
        self.loader.shutdown()
        self._close_documents()
        # Queued, never blocking: the worker quits its thread when it has freed the model, and
        # a worker stuck in a call that does not stop is waited for only so long.
        QMetaObject.invokeMethod(self._worker, "shutdown", Qt.ConnectionType.QueuedConnection)
        self.library.close()
        if not self._worker_thread.wait(WORKER_EXIT_MS):
            log.error("the inference worker did not stop within %d ms; closing without it", WORKER_EXIT_MS)
        self._reader.stop()
        self.library.services.thread.wait()
        self._store.close()
        super().closeEvent(event)
