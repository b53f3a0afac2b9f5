"""The bar above the chat that says what happened to the conversation file at start
(recovered from damage, read-only, or not openable): app/conversations/opener.py."""

from __future__ import annotations

from app.gui.widgets.notice_bar import NoticeBar


class StoreNotice(NoticeBar):
    """A read-only store's notice stays; the others can be dismissed once read."""

    def __init__(self) -> None:
        super().__init__("storeNotice")

    def show_notice(self, text: str, lasting: bool) -> None:
        """`lasting`: it stays as long as it is true (the store is read-only)."""
        self.text.setText(text)
        self.dismiss_button.setVisible(not lasting)
        self.setVisible(bool(text))
