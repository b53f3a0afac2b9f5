"""Choosing a reply's next token with llama.cpp's own sampler chain, handed only the tokens
that can be chosen.

`llama_sampler_sample` gives the chain one entry for each token of the vocabulary (262,144
for Gemma 3) at every step, and the chain's penalties look each entry up in a hash map:
1.1 ms a token on Gemma (docs/PERFORMANCE.md, "Sampling only the tokens that can be
chosen"). Yet after the penalties the chain keeps only the `k` likeliest tokens (top-k;
greedy takes the likeliest one), and the penalties change the logits of the recently
sampled tokens only. So every token it can keep is either a recent one or among the `k`
highest logits of the others. Handed those alone, in vocabulary order as llama.cpp lists
them, the same chain keeps the same `k` tokens in the same order and its random draw picks
the same one: a seed gives the same reply as before. Only tokens with exactly equal logits
among the kept ones could come out in another order (llama.cpp's partial sort is not
stable) and so one for the other; greedy takes the first in vocabulary order either way.
"""

from __future__ import annotations

import ctypes

import llama_cpp
import numpy as np
from llama_cpp import Llama

# llama-cpp-python's defaults for Llama.generate, which Hearth has always sampled with.
TOP_K = 40
MIN_P = 0.05

# How far below the highest logit the first search for the likeliest tokens looks; a
# search that finds too few looks GROWTH times as far, and one that finds CROWDED times
# more than it needs starts the next token's search nearer. Measured on 150 tokens of each
# test model (temperature 0.7, 104 tokens needed): the 104th logit lay 4-23 below the
# highest (median 8.6 on SmolLM2, 7.5 on Gemma 3), and this search and the chain took 50
# and 141 us a token, against 227 and 1,117 us for the chain on the whole vocabulary;
# growth 2 or 1.25, or CROWDED 2 or 8, were no faster.
FIRST_GAP = 6.0
GROWTH = 1.5
CROWDED = 4
# The last search looks 6 x 1.5^9 = 230 below the highest logit, past any model's range.
WIDENINGS = 10

_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)
if _TOKEN_DATA.itemsize != ctypes.sizeof(llama_cpp.llama_token_data):
    raise ImportError("llama_token_data is not laid out as this module expects")

# llama_get_logits_ith with the address as a plain number: llama-cpp-python's binding
# returns a ctypes pointer, which took a cast at every token.
_logits_at = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int32)(
    ("llama_get_logits_ith", llama_cpp.llama_cpp._lib),
)


def candidates(logits: np.ndarray, keep: int, recent: np.ndarray, gap: float) -> tuple[np.ndarray, float]:
    """The ids, ascending, of `recent` and of the logits within `gap` of the highest, with
    the gap widened until `keep` of those are not recent; and the gap to start the next
    search from. (With `recent` marked, `keep + len(recent)` ids hold at least `keep` that
    are not recent, wherever the recent ones lie.) Logits that do not give that within
    WIDENINGS (too few finite ones, NaN, infinities) give every id, as llama.cpp would."""
    need = keep + len(recent)
    top = float(logits.max())
    for _ in range(WIDENINGS):
        chosen = logits >= top - gap
        chosen[recent] = True
        ids = chosen.nonzero()[0]
        if len(ids) >= need:
            return ids, gap / GROWTH if len(ids) > need * CROWDED else gap
        gap *= GROWTH
    return np.arange(len(logits)), FIRST_GAP


class ReplySampler:
    """The sampler chain of one reply: llama-cpp-python's (penalties over the last
    `last_n_tokens_size` tokens, then greedy at temperature 0, or else top-k, top-p,
    min-p, temperature and a seeded draw), run on `candidates` only.

    Written for few Python steps per token: right after a decode the caches hold the
    model's weights, not the interpreter's, and each step costs several times what it
    does in a loop of its own (a first `max` of SmolLM2's logits: 25 us, not 3)."""

    def __init__(self, llm: Llama, temperature: float, top_p: float, repeat_penalty: float) -> None:
        self._ctx = llm._ctx.ctx
        # The seed is the one llm.set_seed gave.
        self._chain = llm._init_sampler(
            top_k=TOP_K, top_p=top_p, min_p=MIN_P, temp=temperature, repeat_penalty=repeat_penalty,
        )
        self._sampler = self._chain.sampler
        self._keep = 1 if temperature == 0 else TOP_K
        # The tokens the penalties look at, in a ring (a larger one would only hand the chain more).
        self._recent = np.zeros(max(1, llm.last_n_tokens_size), dtype=np.intp)
        self._sampled = 0
        self._vocabulary = llm.n_vocab()
        self._gap = FIRST_GAP
        self._address: int | None = None
        self._logits = np.empty(0, dtype=np.single)
        self._array = llama_cpp.llama_token_data_array(data=None, size=0, selected=-1, sorted=False)
        self._array_ref = ctypes.byref(self._array)
        # Room for most tokens' candidates at once (a median of 130-400 a token, measured on
        # both test models' replies); a token that needs more doubles it.
        self._room(1024)

    def sample(self) -> int:
        """The next token after the last one decoded, which the chain then remembers."""
        logits = self._last_logits()
        recent = self._recent if self._sampled >= len(self._recent) else self._recent[: self._sampled]
        ids, self._gap = candidates(logits, self._keep, recent, self._gap)
        count = len(ids)
        if count > len(self._data):
            self._room(2 * count)
        self._ids[:count] = ids
        self._values[:count] = logits[ids]
        self._probabilities[:count] = 0.0  # as llama_sampler_sample hands them over
        array = self._array
        array.size = count
        array.selected = -1
        array.sorted = False
        llama_cpp.llama_sampler_apply(self._sampler, self._array_ref)
        selected = array.selected
        if not 0 <= selected < array.size:
            raise RuntimeError(f"the sampler chose no token ({selected} of {array.size})")
        # The chain's samplers (llama-cpp-python's _init_sampler: penalties, top-k, typical,
        # top-p, min-p, temperature, then the draw or greedy) sort, cut and copy back into the
        # entries where they lie; none moves `data` (in the vendored llama-sampler.cpp only XTC
        # does). The replies are compared with create_completion's in test_models_real.py.
        token = int(self._ids[selected])
        llama_cpp.llama_sampler_accept(self._sampler, token)
        self._recent[self._sampled % len(self._recent)] = token
        self._sampled += 1
        return token

    def _room(self, count: int) -> None:
        """Entries for `count` candidates, made once a reply unless more are needed: the
        chain sorts and cuts them where they lie, so they are written, not built, per token."""
        self._data = np.empty(count, _TOKEN_DATA)
        self._ids = self._data["id"]
        self._values = self._data["logit"]
        self._probabilities = self._data["p"]
        self._array.data = self._data.ctypes.data_as(llama_cpp.llama_token_data_p)  # type: ignore[assignment]  # a pointer, as in C

    def _last_logits(self) -> np.ndarray:
        """The last decoded token's logits, in llama.cpp's buffer; the view is made again
        only when that buffer moves (a decode that outputs more rows than before)."""
        address = _logits_at(self._ctx, -1)
        if not address:
            raise RuntimeError("llama.cpp gave no logits for the last token")
        if address != self._address:
            pointer = ctypes.cast(address, ctypes.POINTER(ctypes.c_float))
            self._logits = np.ctypeslib.as_array(pointer, shape=(self._vocabulary,))
            self._address = address
        return self._logits

    def close(self) -> None:
        self._chain.close()
