"""The settings in force, with one owner: what the settings dialog did not show is not
taken from its copy."""

from __future__ import annotations

import copy
from pathlib import Path

from app.config.policy import Policy
from app.config.settings import Settings, load_settings
from app.gui.controllers.app_settings import AppSettings


def test_the_dialog_changes_only_what_it_shows(tmp_path: Path) -> None:
    settings = Settings()
    settings.model_preferences("smollm2").crashed = "answering"
    kept = AppSettings(settings, tmp_path / "settings.json", Policy())
    in_the_dialog = copy.deepcopy(kept.current())  # the dialog opens on a copy...
    kept.loaded_cleanly("smollm2")  # ...then the model loads cleanly after its crash
    kept.remember_model("smollm2")
    in_the_dialog.sampling.temperature = 0.3
    in_the_dialog.model_preferences("smollm2").prompt_format = "chatml"
    kept.edited(in_the_dialog)
    saved = load_settings(tmp_path / "settings.json")
    for current in (kept.current(), saved):
        assert current.sampling.temperature == 0.3 and current.preferences_of("smollm2").prompt_format == "chatml"
        assert current.preferences_of("smollm2").crashed == "", "the crash mark the load cleared stays cleared"
        assert current.last_model_id == "smollm2"


def test_the_administrators_locks_apply_to_what_the_dialog_returns(tmp_path: Path) -> None:
    kept = AppSettings(Settings(), tmp_path / "settings.json", Policy(values={"temperature": 0.2}, locked={"temperature"}))
    chosen = copy.deepcopy(kept.current())
    chosen.sampling.temperature = 1.5
    kept.edited(chosen)
    assert kept.current().sampling.temperature == 0.2
