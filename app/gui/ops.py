"""The GUI's one way to run plain-Python work off the GUI thread and hear back on it.

In the style of Anki's `QueryOp`: `run_in_background(parent, work, on_success=...,
on_failure=..., on_progress=...)` runs `work` on the thread pool; its result, the exception
it raised and its progress come back on the GUI thread, whatever kind of callable the
callbacks are: the op's own slots call them, so where they run does not depend on the
context PySide picks for a lambda. A failure nobody handles is shown by the one error
presenter (app/gui/dialogs.py). One function with keyword callbacks rather than a builder:
there is no `.run()` to forget, and mypy pairs each callback with `work`'s signature.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar, overload

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtWidgets import QWidget

from app.gui.dialogs import failure_title, present_error
from app.platform.errors import HearthError

log = logging.getLogger(__name__)

T = TypeVar("T")
Report = Callable[[int, int], None]  # report(done, total), called by the work itself


class _Relay(QObject):
    """What the pool thread emits through. It has no parent, so closing the op's parent
    while the work runs cannot delete it under the emitting thread; Qt drops what is
    still queued for an op that is gone."""

    succeeded = Signal(object)
    failed = Signal(object)  # the exception
    progressed = Signal(int, int)


class BackgroundOp(QObject):
    """One call of `work` on the thread pool (made by `run_in_background`).

    The op is made on the GUI thread and owned by `parent`, which keeps it alive while the
    work runs (an object referenced only by a queued connection would be garbage-collected)
    and drops it, unheard, when the parent is deleted first. The relay's signals are
    connected to the op's slots, so they are queued to the GUI thread and the callbacks
    run there. The op deletes itself once success or failure is delivered."""

    def __init__(
        self,
        parent: QObject,
        work: Callable[..., Any],
        on_success: Callable[[Any], object] | None,
        on_failure: Callable[[Exception], object] | None,
        on_progress: Callable[[int, int], object] | None,
    ) -> None:
        super().__init__(parent)
        self._on_success, self._on_failure, self._on_progress = on_success, on_failure, on_progress
        self._relay = _Relay()
        self._relay.succeeded.connect(self._succeeded)
        self._relay.failed.connect(self._failed)
        self._relay.progressed.connect(self._progressed)
        relay, with_report = self._relay, on_progress is not None
        # The job holds the relay and the work, never the op: emitting on an op whose parent
        # was deleted meanwhile raises "Signal source has been deleted" on the pool thread,
        # and PySide 6.11 drops an exception escaping a pool job without a word.
        QThreadPool.globalInstance().start(QRunnable.create(lambda: _run(relay, work, with_report)))

    @Slot(object)
    def _succeeded(self, result: object) -> None:
        try:
            if self._on_success is not None:
                self._on_success(result)
        finally:
            self._done()

    @Slot(object)
    def _failed(self, error: Exception) -> None:
        try:
            if self._on_failure is not None:
                self._on_failure(error)
            else:
                present_error(self._window(), failure_title(), error)
        finally:
            self._done()

    def _done(self) -> None:
        """Let go of the relay before the op is deleted. Deleting an op still connected to
        it calls the relay's disconnectNotify from ~QObject, and where the op held the last
        reference the relay's Python side is gone by then: a segfault in
        Shiboken::Object::cppPointer, once in some 20 runs of the Documents panel's tests."""
        self._relay.succeeded.disconnect(self._succeeded)
        self._relay.failed.disconnect(self._failed)
        self._relay.progressed.disconnect(self._progressed)
        self.deleteLater()

    def _window(self) -> QWidget | None:
        """The widget the op belongs to, maybe through a controller (a box needs a widget)."""
        owner = self.parent()
        while owner is not None and not isinstance(owner, QWidget):
            owner = owner.parent()
        return owner

    @Slot(int, int)
    def _progressed(self, done: int, total: int) -> None:
        if self._on_progress is not None:
            self._on_progress(done, total)


def _run(relay: _Relay, work: Callable[..., Any], with_report: bool) -> None:
    """On the pool thread: call `work` and emit how it went. An unexpected exception is
    logged here, where it was caught, with its traceback; what the user is shown says so."""
    try:
        result = work(relay.progressed.emit) if with_report else work()
    except HearthError as error:
        relay.failed.emit(error)
    except Exception as error:
        log.exception("background work %s failed", getattr(work, "__qualname__", work))
        relay.failed.emit(error)
    else:
        relay.succeeded.emit(result)


@overload
def run_in_background(
    parent: QObject,
    work: Callable[[], T],
    *,
    on_success: Callable[[T], object] | None = None,
    on_failure: Callable[[Exception], object] | None = None,
) -> None: ...


@overload
def run_in_background(
    parent: QObject,
    work: Callable[[Report], T],
    *,
    on_success: Callable[[T], object] | None = None,
    on_failure: Callable[[Exception], object] | None = None,
    on_progress: Callable[[int, int], object],
) -> None: ...


def run_in_background(
    parent: QObject,
    work: Callable[..., T],
    *,
    on_success: Callable[[T], object] | None = None,
    on_failure: Callable[[Exception], object] | None = None,
    on_progress: Callable[[int, int], object] | None = None,
) -> None:
    """Run `work` on the thread pool; the callbacks run on the GUI thread. `parent` lives
    on the GUI thread and owns the operation: delete it and nothing more is heard.

    With `on_progress`, `work` is called with a report(done, total) function. Without
    `on_failure`, a failure is shown by the one error presenter, in a box over `parent`
    or the widget that owns it: a HearthError's text as is, anything else in one plain
    sentence. `work` must not touch widgets: it runs on another thread."""
    BackgroundOp(parent, work, on_success, on_failure, on_progress)
