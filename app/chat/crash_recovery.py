"""What Hearth does at start after a model took the process down (see
app/platform/crash_marker.py): remember it on the model, and tell the user."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from app.config.settings import ModelPreferences, Settings, save_model_preferences
from app.library.model_library import ModelLibrary
from app.platform.crash_marker import LOADING, CrashMarker, EngineRun
from app.platform.errors import StorageError
from app.platform.i18n import _
from app.platform.paths import AppPaths

log = logging.getLogger(__name__)


def take_crash(paths: AppPaths, settings: Settings, library: ModelLibrary) -> EngineRun | None:
    """At start: the step that stopped Hearth last time, if any, remembered on its
    model at once (in `settings` and in the settings file), so that the model is not
    loaded by itself even if this run is cut short too."""
    run = CrashMarker(paths.crash_markers).take()
    if run is not None:
        key = library.preferences_key(Path(run.model_path))
        entry = library.get(key)
        if entry is not None:  # the name the user knows it by
            run = dataclasses.replace(run, model_name=entry.shown_name)
        mode = "safe" if run.safe_mode else "normal"
        settings.model_preferences(key).crashed = mode
        try:
            save_model_preferences(paths.settings_file, key, crashed=mode)
        except StorageError as exc:  # this run still knows; the notice matters more
            log.warning("could not remember the crash: %s", exc)
    return run


def crash_notice(run: EngineRun) -> str:
    """What the user is told at the next start, in plain words: one sentence for each
    step and mode, so that a translation is free to build each its own way."""
    if run.safe_mode:
        cannot_run = _(
            "This model cannot run on this computer: choose another one in the Library. All your conversations are saved."
        )
        if run.stage == LOADING:
            stopped = _("Hearth closed unexpectedly while loading {model}, even in safe mode.")
        else:
            stopped = _("Hearth closed unexpectedly while writing a reply with {model}, even in safe mode.")
        return f"{stopped.format(model=run.model_name)} {cannot_run}"
    if run.stage == LOADING:
        stopped = _("Hearth closed unexpectedly last time while loading {model}.")
    else:
        stopped = _("Hearth closed unexpectedly last time while writing a reply with {model}.")
    what_now = _(
        "All your conversations are saved, and the model was not loaded again. You can try it "
        "in safe mode, which turns off speed-ups that fail on some computers (replies may be "
        "slower), or choose another model."
    )
    return f"{stopped.format(model=run.model_name)} {what_now}"


def safe_mode_label(preferences: ModelPreferences) -> str:
    """The model's details line about safe mode ('' when it runs normally)."""
    if preferences.crashed == "safe":
        return _("Stopped Hearth even in safe mode: it cannot run on this computer.")
    if preferences.safe_mode:
        return _("Safe mode: on (this model once stopped Hearth). Speed-ups are off; replies may be slower.")
    if preferences.crashed:
        return _("This model stopped Hearth last time it ran.")
    return ""
