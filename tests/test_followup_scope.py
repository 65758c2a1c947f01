"""Conversations keep their subject: a follow-up that names no source of its own stays in the previous answer's
document while that document holds something for it."""
from __future__ import annotations

import pytest

from qa.answer import Assistant
from qa.records import Filters
from qa.search.followup import names_source


@pytest.mark.parametrize("turn, named", [
    ("那要怎么加强这方面的建设？", False), ("第二点是什么？", False), ("这方面呢？", False), ("那就业呢？", False),
    ("2015年呢？", True), ("去年呢？", True), ("《政府工作报告》里怎么说？", True), ("十九大报告呢？", True),
    ("党的二十大怎么讲？", True), ("政府工作报告里呢？", True), ("大力发展什么？", False), ("第十四次呢？", True),
])
def test_names_source(turn, named):
    assert names_source(turn) is named


def test_a_follow_up_stays_in_the_previous_answers_document(tiny, fake):
    assistant, _ = Assistant.open(tiny, fake)
    try:
        first = assistant.ask("学习是进步的阶梯", k=1)
        assert first.hits[0].passage.title == "甲讲话"
        # 作风 alone would also be searched in 乙报告; kept in 甲讲话, every hit comes from it
        answer = assistant.ask("那作风呢？", k=5, history=["学习是进步的阶梯"])
        assert answer.scope == "《甲讲话》" and answer.searched
        assert {h.passage.title for h in answer.hits} == {"甲讲话"}
        # a turn that names its own source leaves it
        named = assistant.ask("那政府工作报告里呢？", k=5, history=["学习是进步的阶梯"])
        assert named.scope is None
        # a user's own filter is never narrowed by the conversation
        filtered = assistant.ask("那作风呢？", k=5, history=["学习是进步的阶梯"], filters=Filters(doc="报告"))
        assert filtered.scope is None and {h.passage.title for h in filtered.hits} <= {"乙报告"}
        # without follow-up reading there is no scope
        assert assistant.ask("那作风呢？", k=5, history=["学习是进步的阶梯"], follow_up=False).scope is None
    finally:
        assistant.close()


@pytest.mark.parametrize("turn, n", [("第二点是什么？", 2), ("第3条呢？", 3), ("其二呢", 2), ("第十二个方面", 12),
                                     ("第十点", 10), ("那要怎么做？", None), ("第二十大", None)])
def test_ordinal(turn, n):
    from qa.search.followup import ordinal

    assert ordinal(turn) == n


def test_the_nth_point_is_the_nth_heading_under_the_previous_answers_section():
    from types import SimpleNamespace as P

    from qa.search.followup import nth_point

    passages = [P(section_path=("一、甲",)), P(section_path=("一、甲", "（一）子一")), P(section_path=("一、甲", "（二）子二")),
                P(section_path=("二、乙", "（一）别的"))]
    assert nth_point(passages, P(section_path=("一、甲", "（一）子一")), 2) == "（二）子二"
    assert nth_point(passages, P(section_path=("一、甲",)), 1) == "（一）子一"  # an answer that heads its section
    assert nth_point(passages, P(section_path=("一、甲",)), 3) is None
    assert nth_point(passages, P(section_path=()), 2) == "二、乙"
