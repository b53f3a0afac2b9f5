"""The main window's widgets and where they sit: conversations on the left; the model,
the chat and the composer on the right; the model's status below.

A mixin's `self.tr` would take its context from the window's class, so its words are
translated in the fixed context "ChatLayout"."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.backends.base import ModelFacts
from app.chat.rendering import MarkdownRenderer
from app.gui.conversation_print import PrintActions
from app.gui.conversation_transfer import TransferActions
from app.gui.widgets.assistant_picker import AssistantPicker
from app.gui.widgets.chat_view import ChatView
from app.gui.widgets.composer import Composer
from app.gui.widgets.context_meter_bar import ContextMeterBar
from app.gui.widgets.conversation_sidebar import ConversationSidebar
from app.gui.widgets.crash_notice import CrashNotice
from app.gui.widgets.documents_button import DocumentsButton
from app.gui.widgets.model_picker import ModelPicker


def no_model_hint() -> str:
    return QCoreApplication.translate("ChatLayout", "Choose a model above to start chatting.")


class ChatLayout:
    """Mixin for the main window (listed before QMainWindow): builds the widgets; the
    window connects them."""

    def build_layout(self, renderer: MarkdownRenderer, sidebar: ConversationSidebar) -> None:
        assert isinstance(self, QMainWindow)
        self.sidebar = sidebar
        self.new_button = QPushButton(QCoreApplication.translate("ChatLayout", "New chat"))
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(6, 6, 0, 6)
        left_layout.addWidget(self.new_button)
        left_layout.addWidget(self.sidebar)

        self.model_picker = ModelPicker()
        self.load_progress = QProgressBar()
        self.load_progress.setRange(0, 100)
        self.load_progress.setMaximumWidth(160)
        self.load_progress.hide()
        self.library_button = QPushButton(QCoreApplication.translate("ChatLayout", "Library…"))
        self.library_button.setToolTip(QCoreApplication.translate("ChatLayout", "Your models, recommended models and downloads (Ctrl+L)"))
        header = QHBoxLayout()
        header.addWidget(QLabel(QCoreApplication.translate("ChatLayout", "Model:")))
        header.addWidget(self.model_picker, 1)
        header.addWidget(self.load_progress)
        header.addWidget(self.library_button)

        self.crash_notice = CrashNotice()
        self.chat_view = ChatView(renderer)
        self.composer = Composer()
        self.send_button = QPushButton(QCoreApplication.translate("ChatLayout", "Send"))
        self.stop_button = QPushButton(QCoreApplication.translate("ChatLayout", "Stop"))
        self.stop_button.setToolTip(QCoreApplication.translate("ChatLayout", "Stop the reply (Esc)"))
        self.regenerate_button = QPushButton(QCoreApplication.translate("ChatLayout", "Regenerate"))
        self.regenerate_button.setToolTip(QCoreApplication.translate("ChatLayout", "Write the last reply again; the earlier one is kept"))
        self.composer_hint = QLabel()
        self.composer_hint.setStyleSheet("color: gray")
        self.documents_hint = QLabel()  # what the attached documents add to the next question
        self.documents_hint.setStyleSheet("color: gray")
        self.documents_hint.setWordWrap(True)
        self.documents_hint.hide()
        self.edit_banner = QLabel(QCoreApplication.translate("ChatLayout", "Editing a message — Esc to cancel"))
        self.edit_banner.setStyleSheet("font-weight: bold")
        self.cancel_edit_button = QPushButton(QCoreApplication.translate("ChatLayout", "Cancel edit"))
        edit_row = QHBoxLayout()
        edit_row.addWidget(self.edit_banner, 1)
        edit_row.addWidget(self.cancel_edit_button)
        self.show_editing(False)
        self.documents_button = DocumentsButton()
        buttons = QVBoxLayout()
        for button in (self.send_button, self.stop_button, self.regenerate_button, self.documents_button):
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
        self.assistant_picker = AssistantPicker()  # shown while the chat is new and empty (the window says when)
        right_layout.addWidget(self.assistant_picker)
        self.context_meter = ContextMeterBar()
        hint_row = QHBoxLayout()
        hint_row.addWidget(self.composer_hint, 1)
        hint_row.addWidget(self.context_meter)
        right_layout.addLayout(hint_row)
        right_layout.addWidget(self.documents_hint)
        right_layout.addLayout(edit_row)
        right_layout.addLayout(composer_row)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 860])
        self.setCentralWidget(splitter)

        self.model_status = QLabel(QCoreApplication.translate("ChatLayout", "No model loaded"))
        self.speed_status = QLabel()
        self.statusBar().addWidget(self.model_status, 1)
        self.statusBar().addPermanentWidget(self.speed_status)

    def build_menus(self) -> None:
        """The menu bar's actions; the window connects them. Rename and Delete are also
        on the conversation list's context menu."""
        assert isinstance(self, QMainWindow)

        def action(menu: QMenu, text: str, shortcut: QKeySequence.StandardKey | str | None = None,
                   fallback: str = "") -> QAction:
            """`fallback`: the shortcut where the system has none for the standard key
            (Windows has no Quit or Preferences key, nor has Qt's generic theme)."""
            item = QAction(text, self)
            if isinstance(shortcut, QKeySequence.StandardKey) and not QKeySequence.keyBindings(shortcut):
                shortcut = fallback or None
            if shortcut is not None:
                item.setShortcut(QKeySequence(shortcut))
            menu.addAction(item)
            return item

        file_menu = self.menuBar().addMenu(QCoreApplication.translate("ChatLayout", "&File"))
        self.new_action = action(file_menu, QCoreApplication.translate("ChatLayout", "&New chat"), QKeySequence.StandardKey.New)
        self.library_action = action(file_menu, QCoreApplication.translate("ChatLayout", "Model &library…"), "Ctrl+L")
        self.add_file_action = action(file_menu, QCoreApplication.translate("ChatLayout", "&Add model file…"))
        file_menu.addSeparator()
        self.transfer_actions = TransferActions(
            export_one=action(file_menu, QCoreApplication.translate("ChatLayout", "Export this &conversation…")),
            export_all=action(file_menu, QCoreApplication.translate("ChatLayout", "Export all c&onversations…")),
            import_files=action(file_menu, QCoreApplication.translate("ChatLayout", "Import conversations (&JSON, ChatGPT)…")),
            import_folder=action(file_menu, QCoreApplication.translate("ChatLayout", "Import conversations from a fol&der…")),
        )
        self.print_actions = PrintActions(
            print_shown=action(file_menu, QCoreApplication.translate("ChatLayout", "&Print…"), QKeySequence.StandardKey.Print,
                               "Ctrl+P"),
            save_pdf=action(file_menu, QCoreApplication.translate("ChatLayout", "Save as PD&F…")),
        )
        file_menu.addSeparator()
        self.export_action = action(file_menu, QCoreApplication.translate("ChatLayout", "&Export for other computers…"))
        self.import_action = action(file_menu, QCoreApplication.translate("ChatLayout", "&Import from folder…"))
        file_menu.addSeparator()
        self.settings_action = action(file_menu, QCoreApplication.translate("ChatLayout", "&Settings…"),
                                      QKeySequence.StandardKey.Preferences, "Ctrl+,")
        file_menu.addSeparator()
        self.quit_action = action(file_menu, QCoreApplication.translate("ChatLayout", "&Quit"), QKeySequence.StandardKey.Quit, "Ctrl+Q")

        chat_menu = self.menuBar().addMenu(QCoreApplication.translate("ChatLayout", "&Chat"))
        self.rename_action = action(chat_menu, QCoreApplication.translate("ChatLayout", "&Rename…"), "F2")
        self.delete_action = action(chat_menu, QCoreApplication.translate("ChatLayout", "&Delete…"), QKeySequence.StandardKey.Delete)
        self.stop_action = action(chat_menu, QCoreApplication.translate("ChatLayout", "&Stop reply"), "Esc")
        self.regenerate_action = action(chat_menu, QCoreApplication.translate("ChatLayout", "Re&generate reply"), "Ctrl+R")
        self.regenerate_action.setShortcuts([QKeySequence("Ctrl+R"), QKeySequence("Ctrl+Shift+R")])
        chat_menu.addSeparator()
        # The message actions of the page's links, for the last message shown.
        self.edit_last_action = action(chat_menu, QCoreApplication.translate("ChatLayout", "&Edit your last message"), "Ctrl+Shift+E")
        self.copy_reply_action = action(chat_menu, QCoreApplication.translate("ChatLayout", "&Copy the last reply"), "Ctrl+Shift+C")
        self.copy_markdown_action = action(chat_menu, QCoreApplication.translate("ChatLayout", "Copy the last reply as &Markdown"),
                                           "Ctrl+Shift+M")
        self.quote_action = action(chat_menu, QCoreApplication.translate("ChatLayout", "&Quote the selection or the last reply"),
                                   "Ctrl+Shift+Q")
        self.branch_action = action(chat_menu, QCoreApplication.translate("ChatLayout", "&Branch into a new chat"), "Ctrl+Shift+B")
        self.summarise_action = action(chat_menu, QCoreApplication.translate("ChatLayout", "Su&mmarise the oldest messages"),
                                       "Ctrl+Shift+U")
        self.read_aloud_action = action(chat_menu, QCoreApplication.translate("ChatLayout", "Read the last reply &aloud"), "Ctrl+Shift+S")
        self.sidebar.addAction(self.rename_action)
        self.sidebar.addAction(self.delete_action)

        help_menu = self.menuBar().addMenu(QCoreApplication.translate("ChatLayout", "&Help"))
        self.shortcuts_action = action(help_menu, QCoreApplication.translate("ChatLayout", "&Keyboard shortcuts"), "Ctrl+/")
        self.model_details_action = action(help_menu, QCoreApplication.translate("ChatLayout", "About this &model"))
        self.about_action = action(help_menu, QCoreApplication.translate("ChatLayout", "&About Hearth"))

    def show_model_loading(self, name: str) -> None:
        self.model_status.setText(QCoreApplication.translate("ChatLayout", "Loading {name}…").format(name=name))
        self.load_progress.setValue(0)
        self.load_progress.show()

    def show_load_progress(self, fraction: float) -> None:
        self.load_progress.setValue(int(fraction * 100))

    def show_model_loaded(self, facts: ModelFacts, name: str, license_name: str) -> None:
        """`name`: the model's as the library shows it (a file's own `general.name` is often
        its training run's: "Smollm2 135M 8k Lc100K Mix1 Ep2")."""
        self.load_progress.hide()
        status = QCoreApplication.translate(
            "ChatLayout", "{name} · {parameters} · {quantization} · context {context:,} · License: {license}"
        ).format(
            name=name, parameters=facts.parameters, quantization=facts.quantization, context=facts.context_length,
            license=license_name or QCoreApplication.translate("ChatLayout", "unknown license"),
        )
        if facts.safe_mode:
            status = QCoreApplication.translate("ChatLayout", "{status} · safe mode").format(status=status)
        self.model_status.setText(status)

    def show_no_model(self, reason: str) -> None:
        self.load_progress.hide()
        self.model_status.setText(reason)

    def show_editing(self, editing: bool) -> None:
        """The line above the message box that says an earlier message is being edited."""
        self.edit_banner.setVisible(editing)
        self.cancel_edit_button.setVisible(editing)

    def show_controls(self, ready: bool, loading: bool, busy: bool, can_reply: bool, has_thread: bool,
                      can_change: bool = True, busy_in: str | None = None, summarising: bool = False,
                      opening: bool = False) -> None:
        """What can be done now, and the line under the chat that says so. `can_change`:
        the shown conversation may be branched (no reply written, nothing read). `busy_in`:
        the title of another conversation being answered (its Stop is there, not here).
        `summarising`: what keeps it busy is a summary of the oldest messages. `opening`: the
        conversation is still being read or shown, and nothing can be sent until it is."""
        self.composer.setReadOnly(not ready)
        self.send_button.setEnabled(can_reply)
        self.stop_button.setEnabled(busy and busy_in is None)
        self.stop_action.setEnabled(busy and busy_in is None)
        self.regenerate_button.setEnabled(can_reply and has_thread)
        self.regenerate_action.setEnabled(can_reply and has_thread)
        for item in (self.edit_last_action, self.copy_reply_action, self.copy_markdown_action, self.quote_action):
            item.setEnabled(has_thread)
        self.read_aloud_action.setEnabled(has_thread and self.read_aloud_action.isVisible())  # hidden: no speech engine
        self.branch_action.setEnabled(has_thread and can_change)
        self.rename_action.setEnabled(has_thread)
        self.delete_action.setEnabled(has_thread and not busy)
        for item in (self.transfer_actions.export_one, self.print_actions.print_shown, self.print_actions.save_pdf):
            item.setEnabled(has_thread)
        if not self.model_picker.has_models:
            hint = QCoreApplication.translate("ChatLayout", "No model installed yet: add one with File → Add model file…")
        elif not ready:
            hint = QCoreApplication.translate("ChatLayout", "The model is loading…") if loading else no_model_hint()
        elif busy_in is not None:
            hint = QCoreApplication.translate(
                "ChatLayout", "Hearth is answering in “{title}”: you can write here once it is done, or go back to it to stop it."
            ).format(title=busy_in)
        elif busy and summarising:
            hint = QCoreApplication.translate("ChatLayout", "Summarising the oldest messages… press Esc or Stop to stop it.")
        elif busy:
            hint = QCoreApplication.translate("ChatLayout", "Writing a reply… press Esc or Stop to stop it.")
        elif opening:
            hint = QCoreApplication.translate("ChatLayout", "Opening the conversation… you can write once it is shown.")
        else:
            hint = QCoreApplication.translate("ChatLayout", "Enter sends · Shift+Enter adds a new line")
        self.composer_hint.setText(hint)
        self.composer.setPlaceholderText(QCoreApplication.translate("ChatLayout", "Type a message") if ready else hint)
        self.composer.viewport().update()  # QPlainTextEdit does not repaint a changed placeholder
