"""`python -m tests.gui.accessible_hearth DATA_DIR [--real MODEL]`: the real Hearth window,
made ready for a screen reader's walk (tests/gui/test_screen_reader.py).

It asks a question, waits until the reply is written and shown in its final form, opens
the Library, a reply's Details, the Documents panel (its collection chosen) and Settings,
then prints "ready" and stays open until SIGTERM (closed as a user would).
The window runs on the fake backend and a synthetic model file, or with `--real` on the
real llama.cpp engine and the given GGUF file.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog

from app.backends.base import BackendFactory
from app.conversations.store import Message
from app.documents.index import DocumentIndex
from app.gui.app import close_on_terminate, create_window, prepare_qt
from app.gui.translations import install_translators
from app.library.model_library import ModelLibrary
from app.platform.paths import resolve_paths
from tests.fakes import FakeBackendFactory
from tests.gguf_factory import write_gguf
from tests.gui.waits import reply_shown

QUESTION = "What is a hearth?"
COLLECTION = "Class notes"


def _backend(real: bool) -> BackendFactory:
    if real:
        from app.backends.llama.factory import LlamaBackendFactory

        return LlamaBackendFactory()
    return FakeBackendFactory()


def _when(condition_met: object, then: object) -> None:
    """Calls `then()` once `condition_met()` is true, checking every 50 ms on the event loop."""
    timer = QTimer()

    def check() -> None:
        if condition_met():  # type: ignore[operator]
            timer.stop()
            then()  # type: ignore[operator]

    timer.timeout.connect(check)
    timer.start(50)
    _keep.append(timer)


_keep: list[QTimer] = []


def _cancel_dialog() -> None:
    dialog = QApplication.activeModalWidget()
    if isinstance(dialog, QDialog):
        QTimer.singleShot(0, dialog.reject)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--real", type=Path, help="a GGUF file to chat with on the real engine")
    args = parser.parse_args()
    paths = resolve_paths(args.data_dir)
    paths.ensure()
    model = args.real or write_gguf(args.data_dir / "synthetic" / "SmolLM2-synthetic.Q4_1.gguf")
    ModelLibrary(paths.models_dir).add(model, copy=False)
    notes = args.data_dir / "notes.txt"
    notes.write_text("The hearth is the floor of a fireplace.\n", encoding="utf-8")
    index = DocumentIndex(paths.documents_index)
    index.add_source(index.create_collection(COLLECTION), notes)
    index.close()
    # Nothing may leave this computer: the hub is a closed local port.
    paths.settings_file.write_text('{"library": {"hub_endpoint": "http://127.0.0.1:9"}}', encoding="utf-8")
    prepare_qt()
    app = QApplication([sys.argv[0]])
    app.setApplicationName("Hearth")
    install_translators(app)
    window = create_window(paths, _backend(args.real is not None))
    close_on_terminate(app, [window])
    # Settings is modal: it is answered Cancel before the window closes as Hearth does on a logout.
    terminate = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, lambda *sent: (_cancel_dialog(), terminate(*sent)))  # type: ignore[operator]
    window.show()

    def ready(reply: Message) -> None:
        print(f"reply: {reply.content}", flush=True)
        window.library.open()
        window.show_reply_details(reply.id)
        window.open_documents()
        window.collections.choose(COLLECTION)
        QTimer.singleShot(0, window.open_settings)  # modal: its own event loop runs from here
        _when(lambda: QApplication.activeModalWidget() is not None, lambda: print("ready", flush=True))

    def ask() -> None:
        saved: list[Message] = []
        window.session.reply_saved.connect(lambda reply, _branch: saved.append(reply))
        window.session.reply_failed.connect(lambda message: print(f"failed: {message}", flush=True))
        window.send(QUESTION)
        _when(lambda: bool(saved) and reply_shown(window), lambda: ready(saved[0]))

    _when(lambda: window.session.can_reply, ask)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
