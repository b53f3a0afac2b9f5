"""Passages for a question: the FTS5 ranking (BM25) and the exact cosine ranking of the
vectors (numpy over the whole collection) merged by reciprocal rank fusion.

Brute force is exact and fast enough: over 100,000 384-dimension vectors held as one
float32 matrix, the whole hybrid search took 30 ms (bench/documents.py, 2 shared cores).
The matrix is read from the index once per change of the collection (its generation: 352 ms
for 100,000 vectors), not per question.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.documents.embedders import Embedder
from app.documents.index import Collection, DocumentIndex, StoredChunk
from app.platform.fts import index_term, search_words, words_expression

# Each ranking offers this many candidates to the fusion.
CANDIDATES = 50
# Reciprocal rank fusion's constant, as in its paper (Cormack et al. 2009) and most engines.
RRF_K = 60
# A word in more than this share of the chunks says little (the, is, de, la...) and makes
# BM25 score nearly every chunk: over 100,000 chunks a question's FTS query took 322 ms
# with its common words, 1.4 ms without (bench/documents.py). Dropped from the keyword
# query unless every word of the question is that common.
COMMON_WORD_SHARE = 0.2
# In a small index a share says little (in three passages every word is in a third of
# them): below this many passages every word is searched for (BM25 weighs them), and the
# words in more than HIGHLIGHT_SHARE of them are not highlighted under a reply.
FEW_CHUNKS = 100
HIGHLIGHT_SHARE = 0.5


@dataclass(frozen=True)
class Passage:
    """One source for a reply: `rank` counts from 1, as the sources are numbered."""

    rank: int
    chunk: StoredChunk
    score: float
    by_keywords: bool
    by_meaning: bool


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Ids by the sum of 1 / (k + rank) over the rankings they appear in, best first."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], pair[0]))


class Retriever:
    def __init__(self, index: DocumentIndex, embedder: Embedder | None) -> None:
        self.index = index
        self.embedder = embedder
        self._vectors: dict[tuple[int, float], tuple[int, np.ndarray, np.ndarray]] = {}

    def telling_words(self, question: str) -> list[str]:
        """The question's words that say what it is about, to search for: all of them less
        the common ones (unless every word is common)."""
        return self._rare_words(question, COMMON_WORD_SHARE, 1.0) or search_words(question)

    def highlight_words(self, question: str) -> list[str]:
        """The question's words to highlight in the passages found: as searched for, less
        those in most passages of a small index."""
        return self._rare_words(question, COMMON_WORD_SHARE, HIGHLIGHT_SHARE)

    def _rare_words(self, question: str, share: float, share_in_few: float) -> list[str]:
        words = search_words(question)
        if not words:
            return []
        shares, total = self.index.term_shares([index_term(word) for word in words])
        limit = share if total >= FEW_CHUNKS else share_in_few
        return [word for word in words if shares.get(index_term(word), 0.0) <= limit]

    def keyword_ranking(self, collection: Collection, question: str) -> list[int]:
        expression = words_expression(self.telling_words(question), every_word=False, last_as_prefix=False)
        return self.index.keyword_hits(collection, expression, CANDIDATES) if expression else []

    def meaning_ranking(self, collection: Collection, question: str) -> list[int]:
        if self.embedder is None or collection.embedder != self.embedder.identity or not question.strip():
            return []
        ids, matrix = self._matrix(collection)
        if not len(ids):
            return []
        query = np.asarray(self.embedder.embed_query(question), dtype=np.float32)
        query /= np.linalg.norm(query) or 1.0
        scores = matrix @ query
        count = min(CANDIDATES, len(ids))
        top = np.argpartition(-scores, count - 1)[:count]
        return [int(ids[i]) for i in top[np.argsort(-scores[top])]]

    def search(self, collection: Collection, question: str, limit: int = 6) -> list[Passage]:
        collection = self.index.collection(collection.name)
        keyword = self.keyword_ranking(collection, question)
        meaning = self.meaning_ranking(collection, question)
        fused = reciprocal_rank_fusion([keyword, meaning])[:limit]
        chunks = self.index.chunks_by_id([item for item, _score in fused])
        keyword_set, meaning_set = set(keyword), set(meaning)
        return [
            Passage(rank, chunks[item], score, item in keyword_set, item in meaning_set)
            for rank, (item, score) in enumerate(fused, start=1)
            if item in chunks
        ]

    def _matrix(self, collection: Collection) -> tuple[np.ndarray, np.ndarray]:
        """The collection's ids and unit-length vectors, read again only after a change; none
        while some of its passages still wait for theirs (a new embedding model is going
        through them): ranked by meaning, the passages done would crowd out the rest."""
        cached = self._vectors.get((collection.id, collection.created_at))
        if cached is not None and cached[0] == collection.generation:
            return cached[1], cached[2]
        ids: np.ndarray
        matrix: np.ndarray
        if self.index.waiting_for_vectors(collection):  # checked before the vectors are read
            ids, matrix = np.zeros(0, dtype=np.int64), np.zeros((0, collection.dimension or 0), dtype=np.float32)
        else:
            ids, matrix = self.index.vectors(collection)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        matrix = matrix / np.where(norms == 0, 1.0, norms)
        self._vectors[(collection.id, collection.created_at)] = (collection.generation, ids, matrix)
        return ids, matrix
