"""`hearth --self-test` proves Hearth works without changing the user's own data."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from app.config.settings import Settings, save_settings
from app.conversations.opener import open_conversations
from app.library.model_library import ModelLibrary
from app.platform.paths import resolve_paths
from tests.conftest import subprocess_env
from tests.gguf_factory import MakeGguf

pytestmark = pytest.mark.real_model


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` but the log, with its sha256: the log is where the
    self-test reports (a windowed build has no stdout), not the user's data."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.parent != folder / "logs"
    }


def test_the_self_test_leaves_the_users_data_as_it_was(tmp_path: Path, synthetic_gguf: MakeGguf) -> None:
    data_dir = tmp_path / "hearth"
    paths = resolve_paths(data_dir)
    paths.ensure()
    ModelLibrary(paths.models_dir).add(synthetic_gguf())  # not the starter model, so its entry would show
    store = open_conversations(paths)
    conversation = store.create_conversation("Tide tables")
    store.add_message(conversation, None, "user", "When is high tide?")
    store.close()
    settings = Settings()
    settings.sampling.temperature = 0.3
    save_settings(settings, paths.settings_file)
    before = snapshot(data_dir)

    result = subprocess.run([sys.executable, "-m", "app", "--data-dir", str(data_dir), "--self-test"],
                            capture_output=True, text=True, timeout=300, env=subprocess_env(tmp_path / "elsewhere"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: the conversation was stored and read back" in result.stdout
    assert "ok: documents read and searched (PDF, DOCX, PPTX, XLSX, ODT, EPUB)" in result.stdout
    assert result.stdout.strip().endswith("Self-test passed.")
    assert snapshot(data_dir) == before  # the documents index went into the temporary folder too
    assert "Self-test passed." in paths.log_file.read_text(encoding="utf-8")


def test_a_sample_document_that_cannot_be_read_fails_the_self_test_in_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.backends.llama.factory import LlamaBackendFactory
    from app.cli import self_test

    samples = tmp_path / "samples"
    samples.mkdir()
    for sample in self_test.SAMPLES.iterdir():
        (samples / sample.name).write_bytes(sample.read_bytes())
    (samples / "letter.pdf").write_bytes(b"%PDF-1.4 not really")
    monkeypatch.setattr(self_test, "SAMPLES", samples)
    assert self_test.run_self_test(LlamaBackendFactory(), str(tmp_path / "data")) == 1
    log = resolve_paths(tmp_path / "data").log_file.read_text(encoding="utf-8")
    assert "FAILED: The sample documents could not all be read: letter.pdf:" in log
