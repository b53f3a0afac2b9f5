"""The window's assistants: the picker a new chat starts from, the Assistants menu (the
Assistants dialog, and Settings in force for the chat in view), and the preferred model.

Wiring between the AssistantShelf controller, the chat session and the window's widgets;
what is in force is computed by `app.chat.reply.settings_in_force`, the function the reply
is written with.
"""

from __future__ import annotations

import copy

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow

from app.assistants.book import Shelf
from app.assistants.in_force import Value, own_settings
from app.assistants.model import Assistant
from app.chat.reply import settings_in_force
from app.config import schema
from app.conversations.store import ConversationStore
from app.gui.assistants_dialog import AssistantsDialog
from app.gui.controllers.app_settings import AppSettings
from app.gui.controllers.assistant_shelf import AssistantShelf
from app.gui.controllers.chat_session import ChatSession
from app.gui.controllers.model_loader import ModelLoader
from app.gui.dialogs import show_error
from app.gui.widgets.assistant_picker import AssistantPicker
from app.gui.widgets.conversation_sidebar import ConversationSidebar
from app.gui.widgets.model_picker import ModelPicker
from app.gui.widgets.settings_in_force import SettingsInForceDialog
from app.library.model_library import ModelLibrary
from app.platform.errors import HearthError
from app.platform.paths import AppPaths


class AssistantActions(QObject):
    def __init__(
        self, window: QMainWindow, paths: AppPaths, store: ConversationStore, session: ChatSession, settings: AppSettings,
        loader: ModelLoader, library: ModelLibrary, picker: AssistantPicker, model_picker: ModelPicker, sidebar: ConversationSidebar,
    ) -> None:
        super().__init__(window)
        self._sidebar = sidebar
        self._window, self._store, self._session, self._settings = window, store, session, settings
        self._loader, self._library, self._picker, self._model_picker = loader, library, picker, model_picker
        self.shelf = AssistantShelf(paths.assistants_dir, self)
        self.dialog: AssistantsDialog | None = None  # the one open, kept from the garbage collector
        self.in_force_dialog: SettingsInForceDialog | None = None

        menu = window.menuBar().addMenu(self.tr("&Assistants"))
        window.menuBar().insertMenu(window.menuBar().actions()[-2], menu)  # before Help
        self.manage_action = QAction(self.tr("&Manage assistants…"), window)
        self.in_force_action = QAction(self.tr("Settings &in force…"), window)
        menu.addAction(self.manage_action)
        menu.addAction(self.in_force_action)
        self.manage_action.triggered.connect(self.open_assistants)
        self.in_force_action.triggered.connect(self.show_in_force)

        picker.chosen.connect(self._on_chosen)
        self.shelf.changed.connect(self._show_shelf)
        session.state_changed.connect(lambda: picker.setVisible(session.conversation_id is None))
        session.nothing_shown.connect(lambda: picker.select(self._default_id()))  # a new chat starts from the default
        settings.changed.connect(lambda _settings: self._show_shelf(self.shelf.shelf))
        self._show_shelf(self.shelf.shelf)
        self.shelf.read()

    def _default_id(self) -> str:
        return self._settings.current().default_assistant

    @property
    def _default_locked(self) -> bool:
        return schema.DEFAULT_ASSISTANT.name in self._settings.locked

    def _show_shelf(self, shelf: Shelf) -> None:
        self._picker.show_shelf(shelf, self._default_id(), self._default_locked)
        self._sidebar.name_assistants({assistant.id: assistant.shown_name for assistant in shelf.assistants})

    def _on_chosen(self, assistant: Assistant) -> None:
        """The next new chat starts from `assistant`, with its preferred model where that is installed."""
        self._session.assistant_for_new_chat = assistant
        preferred = assistant.model_id
        index = self._model_picker.findData(preferred) if preferred else -1
        new_chat = self._session.conversation_id is None  # never a switch under a chat being read
        if new_chat and index >= 0 and preferred != self._loader.model_id and not self._session.busy:
            self._model_picker.setCurrentIndex(index)
            self._loader.load(preferred)

    # Dialogs ------------------------------------------------------------------

    def open_assistants(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
        models = [(entry.id, entry.shown_name) for entry in self._library.models() if not entry.is_embedding]  # chat models only
        self.dialog = AssistantsDialog(self.shelf, self._default_id(), models, self._window,
                                       default_locked=self._default_locked)
        self.dialog.default_chosen.connect(self._make_default)
        self.dialog.show()

    def _make_default(self, assistant_id: str) -> None:
        chosen = copy.deepcopy(self._settings.current())
        chosen.default_assistant = assistant_id
        self._settings.edited(chosen)

    def show_in_force(self) -> None:
        """The settings the next reply in the chat in view is written with, and where each comes from."""
        if self.in_force_dialog is None:
            self.in_force_dialog = SettingsInForceDialog(self._window)
            self.in_force_dialog.own_chosen.connect(self._keep_own)
        self._fill_in_force(self.in_force_dialog)
        self.in_force_dialog.show()
        self.in_force_dialog.raise_()

    def _fill_in_force(self, dialog: SettingsInForceDialog) -> None:
        conversation_id = self._session.conversation_id
        conversation = self._store.conversation(conversation_id) if conversation_id is not None else None  # one row
        own: dict[str, Value] | None = None
        if conversation is None:
            assistant: Assistant | None = self._picker.current()
            heading = self.tr("A new chat with {assistant}.").format(assistant=self._picker.current().shown_name)
        else:
            assistant = self.shelf.shelf.get(conversation.assistant_id) if conversation.assistant_id else None
            heading = (self.tr("“{title}”, with {assistant}.").format(title=conversation.title, assistant=assistant.shown_name)
                       if assistant is not None else self.tr("“{title}”, without an assistant.").format(title=conversation.title))
            own = own_settings(self._store.conversation_settings(conversation.id))
        forced = settings_in_force(conversation, self._settings.current(), self._settings.locked, assistant, own)
        dialog.show_forced(heading, forced, own)

    def _keep_own(self, values: dict[str, Value]) -> None:
        """The chat in view keeps `values` for itself (one row written, as a rename is)."""
        conversation_id = self._session.conversation_id
        if conversation_id is None or self.in_force_dialog is None:
            return
        try:
            self._store.set_conversation_settings(conversation_id, values)
        except HearthError as exc:
            show_error(self._window, self.tr("Not saved"), str(exc))
            return
        self._fill_in_force(self.in_force_dialog)
