"""`hearth docs ...` run as a user would: in a subprocess, on a data folder of its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import subprocess_env
from tests.documents import made_documents


def hearth(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "docs", *args], capture_output=True, text=True,
                          timeout=300, env=subprocess_env(data_dir))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "school"
    root.mkdir()
    made_documents.write_pdf(root / "trip.pdf", ["Permission forms.", "Packing list.", "The coach leaves Dover at 7:15 on Monday."])
    made_documents.write_pptx(root / "biology.pptx")
    return root


def test_a_collection_is_made_indexed_searched_listed_and_removed(tmp_path: Path, folder: Path) -> None:
    data = tmp_path / "data"
    assert hearth(data, "add", "Year 9", str(folder)).returncode == 0
    indexed = hearth(data, "index", "Year 9")
    assert indexed.returncode == 0, indexed.stderr
    assert "2 files read" in indexed.stdout and "keyword search only" in indexed.stderr and "2/2 files" in indexed.stderr
    found = hearth(data, "search", "Year 9", "when", "does", "the", "coach", "leave?")
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith("[1] trip.pdf, page 3\n    The coach leaves Dover at 7:15 on Monday.")
    slides = hearth(data, "search", "Year 9", "chlorophyll")
    assert slides.stdout.startswith("[1] biology.pptx, slide 2 — Plants")
    assert "Year 9: 2 files" in hearth(data, "list").stdout
    assert "trip.pdf" in hearth(data, "list", "Year 9").stdout
    assert hearth(data, "search", "Year 9", '"NEAR(*').returncode == 1
    assert hearth(data, "rm", "Year 9").returncode == 0
    missing = hearth(data, "search", "Year 9", "coach")
    assert missing.returncode == 1 and "no collection named “Year 9”" in missing.stderr


@pytest.mark.real_model
def test_a_question_in_other_words_finds_its_file_and_page_with_minilm(tmp_path: Path, folder: Path, minilm_path: Path) -> None:
    data = tmp_path / "data"
    made_documents.write_pdf(
        folder / "canteen.pdf",
        ["Opening hours of the library.", "The gym is closed on Fridays.", "Lunch is served between noon and one o'clock."],
    )
    hearth(data, "add", "Year 9", str(folder))
    indexed = hearth(data, "index", "Year 9", "--embedder", str(minilm_path))
    assert indexed.returncode == 0, indexed.stderr
    # No word of the question is in the passage: only its meaning finds it.
    found = hearth(data, "search", "Year 9", "What time can pupils eat their midday meal?", "--embedder", str(minilm_path))
    assert found.returncode == 0, found.stderr
    assert found.stdout.startswith("[1] canteen.pdf, page 3\n    Lunch is served"), found.stdout
    other = tmp_path / "other-embedder.gguf"  # another file: another identity, checked before it loads
    other.write_bytes(minilm_path.read_bytes() + b"\0")
    mismatched = hearth(data, "search", "Year 9", "lunch", "--embedder", str(other))
    assert mismatched.returncode == 1 and "was indexed with another embedding model" in mismatched.stderr
