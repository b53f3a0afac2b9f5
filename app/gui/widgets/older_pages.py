"""Older messages on demand: a long conversation opens at its end, and the page before what is
shown is asked for when the person scrolls near the top (with the mouse, the scroll bar,
PageUp or Ctrl+Home), then inserted above without moving what they were reading.

The view keeps its place by the block at the top of the viewport: after the insertion it
is scrolled so that this block is where it was. The text cursor (a screen reader's place,
and the keyboard's) is a QTextCursor on the document, which moves with its text when
text goes in before it, so it stays on the message it was on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import QObject, QPoint, Signal
from PySide6.QtWidgets import QTextEdit


class OlderPages(QObject):
    wanted = Signal()  # the person is near the top and older messages are not shown: read the page before

    def __init__(self, view: QTextEdit) -> None:
        super().__init__(view)
        self._view = view
        self.available = False  # messages come before the first one shown
        bar = view.verticalScrollBar()
        bar.valueChanged.connect(self.check)
        bar.rangeChanged.connect(self.check)

    def check(self) -> None:
        """Ask for the page before when older messages exist and the view is within a
        screen of the top (the page arrives before the person has read to the top)."""
        if self.available and self._view.verticalScrollBar().value() <= self._view.viewport().height():
            self.wanted.emit()

    @contextmanager
    def kept_in_place(self, keep: bool) -> Iterator[None]:
        """Insert above what is shown: with `keep`, the block at the top of the viewport stays
        where it is on screen (without, the view is following its end and stays there)."""
        document, bar = self._view.document(), self._view.verticalScrollBar()
        layout = document.documentLayout()
        top = document.findBlock(self._view.cursorForPosition(QPoint(0, 0)).position())
        position, on_screen = top.position(), layout.blockBoundingRect(top).top() - bar.value()
        characters = document.characterCount()
        yield
        if keep:
            moved = document.findBlock(position + document.characterCount() - characters)
            bar.setValue(round(layout.blockBoundingRect(moved).top() - on_screen))
