"""Which embedding model the documents use, and loading it through a backend.

The command line and the GUI choose alike: the model asked for (a setting or an option),
else the one that built the collection, else the first embedding model installed. A
collection built by one model is never searched by meaning with another: their vectors do
not compare.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.backends.base import Backend, LoadOptions, ModelRef
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


def load_embedder(backend: Backend, model_path: Path, identity: str, engine: EngineSettings) -> Embedder:
    """Loads `model_path` into `backend` and returns it as an Embedder; a chat model is
    refused (and unloaded)."""
    facts = backend.load(ModelRef(path=model_path), LoadOptions(engine))
    if not facts.capabilities.embeddings:
        backend.unload()
        raise HearthError(_("{model} is a chat model, not an embedding model.").format(model=model_path.name))
    return Embedder(backend.embed, identity, prefixes_for(f"{facts.name} {model_path.name}"))


class LoadedEmbedder:
    """One embedding model kept loaded on its caller's thread (the GUI's inference thread,
    which also owns the chat model: llama.cpp is called from that one thread) between
    questions and indexing batches, and loaded again only when another is asked for."""

    def __init__(self, create_backend: Callable[[], Backend]) -> None:
        self._create_backend = create_backend
        self._backend: Backend | None = None
        self._embedder: Embedder | None = None

    def get(self, model_path: Path, identity: str, engine: EngineSettings) -> Embedder:
        if self._embedder is not None and self._embedder.identity == identity:
            return self._embedder
        self.unload()
        self._backend = self._create_backend()
        self._embedder = load_embedder(self._backend, model_path, identity, engine)
        return self._embedder

    def unload(self) -> None:
        if self._backend is not None:
            self._backend.unload()
        self._backend = None
        self._embedder = None
