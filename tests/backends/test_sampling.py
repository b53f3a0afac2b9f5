"""The tokens handed to llama.cpp's sampler chain (app/backends/llama/sampling.py): enough
of the likeliest ones that the chain keeps the tokens it would keep from the whole vocabulary."""

from __future__ import annotations

import numpy as np
import pytest

from app.backends.llama.sampling import candidates


def kept_by_the_chain(logits: np.ndarray, keep: int, recent: np.ndarray, penalty: float) -> set[int]:
    """The `keep` tokens a repeat penalty then top-k would keep out of the whole vocabulary."""
    penalised = logits.copy()
    marked = np.unique(recent)
    penalised[marked] = np.where(logits[marked] <= 0, logits[marked] * penalty, logits[marked] / penalty)
    return set(np.argsort(-penalised, kind="stable")[:keep].tolist())


@pytest.mark.parametrize("penalty", [0.5, 1.1, 2.0])
@pytest.mark.parametrize("keep", [1, 40])
def test_the_tokens_the_chain_keeps_are_always_among_the_candidates(keep: int, penalty: float) -> None:
    generator = np.random.default_rng(5)
    gap, sizes = 6.0, []
    for _ in range(200):
        logits = generator.normal(0, generator.uniform(0.5, 6), 5000).astype(np.single)
        # Recent tokens anywhere: near the top, where a penalty sinks them, or far below,
        # where a penalty under 1 can lift them past the top ones.
        recent = generator.choice(np.argsort(-logits)[: generator.choice([60, 5000])], size=64)
        ids, gap = candidates(logits, keep, recent, gap)
        assert np.all(np.diff(ids) > 0)  # ascending, each once: llama.cpp's order
        assert set(recent.tolist()) <= set(ids.tolist())
        assert kept_by_the_chain(logits, keep, recent, penalty) <= set(ids.tolist())
        sizes.append(len(ids))
    assert np.median(sizes) < len(logits) / 10  # the point: far fewer than the whole vocabulary


def test_the_search_widens_until_it_holds_enough_and_narrows_when_it_holds_far_more() -> None:
    logits = np.arange(1000, dtype=np.single) / 10  # one token every 0.1
    ids, gap = candidates(logits, 40, np.array([], dtype=np.intp), 0.5)
    assert len(ids) >= 40 and gap > 0.5 and set(range(960, 1000)) <= set(ids.tolist())
    ids, narrower = candidates(logits, 1, np.array([], dtype=np.intp), 50.0)
    assert narrower < 50.0 and 999 in ids


@pytest.mark.parametrize("broken", [np.nan, np.inf])
def test_logits_that_cannot_be_searched_hand_over_the_whole_vocabulary(broken: float) -> None:
    logits = np.full(300, -np.inf, dtype=np.single)
    logits[:20] = 1.0
    logits[7] = broken
    ids, _gap = candidates(logits, 40, np.array([3], dtype=np.intp), 6.0)
    assert ids.tolist() == list(range(300))
