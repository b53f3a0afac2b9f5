"""`kill -9` in the middle of a reply keeps everything up to about a second before."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.conversations.store import SqliteConversationStore
from tests.conftest import subprocess_env

pytestmark = pytest.mark.real_model


def test_kill_9_mid_reply_keeps_the_partial_reply(tmp_path: Path, gemma_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "ask", "--model", str(gemma_path), "--max-tokens", "4000",
         "--seed", "5", "Count from 1 to 1000, writing each number in words on its own line."],
        stdout=subprocess.PIPE, env=subprocess_env(tmp_path),
    )
    assert process.stdout is not None
    os.set_blocking(process.stdout.fileno(), False)
    shown = b""
    deadline = time.monotonic() + 120
    first_output_at = None
    while time.monotonic() < deadline:
        chunk = process.stdout.read() or b""
        shown += chunk
        if shown and first_output_at is None:
            first_output_at = time.monotonic()
        if first_output_at and time.monotonic() - first_output_at > 2.5:
            break
        time.sleep(0.02)
    shown_before_kill_window = len(shown)
    time.sleep(1.0)
    shown += process.stdout.read() or b""
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert first_output_at is not None, "no reply text appeared"

    db = sqlite3.connect(tmp_path / "conversations.sqlite3")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    store = SqliteConversationStore(tmp_path / "conversations.sqlite3")
    conversation = store.list_conversations()[0]
    question, reply = store.thread(conversation.id)
    assert question.content.startswith("Count from 1 to 1000")
    saved = reply.content.encode()
    assert reply.status == "streaming"
    # What was saved is exactly what was shown, and at most about a second behind.
    assert shown.startswith(saved)
    assert len(saved) >= shown_before_kill_window > 0
