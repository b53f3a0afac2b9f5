"""Composition root of the GUI: paths, logging, settings, stores, worker, window."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence
from types import TracebackType

import psutil
from PySide6.QtCore import QCoreApplication, QThread, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QMessageBox

from app import __version__
from app.backends.base import BackendFactory
from app.chat.crash_recovery import take_crash
from app.config.policy import load_policy
from app.config.settings import load_settings
from app.conversations.opener import check_after_start, open_at_start
from app.gui.dialogs import error_message, show_error
from app.gui.item_models.download_list import DownloadQueue
from app.gui.library.library_window import LibraryServices
from app.gui.library.rebuild_at_start import rebuild_with_progress
from app.gui.main_window import MainWindow
from app.gui.ops import run_in_background
from app.gui.translations import install_translators
from app.gui.workers.download_worker import DownloadWorker
from app.gui.workers.inference_worker import InferenceWorker
from app.gui.workers.store_reader import StoreReader
from app.library.catalog import load_catalog
from app.library.downloads import Downloader
from app.library.model_library import ModelLibrary
from app.modelfile.fit import Machine
from app.platform.errors import HearthError
from app.platform.hardware import total_memory
from app.platform.logging_setup import configure_logging
from app.platform.paths import RESOURCES_DIR, AppPaths, policy_files, resolve_paths
from app.platform.secrets import TokenStore

# A stalled connection is given up (and retried) after this long; closing the
# window waits for a running download to notice, so it is kept short.
DOWNLOAD_TIMEOUT = 15.0


def create_window(paths: AppPaths, backend_factory: BackendFactory) -> MainWindow:
    """Build everything the window needs, its backend made by `backend_factory`.
    Raises HearthError when storage is unusable."""
    try:
        paths.ensure()
    except OSError as exc:
        raise HearthError(QCoreApplication.translate(
            "App",
            "Hearth cannot write to its folder {folder} ({reason}). "
            "Check that the disk is not full and that you may write there.",
        ).format(folder=paths.data_dir, reason=exc.strerror or exc)) from exc
    configure_logging(paths.log_file)
    policy = load_policy(policy_files())
    settings = policy.apply(load_settings(paths.settings_file))
    library = ModelLibrary(paths.models_dir)
    if library.damaged():
        rebuild_with_progress(library)
    crashed = take_crash(paths, settings, library)
    # A damaged or read-only file is told about, never a refused start. The page check grows
    # with the file (1.2 s at 100,000 messages): it runs once the window shows, off this thread.
    started = open_at_start(paths, check_pages=False)
    store = started.store
    worker = InferenceWorker(paths, backend_factory, policy)
    thread = QThread()
    thread.setObjectName("inference")
    worker.moveToThread(thread)
    thread.start()
    tokens = TokenStore()
    downloader = Downloader(library, settings.library.hub_endpoint, tokens.get, timeout=DOWNLOAD_TIMEOUT)
    download_worker = DownloadWorker(downloader)
    download_thread = QThread()
    download_thread.setObjectName("downloads")
    download_worker.moveToThread(download_thread)
    download_thread.start()
    services = LibraryServices(
        catalog=[m for m in load_catalog() if policy.allows(m.id, m.name, m.file)],
        queue=DownloadQueue(download_worker),
        machine=Machine(total_memory()),
        tokens=tokens,
        thread=download_thread,
        policy=policy,
    )
    reader = StoreReader.started(paths)
    window = MainWindow(paths, settings, store, library, reader, worker, thread, services, crashed, started)
    # nvidia-smi can take seconds; only the Library's fit verdicts need its answer.
    run_in_background(window, backend_factory.accelerator_memory, on_success=window.library.set_accelerator_memory)
    for owned in (thread, download_thread, reader.thread()):
        owned.setParent(window)
    if started.pages_unchecked:
        QTimer.singleShot(0, window, lambda: _check_pages(window, paths))  # runs once the window is shown
    return window


def _check_pages(window: MainWindow, paths: AppPaths) -> None:
    """The check the start left out; damage it finds is repaired at the next start."""
    def tell(notice: str) -> None:
        if notice:
            window.store_notice.show_notice(notice, lasting=False)

    def not_checked(error: Exception) -> None:  # the file still works as it did: no box for a check nobody asked for
        logging.getLogger("hearth").warning("conversation file not checked: %s", error)

    run_in_background(window, lambda: check_after_start(paths), on_success=tell, on_failure=not_checked)


def _report_unexpected(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
    """Last resort for an exception escaping a Qt slot: log it and show it as every error is shown."""
    logging.getLogger("hearth").error("unexpected error", exc_info=(kind, error, trace))
    app = QApplication.instance()
    if app is not None and QThread.currentThread() is app.thread():  # widgets only on the GUI thread
        show_error(None, QCoreApplication.translate("App", "Something went wrong"), QCoreApplication.translate(
            "App", "{error}\n\nYour conversations are saved. If this keeps happening, restart Hearth."
        ).format(error=error_message(error)))


def prepare_qt() -> None:
    """Process-wide Qt settings; call before the QApplication exists.

    Qt's raster engine hands every fill taller than about 96 lines (the chat view's
    background, the scroll bar's groove) to a pool of helper threads and waits for
    them. While a reply streams, every core is decoding: those wake-ups took time
    from llama.cpp and made painting dearer, not cheaper (docs/PERFORMANCE.md)."""
    os.environ.setdefault("QT_NO_GUI_THREADPOOL", "1")


def close_on_terminate(app: QApplication, windows: list[MainWindow]) -> None:
    """A logout, a shutdown or `kill` sends SIGTERM: close the window as the user would
    (the reply stops and is saved, settings are written, no crash marker is left), also
    when it comes while the window is still being built. Python runs a signal handler
    only between bytecodes, and Qt's event loop runs none, so a timer hands control to
    Python four times a second."""
    def close() -> None:
        if windows:
            windows[0].close()
        else:
            app.quit()

    signal.signal(signal.SIGTERM, lambda *_: QTimer.singleShot(0, close))
    ticker = QTimer(app)
    ticker.timeout.connect(lambda: None)
    ticker.start(250)


def run_gui(argv: Sequence[str], backend_factory: BackendFactory) -> int:
    parser = argparse.ArgumentParser(prog="hearth")
    parser.add_argument("--data-dir")
    # For smoke tests and the start-up benchmark: report when the window is up, then quit.
    parser.add_argument("--exit-when-shown", action="store_true")
    args, qt_args = parser.parse_known_args(argv)
    prepare_qt()
    app = QApplication([sys.argv[0], *qt_args])
    app.setApplicationName("Hearth")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("hearth")
    app.setWindowIcon(QIcon(str(RESOURCES_DIR / "icons" / "hearth-256.png")))
    install_translators(app)  # before the first word is shown
    sys.excepthook = _report_unexpected
    windows: list[MainWindow] = []
    close_on_terminate(app, windows)
    try:
        window = create_window(resolve_paths(args.data_dir), backend_factory)
    except HearthError as exc:
        QMessageBox.critical(None, QCoreApplication.translate("App", "Hearth cannot start"), str(exc))
        return 1
    windows.append(window)
    window.show()
    if args.exit_when_shown:
        QTimer.singleShot(0, lambda: _report_shown_and_quit(window))
    try:
        return app.exec()
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the window is gone: nothing to close


def _report_shown_and_quit(window: MainWindow) -> None:
    """Runs once the event loop has shown and painted the window."""
    seconds = time.time() - psutil.Process().create_time()
    message = f"window shown {seconds:.2f} s after the process started"
    logging.getLogger("hearth").info(message)
    if sys.stdout is not None:  # a windowed build has none
        print(message, flush=True)
    window.close()
    QApplication.quit()  # closing this early does not count as the last window closing
