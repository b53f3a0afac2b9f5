"""The administrator's policy file: values, locks, allowed models, and errors named by line."""

from __future__ import annotations

import json
from pathlib import Path

from app.config.policy import load_policy
from app.config.settings import Settings

CLASSROOM = """
# Year 7, room 12
default_model = "smollm2-135m-instruct-q4-1"
allowed_models = ["smollm2-*", "qwen2.5-0.5b-*"]
downloads = false
system_prompt = "You are a patient tutor. Explain simply and check understanding."

[settings]
temperature = 0.3
context_length = 4096

locked = ["system_prompt", "temperature"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_classroom_policy(tmp_path: Path) -> None:
    policy = load_policy([tmp_path / "absent.toml", write(tmp_path, CLASSROOM)])
    assert policy.problems == []
    assert policy.default_model == "smollm2-135m-instruct-q4-1" and policy.downloads is False
    assert policy.allows("smollm2-135m-instruct-q4-1") and policy.allows("Qwen2.5-0.5B-Instruct-Q4_K_M")
    assert not policy.allows("llama-3.1-8b-instruct")
    settings = policy.apply(Settings(system_prompt="mine"))
    assert settings.system_prompt.startswith("You are a patient tutor")
    assert settings.sampling.temperature == 0.3 and settings.engine.context_length == 4096
    assert "temperature" in policy.locked and "top_p" not in policy.locked


def test_no_policy_file_means_no_rules(tmp_path: Path) -> None:
    policy = load_policy([tmp_path / "none.toml"])
    assert policy.source is None and policy.allows("anything") and policy.downloads and not policy.locked


def test_a_syntax_error_names_the_line_and_defaults_apply(tmp_path: Path) -> None:
    policy = load_policy([write(tmp_path, 'downloads = false\nsystem_prompt = "unclosed\n')])
    (problem,) = policy.problems
    assert "line 2" in problem and "Hearth uses its defaults" in problem
    assert policy.downloads is True and policy.values == {}


def test_wrong_values_are_named_by_line_and_the_rest_applies(tmp_path: Path) -> None:
    text = 'downloads = "no"\n\n[settings]\ntemperature = "warm"\nmax_tokens = 256\ncolour = "blue"\n'
    policy = load_policy([write(tmp_path, text + 'locked = ["max_tokens", "volume"]\n')])
    problems = " | ".join(policy.problems)
    assert "line 1: downloads must be true or false" in problems
    assert "line 4: temperature must be a float" in problems
    assert "line 6: 'colour' is not a setting Hearth knows" in problems
    assert "'volume' in locked" in problems
    assert policy.downloads is True and policy.values == {"max_tokens": 256} and policy.locked == {"max_tokens"}
    assert policy.apply(Settings()).sampling.max_tokens == 256


def test_values_outside_the_limits_are_clamped(tmp_path: Path) -> None:
    policy = load_policy([write(tmp_path, "[settings]\ncontext_length = 0\ntemperature = 9\n")])
    settings = policy.apply(Settings())
    assert settings.engine.context_length == 256 and settings.sampling.temperature == 2.0


def test_the_command_line_follows_the_policy(tmp_path: Path, smollm_path: Path, gemma_path: Path) -> None:
    import subprocess
    import sys

    from tests.conftest import subprocess_env

    policy = write(tmp_path, 'allowed_models = ["smollm2-*"]\ndownloads = false\n')
    env = {**subprocess_env(tmp_path / "data"), "HEARTH_POLICY_FILE": str(policy)}

    def hearth(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=120, env=env)

    refused = hearth("models", "pull", "qwen2.5-0.5b-instruct")
    assert refused.returncode == 1 and "Downloads are turned off by your administrator" in refused.stderr
    assert hearth("models", "import", "--in-place", str(gemma_path)).returncode == 0
    not_allowed = hearth("ask", "--model", "gemma-3-270m-q4-k-m", "Hi")
    assert not_allowed.returncode == 1 and "does not allow the model Gemma 3 270M" in not_allowed.stderr

    write(tmp_path, "downloads = maybe\n")
    broken = hearth("models", "list")
    assert broken.returncode == 0 and "policy.toml has an error" in broken.stderr and "line 1" in broken.stderr


def test_unlocked_values_are_defaults_and_locked_ones_are_forced(tmp_path: Path) -> None:
    policy = load_policy([write(tmp_path, '[settings]\ntemperature = 0.3\nmax_tokens = 300\nlocked = ["max_tokens", "top_p"]\n')])
    mine = Settings()
    mine.sampling.temperature, mine.sampling.max_tokens, mine.sampling.top_p = 1.1, 2000, 0.5
    applied = policy.apply(mine)
    assert applied.sampling.temperature == 1.1, "the user's own choice of an unlocked setting stays"
    assert applied.sampling.max_tokens == 300, "locked: the administrator's value"
    assert applied.sampling.top_p == Settings().sampling.top_p, "locked without a value: the default"
    assert policy.apply(Settings()).sampling.temperature == 0.3, "unlocked: the default for a user who did not choose"


def test_odd_files_never_stop_the_app(tmp_path: Path) -> None:
    for text in ("settings = 5\n", 'locked = [["a"]]\n', "[settings]\nlocked = 3\n"):
        policy = load_policy([write(tmp_path, text)])
        assert policy.problems and policy.values == {}
    with_bom = write(tmp_path, "downloads = false\n")
    with_bom.write_bytes(b"\xef\xbb\xbf" + with_bom.read_bytes())
    assert load_policy([with_bom]).downloads is False and load_policy([with_bom]).problems == []


def test_a_comment_does_not_confuse_the_line_number(tmp_path: Path) -> None:
    text = '# temperature is set for the whole school\n\n[settings]\ntemperature = "warm"\n'
    (problem,) = load_policy([write(tmp_path, text)]).problems
    assert "line 4:" in problem


def test_every_setting_of_the_schema_can_be_set_and_locked(tmp_path: Path) -> None:
    from app.config import schema

    lines = [f"{spec.name} = {json.dumps(spec.default)}" for spec in schema.SETTINGS]  # TOML's spelling too
    names = ", ".join(f'"{spec.name}"' for spec in schema.SETTINGS)
    policy = load_policy([write(tmp_path, "[settings]\n" + "\n".join(lines) + f"\nlocked = [{names}]\n")])
    assert policy.problems == []
    assert policy.values == {spec.name: spec.default for spec in schema.SETTINGS}
    assert policy.locked == set(schema.BY_NAME)


def test_true_is_not_a_number_and_types_are_named_as_toml_names_them(tmp_path: Path) -> None:
    text = '[settings]\nthreads = true\nmax_tokens = 2.5\nhub_endpoint = 8080\ntemperature = 1\nshow_reply_speed = 1\n'
    policy = load_policy([write(tmp_path, text)])
    assert policy.problems == [
        f"The policy file {tmp_path / 'policy.toml'}, line 2: threads must be an integer, not True. Its default is used.",
        f"The policy file {tmp_path / 'policy.toml'}, line 3: max_tokens must be an integer, not 2.5. Its default is used.",
        f"The policy file {tmp_path / 'policy.toml'}, line 4: hub_endpoint must be a string, not 8080. Its default is used.",
        f"The policy file {tmp_path / 'policy.toml'}, line 6: show_reply_speed must be true or false, not 1. Its default is used.",
    ]
    assert policy.values == {"temperature": 1.0} and isinstance(policy.values["temperature"], float)


def test_a_setting_the_schema_keeps_for_the_user_cannot_be_locked(tmp_path: Path, monkeypatch) -> None:
    import dataclasses

    from app.config import schema

    monkeypatch.setitem(schema.BY_NAME, "seed", dataclasses.replace(schema.SEED, lockable=False))
    policy = load_policy([write(tmp_path, '[settings]\nseed = 7\nlocked = ["seed", "top_p"]\n')])
    (problem,) = policy.problems
    assert "line 3: 'seed' cannot be locked: it stays the user's choice." in problem
    assert policy.locked == {"top_p"} and policy.values == {"seed": 7}
    assert policy.apply(Settings()).sampling.seed == 7, "still a default for users who did not choose"
