"""Hybrid retrieval: dense window vectors and BM25 passages, fused by reciprocal rank."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .embed import Embedder
from .errors import EmptyQuestion
from .fusion import reciprocal_rank_fusion
from .keyword import keyword_tokens, simplified
from .records import Filters
from .settings import RetrieveSettings
from .store import IndexReader

# Longer questions are cut: both models see at most 512 tokens, and a pasted page is not a question.
MAX_QUESTION_CHARS = 500


@dataclass(frozen=True)
class Candidate:
    """A passage row of the index with its fused score and the ranks each side gave it."""

    row: int
    score: float
    dense_rank: int | None
    keyword_rank: int | None


def clean_question(question: str) -> str:
    text = " ".join((question or "").split())
    if not text:
        raise EmptyQuestion()
    return text[:MAX_QUESTION_CHARS]


# Query vectors kept per question, so one question asked in several modes (qa eval --mode all) is embedded once.
QUERY_CACHE_SIZE = 20_000


class Retriever:
    def __init__(self, index: IndexReader, embedder: Embedder, settings: RetrieveSettings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self._queries: dict[str, np.ndarray] = {}

    def query_vector(self, question: str) -> np.ndarray:
        vector = self._queries.get(question)
        if vector is None:
            vector = np.ascontiguousarray(self.embedder.embed_queries([simplified(question)]), dtype=np.float32)
            if len(self._queries) >= QUERY_CACHE_SIZE:
                self._queries.clear()
            self._queries[question] = vector
        return vector

    def dense(self, question: str, n: int, rows: np.ndarray | None = None) -> list[int]:
        """Passage rows by their best window's cosine similarity, best first; only `rows` when given."""
        total = self.index.vectors.ntotal
        params = None
        if rows is not None:
            import faiss

            windows = np.flatnonzero(np.isin(self.index.window_passage, rows)).astype(np.int64)
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(windows))
            total = len(windows)
        if total == 0:
            return []
        # several windows can belong to one passage: fetch more windows than passages wanted
        _, ids = self.index.vectors.search(self.query_vector(question), min(total, n * 3), params=params)
        rows: list[int] = []
        for wid in ids[0]:
            if wid < 0:
                break
            row = int(self.index.window_passage[wid])
            if row not in rows:
                rows.append(row)
                if len(rows) == n:
                    break
        return rows

    def keyword(self, terms: list[str], n: int, rows: np.ndarray | None = None) -> list[int]:
        return [row for row, _ in self.index.keyword.search(terms, n, rows)]

    def search(self, question: str, k: int | None = None, filters: Filters | None = None,
               mode: str | None = None) -> list[Candidate]:
        """The k best passages for a question (fewer when the index is smaller), within the filters.

        mode (hybrid, dense or keyword) overrides the settings' mode for this search."""
        question = clean_question(question)
        rows = self.index.rows_matching(filters) if filters is not None and filters.active else None
        k = k or self.settings.k
        n = max(self.settings.candidates, k)
        terms = keyword_tokens(question)
        mode = mode or self.settings.mode
        dense = self.dense(question, n, rows) if mode != "keyword" else []
        keyword = self.keyword(terms, n, rows) if mode != "dense" else []
        fused = reciprocal_rank_fusion(
            [dense, keyword],
            k=self.settings.rrf_k,
            weights=[self.settings.dense_weight, self.settings.keyword_weight],
        )
        dense_rank = {row: i for i, row in enumerate(dense, start=1)}
        keyword_rank = {row: i for i, row in enumerate(keyword, start=1)}
        return [
            Candidate(row=row, score=score, dense_rank=dense_rank.get(row), keyword_rank=keyword_rank.get(row))
            for row, score in fused[:k]
        ]
