"""The embedding model as the index sees it: a function from texts to vectors, who it is
(so vectors of two models are never mixed), and the prefixes it was trained with."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

Embed = Callable[[Sequence[str]], list[list[float]]]


@dataclass(frozen=True)
class Prefixes:
    """What the embedder expects before a question and before a passage."""

    query: str = ""
    document: str = ""


# By a word in the model's name (lowercase), as each model card asks. all-MiniLM and
# other sentence-transformers models were trained without prefixes.
_PREFIXES: tuple[tuple[str, Prefixes], ...] = (
    # EmbeddingGemma's model card (google/embeddinggemma-300m, "Prompt instructions"):
    # retrieval queries and documents each have their own prompt.
    ("embeddinggemma", Prefixes("task: search result | query: ", "title: none | text: ")),
    ("nomic-embed", Prefixes("search_query: ", "search_document: ")),
    ("e5", Prefixes("query: ", "passage: ")),
    ("bge-", Prefixes("Represent this sentence for searching relevant passages: ", "")),
    ("mxbai-embed", Prefixes("Represent this sentence for searching relevant passages: ", "")),
    ("snowflake-arctic-embed", Prefixes("Represent this sentence for searching relevant passages: ", "")),
)


def prefixes_for(model_name: str) -> Prefixes:
    """The prefixes for the model of this name (or file name); none for a model not known."""
    name = model_name.lower()
    return next((prefixes for word, prefixes in _PREFIXES if word in name), Prefixes())


@dataclass(frozen=True)
class Embedder:
    """`identity` names the exact model (its file's sha256): the index records it and
    re-embeds a collection built by another."""

    embed: Embed
    identity: str
    prefixes: Prefixes = Prefixes()

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return self.embed([self.prefixes.document + text for text in texts])

    def embed_query(self, text: str) -> list[float]:
        return self.embed([self.prefixes.query + text])[0]
