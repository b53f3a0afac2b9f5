"""Saving and restoring one conversation's KV cache with llama.cpp's sequence state files,
keeping llama-cpp-python's record of the cached tokens (`input_ids`, `n_tokens`) in step
with what the cache holds, so that the reply's prefix match (decoding.py) reuses exactly
what was restored.

The files live in a KvStateFolder (kv_store.py), which checks each before llama.cpp
reads it.
"""

from __future__ import annotations

import ctypes
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import llama_cpp
from llama_cpp import Llama

from app.backends.llama.context_shift import SEQUENCE, common_prefix, reach_after_shift
from app.backends.llama.kv_store import KvStateFolder

log = logging.getLogger(__name__)


def state_folder(folder: Path, limit_bytes: int, tag: dict[str, object], context: int) -> KvStateFolder:
    """The folder of saved states for a model loaded with `context` tokens, described by `tag`."""
    return KvStateFolder(folder, limit_bytes, tag, llama_cpp.LLAMA_STATE_SEQ_MAGIC, llama_cpp.LLAMA_STATE_SEQ_VERSION, context)


def save(llm: Llama, states: KvStateFolder, key: str, start: str) -> None:
    """Save what the cache holds as `key`'s state, its prompt's oldest kept turn `start`
    (context_shift.kept_from). Never raises: a state not saved only means reading the
    conversation again next time."""
    n_tokens = llm.n_tokens
    if n_tokens == 0:
        return
    started = time.perf_counter()
    memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
    # Cells past the recorded tokens (a decode stopped half-way) are not part of the state.
    llama_cpp.llama_memory_seq_rm(memory, SEQUENCE, n_tokens, -1)
    tokens = (llama_cpp.llama_token * n_tokens)(*llm.input_ids[:n_tokens].tolist())
    states.folder.mkdir(parents=True, exist_ok=True)
    part = states.part_path(key)
    written = llama_cpp.llama_state_seq_save_file(llm._ctx.ctx, str(part).encode(), SEQUENCE, tokens, n_tokens)
    states.keep(key, written, start)
    log.debug("saved %d tokens of KV state (%d bytes) in %.3f s", n_tokens, written, time.perf_counter() - started)


def restore(llm: Llama, states: KvStateFolder, key: str, prompt: Sequence[int], start: str) -> int:
    """Load `key`'s saved state when it gives more of `prompt` than the cache does now; the
    tokens restored (0: none). Where the prompt's oldest kept turn (`start`) moved on since
    the state was saved, what it gives is counted as after a context shift: the turn the
    kept part moves on at is no reason to read a long conversation again. A state
    llama.cpp refuses is deleted, and the cache is then empty."""
    saved = states.saved_tokens(key)
    if saved is None:
        return 0
    live = common_prefix(llm.input_ids[: llm.n_tokens], prompt)
    saved_start = states.saved_start(key)
    gives = reach_after_shift(saved, prompt) if saved_start and saved_start != start else common_prefix(saved, prompt)
    if gives <= live:
        return 0
    started = time.perf_counter()
    ctx = llm._ctx.ctx
    _empty(llm)
    capacity = llm.n_ctx()
    tokens = (llama_cpp.llama_token * capacity)()
    count = ctypes.c_size_t(0)
    read = llama_cpp.llama_state_seq_load_file(
        ctx, str(states.state_path(key)).encode(), SEQUENCE, tokens, capacity, ctypes.byref(count)
    )
    if read == 0 or count.value != len(saved) or list(tokens[: count.value]) != saved:
        log.warning("llama.cpp could not read a saved KV state; it is deleted")
        _empty(llm)
        states.forget(key)
        return 0
    n_tokens = count.value
    llm.input_ids[:n_tokens] = saved
    llm.n_tokens = n_tokens
    # The logits are not those of the last token. decode_reply reads the prompt's last token
    # again anyway; llama-cpp-python's own generate() (the tests' create_completion) is told.
    llm._requires_eval = True
    states.used(key)
    log.debug("restored %d tokens of KV state in %.3f s", n_tokens, time.perf_counter() - started)
    return n_tokens


def _empty(llm: Llama) -> None:
    """An empty cache, and llama-cpp-python told so."""
    llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(llm._ctx.ctx), True)
    llm.n_tokens = 0
    llm._requires_eval = True
