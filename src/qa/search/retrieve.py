"""Hybrid retrieval: dense window vectors and BM25 passages, fused by z-score, the best read again by the reranker."""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from qa.errors import EmptyQuestion
from qa.search.embed import Embedder
from qa.search.fusion import reciprocal_rank_fusion, zscore_fusion
from qa.search.rerank import Reranker, blend, passage_text
from qa.search.tokens import keyword_tokens, simplified
from qa.search.when import time_asked, year_ranking
from qa.settings import RetrieveSettings

if TYPE_CHECKING:  # the index is above search: a retriever is handed a reader, it never imports one
    from qa.index.reader import IndexReader

# Longer questions are cut: both models see at most 512 tokens, and a pasted page is not a question.
MAX_QUESTION_CHARS = 500


@dataclass(frozen=True)
class Candidate:
    """A passage row of the index with its fused score and the ranks each side gave it."""

    row: int
    score: float
    dense_rank: int | None
    keyword_rank: int | None
    dense_score: float | None = None  # cosine of the passage's best window to the question
    keyword_share: float | None = None  # BM25 over the question's ceiling (BM25.ceiling): comparable across questions
    rerank_score: float | None = None  # the reranker's score (None: not among the candidates it read)


_NUMERAL = "一二三四五六七八九十"
# 二十大, 十八大: the usual names of party congresses, as their reports say them in full
_CONGRESS = re.compile(rf"(?<![{_NUMERAL}第])([{_NUMERAL}]{{1,3}})大(?=报告|提出|以来|精神|确定|宣布|认为|建议|确立|闭幕|召开|开幕|代表|的|上|$)")


def expand_aliases(question: str) -> str:
    """The question with the full form of abbreviations appended: 二十大 -> 第二十次全国代表大会."""
    extra = [f"第{m}次全国代表大会" for m in _CONGRESS.findall(question)]
    return question + (" " + " ".join(extra) if extra else "")


def clean_question(question: str) -> str:
    text = " ".join((question or "").split())
    if not text:
        raise EmptyQuestion()
    return text[:MAX_QUESTION_CHARS]


# Query vectors kept per question, so one question asked in several modes (qa eval --mode all) is embedded once.
QUERY_CACHE_SIZE = 20_000


class Retriever:
    def __init__(self, index: IndexReader, embedder: Embedder, settings: RetrieveSettings,
                 reranker: Reranker | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings
        self.reranker = reranker
        self._queries: dict[str, np.ndarray] = {}
        # what 今年 means when the asker gives no date: the newest dated document (a reader never changes)
        dated = index.row_year[index.row_year > 0]
        self.newest_year = int(dated.max()) if len(dated) else None

    def query_vector(self, question: str) -> np.ndarray:
        vector = self._queries.get(question)
        if vector is None:
            vector = np.ascontiguousarray(self.embedder.embed_queries([simplified(question)]), dtype=np.float32)
            if len(self._queries) >= QUERY_CACHE_SIZE:
                self._queries.clear()
            self._queries[question] = vector
        return vector

    def dense(self, question: str, n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, cosine of its best window), best first; only `rows` when given."""
        if self.index.size == 0:
            return []
        return self.index.dense_search(self.query_vector(question), n, rows)

    def keyword(self, terms: list[str], n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, BM25 score), best first; only `rows` when given."""
        return self.index.keyword.search(terms, n, rows)

    def search(self, question: str, k: int | None = None, rows: np.ndarray | None = None,
               mode: str | None = None, as_of: int | None = None, rerank: bool = True) -> list[Candidate]:
        """The k best passages for a question (fewer when the index is smaller), among `rows` when given
        (IndexReader.rows_matching of the user's filters).

        mode (hybrid, dense or keyword) overrides the settings' mode for this search; as_of is the year 今年 means
        (default: the newest document's); rerank: let the reranker (if any, hybrid mode only) reorder the best
        candidates."""
        question = clean_question(question)
        k = k or self.settings.k
        n = max(self.settings.candidates, k)
        terms = keyword_tokens(expand_aliases(question))
        mode = mode or self.settings.mode
        dense_scored = self.dense(question, n, rows) if mode != "keyword" else []
        keyword_scored = self.keyword(terms, n, rows) if mode != "dense" else []
        dense, keyword = [row for row, _ in dense_scored], [row for row, _ in keyword_scored]
        if mode == "hybrid" and self.settings.fusion == "zscore":
            a = self.settings.zscore_dense
            first = zscore_fusion([dense_scored, keyword_scored], [a, 1 - a])
            # the year ranking below joins this one list with the weight both sides have together
            lists, weights = [[row for row, _ in first]], [self.settings.dense_weight + self.settings.keyword_weight]
            fused = first
        else:
            lists, weights = [dense, keyword], [self.settings.dense_weight, self.settings.keyword_weight]
            fused = reciprocal_rank_fusion(lists, k=self.settings.rrf_k, weights=weights)
        asked = time_asked(question, (as_of or self.newest_year) if self.settings.relative_years else None)
        if not self.settings.year_intent:
            asked = replace(asked, intent=None)
        if mode == "hybrid" and asked.years and self.settings.year_weight > 0:
            lists.append(year_ranking([row for row, _ in fused], self.index.row_year, asked))
            weights.append(self.settings.year_weight)
            fused = reciprocal_rank_fusion(lists, k=self.settings.rrf_k, weights=weights)
        dense_rank = {row: i for i, row in enumerate(dense, start=1)}
        keyword_rank = {row: i for i, row in enumerate(keyword, start=1)}
        dense_score = dict(dense_scored)
        ceiling = (self.index.keyword.ceiling(terms) if keyword_scored else 0.0) or 1.0
        keyword_share = {row: score / ceiling for row, score in keyword_scored}
        rerank = rerank and mode == "hybrid" and self.reranker is not None
        found = [
            Candidate(row=row, score=score, dense_rank=dense_rank.get(row), keyword_rank=keyword_rank.get(row),
                      dense_score=dense_score.get(row), keyword_share=keyword_share.get(row))
            for row, score in fused[: max(k, self.settings.rerank_candidates) if rerank else k]
        ]
        return (self.reranked(question, found) if rerank else found)[:k]

    def reranked(self, question: str, found: list[Candidate]) -> list[Candidate]:
        """The first rerank_candidates reordered by the reranker blended with the fused score; the rest after."""
        top = found[: self.settings.rerank_candidates]
        if len(top) < 2:
            return found
        passages = self.index.passages([c.row for c in top])
        scores = self.reranker.score(question, [passage_text(p.title, p.date, p.section_path, p.text)
                                                for p in passages])
        order = blend([c.score for c in top], scores, self.settings.rerank_weight)
        return [replace(top[i], rerank_score=float(scores[i])) for i in order] + found[len(top):]
