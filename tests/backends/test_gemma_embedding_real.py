"""EmbeddingGemma's architecture ("gemma-embedding", the catalog's multilingual embedding
model) on the real engine: loaded as an embedding model, and it embeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.backends.base import LoadOptions, ModelRef
from app.config.settings import EngineSettings
from app.library.model_library import ModelLibrary
from tests.gguf_factory import write_gemma_embedding_gguf

pytestmark = pytest.mark.real_model


def test_a_gemma_embedding_file_is_an_embedding_model_that_embeds(tmp_path: Path) -> None:
    from app.backends.llama.engine import LlamaBackend

    path = write_gemma_embedding_gguf(tmp_path / "embeddinggemma-tiny-F32.gguf")
    entry = ModelLibrary(tmp_path / "models").add(path, copy=False)
    assert entry.architecture == "gemma-embedding" and entry.is_embedding
    engine = LlamaBackend()
    facts = engine.load(ModelRef(path=path), LoadOptions(EngineSettings(context_length=256, threads=2)))
    try:
        assert facts.capabilities.embeddings and not facts.capabilities.chat
        vectors = engine.embed(["Wo ist der Bahnhof?", "Where is the station?"])
        assert [len(vector) for vector in vectors] == [64, 64] and vectors[0] != vectors[1]
    finally:
        engine.unload()
