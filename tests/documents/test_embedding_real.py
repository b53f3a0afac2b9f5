"""The llama.cpp backend embeds with the real all-MiniLM-L6-v2, converted from its PyPI wheel."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.backends.base import LoadOptions, ModelRef
from app.backends.llama.engine import LlamaBackend
from app.config.settings import EngineSettings

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def embedder(minilm_path: Path) -> LlamaBackend:
    engine = LlamaBackend()
    engine.load(ModelRef(path=minilm_path), LoadOptions(EngineSettings()))
    yield engine
    engine.unload()


def cosine(first: np.ndarray, second: np.ndarray) -> float:
    return float(first @ second / np.linalg.norm(first) / np.linalg.norm(second))


def test_the_converted_model_gives_the_reference_similarity(embedder: LlamaBackend) -> None:
    facts = embedder.loaded
    assert facts is not None and facts.capabilities.embeddings and not facts.capabilities.chat
    first, second = (np.array(v) for v in embedder.embed(["A man is eating food.", "A man is eating a piece of bread."]))
    assert first.shape == (384,)
    # sentence-transformers gives 0.7553 for this pair with this model.
    assert cosine(first, second) == pytest.approx(0.755, abs=0.002)


def test_a_batch_gives_each_text_its_own_vector(embedder: LlamaBackend) -> None:
    texts = ["The cat sat on the mat.", "Photosynthesis turns light into sugar.", "The cat sat on the mat."]
    vectors = [np.array(v) for v in embedder.embed(texts)]
    alone = np.array(embedder.embed([texts[1]])[0])
    assert len(vectors) == 3
    # Batched and alone differ in the fourth decimal (the sums run in another order).
    assert cosine(vectors[0], vectors[2]) > 0.9999 and cosine(vectors[1], alone) > 0.9999
    assert cosine(vectors[0], vectors[1]) < 0.5
    assert embedder.embed([]) == []
