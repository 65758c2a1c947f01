"""Reciprocal rank fusion as a pure function."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.search.fusion import reciprocal_rank_fusion as rrf
from qa.search.retrieve import expand_aliases
from qa.search.when import TimeAsked, intent_of, time_asked, year_ranking


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


@pytest.mark.parametrize(
    "question, years",
    [("2024年赤字率是多少", [2024]), ("1978年和1979年的报告", [1978, 1979]), ("增长5.2%", []), ("第20240号文件", []),
     ("二〇二四年", [])],
)
def test_years_asked(question, years):
    assert list(time_asked(question, None).years) == years


@pytest.mark.parametrize(
    "question, added",
    [("二十大报告怎样概括中国式现代化", "第二十次全国代表大会"), ("十一大宣布了什么", "第十一次全国代表大会"),
     ("党的十八大以来", "第十八次全国代表大会"), ("十大杰出青年", None), ("扩大内需", None), ("第二十大项", None)],
)
def test_expand_aliases(question, added):
    got = expand_aliases(question)
    assert got == (question if added is None else f"{question} {added}")


def test_year_ranking_keeps_fused_order_and_takes_the_next_year_too():
    row_year = [2023, 2024, 2025, 0, 2024]
    assert year_ranking([2, 0, 1, 3, 4], row_year, TimeAsked((2024,))) == [2, 1, 4]
    assert year_ranking([0, 1], row_year, TimeAsked()) == []


def test_year_ranking_takes_a_plans_own_year_and_an_outcomes_review():
    row_year = [2023, 2024, 2025, 0, 2024]
    assert year_ranking([2, 0, 1, 3, 4], row_year, TimeAsked((2024,), "plan")) == [1, 4]
    assert year_ranking([2, 0, 1, 3, 4], row_year, TimeAsked((2024,), "outcome")) == [2]


@pytest.mark.parametrize("question, as_of, years, relative", [
    ("今年经济增长预期目标是多少？", 2025, (2025,), True),
    ("去年国内生产总值增长了多少？", 2022, (2021,), True),
    ("前年和今年", 2024, (2022, 2024), True),
    ("明年的安排", 2024, (2025,), True),
    ("近三年粮食产量", 2024, (), False),  # spans are not resolved (see when.py)
    ("2019年和去年", 2024, (2019, 2023), True),
    ("今年", None, (), False),  # nothing to resolve against
    ("上年同期比较", 2010, (2009,), True),
    ("经济增长预期目标是多少？", 2025, (), False),
    ("2018年报告说去年贫困人口减少了多少", 2025, (2018, 2017), True),  # counted from the report named
])
def test_relative_years_resolve_against_the_as_of_year(question, as_of, years, relative):
    asked = time_asked(question, as_of)
    assert asked.years == years and asked.relative is relative


@pytest.mark.parametrize("question, intent", [
    ("2025年经济增长预期目标是多少？", "plan"), ("2018年要压减多少钢铁产能？", "plan"),
    ("2021年国内生产总值达到多少？", "outcome"), ("去年城镇新增就业多少人？", "outcome"),
    ("1998年国内生产总值增长了多少，完成目标了吗？", "plan"),  # names the target: the plan's year counts first
    ("为什么要降低积累率？", None), ("", None),
])
def test_intent_of_a_question(question, intent):
    assert intent_of(question) == intent


def test_a_report_named_by_its_year_is_that_document():
    asked = time_asked("2023年报告回顾过去五年经济年均增长多少", 2025)
    assert (asked.years, asked.intent) == ((2023,), "report")
    assert year_ranking([0, 1, 2], [2023, 2024, 2022], asked) == [0]


@pytest.mark.parametrize("text, year", [("2024", 2024), ("2024-03-05", 2024), (" 1999-1-2 ", 1999), ("", None),
                                        (None, None)])
def test_as_of_year(text, year):
    from qa.search.when import as_of_year

    assert as_of_year(text) == year


@pytest.mark.parametrize("text", ["去年", "24", "2024/03/05", "3000", "2024-03-05T00:00"])
def test_a_bad_as_of_is_refused_with_the_form(text):
    from qa.errors import InvalidSetting
    from qa.search.when import as_of_year

    with pytest.raises(InvalidSetting) as caught:
        as_of_year(text)
    assert caught.value.details["valid"].startswith("YYYY 或 YYYY-MM-DD")


def test_zscore_fusion_rewards_a_clear_lead():
    from qa.search.fusion import zscore_fusion

    dense = [("a", 0.90), ("b", 0.50), ("c", 0.49), ("d", 0.48)]  # a far ahead
    bm25 = [("b", 10.0), ("a", 9.9), ("d", 9.8), ("c", 9.7)]  # b barely ahead
    assert zscore_fusion([dense, bm25], [0.5, 0.5])[0][0] == "a"
    from qa.search.fusion import reciprocal_rank_fusion

    ranks = reciprocal_rank_fusion([[k for k, _ in dense], [k for k, _ in bm25]])
    assert ranks[0][1] == ranks[1][1]  # by rank alone a and b tie: only the scores show a's lead


@pytest.mark.parametrize("lists, expected", [
    ([[], []], []),
    ([[("x", 1.0)], []], [("x", 0.0)]),  # one key: no spread, no score
    ([[("x", 2.0), ("y", 2.0)], []], [("x", 0.0), ("y", 0.0)]),  # equal scores: order of appearance
    ([[("x", 1.0), ("y", 0.0)], [("z", 5.0), ("x", 1.0)]], [("x", 0.0), ("z", 0.5), ("y", -0.5)]),
])
def test_zscore_fusion_edge_cases(lists, expected):
    from qa.search.fusion import zscore_fusion

    got = zscore_fusion(lists, [0.5, 0.5])
    assert [(k, round(v, 6)) for k, v in got] == sorted(expected, key=lambda e: -e[1])


def test_zscore_fusion_needs_one_weight_per_list():
    from qa.search.fusion import zscore_fusion

    with pytest.raises(ValueError):
        zscore_fusion([[("x", 1.0)]], [0.5, 0.5])
