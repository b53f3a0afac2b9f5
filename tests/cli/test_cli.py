"""The headless CLI, run as a user would: in a subprocess."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app import __version__
from app.library.model_library import sha256_of
from tests.conftest import subprocess_env

pytestmark = pytest.mark.real_model


def hearth(data_dir: Path, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        capture_output=True, text=True, timeout=timeout, env=subprocess_env(data_dir),
    )


def test_version(tmp_path: Path) -> None:
    result = hearth(tmp_path, "--version")
    assert result.returncode == 0 and result.stdout.strip() == f"Hearth {__version__}"


def test_the_hearth_console_script_is_installed(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "hearth"
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60,
                            env=subprocess_env(tmp_path))
    assert result.returncode == 0 and result.stdout.strip() == f"Hearth {__version__}"


def test_an_unknown_prompt_format_is_named(tmp_path: Path, smollm_path: Path) -> None:
    result = hearth(tmp_path, "ask", "--format", "chatmll", "--model", str(smollm_path), "Hi")
    assert result.returncode == 1 and "Unknown prompt format 'chatmll'" in result.stderr
    assert not (tmp_path / "conversations.sqlite3").exists()


def test_ask_streams_the_reply_and_saves_the_exchange(tmp_path: Path, smollm_path: Path) -> None:
    result = hearth(tmp_path, "ask", "--model", str(smollm_path), "--seed", "1", "--max-tokens", "40",
                    "What is the capital of France?")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    db = sqlite3.connect(tmp_path / "conversations.sqlite3")
    rows = db.execute("SELECT role, content, status FROM messages ORDER BY id").fetchall()
    assert rows[0] == ("user", "What is the capital of France?", "complete")
    assert rows[1][0] == "assistant" and rows[1][1].strip() == result.stdout.strip() and rows[1][2] == "complete"
    assert db.execute("SELECT title FROM conversations").fetchone()[0] == "What is the capital of France?"
    provenance = json.loads(db.execute("SELECT provenance FROM messages WHERE role = 'assistant'").fetchone()[0])
    assert provenance["sampling"]["seed"] == 1 and provenance["seed_was_random"] is False
    assert provenance["model"]["file"] == smollm_path.name and provenance["model"]["sha256"] == ""  # not in the library


def test_no_save_leaves_no_conversation(tmp_path: Path, smollm_path: Path) -> None:
    result = hearth(tmp_path, "ask", "--no-save", "--model", str(smollm_path), "--max-tokens", "8", "Hi")
    assert result.returncode == 0 and result.stdout.strip()
    assert not (tmp_path / "conversations.sqlite3").exists()


def test_errors_are_one_plain_sentence_on_stderr(tmp_path: Path, truncated_model: Path) -> None:
    result = hearth(tmp_path, "ask", "--model", str(truncated_model), "Hello")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "incomplete" in result.stderr and "Traceback" not in result.stderr
    missing = hearth(tmp_path, "ask", "--model", "no-such-model", "Hello")
    assert missing.returncode == 1 and "no 'no-such-model' model installed" in missing.stderr


def test_models_add_and_list(tmp_path: Path, smollm_path: Path) -> None:
    assert "No models installed" in hearth(tmp_path, "models", "list").stdout
    added = hearth(tmp_path, "models", "add", "--in-place", str(smollm_path))
    assert added.returncode == 0, added.stderr
    listing = hearth(tmp_path, "models", "list").stdout
    assert "smollm2-135m-instruct-q4-1" in listing and "Q4_1" in listing and "apache-2.0" in listing
    # `ask` with no --model uses the installed one.
    result = hearth(tmp_path, "ask", "--max-tokens", "8", "Hi")
    assert result.returncode == 0 and result.stdout.strip()
    db = sqlite3.connect(tmp_path / "conversations.sqlite3")
    provenance = json.loads(db.execute("SELECT provenance FROM messages WHERE role = 'assistant'").fetchone()[0])
    assert provenance["model"]["sha256"] == sha256_of(smollm_path)  # from the library's manifest
    assert provenance["model"]["id"] == "smollm2-135m-instruct-q4-1" and provenance["seed_was_random"] is True
