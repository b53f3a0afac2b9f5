from __future__ import annotations

import json
from pathlib import Path

from app.config.settings import SCHEMA_VERSION, Settings, load_settings, save_settings


def test_settings_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    settings = Settings()
    settings.sampling.temperature = 0.2
    settings.engine.context_length = 8192
    settings.model_preferences("gemma").prompt_format = "completion"
    save_settings(settings, path)
    assert json.loads(path.read_text())["schema_version"] == SCHEMA_VERSION
    loaded = load_settings(path)
    assert loaded == settings


def test_damaged_or_missing_settings_give_defaults(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    assert load_settings(path) == Settings()
    path.write_text("{not json")
    assert load_settings(path) == Settings()


def test_wrong_types_fall_back_per_field(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"sampling": {"temperature": "hot", "top_p": 1}, "system_prompt": 3}))
    loaded = load_settings(path)
    assert loaded.sampling.temperature == Settings().sampling.temperature
    assert loaded.sampling.top_p == 1.0
    assert loaded.system_prompt == Settings().system_prompt


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    save_settings(Settings(), path)
    save_settings(Settings(system_prompt="Be brief."), path)
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]
    assert load_settings(path).system_prompt == "Be brief."


def test_out_of_range_values_are_clamped(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"engine": {"context_length": 0, "threads": -3}, "sampling": {"max_tokens": -1, "top_p": 7}}))
    loaded = load_settings(path)
    assert loaded.engine.context_length == 256 and loaded.engine.threads == 0
    assert loaded.sampling.max_tokens == 16 and loaded.sampling.top_p == 1.0


def test_the_hub_address_is_cleaned(tmp_path: Path) -> None:
    from app.config.schema import clean_hub_endpoint

    assert clean_hub_endpoint(" mirror.school.example/ ") == "https://mirror.school.example"
    assert clean_hub_endpoint("http://10.0.0.5:8080/hf/") == "http://10.0.0.5:8080/hf"
    assert clean_hub_endpoint("") == ""
    assert clean_hub_endpoint("ftp://files.example") == ""
    path = tmp_path / "settings.json"
    path.write_text('{"library": {"hub_endpoint": "not a url"}}')
    assert load_settings(path).library.hub_endpoint == ""


def test_every_limit_of_the_schema_is_kept_when_loading(tmp_path: Path) -> None:
    from app.config import schema

    for spec in schema.SETTINGS:
        if isinstance(spec, schema.NumberSetting):
            for written, expected in ((spec.minimum - 1, spec.minimum), (spec.maximum + 1, spec.maximum)):
                path = tmp_path / "settings.json"
                *parents, leaf = spec.path
                document: dict[str, object] = {leaf: written}
                for part in reversed(parents):
                    document = {part: document}
                path.write_text(json.dumps(document))
                assert spec.read(load_settings(path)) == expected, spec.name


def test_true_or_false_is_not_a_number_and_nan_is_not_a_temperature(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text('{"engine": {"threads": true}, "sampling": {"temperature": NaN, "seed": false}}')
    loaded = load_settings(path)
    assert loaded.engine.threads == 0 and loaded.sampling.seed == -1
    assert loaded.sampling.temperature == 0.7
