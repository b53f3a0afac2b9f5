"""Which prompt format a model is spoken to in.

A model's own chat template (from its GGUF) wins. A model without one must not
fall back to llama-cpp-python's default `llama-2` format (Gemma 3 base answers
that with nothing at all): the format is chosen by architecture, the user can
override it per model, and plain text completion is always on offer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from llama_cpp import llama_chat_format

from app.backends.base import ChatTurn

AUTO = "auto"
MODEL_TEMPLATE = "model"
COMPLETION = "completion"

# Named formats the user may pick; each is a llama-cpp-python chat formatter.
NAMED_FORMATS: dict[str, Callable[..., Any]] = {
    "chatml": llama_chat_format.format_chatml,
    "gemma": llama_chat_format.format_gemma,
    "llama-3": llama_chat_format.format_llama3,
    "llama-2": llama_chat_format.format_llama2,
    "mistral-instruct": llama_chat_format.format_mistral_instruct,
    "zephyr": llama_chat_format.format_zephyr,
    "alpaca": llama_chat_format.format_alpaca,
}

# llama-cpp-python's formatters for these drop system messages without a word. The
# system prompt then opens the first user turn, as in Gemma's own template (Mistral's
# puts it in the last one, which would change the prompt's start every turn and
# defeat the KV cache).
_NO_SYSTEM_ROLE = {"gemma", "mistral-instruct"}

_BY_ARCHITECTURE = {
    "gemma": "gemma",
    "gemma2": "gemma",
    "gemma3": "gemma",
    "qwen": "chatml",
    "qwen2": "chatml",
    "qwen3": "chatml",
    "mistral": "mistral-instruct",
}

FORMAT_CHOICES = [AUTO, MODEL_TEMPLATE, *NAMED_FORMATS, COMPLETION]


def resolve_format(preference: str, architecture: str, has_template: bool) -> str:
    """The concrete format for a model: MODEL_TEMPLATE, a NAMED_FORMATS key or COMPLETION."""
    if preference == MODEL_TEMPLATE and has_template:
        return MODEL_TEMPLATE
    if preference in NAMED_FORMATS or preference == COMPLETION:
        return preference
    if has_template:
        return MODEL_TEMPLATE
    return _BY_ARCHITECTURE.get(architecture, COMPLETION)


def chat_messages(prompt_format: str, turns: Sequence[ChatTurn]) -> list[dict[str, str]]:
    """The turns as chat messages for `prompt_format`, the system prompt kept."""
    messages = [{"role": turn.role, "content": turn.content} for turn in turns]
    if (
        prompt_format in _NO_SYSTEM_ROLE
        and len(messages) > 1
        and messages[0]["role"] == "system"
        and messages[1]["role"] == "user"
    ):
        system = messages.pop(0)["content"]
        messages[0]["content"] = f"{system}\n\n{messages[0]['content']}"
    return messages
