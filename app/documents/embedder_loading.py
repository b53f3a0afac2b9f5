"""Which embedding model the documents use, and loading it through a backend.

The command line and the GUI choose alike: the model asked for (a setting or an option),
else the one that built the collection, else the first embedding model installed. A
collection built by one model is never searched by meaning with another: their vectors do
not compare.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from app.backends.base import Backend, LoadOptions, ModelRef
from app.config.policy import Policy
from app.config.settings import EngineSettings
from app.documents.embedders import Embedder, prefixes_for
from app.library.model_library import ModelEntry, ModelLibrary
from app.platform.errors import HearthError
from app.platform.i18n import _


def installed_embedders(library: ModelLibrary) -> list[ModelEntry]:
    """The embedding models in the library, in the order it lists them."""
    return [entry for entry in library.models() if entry.is_embedding]


def chosen_embedder(library: ModelLibrary, chosen_id: str, built_by: str | None) -> ModelEntry | None:
    """The model to embed with: `chosen_id` (the setting; empty: no choice), else the model
    that built the collection (`built_by`, its sha256), else the first embedding model
    installed; None when there is none. A chosen id that is not installed is refused."""
    if chosen_id:
        entry = library.get(chosen_id)
        if entry is None:
            raise HearthError(_("There is no '{model}' model installed. Run 'hearth models list' to see what is.").format(model=chosen_id))
        return entry
    embedders = installed_embedders(library)
    if built_by:
        return next((entry for entry in embedders if entry.sha256 == built_by), None)
    return embedders[0] if embedders else None


def embedder_to_index_with(library: ModelLibrary, chosen_id: str, built_by: str | None) -> ModelEntry | None:
    """The model an indexing run embeds with: as `chosen_embedder`, and where the model that
    built the collection is gone, the one there is (the passages are embedded again)."""
    entry = chosen_embedder(library, chosen_id, built_by)
    if entry is None and built_by:
        entry = chosen_embedder(library, chosen_id, None)
    return entry


def embedder_that_built(library: ModelLibrary, policy: Policy, built_by: str | None) -> ModelEntry | None:
    """The installed model whose vectors a collection holds (`built_by`, its sha256), where
    the administrator allows it; None: the collection is searched by its words only."""
    entry = chosen_embedder(library, "", built_by) if built_by else None
    return entry if entry is not None and policy.allows(*entry.names) else None


def load_embedder(backend: Backend, model_path: Path, identity: str, engine: EngineSettings) -> Embedder:
    """Loads `model_path` into `backend` and returns it as an Embedder; a chat model is
    refused (and unloaded)."""
    facts = backend.load(ModelRef(path=model_path), LoadOptions(engine))
    if not facts.capabilities.embeddings:
        backend.unload()
        raise HearthError(_("{model} is a chat model, not an embedding model.").format(model=model_path.name))
    return Embedder(backend.embed, identity, prefixes_for(f"{facts.name} {model_path.name}"))


# Embedding models kept loaded at once: two collections built by different models, asked
# together, would otherwise load each again for every question. They are small beside a
# chat model (all-MiniLM-L6-v2 45 MB, BGE Small 67 MB, EmbeddingGemma 300M 330 MB).
KEPT_EMBEDDERS = 2


class LoadedEmbedder:
    """The embedding models kept loaded on their caller's thread (the GUI's inference
    thread, which also owns the chat model: llama.cpp is called from that one thread)
    between questions and indexing batches; the one used longest ago goes first."""

    def __init__(self, create_backend: Callable[[], Backend]) -> None:
        self._create_backend = create_backend
        self._loaded: OrderedDict[str, tuple[Backend, Embedder]] = OrderedDict()  # by identity, last used last

    def get(self, model_path: Path, identity: str, engine: EngineSettings) -> Embedder:
        if identity in self._loaded:
            self._loaded.move_to_end(identity)
            return self._loaded[identity][1]
        while len(self._loaded) >= KEPT_EMBEDDERS:
            _identity, (backend, _embedder) = self._loaded.popitem(last=False)
            backend.unload()
        backend = self._create_backend()
        self._loaded[identity] = (backend, load_embedder(backend, model_path, identity, engine))
        return self._loaded[identity][1]

    def unload(self) -> None:
        while self._loaded:
            _identity, (backend, _embedder) = self._loaded.popitem()
            backend.unload()
