"""A fake embedder with exact, explainable scores: hashed character bigrams, L2-normalised."""
from __future__ import annotations

import hashlib

import numpy as np


class FakeEmbedder:
    """Texts sharing character bigrams get similar vectors; counts every text it embeds."""

    def __init__(self, dim: int = 64, name: str = "fake-bigram") -> None:
        self.dim = dim
        self.name = name
        self.embedded: list[str] = []

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for i in range(max(len(text) - 1, 1)):
            gram = text[i : i + 2]
            v[int(hashlib.md5(gram.encode()).hexdigest(), 16) % self.dim] += 1.0
        norm = np.linalg.norm(v)
        return v / norm if norm else v

    def embed_queries(self, texts):
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(-1, self.dim)

    def embed_passages(self, texts):
        self.embedded.extend(texts)
        return np.array([self._vector(t) for t in texts], dtype=np.float32).reshape(-1, self.dim)


class FakeReranker:
    """Scores a pair by the question's character bigrams found in the passage: exact, and records every call."""

    def __init__(self, name: str = "fake-rerank") -> None:
        self.name = name
        self.calls: list[tuple[str, int]] = []

    def score(self, question, passages):
        self.calls.append((question, len(passages)))
        grams = {question[i : i + 2] for i in range(len(question) - 1)}
        return np.array([float(sum(g in p for g in grams)) for p in passages], dtype=np.float32)
