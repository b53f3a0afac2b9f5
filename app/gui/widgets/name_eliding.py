"""A model's name followed by what must stay readable ("not made for chat", its size): when
the text is too wide for its place, the name is shortened with "…", never the rest. Qt
would cut the text's end, which holds the mark.

An item gives the part that may be shortened in NAME_ROLE; the model picker and the
Library's table both show their names this way."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

NAME_ROLE = Qt.ItemDataRole.UserRole + 40  # the part of an item's text that may be shortened


def fit_name(text: str, name: str, metrics: QFontMetrics, width: int) -> str:
    """`text` within `width` pixels, `name` (a part of it) shortened as much as that needs."""
    whole = metrics.horizontalAdvance(text)
    if not name or name not in text or whole <= width:
        return text
    room = width - (whole - metrics.horizontalAdvance(name))
    # Widths of the parts do not add up exactly (kerning, shaping: 1 px over in 0-15 of
    # 86-167 widths measured): shorten again until the whole fits.
    while True:
        fitted = text.replace(name, metrics.elidedText(name, Qt.TextElideMode.ElideRight, max(0, room)), 1)
        if room <= 0 or metrics.horizontalAdvance(fitted) <= width:
            return fitted
        room -= 1


class NameElidingDelegate(QStyledItemDelegate):
    """Draws an item whose NAME_ROLE is set with its name shortened to fit, the rest whole."""

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        super().initStyleOption(option, index)
        name = index.data(NAME_ROLE)
        if not isinstance(name, str) or not option.text:
            return
        widget = option.widget
        style = widget.style() if widget is not None else QApplication.style()
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, option, widget)
        # The style keeps a margin on each side of the text (QCommonStyle: the focus frame's, plus one).
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1
        option.text = fit_name(option.text, name, option.fontMetrics, text_rect.width() - 2 * margin)
        option.textElideMode = Qt.TextElideMode.ElideNone  # fitted: Qt must not cut the mark off after all
