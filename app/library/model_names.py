"""A model's name as a person reads it, made from the name a file or a download gave it.

A library entry keeps the name it was added under (a file's stem such as
"SmolLM2-135M-Instruct.Q4_1", an administrator's allow-list may name it so); the window
shows `friendly_name` of it: "SmolLM2 135M Instruct". A name with spaces in it was written
for people (a pack's, a catalog's, one the person typed), and one with a slash or a colon is
another app's (Ollama's "hf.co/bartowski/Llama-GGUF:Q4_K_M"): both are shown as they are.
"""

from __future__ import annotations

import re

# The end of a file name that says how the weights are stored: ".Q4_1", "-q4_k_m", "-IQ4_XS",
# "-f16", "-bf16", "-Q8_0", "-fp16"; the window says the quantization on its own line.
_QUANTIZATION = re.compile(r"[._-](?:i?q\d(?:_[a-z0-9]+)*|b?f(?:p)?(?:16|32)|mxfp4)$", re.IGNORECASE)
_SHARD = re.compile(r"-\d{5}-of-\d{5}$")  # the first of a split model's files: "-00001-of-00003"
_SIZE = re.compile(r"^(?:\d+x)?\d+(?:\.\d+)?[mbk]$", re.IGNORECASE)  # 135m, 1.7b, 8x7b, 8k
_BRANDS = {
    brand.lower(): brand
    for brand in (
        "SmolLM", "SmolLM2", "SmolLM3", "Qwen", "Qwen2", "Qwen2.5", "Qwen3", "TinyLlama", "Llama", "Phi", "Gemma",
        "Mistral", "Mixtral", "DeepSeek", "OLMo", "GPT", "GGUF", "MiniLM", "StableLM", "Falcon", "Granite", "Hermes",
    )
}


def friendly_name(name: str) -> str:
    """'SmolLM2-135M-Instruct.Q4_1' -> 'SmolLM2 135M Instruct'; 'gemma-3-270m-q4_k_m' -> 'Gemma 3 270M'."""
    name = name.strip()
    if not name or any(mark in name for mark in " /:"):  # written for people, or another app's ("hf.co/x/y:Q4_K_M")
        return name
    stem = _SHARD.sub("", name.removesuffix(".gguf"))
    while (found := _QUANTIZATION.search(stem)) and found.start() > 0:
        stem = stem[: found.start()]
    return " ".join(_word(word) for word in re.split(r"[-_]+", stem) if word)


def _word(word: str) -> str:
    if word.lower() in _BRANDS:
        return _BRANDS[word.lower()]
    if _SIZE.match(word):
        return word[:-1] + word[-1].upper()
    return word[0].upper() + word[1:] if word.islower() else word
