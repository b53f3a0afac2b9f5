"""The meter by the message box: how much of the model's context the conversation uses."""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar, QWidget

from app.gui.controllers.context_meter import ContextUse

# From this share on the meter says the context is nearly full.
NEARLY_FULL = 0.8


class ContextMeterBar(QProgressBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Context used"))
        self.setTextVisible(True)
        # Wide enough for its longest text, so it never wraps over itself.
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance(self.tr("Context: about {used:,} of {total:,} tokens").format(
            used=262_144, total=262_144)) + 24)
        self.show_use(None)

    def show_use(self, use: ContextUse | None) -> None:
        self.setVisible(use is not None)
        if use is None:
            return
        self.setRange(0, use.total)
        self.setValue(min(use.used, use.total))
        self.setFormat(self.tr("Context: about {used:,} of {total:,} tokens").format(used=use.used, total=use.total))
        if use.full:
            tip = self.tr("The context is full: the oldest messages are left out of what the model reads "
                          "(they stay in the conversation). Start a new chat for a new subject.")
        elif use.used >= NEARLY_FULL * use.total:
            tip = self.tr("The context is nearly full: soon the oldest messages are left out of what the model reads.")
        else:
            tip = self.tr("How much of what the model can read at once this conversation uses, your message included.")
        self.setToolTip(tip)
        self.setAccessibleDescription(self.format() + ". " + tip)
        self.setStyleSheet("QProgressBar::chunk { background-color: #d9822b; }" if use.used >= NEARLY_FULL * use.total else "")
