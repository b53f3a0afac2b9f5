"""The keyboard shortcuts sheet (Ctrl+/): every action of the menus that has keys, and
the keys the message box and the chat answer themselves.

It is built from the actions when it opens, so a shortcut added or changed shows here
without anyone editing a list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QMenu, QMenuBar, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget


def shortcut_rows(menu_bar: QMenuBar) -> list[tuple[str, str, str]]:
    """(menu, action, keys) for each visible action of the menus that has a shortcut, in
    menu order; the keys as this system writes them (Ctrl, or ⌘ on a Mac)."""
    rows: list[tuple[str, str, str]] = []

    def visit(menu_title: str, actions: Iterable[QAction]) -> None:
        for action in actions:
            menu = action.menu()
            if isinstance(menu, QMenu):
                visit(action.text().replace("&", ""), menu.actions())
            elif action.isVisible() and not action.isSeparator() and action.shortcuts():
                keys = ", ".join(key.toString(QKeySequence.SequenceFormat.NativeText) for key in action.shortcuts())
                rows.append((menu_title, action.text().replace("&", ""), keys))

    visit("", menu_bar.actions())
    return rows


class ShortcutsSheet(QDialog):
    def __init__(self, menu_bar: QMenuBar, own_keys: Sequence[tuple[str, Sequence[tuple[str, str]]]],
                 parent: QWidget | None = None) -> None:
        """`own_keys`: (title, [(what, keys), ...]) for each widget that answers keys itself
        (the message box, the chat), listed after the menus under their titles."""
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.table = QTreeWidget()
        self.table.setHeaderLabels([self.tr("Action"), self.tr("Keys")])
        self.table.setRootIsDecorated(False)
        groups: dict[str, QTreeWidgetItem] = {}
        own = [(title, what, keys) for title, rows in own_keys for what, keys in rows]
        for menu, text, keys in [*shortcut_rows(menu_bar), *own]:
            if menu not in groups:
                groups[menu] = QTreeWidgetItem(self.table, [menu])
                groups[menu].setFirstColumnSpanned(True)
                font = groups[menu].font(0)
                font.setBold(True)
                groups[menu].setFont(0, font)
            QTreeWidgetItem(groups[menu], [text, keys])
        self.table.expandAll()
        self.table.resizeColumnToContents(0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(520, 560)

    def rows(self) -> list[tuple[str, str]]:
        """(action, keys) as the sheet lists them."""
        found: list[tuple[str, str]] = []
        for group in range(self.table.topLevelItemCount()):
            item = self.table.topLevelItem(group)
            assert item is not None
            for row in range(item.childCount()):
                child = item.child(row)
                assert child is not None
                found.append((child.text(0), child.text(1)))
        return found
