"""Reranking: a cross-encoder reads the question with each of the best fused candidates and orders them again."""
from __future__ import annotations

import re
from typing import Protocol, Sequence

import numpy as np

from qa.search.tokens import simplified
from qa.settings import TRAINED_RERANKER

# the reranker trained here from the bundled weights (scripts/train_reranker.py, search/cross_encoder.py)
DEFAULT_RERANKER = TRAINED_RERANKER
NO_RERANKER = "none"
_HEADING_NUMBER = re.compile(r"^(?:第[一二三四五六七八九十百]+部分|[一二三四五六七八九十百]+、|[（(][一二三四五六七八九十]+[)）]"
                             r"|\d+[.．、]|[（(]\d+[)）])\s*")


class Reranker(Protocol):
    """Scores (question, passage) pairs; higher is more relevant. Scores are comparable within one question."""

    name: str

    def score(self, question: str, passages: Sequence[str]) -> np.ndarray: ...


def strip_number(heading: str) -> str:
    """A heading without its number: 「三、要强化组织建设」 -> 「要强化组织建设」."""
    return _HEADING_NUMBER.sub("", heading.strip())


def passage_text(title: str, date: str | None, section_path: Sequence[str], text: str) -> str:
    """A passage as the reranker reads it: the document with its year, the innermost heading, then the paragraph,
    folded to Simplified (the same form in training and answering)."""
    year = f"（{date[:4]}年）" if date and date[:4].isdigit() else ""
    heading = strip_number(section_path[-1]) if section_path else ""
    head = f"{title}{year}" + (f"｜{heading}" if heading else "")
    return simplified(f"{head}\n{text}")


def question_text(question: str) -> str:
    return simplified(question.strip())


def blend(first: Sequence[float], reranked: Sequence[float], weight: float) -> list[int]:
    """The order (indices, best first) of candidates by weight·z(reranker) + (1 − weight)·z(first stage).

    z is a score's distance from its list's mean in standard deviations, so the two scales meet; weight 1 is the
    reranker alone. Ties keep the first stage's order."""
    if len(first) != len(reranked):
        raise ValueError(f"{len(first)} first-stage scores for {len(reranked)} reranker scores")
    if not len(first):
        return []
    total = weight * _z(np.asarray(reranked, np.float64)) + (1 - weight) * _z(np.asarray(first, np.float64))
    return sorted(range(len(total)), key=lambda i: (-total[i], i))


def _z(values: np.ndarray) -> np.ndarray:
    spread = values.std()
    return np.zeros_like(values) if spread == 0 else (values - values.mean()) / spread
