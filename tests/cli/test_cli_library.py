"""`hearth models ...` run as a user would, against a local Hub on 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import subprocess_env
from tests.gguf_factory import MakeGguf
from tests.hub_server import COMMIT, HubServer

REPO = "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF"
FILE = "smollm2-135m-instruct-q4_1.gguf"
BLOCK = 64 * 1024  # what the test server sends between the sleeps of a trickle


@pytest.fixture
def hub(synthetic_gguf: MakeGguf) -> Iterator[HubServer]:
    model = synthetic_gguf("served.gguf", parameters=4_000_000)  # 2.5 MB: a llama file in Q4_1
    with HubServer() as server:
        server.serve(FILE, model)
        server.serve(f"{REPO}/{FILE}", model)
        yield server


def command(data_dir: Path, hub: HubServer, *args: str) -> list[str]:
    return [sys.executable, "-m", "app", "--data-dir", str(data_dir), "models", *args]


def env_for(data_dir: Path, hub: HubServer) -> dict[str, str]:
    return {**subprocess_env(data_dir), "HF_ENDPOINT": hub.url, "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}


def hearth(data_dir: Path, hub: HubServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(data_dir, hub, *args), capture_output=True, text=True, timeout=120,
                          env=env_for(data_dir, hub))


def test_pull_from_the_hub_then_list_verify_and_remove(tmp_path: Path, hub: HubServer) -> None:
    pulled = hearth(tmp_path, hub, "pull", f"{REPO}/{FILE}")
    assert pulled.returncode == 0, pulled.stderr
    assert "Added SmolLM2 135M Instruct as 'smollm2-135m-instruct-q4-1'" in pulled.stdout and "verified" in pulled.stdout
    listed = hearth(tmp_path, hub, "list")
    assert f"{REPO}@{COMMIT[:8]}" in listed.stdout and "llama\tQ4_1" in listed.stdout
    verified = hearth(tmp_path, hub, "verify")
    assert verified.returncode == 0 and verified.stdout.strip() == "smollm2-135m-instruct-q4-1: OK"
    removed = hearth(tmp_path, hub, "rm", "smollm2-135m-instruct-q4-1")
    assert removed.returncode == 0 and "3 MB freed" in removed.stdout
    assert not list((tmp_path / "models").glob("*.gguf"))


def test_pull_a_direct_url_with_a_wrong_sha256_is_refused(tmp_path: Path, hub: HubServer) -> None:
    result = hearth(tmp_path, hub, "pull", f"{hub.url}/{FILE}", "--sha256", "ab" * 32)
    assert result.returncode == 1
    assert "checksum does not match" in result.stderr and "set aside" in result.stderr
    assert "No models installed" in hearth(tmp_path, hub, "list").stdout


@pytest.mark.parametrize("pin", ["notahash", "ab" * 31, "zz" * 32, "ab" * 33])
def test_a_sha256_that_is_not_one_is_refused_before_anything_is_downloaded(
    tmp_path: Path, hub: HubServer, pin: str
) -> None:
    for what in (f"{hub.url}/{FILE}", f"{REPO}/{FILE}"):
        result = hearth(tmp_path, hub, "pull", what, "--sha256", pin)
        assert result.returncode == 1
        assert f"'{pin}' is not a sha256 checksum" in result.stderr and "Traceback" not in result.stderr
    assert hub.log == [], "nothing asked of the server"


def test_pull_resumes_after_the_process_is_killed(tmp_path: Path, hub: HubServer) -> None:
    hub.faults.trickle = 0.1  # 0.65 MB/s, 4 s for the file: slow enough to kill it after two blocks
    process = subprocess.Popen(command(tmp_path, hub, "pull", f"{REPO}/{FILE}"), env=env_for(tmp_path, hub),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    downloads = tmp_path / "models" / ".downloads"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        parts = list(downloads.glob("*.part")) if downloads.is_dir() else []
        if parts and parts[0].stat().st_size > 2 * BLOCK:
            break
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    on_disk = parts[0].stat().st_size
    assert 2 * BLOCK < on_disk < hub.files[FILE].size

    hub.faults.trickle = 0
    resumed = hearth(tmp_path, hub, "pull", f"{REPO}/{FILE}")
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming smollm2-135m-instruct-q4_1 from {on_disk / 1e6:,.1f} MB" in resumed.stderr
    last = [r for r in hub.log if r.path.startswith("/cdn/")][-1]
    assert last.range_start == on_disk, "nothing already on disk is fetched again"
    assert hearth(tmp_path, hub, "verify").stdout.strip().endswith(": OK")


def test_import_search_and_plain_errors(tmp_path: Path, hub: HubServer, synthetic_gguf: MakeGguf) -> None:
    theirs = synthetic_gguf("Tiny-Llama.Q4_1.gguf")
    imported = hearth(tmp_path, hub, "import", "--in-place", str(theirs))
    assert imported.returncode == 0 and "Added" in imported.stdout
    assert "its file was left where it is" in hearth(tmp_path, hub, "rm", "tiny-llama-q4-1").stdout
    assert theirs.is_file()

    hub.models_api = [{"id": REPO, "downloads": 5321, "likes": 12}]
    found = hearth(tmp_path, hub, "search", "smollm2")
    assert found.returncode == 0 and found.stdout.strip() == f"{REPO}\t5,321 downloads\t12 likes"

    unknown = hearth(tmp_path, hub, "pull", "no-such-model")
    assert unknown.returncode == 1 and "is not a catalog model" in unknown.stderr
    missing = hearth(tmp_path, hub, "rm", "nothing")
    assert missing.returncode == 1 and "There is no model 'nothing'" in missing.stderr


def test_offline_search_says_so_without_retrying(tmp_path: Path, hub: HubServer) -> None:
    env = {**env_for(tmp_path, hub), "HF_ENDPOINT": "http://127.0.0.1:9"}  # nothing listens on port 9
    result = subprocess.run(command(tmp_path, hub, "search", "llama"), capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1 and "seems to be offline" in result.stderr
    assert "Trying again" not in result.stderr
