"""Reciprocal rank fusion as a pure function."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.fusion import reciprocal_rank_fusion as rrf


def test_scores_are_sums_of_reciprocal_ranks():
    fused = dict(rrf([["a", "b"], ["b", "c"]], k=60))
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 62)


def test_agreement_wins():
    assert [key for key, _ in rrf([["a", "b"], ["c", "b"], ["d", "b"]])][0] == "b"


def test_weights_and_ties():
    assert [key for key, _ in rrf([["a"], ["b"]])] == ["a", "b"]  # tie: first appearance
    assert [key for key, _ in rrf([["a"], ["b"]], weights=[1, 2])] == ["b", "a"]


def test_edge_cases():
    assert rrf([]) == []
    assert rrf([[], []]) == []
    # a repeat counts once, at its best rank; later keys keep their positions
    assert rrf([["a", "a", "b"]], k=0) == [("a", 1.0), ("b", pytest.approx(1 / 3))]
    with pytest.raises(ValueError):
        rrf([["a"]], weights=[1, 1])
    with pytest.raises(ValueError):
        rrf([["a"]], k=-1)


@given(st.lists(st.lists(st.integers(0, 20), max_size=15), max_size=4))
def test_every_key_appears_once_sorted_by_score(rankings):
    fused = rrf(rankings)
    keys = [key for key, _ in fused]
    assert sorted(keys) == sorted({k for r in rankings for k in r})
    scores = [s for _, s in fused]
    assert scores == sorted(scores, reverse=True)
