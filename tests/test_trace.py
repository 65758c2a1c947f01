"""提法演变: matching a formulation in a sentence, the change between years, and tracing through a tiny library."""
from __future__ import annotations

import pytest
from conftest import TRACE_CORPUS
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.check.sources import SourceCorpus
from qa.errors import BadPhrase, InvalidSetting
from qa.ingest.chunk import make_passages
from qa.ingest.metadata import chinese_number, congress_of, document_kind
from qa.ingest.read import read_source
from qa.ingest.structure import parse_document, parse_source
from qa.records import Citation, trace_years
from qa.settings import ChunkSettings
from qa.trace.match import Phrase, clause, figure_near, find
from qa.trace.timeline import Occurrence, change_between
from qa.trace.tracer import Tracer, parse_phrase


def _o(clause_text: str, figure: str | None = None) -> Occurrence:
    return Occurrence("exact", clause_text, 0, 1, clause_text, figure, Citation("t", None, (), 1), "d", "p", 1.0)


# ---- one sentence ---------------------------------------------------------------------------------------------

def test_exact_phrase_found_through_folding():
    found = find(Phrase.of("稳中求进"), "我們堅持穩中求進，推動發展。")
    assert found.how == "exact" and "我們堅持穩中求進，推動發展。"[found.start : found.end] == "穩中求進"


@pytest.mark.parametrize("sentence, variant", [
    ("坚持稳中求进的工作总基调。", "稳中求进的工作总基调"),  # a light character added
    ("实施西部地区大开发战略。", "西部地区大开发"),  # a word added inside
    ("实施积极财政政策。", "积极财政政策"),  # a light character left out
])
def test_near_variants(sentence, variant):
    phrase = {"稳中求进的工作总基调": "稳中求进工作总基调", "西部地区大开发": "西部大开发",
              "积极财政政策": "积极的财政政策"}[variant]
    found = find(Phrase.of(phrase), sentence)
    assert found.how == "variant" and sentence[found.start : found.end] == variant


@pytest.mark.parametrize("phrase, sentence", [
    ("全面建设小康社会", "决胜全面建成小康社会。"),  # one content character changed: another formulation
    ("新质生产力", "创造了新的生产力。"),
    ("稳增长", "稳中有增长。"),  # three characters: only as written
    ("稳中求进工作总基调", "稳中求进，开拓创新，工作扎实，总体向好，基调不变。"),  # spread over a sentence
])
def test_not_variants(phrase, sentence):
    assert find(Phrase.of(phrase), sentence) is None


def test_a_target_is_found_by_its_words_when_a_figure_follows():
    phrase = Phrase.of("经济增长预期目标")
    assert phrase.target
    found = find(phrase, "今年发展主要预期目标是：国内生产总值增长5%左右，城镇新增就业1200万人。")
    assert found.how == "related"
    assert find(phrase, "经济增长5%，低于预期目标。") is None  # the figure reported before it, not set by it
    assert find(phrase, "今年经济社会发展的主要预期目标是：").how == "related"  # figures follow in the next paragraph
    assert find(phrase, "今年发展主要预期目标是：") is None  # too few of its words
    assert find(Phrase.of("新质生产力"), "新型生产力发展质量提高5%。") is None  # only targets are found by words


def test_figures_and_clauses():
    s = "经济增长预期目标为5%左右，赤字率拟按3%安排；城镇调查失业率5.5%左右。"
    assert figure_near(s, 8) == "5%左右"
    assert figure_near("赤字率一直保持在较低的合理水平，去年为2.8%", 3) is None  # too far
    assert figure_near("增长预期目标；去年增长5%", 6) is None  # not past ；
    assert figure_near("目标为6.5%－7%", 2) == "6.5%－7%"
    assert figure_near("国内生产总值增长百分之六", 8) is None  # figures in words are not read
    a, b = clause(s, 0, 8)
    assert s[a:b] == "经济增长预期目标为5%左右"


# ---- between years --------------------------------------------------------------------------------------------

def test_change_between_years():
    same = change_between(_o("坚持稳中求进工作总基调"), _o("（一）坚持稳中求进工作总基调"), "2017年")
    assert same.same and same.summary() == "较2017年：提法相同"
    grown = change_between(_o("坚持稳中求进"), _o("坚持稳中求进的工作总基调"), "2012年")
    assert grown.added == ("的工作总基调",) and grown.removed == ()
    assert grown.summary() == "较2012年：增加“的工作总基调”"
    figure = change_between(_o("经济增长预期目标为5%左右", "5%左右"), _o("经济增长预期目标为4.5%-5%", "4.5%-5%"), "2025年")
    assert figure.same and figure.figure_changed  # figures are compared as figures, not as characters
    assert figure.summary() == "较2025年：提法相同；数字 5%左右 → 4.5%-5%"
    assert not change_between(_o("增长8％", "8％"), _o("增长8%", "8%"), "1997年").figure_changed  # widths fold
    rewritten = change_between(_o("推动高质量发展"), _o("高质量发展扎实推进取得新成效"), "2023年")
    assert rewritten.rewritten and rewritten.summary() == "较2023年：表述改写"


# ---- bad input ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, reason", [("", "empty"), ("  “” ", "empty"), ("新", "too_short"),
                                          ("新" * 61, "too_long")])
def test_bad_phrases(text, reason):
    with pytest.raises(BadPhrase) as caught:
        parse_phrase(text, None)
    assert caught.value.details["reason"] == reason


def test_a_kind_named_in_the_phrase_becomes_the_filter():
    assert parse_phrase("政府工作报告中的经济增长预期目标", None) == ("经济增长预期目标", "政府工作报告")
    assert parse_phrase("政府工作报告", None) == ("政府工作报告", None)  # the phrase itself
    with pytest.raises(InvalidSetting) as caught:
        parse_phrase("新质生产力", "报告")
    assert "政府工作报告" in caught.value.details["valid"]


def test_year_ranges():
    assert trace_years(None, None) is None
    assert trace_years("2015", 2025) == (2015, 2025)
    assert trace_years("2025", "2015") == (2015, 2025)
    assert trace_years("2015", None) == (2015, 9999)
    with pytest.raises(InvalidSetting):
        trace_years("15", None)


# ---- documents ------------------------------------------------------------------------------------------------

def test_document_kinds():
    assert document_kind("政府工作报告") == "政府工作报告"
    assert document_kind("第十四届全国人民代表大会第二次会议关于政府工作报告的决议") == "决议"
    assert document_kind("全面开创社会主义现代化建设的新局面", "中国共产党第十二次全国代表大会") == "党代会报告"
    assert document_kind("在中国共产党第九次全国代表大会上的报告") == "党代会报告"
    assert document_kind("在2024年机关党建工作质量提升推进会上的讲话稿") == "讲话"
    assert document_kind("学习心得") == "其他"


def test_a_congress_report_without_a_date_is_dated_by_its_congress():
    assert [chinese_number(n) for n in (1, 10, 12, 20)] == ["一", "十", "十二", "二十"]
    assert congress_of("在中国共产党第九次全国代表大会上的报告", []) == 9
    assert congress_of("全面建设小康社会", ["同志们：", "现在，我代表第十五届中央委员会向大会作报告。"]) == 16
    assert congress_of("学习十九大报告的体会", ["我们认真学习。"]) is None
    doc = parse_document("16_全面建设小康社会.txt", "全面建设小康社会\n同志们：\n现在，我代表第十五届中央委员会向大会作报告。\n"
                         "一、过去五年的工作\n我们坚持改革开放。\n")
    assert doc.date == "2002-11-08" and doc.occasion == "中国共产党第十六次全国代表大会"
    dated = parse_document("x.txt", "某讲话\n（2020年1月1日）\n我代表第十五届中央委员会向大会作报告。\n")
    assert dated.date == "2020-01-01"  # a date of its own wins


# ---- a tiny library -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tracer(tmp_path_factory) -> Tracer:
    folder = tmp_path_factory.mktemp("trace")
    passages, documents = [], []
    for name, text in TRACE_CORPUS.items():
        (folder / name).write_text(text, encoding="utf-8")
        doc = parse_source(name, read_source(folder / name))[0]
        passages += make_passages(doc, ChunkSettings())
        documents.append({"doc_id": doc.doc_id, "source": name, "title": doc.title, "date": doc.date,
                          "occasion": doc.occasion})
    return Tracer(SourceCorpus(passages), documents)


def test_a_formulation_year_by_year(tracer):
    trace = tracer.trace("稳中求进工作总基调", kind="政府工作报告")
    assert [r.year for r in trace.rows] == [2023, 2024]
    assert trace.first == 2023 and trace.last == 2024 and trace.absent == (2022,)
    first, last = trace.rows
    assert first.main.how == "variant" and first.main.found == "稳中求进的工作总基调"
    assert last.main.how == "exact" and last.change.removed == ("的",)
    assert last.main.citation.section_path == ("二、2024年主要目标",)
    # every kind: the speech of 2023 joins its year; the 2024 report changes from 2023's last row
    everything = tracer.trace("稳中求进工作总基调")
    assert [(r.year, r.kind) for r in everything.rows] == [(2023, "政府工作报告"), (2023, "讲话"), (2024, "政府工作报告")]
    assert everything.rows[1].change is None and everything.rows[2].change.since == "2023年"


def test_a_target_gives_each_years_figure(tracer):
    trace = tracer.trace("经济增长预期目标", kind="政府工作报告")
    assert [(r.year, r.main.figure) for r in trace.rows] == [(2022, "6%左右"), (2023, "5.5%左右"), (2024, "5%左右")]
    # the review of the year before mentions the target too: the sentence setting it leads
    assert all("工作回顾" not in r.main.citation.render() for r in trace.rows)
    assert trace.rows[1].main.sentence == "今年经济社会发展的主要预期目标是："  # its figures follow in the next paragraph
    assert trace.rows[2].change.figure_before == "5.5%左右" and trace.rows[2].change.figure_after == "5%左右"


def test_short_formulation_and_years(tracer):
    trace = tracer.trace("稳中求进", kind="政府工作报告", years=(2022, 2023))
    assert [r.year for r in trace.rows] == [2022, 2023]
    assert len(trace.rows[0].occurrences) == 2  # the review and the plan
    # compared with the 2022 sentence put most like 2023's (the plan, not the review)
    assert trace.rows[1].change.summary() == "较2022年：增加“的工作总基调”"


def test_nothing_found_suggests_what_does_occur(tracer):
    trace = tracer.trace("新质量生产力")
    assert trace.notice == "trace_not_found" and not trace.rows
    assert trace.suggestions[0] == "新质生产力"
    assert tracer.trace("稳中求进", years=(1990, 1995)).notice == "trace_no_documents"
    assert tracer.trace("稳中求进", kind="党代会报告").notice == "trace_no_documents"


def test_an_empty_library():
    assert Tracer(SourceCorpus([]), []).trace("稳中求进").notice == "empty_index"


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_piece_of_a_sentence_is_found_in_its_year(tracer, data):
    """Property: a piece of at least two characters cut from any sentence is traced to that sentence's year
    (a formulation stays inside one sentence)."""
    passages = [p for p in tracer.source.passages if tracer.documents[p.doc_id]["kind"] == "政府工作报告"]
    p = data.draw(st.sampled_from(passages))
    sentence = data.draw(st.sampled_from([s for s in p.sentences if s.end - s.start >= 2]))
    start = data.draw(st.integers(sentence.start, sentence.end - 2))
    end = data.draw(st.integers(start + 2, min(sentence.end, start + 12)))
    piece = p.text[start:end]
    try:
        phrase, _ = parse_phrase(piece, None)
    except BadPhrase:
        return  # punctuation only, or one character once folded
    trace = tracer.trace(phrase, kind="政府工作报告")
    assert tracer.documents[p.doc_id]["year"] in {r.year for r in trace.rows}
