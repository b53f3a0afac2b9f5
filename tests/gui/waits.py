"""What GUI tests wait for."""

from __future__ import annotations

from app.gui.main_window import MainWindow


def reply_shown(window: MainWindow) -> bool:
    """No reply is being written, the conversation is read, and the last reply is shown in
    its final form (its footer and copy links: it is rendered again off the GUI thread
    once it is saved)."""
    return not window.session.busy and not window.session.reading and not window.chat_view.finishing


def thread_shown(window: MainWindow) -> bool:
    """The conversation chosen last is read and shown (the store reader reads it off the GUI thread)."""
    return not window.session.reading
