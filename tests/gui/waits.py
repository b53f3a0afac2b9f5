"""What GUI tests wait for."""

from __future__ import annotations

from app.gui.main_window import MainWindow


def reply_shown(window: MainWindow) -> bool:
    """No reply is being written, and the last one is shown in its final form (its footer
    and copy links: it is rendered again off the GUI thread once it is saved)."""
    return not window.session.busy and not window.chat_view.finishing
