"""Leaving the oldest turns out of the KV cache instead of reading the rest again.

When a conversation outgrows the context, the prompt drops its oldest turns
(prompting.py): it keeps the system prompt and the newest turns. The cache still holds
those newest turns, but after the dropped ones, so the prompt's prefix matches only up to
the system prompt and llama.cpp would read everything after it again: 2.4-8 s for 890
tokens of SmolLM2 on 2 cores (bench/kv_cache.py), every time the kept part moves on.

Here the dropped range is taken out of the cache and the cached tokens after it are moved
back by its length (llama.cpp's "context shift": `llama_memory_seq_rm`, then
`llama_memory_seq_add`, which re-rotates the cached keys to their new positions at the
next decode). Only what is new is then read. The kept turns' memory was computed while the
dropped ones were still before them; that is the price of the shift, as in llama.cpp's own
command-line tool, and the reply's stats record that it happened (Reproduce names it).
The engine shifts only when the prompt's oldest kept turn moved on since the cache was
filled, so an edit inside the kept turns is read anew, and runs the decode that moves the
keys without the Stop check (engine.py).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

import llama_cpp
import numpy as np
from llama_cpp import Llama

from app.backends.base import ChatTurn

log = logging.getLogger(__name__)

SEQUENCE = 0  # llama-cpp-python decodes everything as sequence 0

# A shorter run of matching tokens is a coincidence (a role marker, a common word), not the
# turns the prompt kept: those are half the room beside the system prompt (LEAVE_OUT_STEP).
MIN_KEPT_TOKENS = 32


def common_prefix(a: Sequence[int] | np.ndarray, b: Sequence[int] | np.ndarray) -> int:
    """How many tokens `a` and `b` share from their start."""
    length = min(len(a), len(b))
    differ = np.flatnonzero(np.asarray(a[:length]) != np.asarray(b[:length]))
    return int(differ[0]) if len(differ) else length


def kept_from(turn: ChatTurn | None) -> str:
    """What names the oldest turn a prompt keeps, for telling whether it moved on: a hash,
    so that the saved states' records beside each state hold no conversation text."""
    if turn is None:
        return ""
    return hashlib.sha256(f"{turn.role}\0{turn.content}".encode()).hexdigest()[:32]


def reach_after_shift(held: Sequence[int], prompt: Sequence[int]) -> int:
    """How many tokens of `prompt` a cache holding `held` would hold once shifted (as
    shift_out_dropped would shift it), for choosing the better of two caches."""
    start, _found, kept = _shift_plan(np.asarray(held), prompt)
    return start + kept


def _shift_plan(held: np.ndarray, prompt: Sequence[int]) -> tuple[int, int, int]:
    """Where `held` and `prompt` part (start), and the run of `held` from `found` on that
    continues the prompt there, `kept` tokens long: (start, found, kept); kept is 0 where no
    run is long enough to be the kept turns. The prompt's last token is never counted: it
    is always read, its logits start the reply."""
    wanted = np.asarray(prompt[:-1])
    start = common_prefix(held, wanted)
    if start >= len(wanted) or start >= len(held):
        return start, start, 0
    found, kept = _longest_match(held, wanted, start)
    return (start, found, kept) if kept >= MIN_KEPT_TOKENS else (start, start, 0)


def shift_out_dropped(llm: Llama, prompt: Sequence[int]) -> int:
    """Make the cache hold the longest start of `prompt` that it holds after a range the
    prompt dropped: remove that range and move what follows it back. The tokens now cached
    that the shift kept (0: nothing was shifted, and the cache is as it was, or empty where
    llama.cpp refused half-way)."""
    held = np.asarray(llm.input_ids[: llm.n_tokens])
    start, found, kept = _shift_plan(held, prompt)
    if not kept:
        return 0
    memory = llama_cpp.llama_get_memory(llm._ctx.ctx)
    if not llama_cpp.llama_memory_can_shift(memory):
        return 0
    end = found + kept
    if not (llama_cpp.llama_memory_seq_rm(memory, SEQUENCE, end, -1)
            and llama_cpp.llama_memory_seq_rm(memory, SEQUENCE, start, found)):
        log.warning("llama.cpp could not take the left-out turns out of its memory; the conversation is read again")
        llama_cpp.llama_memory_clear(memory, True)
        llm.n_tokens = 0
        return 0
    llama_cpp.llama_memory_seq_add(memory, SEQUENCE, found, end, start - found)
    llm.input_ids[start : start + kept] = held[found:end]
    llm.n_tokens = start + kept
    log.debug("context shift: %d cached tokens moved back by %d", kept, found - start)
    return kept


def _longest_match(held: np.ndarray, wanted: np.ndarray, start: int) -> tuple[int, int]:
    """The position in `held` after `start` where the longest run equal to `wanted[start:]`
    begins, and its length ((start, 0): none)."""
    best, best_length = start, 0
    rest = wanted[start:]
    for found in np.flatnonzero(held[start + 1 :] == rest[0]) + start + 1:
        length = common_prefix(held[found:], rest)
        if length > best_length:
            best, best_length = int(found), length
    return best, best_length
