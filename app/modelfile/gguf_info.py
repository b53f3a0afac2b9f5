"""Read and check a GGUF model file before llama.cpp ever opens it.

llama.cpp aborts the whole process on some malformed files, so every file is
walked here first: header, metadata, and every tensor's data inside the file.
"""

from __future__ import annotations

import logging
import math
import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gguf

from app.platform.errors import ModelFileError
from app.platform.i18n import _, ngettext

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
# Encoders that only embed: llama.cpp loads them with embeddings on, and they cannot reply.
# The library lists them as embedding models for the documents index. "gemma-embedding"
# (EmbeddingGemma 300M, multilingual): llama.cpp's src/models/gemma-embedding.cpp builds
# only pooled embeddings (no logits) with causal attention off; llama-cpp-python 0.3.36
# loads a 6-layer file of it with embedding=True and embeds (tests/backends).
EMBEDDING_ARCHITECTURES = frozenset({
    "bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "modern-bert", "neo-bert", "gemma-embedding",
})


@dataclass(frozen=True)
class GgufInfo:
    architecture: str
    name: str
    parameters: int
    quantization: str
    context_length: int
    chat_template: str | None
    license: str
    file_size: int
    layers: int = 0
    kv_heads: int = 0
    head_dim: int = 0
    details: dict[str, str] = field(default_factory=dict)

    @property
    def kv_bytes_per_token(self) -> int:
        """KV-cache bytes per token of context (keys and values, every layer)."""
        return kv_bytes_per_token(self.layers, self.kv_heads, self.head_dim)

    @property
    def parameters_label(self) -> str:
        return parameters_label(self.parameters)


def parameters_label(count: int, million_decimals: int = 1) -> str:
    """'134.5M', '7.6B', '8B'; tables round millions to whole ones ('268M')."""
    for unit, size, decimals in (("B", 1e9, 1), ("M", 1e6, million_decimals), ("K", 1e3, 1)):
        if count >= size:
            text = f"{count / size:.{decimals}f}"
            return (text.rstrip("0").rstrip(".") if "." in text else text) + unit
    return str(count)


# The engine keeps the KV cache's keys as q8_0 where it can (app/backends/llama/engine.py,
# KEY_CACHE_TYPE): blocks of 32 values in 34 bytes. Values stay f16.
Q8_0_BLOCK_VALUES, Q8_0_BLOCK_BYTES = 32, 34
F16_BYTES = 2


def keys_fit_q8_0(head_dim: int) -> bool:
    """Whether every layer's key rows are whole q8_0 blocks; llama.cpp aborts the process
    on a cache it cannot lay out, so an unknown head size keeps f16."""
    return head_dim > 0 and head_dim % Q8_0_BLOCK_VALUES == 0


def kv_bytes_per_token(layers: int, kv_heads: int, head_dim: int) -> int:
    key_bytes = Q8_0_BLOCK_BYTES / Q8_0_BLOCK_VALUES if keys_fit_q8_0(head_dim) else F16_BYTES
    return math.ceil(layers * kv_heads * head_dim * (key_bytes + F16_BYTES))


def _as_int(value: object) -> int:
    if isinstance(value, list):  # per-layer head counts in some architectures
        value = max((v for v in value if isinstance(v, int)), default=0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _details(metadata: dict[str, Any]) -> dict[str, str]:
    """Short, readable metadata for the model's details view."""
    shown = {}
    for key, value in metadata.items():
        if value is None or key == "tokenizer.chat_template":
            continue
        text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        shown[key] = text if len(text) <= 200 else text[:200] + "…"
    return shown


_SCALARS: dict[int, str] = {
    gguf.GGUFValueType.UINT8: "B", gguf.GGUFValueType.INT8: "b",
    gguf.GGUFValueType.UINT16: "H", gguf.GGUFValueType.INT16: "h",
    gguf.GGUFValueType.UINT32: "I", gguf.GGUFValueType.INT32: "i",
    gguf.GGUFValueType.FLOAT32: "f", gguf.GGUFValueType.BOOL: "?",
    gguf.GGUFValueType.UINT64: "Q", gguf.GGUFValueType.INT64: "q",
    gguf.GGUFValueType.FLOAT64: "d",
}
# Arrays longer than this (token lists) are skipped, not kept.
_KEEP_ARRAYS_UP_TO = 64
# Caps that no real model comes near, so that a hostile header cannot make the walk
# allocate or loop without limit (n_dims = 0xFFFFFFFF took 13 s and 4.2 GB; arrays nested
# 5,000 deep raised RecursionError). ggml tensors have at most GGML_MAX_DIMS = 4 dimensions;
# the longest string in a real model is an embedded tokenizer.json (a few MB).
GGML_MAX_DIMS = 4
_MAX_STRING_BYTES = 64 * 1024 * 1024
_MAX_ARRAY_NESTING = 4
_MAX_ARRAYS_IN_AN_ARRAY = 65_536


class _HeaderReader:
    """A fast, bounds-checked walk over a GGUF header.

    `gguf.GGUFReader` builds a numpy view per array element, which takes
    seconds on a 262k-token vocabulary; this walk keeps only what Hearth shows
    and uses the gguf package's type tables for the rest.
    """

    def __init__(self, buffer: mmap.mmap) -> None:
        self._buffer = buffer
        self.offset = 0

    def unpack(self, fmt: str) -> tuple[Any, ...]:
        values = struct.unpack_from("<" + fmt, self._buffer, self.offset)
        self.offset += struct.calcsize("<" + fmt)
        return values

    def string(self) -> str:
        (length,) = self.unpack("Q")
        if length > _MAX_STRING_BYTES or self.offset + length > len(self._buffer):
            raise ValueError(f"string of {length} bytes")
        raw = self._buffer[self.offset : self.offset + length]
        self.offset += length
        return raw.decode("utf-8", errors="replace")

    def _skip_strings(self, count: int) -> None:
        """Step over a long string array (a vocabulary) without decoding it."""
        buffer, offset, end = self._buffer, self.offset, len(self._buffer)
        length_at = struct.Struct("<Q").unpack_from
        for _string in range(count):
            offset += 8 + length_at(buffer, offset)[0]
            if offset > end:
                raise ValueError("string array runs past the end of the file")
        self.offset = offset

    def value(self, value_type: int, depth: int = 0) -> Any:
        if value_type == gguf.GGUFValueType.STRING:
            return self.string()
        if value_type in _SCALARS:
            return self.unpack(_SCALARS[value_type])[0]
        if value_type == gguf.GGUFValueType.ARRAY:
            (item_type, count) = self.unpack("IQ")
            if count > len(self._buffer):
                raise ValueError("array longer than the file")
            if depth >= _MAX_ARRAY_NESTING:
                raise ValueError(f"arrays nested deeper than {_MAX_ARRAY_NESTING}")
            if item_type == gguf.GGUFValueType.ARRAY and count > _MAX_ARRAYS_IN_AN_ARRAY:
                raise ValueError(f"an array of {count} arrays")
            if item_type in _SCALARS and count > _KEEP_ARRAYS_UP_TO:
                self.offset += count * struct.calcsize(_SCALARS[item_type])
                return None
            if item_type == gguf.GGUFValueType.STRING and count > _KEEP_ARRAYS_UP_TO:
                self._skip_strings(count)
                return None
            if count > _KEEP_ARRAYS_UP_TO:
                for _item in range(count):
                    self.value(item_type, depth + 1)
                return None
            return [self.value(item_type, depth + 1) for _item in range(count)]
        raise ValueError(f"unknown GGUF value type {value_type}")


# llama.cpp's CPU backend maps tensors straight from the file and asserts that each
# starts at a multiple of 32 bytes: TENSOR_ALIGNMENT in ggml/src/ggml-impl.h, checked by
# GGML_ASSERT(... "buffer pointer must be aligned") in ggml_backend_cpu_buffer_from_ptr.
TENSOR_ALIGNMENT = 32
TOKENS_KEY = "tokenizer.ggml.tokens"


@dataclass(frozen=True)
class _Header:
    metadata: dict[str, Any]
    tensors: list[tuple[str, int, int, int]]  # name, elements, ggml type, offset in the file
    alignment: int
    spells_newline: bool  # the token list holds "<0x0A>" or "\n" (see _unrunnable)


def _length_prefixed(text: str) -> bytes:
    """A string as GGUF stores it: its byte length as a u64, then its bytes."""
    raw = text.encode("utf-8")
    return struct.pack("<Q", len(raw)) + raw


def _parse(buffer: mmap.mmap) -> _Header:
    """Walk the header: metadata, tensor layout and the few vocabulary facts checked."""
    reader = _HeaderReader(buffer)
    _magic, version, tensor_count, kv_count = reader.unpack("4sIQQ")
    if version not in (2, 3):
        raise ValueError(f"unsupported GGUF version {version}")
    if tensor_count > 1_000_000 or kv_count > 1_000_000:
        raise ValueError("implausible header counts")
    metadata: dict[str, Any] = {}
    vocabulary = (0, 0)
    for _entry in range(kv_count):
        key = reader.string()
        (value_type,) = reader.unpack("I")
        start = reader.offset
        metadata[key] = reader.value(value_type)
        if key == TOKENS_KEY:
            vocabulary = (start, reader.offset)
    tensors = []
    for _tensor in range(tensor_count):
        name = reader.string()
        (dims,) = reader.unpack("I")
        if dims > GGML_MAX_DIMS:
            raise ValueError(f"tensor with {dims} dimensions")
        shape = reader.unpack("Q" * dims)
        (ggml_type, offset) = reader.unpack("IQ")
        tensors.append((name, math.prod(shape), ggml_type, offset))
    alignment = metadata.get("general.alignment", 32)
    if type(alignment) is not int or alignment <= 0:
        raise ValueError(f"alignment {alignment!r}")
    data_start = -(-reader.offset // alignment) * alignment
    # A search in C over the token list's bytes: no decoding of a 262k-token vocabulary.
    spells_newline = any(buffer.find(_length_prefixed(token), *vocabulary) >= 0 for token in ("<0x0A>", "\n"))
    return _Header(
        metadata, [(n, e, t, data_start + o) for n, e, t, o in tensors], alignment, spells_newline
    )


def _quantization_name(file_type: object) -> str:
    if not isinstance(file_type, int):
        return "unknown"
    try:
        return gguf.LlamaFileType(file_type).name.removeprefix("MOSTLY_")
    except ValueError:
        return f"type {file_type}"


def _tensor_bytes(elements: int, ggml_type: int) -> int:
    block_size, type_size = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType(ggml_type)]
    return elements // block_size * type_size


# src/llama-hparams.h: LLAMA_MAX_LAYERS; src/llama-model.cpp (load_hparams) asserts
# GGML_ASSERT(hparams.n_layer_all > 0 && hparams.n_layer_all <= LLAMA_MAX_LAYERS).
LLAMA_MAX_LAYERS = 512
# llama_model_n_ctx_train() returns the u32 context length as an int32_t; above this it
# is negative, and llama-cpp-python sizes every tokenize buffer by it (_internals.py).
MAX_CONTEXT_LENGTH = 2**31 - 1
# src/llama-vocab.cpp (load) throws "cannot find tokenizer merges" for these BPE
# tokenizers without tokenizer.ggml.merges (and for "gemma4"), unless the pre-tokenizer
# is "kimi-k2".
_BPE_TOKENIZERS = ("gpt2", "hybriddna", "whitespace")


def _per_layer(value: object, layers: int) -> list[int]:
    """Head counts are one number for every layer or one per layer (see _as_int)."""
    return [_as_int(v) for v in value] if isinstance(value, list) else [_as_int(value)] * layers


def _unrunnable(header: _Header) -> str | None:
    """Why llama.cpp cannot run this file, in a few plain words (a clause for the sentence
    of read_gguf_info); None if nothing is known.

    Mostly facts that llama.cpp asserts on, or that end the process some other way, so
    that such a file never reaches it; each limit is one that no working model breaks."""
    metadata = header.metadata
    arch = str(metadata.get("general.architecture", ""))
    layers = metadata.get(f"{arch}.block_count")
    if isinstance(layers, int) and not 0 < layers <= LLAMA_MAX_LAYERS:
        return _("its layer count is {count}").format(count=f"{layers:,}")
    # gguf.cpp refuses an alignment that is not a power of two; with one below 32 a
    # tensor can start where the CPU backend asserts (TENSOR_ALIGNMENT above).
    if header.alignment & (header.alignment - 1) or any(
        offset % TENSOR_ALIGNMENT for *_tensor, offset in header.tensors
    ):
        return ngettext(
            "its data alignment is {count} byte", "its data alignment is {count} bytes", header.alignment
        ).format(count=header.alignment)
    tokenizer = metadata.get("tokenizer.ggml.model")
    if tokenizer in ("none", "no_vocab"):
        # llama-vocab.cpp loads no tokenizer for these; the first tokenize then fails
        # GGML_ASSERT(tokenizer && "Tokenizer not initialized ...").
        return _("it has no tokenizer, so it cannot read text")
    missing_merges = "tokenizer.ggml.merges" not in metadata and (
        tokenizer == "gemma4" or (tokenizer in _BPE_TOKENIZERS and metadata.get("tokenizer.ggml.pre") != "kimi-k2")
    )
    # "llama" (SentencePiece) spells unknown characters as byte tokens: byte_to_token()
    # looks up "<0x0A>"-style tokens, then the bare byte, with token_to_id.at(), whose
    # std::out_of_range escapes llama_tokenize and ends the process. llama.cpp probes
    # "\n" the same way at load (and only warns); chat prompts always have newlines.
    no_byte_tokens = tokenizer == "llama" and not header.spells_newline
    if missing_merges or no_byte_tokens:
        return _("its tokenizer does not match its vocabulary")
    for key, value in metadata.items():
        # ggml-cpu/ops.cpp: norm, rms_norm and l2_norm each GGML_ASSERT(eps >= 0.0f) at
        # the first decode, which NaN fails too; no working model has an infinite one.
        if key.endswith("epsilon") and isinstance(value, float) and not (math.isfinite(value) and value >= 0):
            return _("its norm epsilon is {value}").format(value=value)
    per_layer = layers if isinstance(layers, int) else 1
    heads = _per_layer(metadata.get(f"{arch}.attention.head_count"), per_layer)
    kv_heads = _per_layer(metadata.get(f"{arch}.attention.head_count_kv"), per_layer)
    # Attention multiplies the keys by the queries, which ggml_mul_mat broadcasts:
    # GGML_ASSERT(ggml_can_mul_mat(a, b)) needs query heads % key heads == 0 per layer.
    # (A single edited count usually fails llama.cpp's tensor shape check first.)
    for count, kv_count in zip(heads, kv_heads, strict=False):
        if count and kv_count and count % kv_count:
            return ngettext(
                "its {heads} attention heads cannot share {count} key head",
                "its {heads} attention heads cannot share {count} key heads",
                kv_count,
            ).format(heads=count, count=kv_count)
    context = metadata.get(f"{arch}.context_length")
    if isinstance(context, int) and not 0 <= context <= MAX_CONTEXT_LENGTH:
        return ngettext(
            "its context length is {count} token", "its context length is {count} tokens", context
        ).format(count=f"{context:,}")
    return None


def read_gguf_info(path: Path, display_name: str = "") -> GgufInfo:
    """Validate `path` as a complete GGUF model and return its facts.

    Raises ModelFileError with a sentence a user can act on, naming the file
    `display_name` (default: its own name).
    """
    display = display_name or path.name
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise ModelFileError(_("The model file {file} could not be found.").format(file=display)) from exc
    except OSError as exc:
        raise ModelFileError(_("The model file {file} could not be read ({reason}).").format(file=display, reason=exc.strerror)) from exc
    if size == 0:
        raise ModelFileError(_("The model file {file} is empty (0 bytes). Download it again.").format(file=display))
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelFileError(_("The model file {file} could not be read ({reason}).").format(file=display, reason=exc.strerror)) from exc
    if magic != GGUF_MAGIC:
        raise ModelFileError(
            _("{file} is not a GGUF model file. Hearth can only run models in GGUF format.").format(file=display)
        )
    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
            header = _parse(buffer)
        metadata, tensors = header.metadata, header.tensors
        data_end = max((offset + _tensor_bytes(n, t) for _name, n, t, offset in tensors), default=0)
    except (ValueError, KeyError, OSError, OverflowError, struct.error) as exc:
        log.info("GGUF check failed for %s: %s", path, exc)
        raise ModelFileError(_(
            "The model file {file} is damaged or incomplete. "
            "It may have been cut off while downloading or copying: get it again."
        ).format(file=display)) from exc
    if not tensors or data_end > size:
        raise ModelFileError(ngettext(
            "The model file {file} is incomplete ({size} of {expected} byte). Download or copy it again.",
            "The model file {file} is incomplete ({size} of {expected} bytes). Download or copy it again.",
            data_end,
        ).format(file=display, size=f"{size:,}", expected=f"{data_end:,}"))
    problem = _unrunnable(header)
    if problem:
        raise ModelFileError(_(
            "The model file {file} has settings that llama.cpp cannot run ({problem}). "
            "It may have been edited or damaged: get it again from where it came."
        ).format(file=display, problem=problem))
    architecture = str(metadata.get("general.architecture", "unknown"))
    context = metadata.get(f"{architecture}.context_length", 0)
    template = metadata.get("tokenizer.chat_template")
    file_type = metadata.get("general.file_type")
    heads = _as_int(metadata.get(f"{architecture}.attention.head_count"))
    return GgufInfo(
        architecture=architecture,
        name=str(metadata.get("general.name") or path.stem),
        parameters=sum(n for _name, n, _type, _offset in tensors),
        quantization=_quantization_name(file_type),
        context_length=int(context) if isinstance(context, int) else 0,
        chat_template=template if isinstance(template, str) and template.strip() else None,
        license=str(metadata.get("general.license") or ""),
        file_size=size,
        layers=_as_int(metadata.get(f"{architecture}.block_count")),
        kv_heads=_as_int(metadata.get(f"{architecture}.attention.head_count_kv") or heads),
        head_dim=_as_int(metadata.get(f"{architecture}.attention.key_length"))
        or (_as_int(metadata.get(f"{architecture}.embedding_length")) // heads if heads else 0),
        details=_details(metadata),
    )
