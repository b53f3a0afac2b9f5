"""The names the window shows for models, from the names their files gave them."""

from __future__ import annotations

import pytest

from app.library.model_names import friendly_name


@pytest.mark.parametrize(("given", "shown"), [
    ("SmolLM2-135M-Instruct.Q4_1", "SmolLM2 135M Instruct"),
    ("gemma-3-270m-q4_k_m", "Gemma 3 270M"),
    ("qwen2.5-1.5b-instruct-q4_k_m.gguf", "Qwen2.5 1.5B Instruct"),
    ("tinyllama-1.1b-chat-v1.0.Q8_0", "TinyLlama 1.1B Chat V1.0"),
    ("Llama-3.2-1B-Instruct-IQ4_XS", "Llama 3.2 1B Instruct"),
    ("phi-3-mini-4k-instruct-fp16", "Phi 3 Mini 4K Instruct"),
    ("SmolLM2-135M-Instruct-F16-00001-of-00002", "SmolLM2 135M Instruct"),
    ("mixtral_8x7b_v0.1-bf16", "Mixtral 8x7B V0.1"),
    ("Smollm2 135M 8k Lc100K Mix1 Ep2", "Smollm2 135M 8k Lc100K Mix1 Ep2"),  # written for people: as it is
    ("My tutor model", "My tutor model"),
    ("hf.co/bartowski/Llama-GGUF:Q4_K_M", "hf.co/bartowski/Llama-GGUF:Q4_K_M"),  # another app's name
])
def test_a_file_name_reads_as_a_model_name(given: str, shown: str) -> None:
    assert friendly_name(given) == shown
