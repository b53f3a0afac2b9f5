"""The bar that offers the choice a full context gives: leave the oldest messages out, or
have them summarised (app/gui/controllers/summaries.py)."""

from __future__ import annotations

from app.gui.widgets.notice_bar import NoticeBar


class LeftOutNotice(NoticeBar):
    def __init__(self) -> None:
        super().__init__("leftOutNotice")
        self.summarise_button = self.add_button(self.tr("Summarise them"))
        self.summarise_button.setAccessibleDescription(self.tr(
            "The loaded model writes a short summary of the messages left out; it then reads the summary instead of them."))
        self.dismiss_button.setText(self.tr("Leave them out"))
        self.dismiss_button.setAccessibleDescription(self.tr("Go on as now: the oldest messages are not read, and stay saved."))

    def show_offer(self, left_out: int) -> None:
        """Offer the choice for a reply that left `left_out` messages out; 0 hides it."""
        if left_out <= 0:
            self.hide()
            return
        self.text.setText(self.tr(
            "This conversation is longer than the model reads at once: the oldest %n messages were left out of "
            "the last reply. They are still saved. The model can summarise them instead, and then reads the summary.",
            "", left_out))
        self.show()
