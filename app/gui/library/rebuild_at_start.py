"""A damaged list of models rebuilt at start, off the GUI thread: rebuilding hashes every
model file (about 2 s a GB here), which froze the window before it appeared. A small
window says what happens meanwhile; the start goes on once the list is whole again."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt
from PySide6.QtWidgets import QProgressDialog

from app.gui.ops import run_in_background
from app.library.model_library import ModelLibrary


def rebuild_with_progress(library: ModelLibrary) -> None:
    """Rebuild `library`'s damaged list, the event loop running meanwhile; returns when done
    (a failure is logged by the library: the list is then empty, as a fresh one)."""
    dialog = QProgressDialog(QCoreApplication.translate(
        "RebuildAtStart", "The list of your models was damaged. Hearth is making a new one from the model files…"),
        "", 0, 0)
    dialog.setWindowTitle(QCoreApplication.translate("RebuildAtStart", "Hearth is starting"))
    dialog.setCancelButton(None)  # the list must be whole before the window can use it
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.show()
    waiting = QEventLoop()

    def show(done: int, total: int) -> None:
        dialog.setMaximum(total)
        dialog.setValue(done)

    run_in_background(dialog, library.rebuild, on_progress=show, on_success=lambda _none: waiting.quit(),
                      on_failure=lambda _error: waiting.quit())
    waiting.exec()
    dialog.close()
    dialog.deleteLater()
