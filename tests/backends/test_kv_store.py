"""The folder of saved KV states, without a model: what is handed to llama.cpp, what is
deleted, and the size limit (the states used longest ago go first)."""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path

from app.backends.llama.kv_store import HEADER, TOKEN, KvStateFolder

MAGIC, VERSION = 0x67677371, 3
TAG = {"model": ["/models/smol.gguf", 1, 2, 3], "context": 512}


def folder(path: Path, limit: int = 10_000, tag: dict[str, object] = TAG) -> KvStateFolder:
    return KvStateFolder(path, limit, tag, MAGIC, VERSION, max_tokens=512)


def save(states: KvStateFolder, key: str, tokens: list[int], cache_bytes: int = 1000) -> Path:
    """What llama.cpp writes: the header, the tokens, then the cache."""
    data = HEADER.pack(MAGIC, VERSION, len(tokens)) + b"".join(TOKEN.pack(t) for t in tokens) + bytes(range(256)) * (cache_bytes // 256)
    states.folder.mkdir(parents=True, exist_ok=True)
    states.part_path(key).write_bytes(data)
    states.keep(key, len(data))
    return states.state_path(key)


def test_a_saved_state_gives_back_its_tokens(tmp_path: Path) -> None:
    states = folder(tmp_path)
    save(states, "conversation-a", [1, 2, 3])
    assert states.saved_tokens("conversation-a") == [1, 2, 3]
    assert states.saved_tokens("conversation-b") is None
    assert not list(tmp_path.glob("*.part"))


def test_a_truncated_state_is_ignored_and_deleted(tmp_path: Path) -> None:
    states = folder(tmp_path)
    path = save(states, "a", [1, 2, 3])
    path.write_bytes(path.read_bytes()[:500])
    assert states.saved_tokens("a") is None
    assert list(tmp_path.iterdir()) == []


def test_a_state_changed_in_place_is_ignored_and_deleted(tmp_path: Path) -> None:
    states = folder(tmp_path)
    path = save(states, "a", [1, 2, 3])
    data = bytearray(path.read_bytes())
    data[-10] ^= 0xFF  # same size, other bytes
    path.write_bytes(bytes(data))
    assert states.saved_tokens("a") is None
    assert list(tmp_path.iterdir()) == []


def test_a_state_of_another_model_or_options_is_ignored_and_deleted(tmp_path: Path) -> None:
    save(folder(tmp_path), "a", [1, 2, 3])
    other = folder(tmp_path, tag={"model": ["/models/gemma.gguf", 4, 5, 6], "context": 512})
    assert other.saved_tokens("a") is None
    assert list(tmp_path.iterdir()) == []


def test_a_state_without_its_record_or_with_a_foreign_header_is_deleted(tmp_path: Path) -> None:
    states = folder(tmp_path)
    path = save(states, "a", [1, 2, 3])
    path.with_suffix(".json").unlink()
    assert states.saved_tokens("a") is None and not path.exists()

    path = save(states, "b", [1, 2, 3])
    record = json.loads(path.with_suffix(".json").read_text())
    data = HEADER.pack(MAGIC, VERSION + 1, 3) + path.read_bytes()[HEADER.size:]  # another llama.cpp's file
    path.write_bytes(data)
    record["crc32"] = zlib.crc32(data)
    path.with_suffix(".json").write_text(json.dumps(record))
    assert states.saved_tokens("b") is None and not path.exists()


def test_more_tokens_than_the_context_holds_is_refused(tmp_path: Path) -> None:
    states = folder(tmp_path, limit=100_000)
    save(states, "a", list(range(600)))
    assert states.saved_tokens("a") is None


def test_the_limit_deletes_the_states_used_longest_ago(tmp_path: Path) -> None:
    states = folder(tmp_path, limit=3_500)  # room for three states of about 1 KB
    paths = {key: save(states, key, [1, 2], cache_bytes=1024) for key in "abc"}
    for age, key in enumerate("cab"):  # used: c longest ago, then a, then b
        os.utime(paths[key], (1_000 + age, 1_000 + age))
    states.used("c")  # now c is the most recent
    save(states, "d", [1, 2], cache_bytes=1024)
    assert [key for key in "abcd" if states.saved_tokens(key) is not None] == ["b", "c", "d"]
    assert states.total_bytes() <= 3_500


def test_a_state_over_the_limit_alone_is_not_kept(tmp_path: Path) -> None:
    states = folder(tmp_path, limit=500)
    save(states, "a", [1, 2], cache_bytes=1024)
    assert states.saved_tokens("a") is None and list(tmp_path.iterdir()) == []


def test_a_failed_write_keeps_nothing_and_trim_removes_leftovers(tmp_path: Path) -> None:
    states = folder(tmp_path)
    save(states, "a", [1, 2])
    states.part_path("a").write_bytes(b"half")
    states.keep("a", 0)  # llama.cpp said it failed
    assert states.saved_tokens("a") is None and list(tmp_path.iterdir()) == []
    states.part_path("b").write_bytes(b"left by a crash")
    states.trim()
    assert list(tmp_path.iterdir()) == []
