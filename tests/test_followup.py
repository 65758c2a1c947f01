"""Follow-up questions read with the turn before: which turns lean on it, and what is searched."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.search.followup import content_words, leans_on_previous, rewrite


def test_elliptical_and_anaphoric_turns_lean_on_the_previous_one():
    for turn in ("那要怎么加强？", "为什么？", "棉花呢？", "这些措施效果如何？", "2015年呢？", "具体要怎么做？"):
        assert leans_on_previous(turn), turn
    for turn in ("中央财政怎么筹集减税降费的资金？", "党的政治建设要摆在什么位置？"):
        assert not leans_on_previous(turn), turn


def test_a_turn_without_a_topic_takes_the_previous_one():
    assert rewrite("那要怎么加强？", "党的力量来自哪里？").text == "党的力量来自哪里，要怎么加强？"
    assert rewrite("为什么？", "2014年经济增长预期目标定在多少？").text == "2014年经济增长预期目标定在多少，为什么？"
    assert rewrite("2015年呢？", "2014年经济增长预期目标定在多少？").text == "2015年经济增长预期目标定在多少？"


def test_a_turn_with_a_topic_keeps_it_and_takes_the_years():
    assert rewrite("那城镇新增就业目标呢？", "2012年经济增长预期目标是多少？").text == "2012年城镇新增就业目标？"
    assert rewrite("那2018年居民消费价格呢？", "2018年居民人均可支配收入实际增长多少？").text == "2018年居民消费价格呢？"
    assert content_words("那政治呢？") == ["政治"]


def test_a_complete_question_or_a_first_turn_is_searched_as_asked():
    full = "中央财政怎么筹集减税降费的资金？"
    assert rewrite(full, "2019年“三公”经费再压减多少？").text == full
    assert not rewrite(full, "2019年“三公”经费再压减多少？").used_previous
    assert not rewrite("为什么？", None).used_previous and not rewrite("为什么？", "  ").used_previous


@settings(deadline=None)  # the first call loads the word segmenter
@given(st.text(max_size=30), st.text(max_size=30))
def test_rewriting_never_loses_the_question_when_the_previous_turn_is_not_used(question, previous):
    read = rewrite(question, previous)
    assert read.used_previous or read.text == question or read.text == question.strip().lstrip("那么而还有此外另外，, ")
