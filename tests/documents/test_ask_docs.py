"""`hearth ask --docs` as a user runs it: SmolLM2 answers from a collection indexed with the
real embedding model, and the sources (file and page) are printed under the answer and
kept with the reply."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import subprocess_env
from tests.documents import made_documents

pytestmark = pytest.mark.real_model


def hearth(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          timeout=300, env=subprocess_env(data_dir))


def test_an_answer_from_the_documents_names_its_file_and_page(tmp_path: Path, smollm_path: Path, minilm_path: Path) -> None:
    data = tmp_path / "data"
    folder = tmp_path / "school"
    folder.mkdir()
    # Too long to read whole in SmolLM2's context: the question's passages are chosen.
    rules = [f"Room {n} is kept tidy and its windows are closed at the end of each lesson. " * 8 for n in range(4, 40)]
    made_documents.write_pdf(folder / "trip.pdf", ["Permission forms are due on Friday.", "Packing list: boots and a coat.",
                                                    "The coach leaves Dover at 7:15 on Monday.", *rules])
    assert hearth(data, "models", "add", "--in-place", str(minilm_path)).returncode == 0
    assert hearth(data, "docs", "add", "Trip", str(folder)).returncode == 0
    indexed = hearth(data, "docs", "index", "Trip")
    assert indexed.returncode == 0 and "keyword search only" not in indexed.stderr, indexed.stderr

    asked = hearth(data, "ask", "--model", str(smollm_path), "--docs", "Trip", "--seed", "1", "--max-tokens", "40",
                   "What time does the coach leave?")
    assert asked.returncode == 0, asked.stderr
    answer, sources = asked.stdout.split("\nSources:\n")
    assert answer.strip()
    assert sources.startswith("[1] trip.pdf, page 3\n    The coach leaves Dover at 7:15 on Monday."), asked.stdout
    db = sqlite3.connect(data / "conversations.sqlite3")
    provenance = json.loads(db.execute("SELECT provenance FROM messages WHERE role = 'assistant'").fetchone()[0])
    first = provenance["sources"][0]
    assert (first["path"], first["place"], first["place_number"]) == (str(folder.resolve() / "trip.pdf"), "page", 3)
    assert "coach" in first["words"] and provenance["documents_read_whole"] is False
    assert db.execute("SELECT content FROM messages WHERE role = 'user'").fetchone()[0] == "What time does the coach leave?"

    missing = hearth(data, "ask", "--model", str(smollm_path), "--docs", "Trips", "Hi")
    assert missing.returncode == 1 and "no collection named “Trips”" in missing.stderr


def test_going_through_every_document_notes_each_part_and_answers_from_the_notes(tmp_path: Path, smollm_path: Path) -> None:
    data = tmp_path / "data"
    folder = tmp_path / "policies"
    folder.mkdir()
    made_documents.write_pdf(folder / "handbook.pdf", ["Holidays are 25 days a year.", "Overtime is paid at time and a half."])
    (folder / "rota.md").write_text("# Rota\n\nNight shifts count as overtime after ten hours.\n")
    assert hearth(data, "docs", "add", "Policies", str(folder)).returncode == 0
    assert hearth(data, "docs", "index", "Policies").returncode == 0
    asked = hearth(data, "ask", "--model", str(smollm_path), "--docs", "Policies", "--every-document", "--seed", "1",
                   "--max-tokens", "60", "List every policy that mentions overtime")
    assert asked.returncode == 0, asked.stderr
    assert "reading your documents: part 2 of 2" in asked.stderr  # one part for each file: both fit a part whole
    db = sqlite3.connect(data / "conversations.sqlite3")
    provenance = json.loads(db.execute("SELECT provenance FROM messages WHERE role = 'assistant'").fetchone()[0])
    notes, sources = provenance["documents_notes"], provenance["sources"]
    assert len(notes) == len(sources) and all(note.strip() for note in notes)
    assert {Path(source["path"]).name for source in sources} <= {"handbook.pdf", "rota.md"}
    for source in sources:  # each named under the answer, as the notes were numbered
        place = "pages 1–2" if source["path"].endswith(".pdf") else ""
        assert f"\n[{source['number']}] {Path(source['path']).name}{', ' + place if place else ''}" in asked.stdout

    refused = hearth(data, "ask", "--model", str(smollm_path), "--every-document", "Summarise each policy")
    assert refused.returncode == 1 and "name a collection" in refused.stderr
