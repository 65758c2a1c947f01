"""Calibrated confidence: the verdict for each kind of evidence, the BM25 ceiling, and how the answer shows it."""
from __future__ import annotations

import json
import math

import pytest

from qa.records import Answer
from qa.search.bm25 import BM25, Postings
from qa.search.confidence import HIGH, LOW, MEDIUM, Calibration, calibration_for, level
from qa.search.tokens import keyword_tokens

CAL = Calibration(dense_floor=0.89, keyword_floor=0.23, dense_high=0.92, keyword_high=0.40)


@pytest.mark.parametrize("dense, keyword, expected", [
    (0.95, None, HIGH), (None, 0.5, HIGH), (0.90, 0.0, MEDIUM), (0.5, 0.25, MEDIUM), (0.88, 0.22, LOW),
    (None, None, LOW), (0.89, None, MEDIUM), (0.0, 0.40, HIGH),
])
def test_either_side_strong_enough_is_enough(dense, keyword, expected):
    assert level(dense, keyword, CAL) == expected


def test_an_uncalibrated_model_gets_no_verdict():
    assert calibration_for("some-other-model") is None
    assert level(0.99, 0.99, None) is None
    assert calibration_for("multilingual-e5-small") is not None


def test_ceiling_is_what_a_passage_with_every_term_would_score():
    texts = ["粮食产量稳定增长", "经济总量稳步增长", "就业形势稳定"]
    index = BM25([(Postings.build([keyword_tokens(t) for t in texts]), 0)], __import__("numpy").ones(3, bool))
    tokens = keyword_tokens("粮食产量")
    assert index.ceiling(tokens) == pytest.approx(sum(index.idf(t) for t in tokens))
    unseen = math.log(1 + 3.5 / 0.5)
    assert index.ceiling(["从未出现"]) == pytest.approx(unseen)  # a word no passage has counts as the rarest
    best = index.search(tokens, 1)[0][1]
    assert 0 < best / index.ceiling(tokens) < 1


def test_an_unreliable_answer_folds_its_passages_away(tiny, fake):
    from qa.answer import Assistant
    from qa.app.cards import render_answer
    from qa.app.output import answer_json

    assistant, _ = Assistant.open(tiny, embedder=fake)
    answer = assistant.ask("粮食产量")
    assert answer.confident is None and answer.hits[0].confidence is None  # the fake model has no calibration
    assert "相关度" not in render_answer(answer) and "找到" in render_answer(answer)
    low = Answer(answer.question, tuple(h.__class__(**{**h.__dict__, "confidence": "low"}) for h in answer.hits),
                 confident=False)
    html = render_answer(low)
    assert "没有找到可靠的相关原文" in html and "<details" in html and "相关度：低" in html and "找到 " not in html
    assert json.loads(json.dumps(answer_json(low)))["confident"] is False
    assert answer_json(low)["hits"][0]["confidence"] == "low"


def test_the_floors_follow_the_size_of_the_library():
    c = Calibration(dense_floor=0.89, keyword_floor=0.21, dense_high=0.92, keyword_high=0.40, passages=10_000,
                    dense_slope=0.01, keyword_slope=0.02)
    assert c.at(10_000) == c  # the size they were set on
    small, large = c.at(10), c.at(1_000_000)
    assert small.dense_floor == pytest.approx(0.86) and small.keyword_floor == pytest.approx(0.15)
    assert large.dense_floor == pytest.approx(0.90) and large.keyword_floor == pytest.approx(0.23)  # one tenfold at most
    assert c.at(0).dense_floor == c.at(1).dense_floor >= 0.89 - 0.037 - 1e-9  # an empty library: the smallest floors
    assert small.dense_high == c.dense_high and small.keyword_high == c.keyword_high
    shipped = calibration_for("multilingual-e5-small")
    assert shipped.at(18).dense_floor < shipped.dense_floor < shipped.at(100_000).dense_floor
