"""Indexes a collection in its own process, for the test that kills it part way:
`python -m tests.documents.indexing_process INDEX COLLECTION EMBED_LOG SECONDS_PER_BATCH`."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from app.documents.embedders import Embedder
from app.documents.index import DocumentIndex
from app.documents.indexer import Indexer
from tests.documents.word_embedder import WordEmbedder


def main(index_path: str, name: str, log: str, seconds_per_batch: str) -> None:
    words = WordEmbedder(Path(log))

    def slow(texts: Sequence[str]) -> list[list[float]]:
        time.sleep(float(seconds_per_batch))
        return words(texts)

    index = DocumentIndex(Path(index_path))
    Indexer(index, Embedder(slow, "words-64")).run(index.collection(name))
    index.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
