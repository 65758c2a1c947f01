"""Fusion of several rankings into one: by reciprocal rank, or by z-scores of the scores."""
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


def zscore_fusion(
    scored: Sequence[Sequence[tuple[Hashable, float]]],
    weights: Sequence[float],
) -> list[tuple[Hashable, float]]:
    """Fuse scored lists by the weighted sum of each key's z-score within each list (its distance from the list's
    mean score in standard deviations), best first.

    Unlike ranks, scores say how far ahead the first is: on CMRC2018 and DRCD dev this beat reciprocal rank fusion
    (docs/EVALUATION.md). A key absent from a list counts as that list's mean (z = 0); a list of one key, or of equal
    scores, gives 0 to all. Ties keep the order in which keys first appear."""
    if len(weights) != len(scored):
        raise ValueError(f"{len(weights)} weights for {len(scored)} lists")
    totals: dict[Hashable, float] = {}
    for items in scored:
        for key, _ in items:
            totals.setdefault(key, 0.0)
    for items, weight in zip(scored, weights):
        values = [score for _, score in items]
        if len(values) < 2:
            continue
        mean = sum(values) / len(values)
        spread = (sum((v - mean) ** 2 for v in values) / len(values)) ** 0.5
        if spread == 0:
            continue
        seen = set()
        for key, score in items:
            if key not in seen:
                seen.add(key)
                totals[key] += weight * (score - mean) / spread
    order = {key: i for i, key in enumerate(totals)}
    return sorted(totals.items(), key=lambda item: (-item[1], order[item[0]]))
