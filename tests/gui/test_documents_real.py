"""The Documents panel on the real engine: all-MiniLM-L6-v2 (installed in the library like
any model) embeds a small collection on the inference thread, beside SmolLM2 loaded for chat."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog

from app.backends.llama.factory import LlamaBackendFactory
from app.documents.index import DocumentIndex
from app.gui.app import create_window
from app.library.model_library import ModelLibrary
from app.platform.paths import AppPaths
from tests.gui.test_documents_panel import rows, up_to_date
from tests.gui.waits import thread_shown

pytestmark = pytest.mark.real_model

# Two paragraphs of some 700 characters: two passages (about 1,000 characters each, app/documents/chunking.py).
PARAGRAPH = ("Overtime is paid at one and a half times the hourly rate for every hour beyond the contract. " * 7).strip()
HOLIDAYS = ("Every employee has twenty-five days of paid holiday each year, booked with their manager. " * 7).strip()


def test_the_real_embedding_model_indexes_a_collection_from_the_panel(
    qtbot, paths: AppPaths, smollm_path: Path, minilm_path: Path, tmp_path: Path, monkeypatch, english_plurals
) -> None:
    library = ModelLibrary(paths.models_dir)
    library.add(smollm_path, copy=False)
    embedder = library.add(minilm_path, copy=False)
    handbook = tmp_path / "handbook.txt"
    handbook.write_text(f"{PARAGRAPH}\n\n{HOLIDAYS}\n", encoding="utf-8")
    window = create_window(paths, LlamaBackendFactory())
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.loader.ready and thread_shown(window), timeout=60_000)
        panel = window.open_documents()
        monkeypatch.setattr(QInputDialog, "getText", lambda *args, **kwargs: ("Staff", True))
        qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.add_files_button.isEnabled(), timeout=10_000)
        monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *args, **kwargs: ([str(handbook)], ""))
        qtbot.mouseClick(panel.add_files_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: up_to_date(panel, "Staff — 1 file, 2 passages"), timeout=120_000)
        assert rows(panel.files_list) == ["handbook.txt · 2 passages"]
        assert not panel.embedder_note.isVisible() and panel.message.text().startswith("Made the collection “Staff”")
    finally:
        window.close()
    index = DocumentIndex(paths.documents_index)
    try:
        (collection,) = index.collections()
        assert (collection.embedder, collection.dimension) == (embedder.sha256, 384)
        _ids, vectors = index.vectors(collection)
        assert vectors.shape == (2, 384)
    finally:
        index.close()
