"""Which installed embedding model searches a collection by meaning: the one that built it,
and only where the administrator allows it (else the question is answered by its words);
and the models kept loaded between questions."""

from __future__ import annotations

from pathlib import Path

from app.config.policy import Policy
from app.config.settings import EngineSettings
from app.documents.embedder_loading import LoadedEmbedder, embedder_that_built
from app.library.model_library import ModelLibrary
from tests.fakes import FakeEmbeddingBackend
from tests.gguf_factory import write_gguf


def test_the_model_that_built_a_collection_is_used_only_where_the_policy_allows_it(tmp_path: Path) -> None:
    library = ModelLibrary(tmp_path / "models")
    entry = library.add(write_gguf(tmp_path / "Words-Embed.Q4_1.gguf", architecture="bert", chat_template=None), copy=False)

    assert embedder_that_built(library, Policy(), entry.sha256) == entry
    assert embedder_that_built(library, Policy(allowed_models=["words-embed*"]), entry.sha256) == entry
    assert embedder_that_built(library, Policy(allowed_models=["smollm2*"]), entry.sha256) is None
    assert embedder_that_built(library, Policy(), "0" * 64) is None  # built by a model not installed
    assert embedder_that_built(library, Policy(), None) is None  # a collection without vectors


def test_two_embedding_models_stay_loaded_and_the_one_used_longest_ago_goes_first(tmp_path: Path) -> None:
    made: list[FakeEmbeddingBackend] = []

    def create() -> FakeEmbeddingBackend:
        made.append(FakeEmbeddingBackend())
        return made[-1]

    loaded = LoadedEmbedder(create)
    engine = EngineSettings()
    for identity in ["a", "b", "a", "b", "a"]:  # two collections by two models, asked in turn
        assert loaded.get(tmp_path / f"{identity}.gguf", identity, engine).identity == identity
    assert len(made) == 2
    loaded.get(tmp_path / "c.gguf", "c", engine)  # a third: "b" was used longest ago
    assert made[1].loaded is None and made[0].loaded is not None
    loaded.get(tmp_path / "a.gguf", "a", engine)
    assert len(made) == 3
    loaded.unload()
    assert all(backend.loaded is None for backend in made)
