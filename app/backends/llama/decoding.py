"""Reading a prompt into the KV cache and decoding a reply after it, one token at a time.

This is `Llama.generate`'s loop without its sampling: the tokens come from a
`ReplySampler` (sampling.py), which hands llama.cpp's sampler chain the likeliest tokens
only, where `Llama.generate` hands it the whole vocabulary at every token. What runs
between two decodes is kept short: it is the gap between Hearth's reply speed and
llama.cpp's own (docs/PERFORMANCE.md, "Sampling only the tokens that can be chosen").
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

import llama_cpp
from llama_cpp import Llama

from app.backends.llama.context_shift import common_prefix
from app.backends.llama.sampling import ReplySampler

# How long a fast model's tokens are gathered before the reply's text is handled: under
# the 0.1 s the inference worker gathers text for before it signals the window
# (TOKEN_FLUSH_SECONDS in app/gui/workers/inference_worker.py). Python's time a token
# outside llama_decode, 256-token greedy replies, 8 alternating pairs: 164 -> 144 us on
# SmolLM2, 280 -> 252 us on Gemma 3 (docs/PERFORMANCE.md, "Text in chunks").
CHUNK_SECONDS = 0.05


def keep_cached_part(llm: Llama, tokens: Sequence[int]) -> int:
    """Keep the KV cache's share of `tokens` but for the last token (which must be read
    again to give the logits of the reply's first token), drop the rest; how many it kept.
    A memory that cannot be cut there is emptied: a recurrent or hybrid model's after a Stop
    in the middle of a batch holds more than llama-cpp-python's record says, and would
    refuse every decode after it."""
    return keep_first(llm, common_prefix(llm._input_ids[: llm.n_tokens], tokens[:-1]))


def keep_first(llm: Llama, count: int) -> int:
    """Keep the KV cache's first `count` tokens and drop the rest; how many it kept (none
    where the memory cannot be cut there, and is emptied instead)."""
    if count and not llm._ctx.kv_cache_seq_rm(-1, count, -1):
        llm.reset()  # type: ignore[no-untyped-call]
        return 0
    llm.n_tokens = count  # Llama.eval reads on from here
    return count


def keep_as_read(llm: Llama, tokens: Sequence[int], reused: int) -> None:
    """Keep no more of the cache than a reply to `tokens` that took `reused` of them from
    it, so the rest is read in the same batches as then. A rest longer than a batch was read
    a batch at a time and its last token alone (read_in_steps), as a cache that still holds
    all but that token reads it now: nothing is cut, and nothing read again."""
    if llm.n_tokens > reused and read_with_last_token(llm, tokens, reused):
        keep_first(llm, reused)


def read_with_last_token(llm: Llama, tokens: Sequence[int], cached: int) -> bool:
    """Whether what a cache holding `cached` of `tokens` lacks is read in one go with the
    last token (by `decode_reply`), not a batch at a time and the last token alone."""
    return len(tokens) - 1 - cached <= llm.n_batch


def read_in_steps(llm: Llama, tokens: Sequence[int], on_reading: Callable[[float], None]) -> None:
    """Read the part of the prompt the KV cache lacks but for its last token, one batch at
    a time, saying after each how much of the prompt is read. A prompt the cache nearly
    holds is left to `decode_reply`: there is nothing to wait for. The batches are
    llama.cpp's own (`n_batch`), so reading costs the same."""
    cached = keep_cached_part(llm, tokens)
    if read_with_last_token(llm, tokens, cached):
        return
    missing = list(tokens[cached:-1])
    step = llm.n_batch
    for start in range(0, len(missing), step):
        llm.eval(missing[start : start + step])
        on_reading((cached + min(start + step, len(missing))) / len(tokens))


def decode_reply(llm: Llama, prompt: Sequence[int], sampler: ReplySampler, limit: int) -> Iterator[list[int]]:
    """The reply's tokens after `prompt`, in the order sampled, up to an end token (left out)
    or `limit` tokens. They come in lists: the first token alone, then what was sampled
    within CHUNK_SECONDS, so a fast model's text is handled a few tokens at a time, in a loop
    that runs warm, not once between every two decodes. Each token is decoded before the
    next is sampled, except the last one taken, so the cache then holds the prompt and the
    reply up to it. A caller that stops inside a list (at a stop string) leaves that list's
    later tokens in the cache, at most CHUNK_SECONDS of decoding; the next prompt's common
    prefix cuts them."""
    cached = keep_cached_part(llm, prompt)
    llm.eval(list(prompt[cached:]))
    vocab = llm._model.vocab
    ends: dict[int, bool] = {}  # llama_vocab_is_eog, asked once a token
    one = OneTokenDecode(llm)
    chunk: list[int] = []
    due = 0.0  # the first token goes at once
    for taken in range(1, limit + 1):
        token = sampler.sample()
        end = ends.get(token)
        if end is None:
            end = ends[token] = bool(llama_cpp.llama_vocab_is_eog(vocab, token))
        if end:
            break
        chunk.append(token)
        if taken == limit:
            break
        now = time.perf_counter()
        if now >= due:
            yield chunk
            chunk, due = [], now + CHUNK_SECONDS
        try:
            one.decode(token)
        except RuntimeError:
            if chunk:  # the tokens sampled so far are shown before the error
                yield chunk
            raise
    if chunk:
        yield chunk


class OneTokenDecode:
    """`Llama.eval([token])` in fewer Python steps, for a token right after the cached ones
    (nothing to cut first): 13 us a token instead of 39 on SmolLM2, measured right after
    each decode, where every Python step runs with cold caches. The batch's fields that stay
    the same are set once; nothing else may use `llm`'s batch while this decodes."""

    def __init__(self, llm: Llama) -> None:
        self._llm = llm
        self._ctx = llm._ctx.ctx
        self._batch = llm._batch.batch
        self._batch.n_tokens = 1
        self._batch.seq_id[0][0] = 0
        self._batch.n_seq_id[0] = 1
        self._batch.logits[0] = True
        self._token = self._batch.token
        self._position = self._batch.pos

    def decode(self, token: int) -> None:
        llm = self._llm
        position = llm.n_tokens
        self._token[0] = token
        self._position[0] = position
        code = llama_cpp.llama_decode(self._ctx, self._batch)
        if code != 0:
            raise RuntimeError(f"llama_decode returned {code}")
        llm.input_ids[position] = token
        llm.n_tokens = position + 1
