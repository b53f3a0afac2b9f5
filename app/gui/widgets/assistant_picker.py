"""The assistant a new chat starts from: a small menu above the message box, shown while
the chat is new and empty, with the chosen assistant's greeting under it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.assistants.book import Shelf
from app.assistants.built_ins import BUILT_INS
from app.assistants.model import Assistant


class AssistantPicker(QWidget):
    chosen = Signal(object)  # Assistant: the one the next new chat starts from

    def __init__(self) -> None:
        super().__init__()
        self.menu = QComboBox()
        self.menu.setMinimumWidth(220)
        self.menu.setAccessibleName(self.tr("Start this chat with"))
        self.menu.view().setAccessibleName(self.tr("Assistants"))
        self.greeting = QLabel()
        self.greeting.setWordWrap(True)
        self.greeting.setStyleSheet("color: gray")
        row = QHBoxLayout()
        row.addWidget(QLabel(self.tr("Start this chat with:")))
        row.addWidget(self.menu)
        row.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.greeting)
        self._shelf = Shelf(BUILT_INS)
        self.menu.activated.connect(lambda _index: self._choose(self.current()))

    def show_shelf(self, shelf: Shelf, default_id: str, locked: bool) -> None:
        """List `shelf`'s assistants and choose the one chosen before, if it is still there,
        else the default. `locked`: the administrator chose the default for every new chat."""
        previous = self.menu.currentData()
        self._shelf = shelf
        self.menu.clear()
        for assistant in shelf.assistants:
            self.menu.addItem(assistant.shown_name, assistant.id)
        self.menu.setEnabled(not locked)
        self.menu.setToolTip(self.tr("Chosen by your administrator for every new chat.") if locked else self.tr(
            "An assistant is a system prompt, settings and a greeting; Chat → Assistants… changes them."))
        self.select(default_id if locked or self.menu.findData(previous) < 0 else previous)

    def select(self, assistant_id: str) -> None:
        """Choose `assistant_id` (the default, when there is none by that id)."""
        self.menu.setCurrentIndex(max(0, self.menu.findData(self._shelf.default(assistant_id).id)))
        self._choose(self.current())

    def current(self) -> Assistant:
        return self._shelf.default(self.menu.currentData() or "")

    def _choose(self, assistant: Assistant) -> None:
        greeting = assistant.greeting_text
        self.greeting.setText(self.tr("{name} begins with: “{greeting}”").format(name=assistant.shown_name, greeting=greeting)
                              if greeting else "")
        self.greeting.setVisible(bool(greeting))
        self.chosen.emit(assistant)
