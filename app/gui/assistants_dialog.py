"""Chat → Assistants…: create, edit, duplicate, delete, export and import assistants, and
choose the one new chats start from.

A view over the AssistantShelf controller: every change is made there, off the GUI
thread, and this dialog shows the shelf again when it has been read back. The assistants
Hearth ships cannot be deleted; saving one saves the user's copy, and deleting that copy
brings the original back.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.assistants.book import Shelf
from app.assistants.file_format import FILE_SUFFIX
from app.assistants.model import Assistant, new_id
from app.gui.controllers.assistant_shelf import AssistantShelf
from app.gui.dialogs import show_error
from app.gui.widgets.optional_settings import OptionalSettings

ModelChoices = Sequence[tuple[str, str]]  # (model id, name) of the installed models


class AssistantsDialog(QDialog):
    default_chosen = Signal(str)  # an assistant's id: new chats start from it

    def __init__(
        self, shelf: AssistantShelf, default_id: str, models: ModelChoices, parent: QWidget | None = None, *,
        default_locked: bool = False,
    ) -> None:
        """`models`: what a preferred model can be; `default_locked`: the administrator chose
        the default assistant (it is then only shown)."""
        super().__init__(parent)
        self.setWindowTitle(self.tr("Assistants"))
        self._shelf, self._default_id, self._default_locked = shelf, default_id, default_locked
        self._select_after: str | None = None  # the assistant to show once the shelf is read again

        self.list = QListWidget()
        self.list.setMinimumWidth(220)
        self.name = QLineEdit()
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText(self.tr("Empty: the default system prompt from Settings"))
        self.greeting = QPlainTextEdit()
        self.greeting.setMaximumHeight(70)
        self.greeting.setPlaceholderText(self.tr("Empty: no greeting"))
        self.model = QComboBox()
        self.model.addItem(self.tr("No preference (the model chosen in the window)"), "")
        for model_id, model_name in models:
            self.model.addItem(model_name, model_id)
        sampling = QGroupBox(self.tr("Settings this assistant sets (the others come from Settings)"))
        self.reply_settings = OptionalSettings(QGridLayout(sampling))
        form = QFormLayout()
        form.addRow(self.tr("Name:"), self.name)
        form.addRow(self.tr("System prompt:"), self.prompt)
        form.addRow(self.tr("Greeting:"), self.greeting)
        form.addRow(self.tr("Preferred model:"), self.model)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: gray")

        self.new_button = QPushButton(self.tr("New"))
        self.duplicate_button = QPushButton(self.tr("Duplicate"))
        self.delete_button = QPushButton(self.tr("Delete"))
        self.import_button = QPushButton(self.tr("Import…"))
        self.export_button = QPushButton(self.tr("Export…"))
        self.save_button = QPushButton(self.tr("Save"))
        self.default_button = QPushButton(self.tr("Use for new chats"))
        close_button = QPushButton(self.tr("Close"))
        list_buttons = QHBoxLayout()
        for button in (self.new_button, self.duplicate_button, self.delete_button):
            list_buttons.addWidget(button)
        file_buttons = QHBoxLayout()
        for button in (self.import_button, self.export_button):
            file_buttons.addWidget(button)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        left.addLayout(list_buttons)
        left.addLayout(file_buttons)
        edit_buttons = QHBoxLayout()
        edit_buttons.addWidget(self.default_button)
        edit_buttons.addStretch(1)
        edit_buttons.addWidget(self.save_button)
        edit_buttons.addWidget(close_button)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addWidget(sampling)
        right.addWidget(self.note)
        right.addLayout(edit_buttons)
        layout = QHBoxLayout(self)
        layout.addLayout(left)
        layout.addLayout(right, 1)
        self.resize(900, 560)

        self.list.currentItemChanged.connect(lambda _item, _previous: self._show_chosen())
        self.new_button.clicked.connect(self._new)
        self.duplicate_button.clicked.connect(lambda: self._shelf.duplicate(self.chosen()))
        self.delete_button.clicked.connect(lambda: self._shelf.delete(self.chosen()))
        self.import_button.clicked.connect(self._import)
        self.export_button.clicked.connect(self._export)
        self.save_button.clicked.connect(lambda: self._shelf.save(self.edited()))
        self.default_button.clicked.connect(self._make_default)
        close_button.clicked.connect(self.accept)
        shelf.changed.connect(self._show_shelf)
        shelf.done.connect(self._on_done)
        shelf.failed.connect(lambda message: show_error(self, self.tr("Assistants"), message))
        self._show_shelf(shelf.shelf)

    # What is shown ---------------------------------------------------------------

    def chosen(self) -> Assistant:
        item = self.list.currentItem()
        return self._shelf.shelf.default(item.data(Qt.ItemDataRole.UserRole) if item is not None else "")

    def _show_shelf(self, shelf: Shelf) -> None:
        wanted = self._select_after or (self.list.currentItem().data(Qt.ItemDataRole.UserRole)
                                        if self.list.currentItem() is not None else self._default_id)
        self._select_after = None
        self.list.blockSignals(True)
        self.list.clear()
        for assistant in shelf.assistants:
            label = assistant.shown_name
            if assistant.id == self._default_id:
                label = self.tr("{name} (new chats start here)").format(name=label)
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, assistant.id)
            self.list.addItem(item)
            if assistant.id == wanted:
                self.list.setCurrentItem(item)
        if self.list.currentItem() is None:
            self.list.setCurrentRow(0)
        self.list.blockSignals(False)
        self._show_chosen()

    def _show_chosen(self) -> None:
        assistant = self.chosen()
        shelf = self._shelf.shelf
        self.name.setText(assistant.shown_name)
        self.prompt.setPlainText(assistant.prompt_text)
        self.greeting.setPlainText(assistant.greeting_text)
        self.model.setCurrentIndex(max(0, self.model.findData(assistant.model_id)))
        self.reply_settings.show(assistant.sampling, lambda spec: spec.default)
        edited_built_in = shelf.edited_built_in(assistant.id)
        self.delete_button.setText(self.tr("Restore original") if edited_built_in else self.tr("Delete"))
        self.delete_button.setEnabled(not assistant.built_in)
        self.default_button.setEnabled(not self._default_locked and assistant.id != self._default_id)
        if assistant.built_in:
            note = self.tr("Comes with Hearth. Saving a change keeps your own copy; the original can be restored.")
        elif edited_built_in:
            note = self.tr("Your copy of an assistant that comes with Hearth.")
        else:
            note = self.tr("Your own assistant (id {id}).").format(id=assistant.id)
        if self._default_locked:
            note += " " + self.tr("Your administrator chose the assistant new chats start from.")
        self.note.setText(note)

    def edited(self) -> Assistant:
        """The chosen assistant as the fields now say (the user's own: a built-in's copy)."""
        sampling = self.reply_settings.chosen()
        return self.chosen().as_users(
            name=self.name.text().strip(), system_prompt=self.prompt.toPlainText().strip(),
            greeting=self.greeting.toPlainText().strip(), model_id=self.model.currentData() or "", sampling=sampling,
        )

    # Changes ---------------------------------------------------------------------

    def _on_done(self, assistant: Assistant) -> None:
        self._select_after = assistant.id
        self._show_shelf(self._shelf.shelf)

    def _new(self) -> None:
        name = self.tr("New assistant")
        self._shelf.save(Assistant(id=new_id(name), name=name))

    def _import(self) -> None:
        path, _chosen = QFileDialog.getOpenFileName(
            self, self.tr("Import an assistant"), str(Path.home()), self.tr("Hearth assistant (*.json)"))
        if path:
            self._shelf.import_file(Path(path))

    def _export(self) -> None:
        assistant = self.chosen()
        path, _chosen = QFileDialog.getSaveFileName(
            self, self.tr("Export an assistant"), str(Path.home() / f"{assistant.id}{FILE_SUFFIX}"),
            self.tr("Hearth assistant (*.json)"))
        if path:
            self._shelf.export(assistant, Path(path))

    def _make_default(self) -> None:
        self._default_id = self.chosen().id
        self.default_chosen.emit(self._default_id)
        self._show_shelf(self._shelf.shelf)
