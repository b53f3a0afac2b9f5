"""Hand-made GGUF headers built to exhaust the checker: each is refused in a plain
sentence within a second, without a recursion error or gigabytes of memory."""

from __future__ import annotations

import struct
import time
import tracemalloc
from pathlib import Path

import pytest

from app.modelfile.gguf_info import read_gguf_info
from app.platform.errors import ModelFileError

STRING, ARRAY, INT32, UINT32 = 8, 9, 5, 4


def text(value: str | bytes) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return struct.pack("<Q", len(raw)) + raw


def header(kvs: list[bytes], tensors: list[bytes]) -> bytes:
    return b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + b"".join(kvs) + b"".join(tensors)


ONE_TENSOR = text("t") + struct.pack("<IQIQ", 1, 32, 0, 0)  # 32 f32 values at offset 0


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "hostile.gguf"
    path.write_bytes(data + b"\0" * (-len(data) % 32) + b"\0" * 128)
    return path


def nested(depth: int) -> bytes:
    value = struct.pack("<IQ", UINT32, 0)
    for _level in range(depth):
        value = struct.pack("<IQ", ARRAY, 1) + value
    return value


HOSTILE = {
    "n_dims-0xFFFFFFFF": header([], [text("t") + struct.pack("<I", 0xFFFFFFFF) + b"\0" * 64]),
    "arrays-nested-5000-deep": header([text("x") + struct.pack("<I", ARRAY) + nested(5000)], [ONE_TENSOR]),
    "a-string-of-2-GB": header([text("x") + struct.pack("<IQ", STRING, 2**31)], [ONE_TENSOR]),
    "an-array-of-2**60-arrays": header([text("x") + struct.pack("<IIQ", ARRAY, ARRAY, 2**60)], [ONE_TENSOR]),
    "a-key-of-2**63-bytes": header([struct.pack("<Q", 2**63)], [ONE_TENSOR]),
}


@pytest.mark.parametrize("data", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_hostile_header_is_refused_quickly_in_a_sentence(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, data)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ModelFileError, match="The model file hostile.gguf is damaged or incomplete"):
            read_gguf_info(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - started < 1.0
    assert peak < 50_000_000


@pytest.mark.parametrize("value_type, fmt", [(INT32, "<i"), (UINT32, "<I")])
def test_a_negative_context_length_is_refused_in_a_sentence(tmp_path: Path, value_type: int, fmt: str) -> None:
    value = -1 if value_type == INT32 else 0
    kvs = [
        text("general.architecture") + struct.pack("<I", STRING) + text("llama"),
        text("llama.context_length") + struct.pack("<I", value_type) + struct.pack(fmt, value),
    ]
    path = write(tmp_path, header(kvs, [ONE_TENSOR]))
    if value_type == UINT32:  # 0 means "not stated": the file is fine
        assert read_gguf_info(path).context_length == 0
        return
    with pytest.raises(ModelFileError, match=r"hostile.gguf has settings .* \(its context length is -1 tokens\)"):
        read_gguf_info(path)
