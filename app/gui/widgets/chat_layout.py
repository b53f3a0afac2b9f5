"""The main window's widgets and where they sit: conversations on the left; the model,
the chat and the composer on the right; the model's status below."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.chat.rendering import MarkdownRenderer
from app.gui.item_models.conversation_list import ConversationListModel
from app.gui.widgets.chat_view import ChatView
from app.gui.widgets.composer import Composer
from app.gui.widgets.crash_notice import CrashNotice
from app.gui.widgets.model_picker import ModelPicker


class ChatLayout:
    """Mixin for the main window (listed before QMainWindow): builds the widgets; the
    window connects them."""

    def build_layout(self, renderer: MarkdownRenderer, conversations: ConversationListModel) -> None:
        assert isinstance(self, QMainWindow)
        self.sidebar = QListView()
        self.sidebar.setModel(conversations)
        self.sidebar.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.sidebar.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.sidebar.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.new_button = QPushButton("New chat")
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
        self.library_button = QPushButton("Library…")
        self.library_button.setToolTip("Your models, recommended models and downloads (Ctrl+L)")
        header = QHBoxLayout()
        header.addWidget(QLabel("Model:"))
        header.addWidget(self.model_picker, 1)
        header.addWidget(self.load_progress)
        header.addWidget(self.library_button)

        self.crash_notice = CrashNotice()
        self.chat_view = ChatView(renderer)
        self.composer = Composer()
        self.send_button = QPushButton("Send")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the reply (Esc)")
        self.regenerate_button = QPushButton("Regenerate")
        self.regenerate_button.setToolTip("Write the last reply again; the earlier one is kept")
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
