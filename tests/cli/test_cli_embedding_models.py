"""Embedding models from the command line: listed as what they are, never used to chat."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from app.cli.main import run
from tests.conftest import subprocess_env
from tests.fakes import FakeBackend, FakeBackendFactory
from tests.gguf_factory import MakeGguf

NOTE = "is an embedding model, for your documents: it finds passages by meaning and cannot chat."


def hearth(data_dir: Path, factory: FakeBackendFactory, *args: str) -> int:
    return run(["--data-dir", str(data_dir), *args], factory)


def add(data_dir: Path, factory: FakeBackendFactory, model: Path) -> None:
    assert hearth(data_dir, factory, "models", "import", "--in-place", str(model)) == 0


def test_models_list_marks_an_embedding_model(tmp_path: Path, fake_factory: FakeBackendFactory,
                                              synthetic_gguf: MakeGguf, capsys: pytest.CaptureFixture[str]) -> None:
    add(tmp_path, fake_factory, synthetic_gguf("all-MiniLM-L6-v2.F32.gguf", architecture="bert", chat_template=None))
    add(tmp_path, fake_factory, synthetic_gguf("SmolLM2-Synthetic.Q4_1.gguf"))
    capsys.readouterr()
    assert hearth(tmp_path, fake_factory, "models", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    embedder = next(line for line in lines if line.startswith("all-minilm"))
    chat = next(line for line in lines if line.startswith("smollm2"))
    assert embedder.split("\t")[-1] == "embedding model, for documents"
    assert "embedding" not in chat


def test_ask_refuses_an_embedding_model_in_a_sentence_and_never_loads_it(
    tmp_path: Path, fake_factory: FakeBackendFactory, fake_backend: FakeBackend, synthetic_gguf: MakeGguf,
    capsys: pytest.CaptureFixture[str],
) -> None:
    embedder = synthetic_gguf("all-MiniLM-L6-v2.F32.gguf", architecture="bert", chat_template=None)
    add(tmp_path, fake_factory, embedder)
    capsys.readouterr()
    for model in ("all-minilm-l6-v2-f32", str(embedder)):  # by its id, and a file by its path
        assert hearth(tmp_path, fake_factory, "ask", "--no-save", "--model", model, "Hello") == 1
        said = capsys.readouterr()
        assert NOTE in said.err and said.err.count("\n") == 1 and said.out == ""
    assert fake_backend.loads == 0, "refused before anything was loaded"


def test_ask_with_no_model_named_uses_the_first_chat_model_not_an_embedding_model(
    tmp_path: Path, fake_factory: FakeBackendFactory, fake_backend: FakeBackend, synthetic_gguf: MakeGguf,
    capsys: pytest.CaptureFixture[str],
) -> None:
    add(tmp_path, fake_factory, synthetic_gguf("all-MiniLM-L6-v2.F32.gguf", architecture="bert", chat_template=None))
    capsys.readouterr()
    assert hearth(tmp_path, fake_factory, "ask", "--no-save", "Hello") == 1
    assert "There is no chat model installed." in capsys.readouterr().err and fake_backend.loads == 0
    add(tmp_path, fake_factory, synthetic_gguf("SmolLM2-Synthetic.Q4_1.gguf"))  # listed after the embedding model
    capsys.readouterr()
    assert hearth(tmp_path, fake_factory, "ask", "--no-save", "Hello") == 0
    assert fake_backend.loads == 1 and capsys.readouterr().out.strip(), "the chat model answered"


@pytest.mark.real_model
def test_ask_with_the_real_minilm_embedding_model_says_so_plainly(tmp_path: Path, minilm_path: Path) -> None:
    env = subprocess_env(tmp_path)

    def hearth_process(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, timeout=180, env=env)

    assert hearth_process("models", "import", "--in-place", str(minilm_path)).returncode == 0
    listing = hearth_process("models", "list").stdout
    assert "\tbert\t" in listing and listing.rstrip().endswith("embedding model, for documents")
    for model in ("all-minilm-l6-v2-f32", str(minilm_path)):
        result = hearth_process("ask", "--no-save", "--model", model, "Hello")
        assert result.returncode == 1 and result.stdout == ""
        assert NOTE in result.stderr and "went wrong" not in result.stderr and "Traceback" not in result.stderr
