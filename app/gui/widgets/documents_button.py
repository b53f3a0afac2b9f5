"""The composer's "Documents" button: which collections the chat's questions are answered
from, chosen in its menu. It says how many are attached; its tooltip names them."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMenu, QToolButton, QWidget


class DocumentsButton(QToolButton):
    attach_requested = Signal(str, bool)  # a collection's name, attached (True) or not
    manage_requested = Signal()  # "Manage documents…": the Documents panel
    menu_opening = Signal()  # the menu is about to show: the window reads the collections again
    every_document_requested = Signal(bool)  # the next question goes through every document, or not

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setAccessibleName(self.tr("Documents for this chat"))
        self._available: list[str] = []
        self._attached: list[str] = []
        self._every_document = False
        self._menu = QMenu(self)
        self._menu.setAccessibleName(self.tr("Documents for this chat"))
        # Filled as it opens, never while one of its actions is being handled.
        self._menu.aboutToShow.connect(self._fill_menu)
        self._menu.aboutToShow.connect(self.menu_opening)
        self.setMenu(self._menu)
        self.show_choices([], [])

    def show_choices(self, available: list[str], attached: list[str], every_document: bool = False) -> None:
        """The collections there are, those attached, and whether the next question goes
        through every document: the button's text and tooltip now, the menu when it next opens."""
        self._available, self._attached, self._every_document = list(available), list(attached), every_document
        count = len(attached)
        self.setText(self.tr("Documents (%n)", "", count) if count else self.tr("Documents"))
        self.setToolTip(
            self.tr("Answers come from: {names}").format(names=", ".join(attached)) if attached
            else self.tr("Answer from your own documents: attach a collection")
        )

    def _fill_menu(self) -> None:
        """The collections, ticked where attached; an attached one that is gone is still
        listed, to be untied."""
        self._menu.clear()
        for name in dict.fromkeys([*self._available, *self._attached]):
            action = self._menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(name in self._attached)
            action.toggled.connect(lambda checked, name=name: self.attach_requested.emit(name, checked))
        if not self._available:
            self._menu.addAction(self.tr("No collections yet")).setEnabled(False)
        self._menu.addSeparator()
        every = self._menu.addAction(self.tr("Go through every document for the next question"))
        every.setCheckable(True)
        every.setChecked(self._every_document)
        every.setEnabled(bool(self._attached))
        every.setToolTip(self.tr("For questions about all of them (“list every policy that…”): slower, part by part"))
        every.toggled.connect(self.every_document_requested)
        self._menu.addAction(self.tr("Manage documents…")).triggered.connect(self.manage_requested)
