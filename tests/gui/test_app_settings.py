"""The settings in force, with one owner: what the settings dialog did not show is not
taken from its copy."""

from __future__ import annotations

import copy
from pathlib import Path

from app.config.policy import Policy
from app.config.settings import Settings, load_settings, save_settings
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


def test_what_another_process_saved_meanwhile_survives_this_windows_saves(tmp_path: Path) -> None:
    """A pack imported with `hearth pack import` while the window was open: closing the
    window (it keeps its geometry) used to write the window's old copy over it."""
    file = tmp_path / "settings.json"
    kept = AppSettings(load_settings(file), file, Policy())
    meanwhile = load_settings(file)
    meanwhile.sampling.temperature, meanwhile.system_prompt = 0.2, "Answer like a teacher."
    save_settings(meanwhile, file)

    chosen = copy.deepcopy(kept.current())
    chosen.sampling.seed = 7  # the user changes only the seed in this window's dialog
    kept.edited(chosen)
    kept.remember_model("gemma")
    kept.keep_geometry("geometry")

    saved = load_settings(file)
    assert (saved.sampling.temperature, saved.system_prompt) == (0.2, "Answer like a teacher.")
    assert (saved.sampling.seed, saved.last_model_id, saved.window_geometry) == (7, "gemma", "geometry")


def test_the_administrators_values_stay_out_of_the_file(tmp_path: Path) -> None:
    file = tmp_path / "settings.json"
    kept = AppSettings(Settings(), file, Policy(values={"temperature": 0.2}, locked={"temperature"}))
    chosen = copy.deepcopy(kept.current())
    chosen.sampling.seed = 7
    kept.edited(chosen)
    assert load_settings(file).sampling.temperature == Settings().sampling.temperature
