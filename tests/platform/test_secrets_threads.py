"""The keyring backend is found once, by whichever thread first needs the token.

keyring (25.7) finds its backend lazily and without a lock: `keyring.get_keyring()`
checks a module global and, while it is still None, imports every backend
(secretstorage, jeepney, cryptography, a ctypes probe for macOS), asks D-Bus for a
Secret Service and stores the winner. Threads asking at once each run that
detection. Hearth asks from the download thread and from thread-pool tasks
(Discover's search, the update check), so the first download and a search could
each start their own. These tests stand in for a fresh process by emptying
keyring's global and counting detections.
"""

from __future__ import annotations

import threading
import time

import keyring.core
import pytest

from app.platform.secrets import HUB_TOKEN, SERVICE, TokenStore
from tests.fakes import MemoryKeyring

THREADS = 16


@pytest.fixture
def detections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """keyring as in a fresh process, with a detection that is slow (as importing the
    backends and asking D-Bus is) and records the thread that ran it."""
    ran: list[str] = []

    def detect(limit: object = None) -> MemoryKeyring:
        ran.append(threading.current_thread().name)
        time.sleep(0.05)
        return MemoryKeyring({(SERVICE, HUB_TOKEN): "hf_secret"})

    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    monkeypatch.setattr(keyring.core, "_detect_backend", detect)
    return ran


def test_threads_asking_at_once_find_the_keyring_once(detections: list[str]) -> None:
    tokens = TokenStore()
    start = threading.Barrier(THREADS)
    answers: list[str] = []

    def ask() -> None:
        start.wait()
        answers.append(tokens.get())

    threads = [threading.Thread(target=ask, name=f"asker-{i}") for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert answers == ["hf_secret"] * THREADS, "every thread waited for the one detection"
    assert len(detections) == 1, f"the keyring was detected by {len(detections)} threads: {detections}"


def test_making_the_store_does_no_keyring_work(detections: list[str]) -> None:
    """The composition root makes the store on the GUI thread: that must not import
    the backends or wait on D-Bus. The first thread that needs the token does it."""
    tokens = TokenStore()
    assert detections == []
    worker = threading.Thread(target=tokens.get, name="downloads")
    worker.start()
    worker.join(timeout=10)
    assert detections == ["downloads"]
    assert tokens.get() == "hf_secret" and detections == ["downloads"], "found once, then kept"
