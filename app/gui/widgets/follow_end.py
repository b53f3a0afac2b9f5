"""Keeping the newest message in view: a scroll area follows its end while the person is
at the bottom, stops when they scroll up to read, and offers "Jump to newest" then.

Following is a state, not a scroll made once: the page is laid out after it is filled
(and again when the window is resized or shown), so a conversation opened before the
window was laid out used to stay at its first message. While following, every change of
the scroll range brings the view back to the end.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPoint
from PySide6.QtWidgets import QAbstractScrollArea, QToolButton

AT_END_PIXELS = 4  # this close to the end counts as at the end (layouts round)
MARGIN = 12


class FollowEnd(QObject):
    def __init__(self, area: QAbstractScrollArea) -> None:
        super().__init__(area)
        self._area = area
        self._following = True
        self.jump = QToolButton(area.viewport())
        self.jump.setText(self.tr("Jump to newest ↓"))
        self.jump.setToolTip(self.tr("Show the newest message, and follow the reply being written"))
        self.jump.setAccessibleName(self.tr("Jump to newest"))
        self.jump.clicked.connect(self.follow)
        self.jump.hide()
        bar = area.verticalScrollBar()
        bar.rangeChanged.connect(self._on_range_changed)
        bar.valueChanged.connect(self._on_scrolled)

    @property
    def following(self) -> bool:
        return self._following

    def follow(self) -> None:
        """Show the end now and keep it in view as the page grows."""
        self._following = True
        self._to_end()

    def stop(self) -> None:
        """Stay where the view is (a search hit was brought into view)."""
        self._following = False
        self._show_jump()

    def at_end(self) -> bool:
        bar = self._area.verticalScrollBar()
        return bar.value() >= bar.maximum() - AT_END_PIXELS

    def _to_end(self) -> None:
        bar = self._area.verticalScrollBar()
        bar.setValue(bar.maximum())
        self.jump.hide()

    def _on_range_changed(self, _minimum: int, _maximum: int) -> None:
        if self._following:
            self._to_end()
        else:
            self._show_jump()

    def _on_scrolled(self, _value: int) -> None:
        """The person scrolled (or the view did): at the end it follows again, above it it stays."""
        self._following = self.at_end()
        self._show_jump()

    def _show_jump(self) -> None:
        if self._following or self.at_end():
            self.jump.hide()
            return
        self.jump.adjustSize()
        viewport = self._area.viewport()
        self.jump.move(QPoint(viewport.width() - self.jump.width() - MARGIN, viewport.height() - self.jump.height() - MARGIN))
        self.jump.show()
        self.jump.raise_()
