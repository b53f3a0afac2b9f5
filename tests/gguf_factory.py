"""Small synthetic GGUF files for tests that need *a* model file, not a model that runs.

The real test models are 98 MB (SmolLM2) and 253 MB (Gemma 3 270M); library, pack and
download tests spent their time copying, serving and hashing them. A file written here
is 135 KB by default (2.5 MB with `parameters=4_000_000`), passes every check of `app.modelfile.gguf_info` (layer
count, tensor alignment, tokenizer against vocabulary, norm epsilon, head counts, context
length) and reports exactly the facts asked for. Its weights are random bytes, so
llama.cpp could not chat with it: tests that chat keep the real models.
"""

from __future__ import annotations

import string
from collections.abc import Callable
from pathlib import Path

import gguf
import numpy as np

# What the `synthetic_gguf` fixture (conftest.py) hands a test: write_gguf with the file
# name relative to the test's own folder.
MakeGguf = Callable[..., Path]

CHATML_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
LLAMA_SPECIALS = ("<unk>", "<s>", "</s>")
GPT2_SPECIALS = ("<|endoftext|>",)
# Bytes 0..255 as GPT-2's byte-level tokenizer spells them (printable stand-ins, "Ġ" for a space).
_PRINTABLE = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
GPT2_BYTES = tuple(
    chr(b) if b in _PRINTABLE else chr(256 + sum(1 for c in range(b) if c not in _PRINTABLE)) for b in range(256)
)


def tensor_type(quantization: str) -> gguf.GGMLQuantizationType:
    """The weights' type for a file type: "Q4_K_M" files hold Q4_K tensors, "Q8_0" files Q8_0."""
    for name in (quantization, quantization.rsplit("_", 1)[0]):
        if name in gguf.GGMLQuantizationType.__members__:
            return gguf.GGMLQuantizationType[name]
    raise ValueError(f"no tensor type for the quantization {quantization!r}")


def file_type(quantization: str) -> gguf.LlamaFileType:
    """general.file_type, which Hearth shows as the quantization ("Q4_1", "F32")."""
    name = "ALL_F32" if quantization == "F32" else f"MOSTLY_{quantization}"
    if name not in gguf.LlamaFileType.__members__:
        raise ValueError(f"unknown quantization {quantization!r}")
    return gguf.LlamaFileType[name]


def vocabulary_of(tokenizer: str, size: int) -> tuple[list[str], list[float], list[int], list[str]]:
    """Tokens, scores, token types and merges for `size` tokens.

    "llama" (SentencePiece) spells every byte as a "<0x0A>"-style token, which llama.cpp
    needs; "gpt2" (byte-level BPE) has one token per byte and a merge for each longer one."""
    if tokenizer == "llama":
        bytes_, byte_type, word_start = [f"<0x{b:02X}>" for b in range(256)], gguf.TokenType.BYTE, "▁"
        specials, types = LLAMA_SPECIALS, [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    elif tokenizer == "gpt2":
        bytes_, byte_type, word_start = list(GPT2_BYTES), gguf.TokenType.NORMAL, ""
        specials, types = GPT2_SPECIALS, [gguf.TokenType.CONTROL]
    else:
        raise ValueError(f"unknown tokenizer {tokenizer!r}: 'llama' or 'gpt2'")
    words = size - len(specials) - len(bytes_)
    if words < 0:
        raise ValueError(f"a {tokenizer} vocabulary needs at least {len(specials) + len(bytes_)} tokens")
    # Distinct longer tokens, each from two shorter ones as BPE builds them: "ab" from "a b".
    letters = string.ascii_lowercase
    pairs = [(letters[i % 26], letters[i // 26 % 26] * (1 + i // 26**2)) for i in range(words)]
    tokens = [*specials, *bytes_, *(word_start + a + b for a, b in pairs)]
    types = types + [byte_type] * len(bytes_) + [gguf.TokenType.NORMAL] * words
    scores = [0.0] * (len(specials) + len(bytes_)) + [-float(i) for i in range(words)]
    merges = [f"{a} {b}" for a, b in pairs] if tokenizer == "gpt2" else []
    return tokens, scores, types, merges


def write_gguf(
    path: Path,
    *,
    name: str = "",
    architecture: str = "llama",
    parameters: int = 200_000,
    quantization: str = "Q4_1",
    context_length: int = 2048,
    chat_template: str | None = CHATML_TEMPLATE,
    license_name: str = "apache-2.0",
    tokenizer: str = "llama",
    vocabulary: int = 300,
    layers: int = 2,
    embedding_length: int = 256,
    heads: int = 4,
    kv_heads: int = 2,
    head_dim: int = 0,
    seed: int = 0,
) -> Path:
    """Write a valid GGUF model to `path` (its folders too) and return `path`.

    `name` is general.name (default: the file's stem). The tensors hold exactly
    `parameters` weights: a token embedding of `vocabulary` rows and one weight matrix per
    layer in `quantization`'s tensor type, F32 norms, and any rest below one row in an F32
    bias. The weights are random bytes from `seed`; files that differ in any argument
    differ in content (and so in sha256), which matters because the library deduplicates
    by hash. `head_dim` 0 leaves it to embedding_length / heads, as real models do.
    """
    weights = tensor_type(quantization)
    block, block_bytes = gguf.GGML_QUANT_SIZES[weights]
    if embedding_length % block:
        raise ValueError(f"{quantization} rows need an embedding length that is a multiple of {block}")
    norms = embedding_length * (layers + 1)  # one per layer, and the output norm
    layer_rows, rest = divmod(parameters - vocabulary * embedding_length - norms, embedding_length)
    if layer_rows < 0:
        raise ValueError(f"{parameters:,} parameters do not hold the embedding and norms "
                         f"({vocabulary * embedding_length + norms:,})")
    rows = [layer_rows // layers + (i < layer_rows % layers) for i in range(layers)]
    random = np.random.default_rng(seed)

    writer = gguf.GGUFWriter(path, arch=architecture)
    writer.add_name(name or path.stem)
    writer.add_license(license_name)
    writer.add_file_type(file_type(quantization))
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    writer.add_context_length(context_length)
    writer.add_block_count(layers)
    writer.add_embedding_length(embedding_length)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    if head_dim:
        writer.add_key_length(head_dim)
        writer.add_value_length(head_dim)
    writer.add_layer_norm_rms_eps(1e-5)
    tokens, scores, types, merges = vocabulary_of(tokenizer, vocabulary)
    writer.add_tokenizer_model(tokenizer)
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(1 if tokenizer == "llama" else 0)
    writer.add_eos_token_id(2 if tokenizer == "llama" else 0)
    if chat_template is not None:
        writer.add_chat_template(chat_template)

    def add_weights(tensor: str, row_count: int) -> None:
        row_bytes = embedding_length // block * block_bytes
        data = random.integers(0, 256, (row_count, row_bytes), dtype=np.uint8)
        writer.add_tensor(tensor, data, raw_dtype=weights)

    def add_f32(tensor: str, count: int) -> None:
        writer.add_tensor(tensor, np.ones(count, dtype=np.float32))

    add_weights("token_embd.weight", vocabulary)
    for layer, row_count in enumerate(rows):
        add_f32(f"blk.{layer}.attn_norm.weight", embedding_length)
        if row_count:
            add_weights(f"blk.{layer}.ffn_down.weight", row_count)
    add_f32("output_norm.weight", embedding_length)
    if rest:
        add_f32("output_norm.bias", rest)

    return _written(writer, path)


def write_gemma_embedding_gguf(path: Path, *, layers: int = 6, embedding_length: int = 64, seed: int = 0) -> Path:
    """A tiny EmbeddingGemma ("gemma-embedding") file that llama.cpp really loads and embeds
    with: every tensor its graph reads, in F32, with random weights, so its vectors mean
    nothing. Six layers at least: llama.cpp makes every sixth layer attend to the whole text
    and the others to a sliding window, and with fewer than six the whole-text mask is never
    built and llama.cpp aborts at the first embedding (GGML_ASSERT(buffer) in
    llm_graph_input_attn_no_cache::set_input, llama-cpp-python 0.3.36)."""
    heads, kv_heads, head_dim, feed_forward, vocabulary = 2, 1, 32, 2 * embedding_length, 300
    random = np.random.default_rng(seed)
    writer = gguf.GGUFWriter(path, arch="gemma-embedding")
    writer.add_name(path.stem)
    writer.add_license("gemma")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(256)
    writer.add_embedding_length(embedding_length)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(feed_forward)
    writer.add_head_count(heads)
    writer.add_head_count_kv(kv_heads)
    writer.add_key_length(head_dim)
    writer.add_value_length(head_dim)
    writer.add_layer_norm_rms_eps(1e-6)
    writer.add_sliding_window(128)
    writer.add_pooling_type(gguf.PoolingType.MEAN)
    writer.add_rope_freq_base(10000.0)
    tokens, scores, types, _merges = vocabulary_of("llama", vocabulary)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores(scores)
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)

    def weights(tensor: str, rows: int, columns: int) -> None:
        writer.add_tensor(tensor, (random.standard_normal((rows, columns)) * 0.05).astype(np.float32))

    def norm(tensor: str, count: int) -> None:
        writer.add_tensor(tensor, np.ones(count, dtype=np.float32))

    weights("token_embd.weight", vocabulary, embedding_length)
    for layer in range(layers):
        block = f"blk.{layer}"
        norm(f"{block}.attn_norm.weight", embedding_length)
        weights(f"{block}.attn_q.weight", heads * head_dim, embedding_length)
        weights(f"{block}.attn_k.weight", kv_heads * head_dim, embedding_length)
        weights(f"{block}.attn_v.weight", kv_heads * head_dim, embedding_length)
        norm(f"{block}.attn_q_norm.weight", head_dim)
        norm(f"{block}.attn_k_norm.weight", head_dim)
        weights(f"{block}.attn_output.weight", embedding_length, heads * head_dim)
        norm(f"{block}.post_attention_norm.weight", embedding_length)
        norm(f"{block}.ffn_norm.weight", embedding_length)
        weights(f"{block}.ffn_gate.weight", feed_forward, embedding_length)
        weights(f"{block}.ffn_up.weight", feed_forward, embedding_length)
        weights(f"{block}.ffn_down.weight", embedding_length, feed_forward)
        norm(f"{block}.post_ffw_norm.weight", embedding_length)
    norm("output_norm.weight", embedding_length)

    return _written(writer, path)


def _written(writer: gguf.GGUFWriter, path: Path) -> Path:
    """`writer`'s header, metadata and tensors written out to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
