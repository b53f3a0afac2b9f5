"""A stand-in embedder for tests that need no model: each text's vector counts its words,
hashed into 64 dimensions, so texts that share words are near. It can log what it embeds."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path

from app.documents.embedders import Embedder

DIMENSION = 64


class WordEmbedder:
    def __init__(self, log: Path | None = None) -> None:
        self.log = log
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        if self.log is not None:
            with self.log.open("a", encoding="utf-8") as stream:
                stream.writelines(text.replace("\n", " ") + "\n" for text in texts)
        vectors = []
        for text in texts:
            vector = [0.0] * DIMENSION
            for word in re.findall(r"\w+", text.lower()):
                vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % DIMENSION] += 1.0
            vectors.append(vector)
        return vectors

    @property
    def embedded(self) -> list[str]:
        return [text for call in self.calls for text in call]


def word_embedder(log: Path | None = None, identity: str = "words-64") -> tuple[Embedder, WordEmbedder]:
    counter = WordEmbedder(log)
    return Embedder(counter, identity), counter
