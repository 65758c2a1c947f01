"""Reciprocal rank fusion of several rankings into one."""
from __future__ import annotations

from typing import Hashable, Sequence


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[Hashable]],
    k: float = 60,
    weights: Sequence[float] | None = None,
) -> list[tuple[Hashable, float]]:
    """Fuse rankings (best first) by sum of weight / (k + rank); rank is 1-based.

    A key repeated within one ranking counts at its best rank only. Ties keep the order in
    which keys first appear across the rankings, so the result is deterministic.
    """
    if weights is None:
        weights = [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError(f"{len(weights)} weights for {len(rankings)} rankings")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    scores: dict[Hashable, float] = {}
    for ranking, weight in zip(rankings, weights):
        seen = set()
        for rank, key in enumerate(ranking, start=1):
            if key in seen:
                continue
            seen.add(key)
            scores[key] = scores.get(key, 0.0) + weight / (k + rank)
    order = {key: i for i, key in enumerate(scores)}
    return sorted(scores.items(), key=lambda item: (-item[1], order[item[0]]))
