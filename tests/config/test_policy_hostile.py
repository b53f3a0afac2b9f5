"""The administrator's word holds: a user's environment cannot replace the policy, and
every odd file or value is reported in a plain sentence, never read or dropped silently."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from app.config.policy import load_policy
from app.platform import paths
from app.platform.paths import POLICY_FILE_ENV, policy_files, system_policy_file


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_xdg_config_dirs_cannot_replace_the_system_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "x" / "Hearth"
    mine.mkdir(parents=True)
    (mine / "policy.toml").write_text("downloads = true\n", encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "x"))
    monkeypatch.delenv(POLICY_FILE_ENV, raising=False)
    candidates = policy_files()
    assert candidates == [system_policy_file()]
    assert all(not str(path).startswith(str(tmp_path)) for path in candidates)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the Linux system folder")
def test_the_system_policy_on_linux_is_in_etc_xdg() -> None:
    assert system_policy_file() == Path("/etc/xdg/Hearth/policy.toml")


def test_a_policy_to_try_out_comes_after_the_system_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(POLICY_FILE_ENV, str(tmp_path / "try.toml"))
    assert policy_files() == [system_policy_file(), tmp_path / "try.toml"]


def test_an_empty_allowed_models_allows_no_model_and_says_so(tmp_path: Path) -> None:
    policy = load_policy([write(tmp_path, 'downloads = false\nallowed_models = []\n')])
    assert not policy.allows("smollm2-135m-instruct-q4-1")
    (problem,) = policy.problems
    assert "line 2: allowed_models is an empty list, so no model is allowed" in problem and "remove that line" in problem


def test_no_allowed_models_line_allows_every_model(tmp_path: Path) -> None:
    assert load_policy([write(tmp_path, "downloads = false\n")]).allows("anything")


def test_an_unknown_table_is_reported_at_its_line(tmp_path: Path) -> None:
    policy = load_policy([write(tmp_path, 'downloads = false\n\n[colours]\nbackground = "red"\n')])
    (problem,) = policy.problems
    assert "line 3: 'colours' is not a policy setting." in problem


def test_an_unknown_dotted_key_is_reported_at_its_line(tmp_path: Path) -> None:
    policy = load_policy([write(tmp_path, 'downloads = false\ncolours.background = "red"\n')])
    (problem,) = policy.problems
    assert "line 2: 'colours' is not a policy setting." in problem


def test_a_folder_in_place_of_the_policy_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "policy.toml"
    folder.mkdir()
    (tmp_path / "later").mkdir()
    policy = load_policy([folder, write(tmp_path / "later", "downloads = true\n")])  # the later one is not tried
    (problem,) = policy.problems
    assert "is not a file (it is a folder, a pipe or a device)" in problem and policy.source == folder


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_pipe_in_place_of_the_policy_is_reported_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "policy.toml"
    os.mkfifo(fifo)
    result: list[list[str]] = []
    reader = threading.Thread(target=lambda: result.append(load_policy([fifo]).problems), daemon=True)
    reader.start()
    reader.join(30)
    if not result:  # it hangs: let the reader go before failing
        with fifo.open("w"):
            pass
        pytest.fail("the policy reader waited on a pipe")
    (problem,) = result[0]
    assert "is not a file" in problem


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="a device")
def test_a_device_in_place_of_the_policy_is_reported_not_read(tmp_path: Path) -> None:
    link = tmp_path / "policy.toml"
    link.symlink_to("/dev/zero")
    (problem,) = load_policy([link]).problems
    assert "is not a file" in problem


def test_a_locked_hub_endpoint_that_is_not_a_web_address_is_reported(tmp_path: Path) -> None:
    policy = load_policy([write(tmp_path, '[settings]\nhub_endpoint = "file:///srv/models"\nlocked = ["hub_endpoint"]\n')])
    (problem,) = policy.problems
    assert "line 2: hub_endpoint must be a web address (http or https), not 'file:///srv/models'." in problem
    assert "hub_endpoint" in policy.locked and "hub_endpoint" not in policy.values


def test_a_policy_that_is_not_utf8_is_a_sentence(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(b"downloads = false\n# caf\xe9\n")
    (problem,) = load_policy([path]).problems
    assert "is not a text file in UTF-8" in problem and "codec" not in problem


def test_the_cli_reads_no_policy_from_xdg_config_dirs(tmp_path: Path) -> None:
    mine = tmp_path / "x" / "Hearth"
    mine.mkdir(parents=True)
    (mine / "policy.toml").write_text("downloads = false\n", encoding="utf-8")
    env = {**os.environ, "XDG_CONFIG_DIRS": str(tmp_path / "x"), "PYTHONPATH": str(Path(paths.__file__).parents[2])}
    env.pop(POLICY_FILE_ENV, None)
    code = "from app.config.policy import load_policy; from app.platform.paths import policy_files; print(load_policy(policy_files()).source)"
    shown = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert str(tmp_path) not in shown and shown.strip() in ("None", str(system_policy_file()))
