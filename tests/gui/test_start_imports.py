"""What the window loads at start: the documents' format libraries wait for the first file
of their kind (they took 39 MB of the window's 162 at start, bench/run.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, subprocess_env

FORMAT_LIBRARIES = ("docx", "pptx", "openpyxl", "pypdfium2", "PIL", "lxml", "odf")
START = """
import sys
from PySide6.QtWidgets import QApplication
from app.backends.llama.factory import LlamaBackendFactory
from app.gui.app import create_window, prepare_qt
from app.platform.paths import resolve_paths
prepare_qt()
app = QApplication([])
window = create_window(resolve_paths(sys.argv[1]), LlamaBackendFactory())
window.show()
app.processEvents()
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
window.close()
"""


def test_the_window_starts_without_the_document_format_libraries(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", START, str(tmp_path)], capture_output=True, text=True, cwd=REPO, timeout=120,
                          check=True, env={**subprocess_env(tmp_path), "QT_QPA_PLATFORM": "offscreen"})
    loaded = set(done.stdout.split())
    assert "PySide6" in loaded and not loaded & set(FORMAT_LIBRARIES), sorted(loaded & set(FORMAT_LIBRARIES))
