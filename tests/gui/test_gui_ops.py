"""Background operations (app/gui/ops.py) and the one error presenter (app/gui/dialogs.py)."""

from __future__ import annotations

import gc
import logging
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QThread, QThreadPool
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.gui import app as gui_app
from app.gui.dialogs import error_message
from app.gui.ops import BackgroundOp, run_in_background
from app.platform.errors import HearthError, ModelFileError


def on_gui_thread() -> bool:
    return QThread.currentThread() is QApplication.instance().thread()


def visible_boxes(widget: QWidget) -> list[QMessageBox]:
    return [box for box in widget.findChildren(QMessageBox) if box.isVisible()]


@pytest.fixture
def owner(qtbot) -> QWidget:  # type: ignore[no-untyped-def]
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_lambda_callbacks_run_on_the_gui_thread_and_the_work_off_it(qtbot, owner: QWidget) -> None:
    heard: list[tuple[str, bool, bool]] = []
    run_in_background(owner, lambda: ("answer", on_gui_thread()),
                      on_success=lambda result: heard.append((result[0], result[1], on_gui_thread())))
    qtbot.waitUntil(lambda: bool(heard), timeout=5000)
    assert heard == [("answer", False, True)]


def test_a_failure_arrives_as_the_exception_itself_on_the_gui_thread(qtbot, owner: QWidget) -> None:
    raised = ModelFileError("That file is not a GGUF model file.")
    heard: list[tuple[Exception, bool]] = []

    def work() -> None:
        raise raised

    run_in_background(owner, work, on_success=lambda _: heard.append((ValueError("succeeded"), on_gui_thread())),
                      on_failure=lambda error: heard.append((error, on_gui_thread())))
    qtbot.waitUntil(lambda: bool(heard), timeout=5000)
    assert heard == [(raised, True)] and heard[0][0] is raised
    assert not visible_boxes(owner), "a failure handled by the caller is not shown again"


def test_an_unexpected_failure_is_shown_once_in_plain_words_and_logged_with_its_traceback(
    qtbot, owner: QWidget, caplog: pytest.LogCaptureFixture
) -> None:
    def work() -> None:
        raise OSError("the disk is full")

    with caplog.at_level(logging.INFO):
        run_in_background(owner, work)
        qtbot.waitUntil(lambda: bool(visible_boxes(owner)), timeout=5000)
    (box,) = visible_boxes(owner)
    assert box.windowTitle() == "That did not work"
    assert box.text() == "Something went wrong: the disk is full; details are in the log."
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[1] is not None]
    assert len(logged) == 1 and "the disk is full" in caplog.text and "in work" in caplog.text  # the traceback's frame
    box.accept()
    qtbot.waitUntil(lambda: not owner.findChildren(BackgroundOp), timeout=5000)
    assert not visible_boxes(owner), "shown once"


def test_a_hearth_error_is_shown_as_written_over_the_window_of_a_controller(qtbot, owner: QWidget) -> None:
    controller = QObject(owner)  # PackActions, for one, is a QObject owned by the window

    def work() -> None:
        raise HearthError("The pack is incomplete: models/tiny.gguf is missing.")

    run_in_background(controller, work)
    qtbot.waitUntil(lambda: bool(visible_boxes(owner)), timeout=5000)
    assert [box.text() for box in visible_boxes(owner)] == ["The pack is incomplete: models/tiny.gguf is missing."]


def test_progress_arrives_on_the_gui_thread_in_order_before_the_result(qtbot, owner: QWidget) -> None:
    heard: list[object] = []

    def work(report) -> str:  # type: ignore[no-untyped-def]
        for done in (1, 2, 3):
            report(done, 3)
        return "checked"

    run_in_background(owner, work, on_success=heard.append,
                      on_progress=lambda done, total: heard.append((done, total, on_gui_thread())))
    qtbot.waitUntil(lambda: "checked" in heard, timeout=5000)
    assert heard == [(1, 3, True), (2, 3, True), (3, 3, True), "checked"]


def test_an_operation_nobody_holds_is_not_garbage_collected_mid_run(qtbot, owner: QWidget) -> None:
    gate = threading.Event()
    heard: list[str] = []
    run_in_background(owner, lambda: gate.wait(10) and "done", on_success=heard.append)
    for _ in range(3):
        gc.collect()
    gate.set()
    qtbot.waitUntil(lambda: heard == ["done"], timeout=5000)
    qtbot.waitUntil(lambda: not owner.findChildren(BackgroundOp), timeout=5000)  # then it deletes itself


def test_an_operation_whose_owner_is_deleted_mid_run_says_nothing_and_raises_nothing(qtbot) -> None:
    owner = QWidget()
    gate = threading.Event()
    heard: list[object] = []
    run_in_background(owner, lambda: gate.wait(10) and "done", on_success=heard.append, on_failure=heard.append)
    with qtbot.waitSignal(owner.destroyed, timeout=5000):
        owner.deleteLater()  # the window closed while the work runs
    gate.set()
    assert QThreadPool.globalInstance().waitForDone(10_000)  # the work ended and emitted what it had
    QApplication.processEvents()
    assert heard == []


def test_an_exception_escaping_a_slot_is_shown_by_the_same_presenter(monkeypatch, caplog: pytest.LogCaptureFixture, qtbot) -> None:
    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append((box.windowTitle(), box.text())) or 0)
    error = KeyError("conversation 7")
    try:
        raise error
    except KeyError:
        gui_app._report_unexpected(KeyError, error, error.__traceback__)
    assert shown == [("Something went wrong", "Something went wrong: 'conversation 7'; details are in the log.\n\n"
                                              "Your conversations are saved. If this keeps happening, restart Hearth.")]
    assert [r.exc_info[1] for r in caplog.records if r.exc_info] == [error]


def test_a_failed_verify_is_said_in_the_library_and_shown_once(qtbot, paths, fake_factory, synthetic_gguf, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.gui.app import create_window
    from app.library.model_library import ModelLibrary

    ModelLibrary(paths.models_dir).add(synthetic_gguf())
    window = create_window(paths, fake_factory)
    qtbot.addWidget(window)
    window.show()
    library = window.library.open()

    def unreadable(self, entry, progress):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied", str(Path("/models/tiny.gguf")))

    monkeypatch.setattr(ModelLibrary, "verify", unreadable)
    library.view.selectRow(0)
    library.verify_selected()
    qtbot.waitUntil(lambda: bool(visible_boxes(library)), timeout=5000)
    expected = "Something went wrong: [Errno 13] Permission denied: '/models/tiny.gguf'; details are in the log."
    assert [box.text() for box in visible_boxes(library)] == [expected]
    assert library.status.text() == expected and library.progress.isHidden()
    window.close()


def test_an_unexpected_error_is_never_an_empty_gap_and_memory_running_out_is_said_in_words() -> None:
    assert error_message(MemoryError()) == (
        "Something went wrong: the computer ran out of memory (close other programs, or choose a smaller model or "
        "context); details are in the log.")
    assert error_message(KeyError()) == "Something went wrong: KeyError; details are in the log."
