"""Remember what llama.cpp was doing when it took the whole process down.

A bug in llama.cpp, in a model file or in the CPU path (the AMX crash of
llama.cpp issue 20824) kills Hearth with SIGSEGV or abort(): no Python code
runs, no exception is raised. So the engine leaves a small marker file while it
does what can crash (a load, and a reply until its first token) and removes it
when that step ends, cleanly or with a Python error. A marker still there at the
next start, left by a process that no longer runs, names the model that stopped
Hearth and the engine options it ran with; that model is then not loaded by
itself again, and the user is offered safe mode.

Each process writes its own marker (named by its id, with its start time, since ids
are reused: in a container every start may get the same one), so a window and a
`hearth ask` sharing one data folder never mistake each other's work for a crash.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

from app.core.errors import StorageError
from app.core.library import ModelLibrary
from app.core.paths import AppPaths
from app.core.settings import ModelPreferences, Settings, save_model_preferences

log = logging.getLogger(__name__)

LOADING, ANSWERING = "loading", "answering"


@dataclass(frozen=True)
class EngineRun:
    """What the engine was doing: the step, the model, and the options in use."""

    stage: str  # LOADING or ANSWERING
    model_path: str
    model_name: str
    safe_mode: bool
    options: dict[str, Any] = field(default_factory=dict)
    started: str = ""  # ISO time: for the log, and the latest of several markers is reported


class CrashMarker:
    """The markers of one data folder: one file per running process."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._own = folder / f"{os.getpid()}.json"
        self._started = psutil.Process().create_time()

    @contextlib.contextmanager
    def around(self, run: EngineRun) -> Iterator[Callable[[], None]]:
        """Mark `run` for the length of the block. The block may call the function
        it is given to end the mark early (a reply once its first token is out)."""
        self._write(run)
        try:
            yield self.clear
        finally:
            self.clear()

    def clear(self) -> None:
        self._own.unlink(missing_ok=True)

    def _write(self, run: EngineRun) -> None:
        stamped = EngineRun(**{**asdict(run), "started": datetime.datetime.now().isoformat(timespec="seconds")})
        # No fsync: a crashed process does not lose what it wrote, and a marker lost to a
        # power cut only means no notice. Written before every reply, so it must be cheap.
        temporary = self._own.with_suffix(".tmp")
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps({**asdict(stamped), "process_started": self._started}), encoding="utf-8")
            os.replace(temporary, self._own)
        except OSError as exc:  # a full or read-only disk must not stop the reply
            log.warning("could not write the crash marker %s: %s", self._own, exc)

    def take(self) -> EngineRun | None:
        """The latest step that a process which has since died never finished; its
        marker and those of other dead processes are removed. None after clean runs."""
        found: list[EngineRun] = []
        try:
            markers = sorted(self._folder.iterdir())
        except OSError:
            return None
        for marker in markers:
            data = _read(marker)
            if _running(marker.stem, data.get("process_started")):
                continue  # another Hearth at work
            try:
                if data:
                    found.append(EngineRun(**{k: data[k] for k in EngineRun.__dataclass_fields__ if k in data}))
                marker.unlink(missing_ok=True)  # so is a temporary file a crash left half written
            except (OSError, TypeError) as exc:
                log.warning("ignoring the crash marker %s: %s", marker, exc)
        if not found:
            return None
        run = max(found, key=lambda r: r.started)
        log.warning("the last run stopped while %s %s (options %s)", run.stage, run.model_path, run.options)
        return run


def _read(marker: Path) -> dict[str, Any]:
    """A marker's content; {} for a temporary file or one that cannot be read."""
    if marker.suffix != ".json":
        return {}
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring an unreadable crash marker %s: %s", marker, exc)
        return {}
    return data if isinstance(data, dict) else {}


def _running(pid: str, started: object) -> bool:
    """Whether the process that wrote a marker still runs: same id, and the same start
    time where the marker has one (a temporary file, being written now, has none)."""
    if not pid.isdigit():
        return False
    try:
        process = psutil.Process(int(pid))
        return not isinstance(started, (int, float)) or abs(process.create_time() - started) < 1.0
    except psutil.Error:
        return False


def take_crash(paths: AppPaths, settings: Settings, library: ModelLibrary) -> EngineRun | None:
    """At start: the step that stopped Hearth last time, if any, remembered on its
    model at once (in `settings` and in the settings file), so that the model is not
    loaded by itself even if this run is cut short too."""
    run = CrashMarker(paths.crash_markers).take()
    if run is not None:
        key = library.preferences_key(Path(run.model_path))
        entry = library.get(key)
        if entry is not None:  # the name the user knows it by
            run = dataclasses.replace(run, model_name=entry.name)
        mode = "safe" if run.safe_mode else "normal"
        settings.model_preferences(key).crashed = mode
        try:
            save_model_preferences(paths.settings_file, key, crashed=mode)
        except StorageError as exc:  # this run still knows; the notice matters more
            log.warning("could not remember the crash: %s", exc)
    return run


def crash_notice(run: EngineRun) -> str:
    """What the user is told at the next start, in plain words."""
    step = "loading" if run.stage == LOADING else "writing a reply with"
    if run.safe_mode:
        return (
            f"Hearth closed unexpectedly while {step} {run.model_name}, even in safe mode. "
            "This model cannot run on this computer: choose another one in the Library. "
            "All your conversations are saved."
        )
    return (
        f"Hearth closed unexpectedly last time while {step} {run.model_name}. "
        "All your conversations are saved, and the model was not loaded again. You can try it "
        "in safe mode, which turns off speed-ups that fail on some computers (replies may be "
        "slower), or choose another model."
    )


def safe_mode_label(preferences: ModelPreferences) -> str:
    """The model's details line about safe mode ('' when it runs normally)."""
    if preferences.crashed == "safe":
        return "Stopped Hearth even in safe mode: it cannot run on this computer."
    if preferences.safe_mode:
        return "Safe mode: on (this model once stopped Hearth). Speed-ups are off; replies may be slower."
    if preferences.crashed:
        return "This model stopped Hearth last time it ran."
    return ""
