"""The sidebar's search results: where the words were found, newest first (titles first)."""

from __future__ import annotations

import html
import re
from typing import Any

from PySide6.QtCore import QAbstractListModel, QCoreApplication, QModelIndex, QPersistentModelIndex, Qt

from app.conversations.search import MATCH_END, MATCH_START, SearchHit

HitRole = Qt.ItemDataRole.UserRole + 1  # the SearchHit
HitHtmlRole = Qt.ItemDataRole.UserRole + 2  # the hit as the list draws it: escaped text, matched words in bold

Index = QModelIndex | QPersistentModelIndex


# Markdown's marks read as noise in a one-line snippet: emphasis, code fences and ticks,
# heading and quote marks at a line's start, list bullets.
_INLINE_MARKS = re.compile(r"\*\*|__|```\w*|`")
_LINE_MARKS = re.compile(r"^\s*(?:#{1,6}|>|[-*+])\s+", re.MULTILINE)


def marked_html(text: str) -> str:
    """`text` (untrusted: a model may have written it) as HTML without its Markdown marks,
    its matched words in bold."""
    plain = " ".join(_INLINE_MARKS.sub("", _LINE_MARKS.sub(" ", text)).split())
    return html.escape(plain).replace(MATCH_START, "<b>").replace(MATCH_END, "</b>")


def hit_html(hit: SearchHit) -> str:
    if hit.role is None:  # found by its title
        where = QCoreApplication.translate("SearchHits", "Conversation title")
        return f"{marked_html(hit.snippet)}<br><small style='color:gray'>{html.escape(where)}</small>"
    return (f"<small style='color:gray'>{html.escape(hit.conversation_title)}</small><br>"
            f"<small><b>{html.escape(hit.role.label)}:</b></small> {marked_html(hit.snippet)}")


class SearchHitsModel(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self._hits: list[SearchHit] = []
        self._html: list[str] = []

    def show_hits(self, hits: list[SearchHit]) -> None:
        self.beginResetModel()
        self._hits = hits
        self._html = [hit_html(hit) for hit in hits]
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt signature
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        hit = self._hits[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:  # plain, for accessibility and keyboard search
            return hit.snippet.replace(MATCH_START, "").replace(MATCH_END, "")
        if role == Qt.ItemDataRole.ToolTipRole:
            return hit.conversation_title
        if role == HitRole:
            return hit
        if role == HitHtmlRole:
            return self._html[index.row()]
        return None
