"""An indexing process killed part way is restarted and finishes without embedding again
what it had stored: finished files, and the stored chunks of the file it was reading."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from app.documents.index import DocumentIndex
from tests.conftest import subprocess_env
from tests.documents.word_embedder import DIMENSION


def start(tmp_path: Path, seconds_per_batch: float) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "tests.documents.indexing_process", str(tmp_path / "documents.sqlite3"), "Book",
               str(tmp_path / "embedded.log"), str(seconds_per_batch)]
    return subprocess.Popen(command, env=subprocess_env(tmp_path / "data"))


def test_a_killed_run_resumes_without_embedding_again(tmp_path: Path) -> None:
    root = tmp_path / "chapters"
    root.mkdir()
    for number in range(4):
        text = "\n\n".join(f"Chapter {number} paragraph {n}: the river {n} carries fish to the sea." * 10 for n in range(150))
        (root / f"chapter{number}.txt").write_text(text)
    index = DocumentIndex(tmp_path / "documents.sqlite3")
    collection = index.create_collection("Book")
    index.add_source(collection, root)
    index.use_embedder(collection, "words-64", DIMENSION)

    process = start(tmp_path, 0.05)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        finished = [record for record in index.files(collection).values() if record.complete]
        partial = [record for record in index.files(collection).values() if not record.complete and record.chunks_done]
        if finished and partial:
            break
        time.sleep(0.02)
    process.kill()
    process.wait()
    records = index.files(collection)
    finished_files = {path for path, record in records.items() if record.complete}
    stored = index.chunk_count(collection)
    assert finished_files and len(finished_files) < 4 and stored

    (tmp_path / "embedded.log").unlink()
    assert start(tmp_path, 0).wait(timeout=120) == 0
    again = (tmp_path / "embedded.log").read_text().splitlines()
    total = index.chunk_count(collection)
    assert all(record.complete for record in index.files(collection).values())
    assert len(again) == total - stored
    assert not [line for line in again for path in finished_files if line.startswith(f"Chapter {path.stem[-1]} ")]
    index.close()
