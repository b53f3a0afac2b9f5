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
import datetime
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

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
