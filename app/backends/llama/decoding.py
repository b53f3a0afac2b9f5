"""Reading a prompt into the KV cache and decoding a reply after it, one token at a time.

This is `Llama.generate`'s loop without its sampling: the tokens come from a
`ReplySampler` (sampling.py), which hands llama.cpp's sampler chain the likeliest tokens
only, where `Llama.generate` hands it the whole vocabulary at every token. What runs
between two decodes is kept short: it is the gap between Hearth's reply speed and
llama.cpp's own (docs/PERFORMANCE.md, "Sampling only the tokens that can be chosen").
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from llama_cpp import Llama

from app.backends.llama.context_shift import common_prefix
from app.backends.llama.sampling import ReplySampler


def keep_cached_part(llm: Llama, tokens: Sequence[int]) -> int:
    """Keep the KV cache's share of `tokens` but for the last token (which must be read
    again to give the logits of the reply's first token), drop the rest; how many it kept.
    A memory that cannot be cut there is emptied: a recurrent or hybrid model's after a Stop
    in the middle of a batch holds more than llama-cpp-python's record says, and would
    refuse every decode after it."""
    cached = common_prefix(llm._input_ids[: llm.n_tokens], tokens[:-1])
    if cached and not llm._ctx.kv_cache_seq_rm(-1, cached, -1):
        llm.reset()  # type: ignore[no-untyped-call]
        return 0
    llm.n_tokens = cached  # Llama.eval reads on from here
    return cached


def read_in_steps(llm: Llama, tokens: Sequence[int], on_reading: Callable[[float], None]) -> None:
    """Read the part of the prompt the KV cache lacks but for its last token, one batch at
    a time, saying after each how much of the prompt is read. A prompt the cache nearly
    holds is left to `decode_reply`: there is nothing to wait for. The batches are
    llama.cpp's own (`n_batch`), so reading costs the same."""
    cached = keep_cached_part(llm, tokens)
    missing = list(tokens[cached:-1])
    step = llm.n_batch
    if len(missing) <= step:
        return
    for start in range(0, len(missing), step):
        llm.eval(missing[start : start + step])
        on_reading((cached + min(start + step, len(missing))) / len(tokens))


def decode_reply(llm: Llama, prompt: Sequence[int], sampler: ReplySampler) -> Iterator[int]:
    """The reply's tokens after `prompt`, endlessly: the caller stops at an end token or
    its limit. Each token is decoded before the next is sampled, except the last one
    taken, so the cache then holds the prompt and the reply up to it."""
    cached = keep_cached_part(llm, prompt)
    llm.eval(list(prompt[cached:]))
    while True:
        token = sampler.sample()
        yield token
        decode_one(llm, token)


def decode_one(llm: Llama, token: int) -> None:
    """`Llama.eval([token])` in fewer Python steps, for a token right after the cached
    ones (nothing to cut first): 13 us a token instead of 39 on SmolLM2, measured right
    after each decode, where every Python step runs with cold caches."""
    batch = llm._batch.batch
    position = llm.n_tokens
    batch.n_tokens = 1
    batch.token[0] = token
    batch.pos[0] = position
    batch.seq_id[0][0] = 0
    batch.n_seq_id[0] = 1
    batch.logits[0] = True
    llm._ctx.decode(llm._batch)
    llm.input_ids[position] = token
    llm.n_tokens = position + 1
