"""Sentences with offsets, embedding windows and passage ids."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from qa.ingest.chunk import lead_ins, make_passages, make_windows, passage_id, split_sentences
from qa.ingest.structure import parse_document
from qa.records import Span
from qa.settings import ChunkSettings


def texts(text):
    return [text[s.start : s.end] for s in split_sentences(text)]


def test_split_at_chinese_terminators():
    assert texts("第一句。第二句！第三句？第四句；第五句") == ["第一句。", "第二句！", "第三句？", "第四句；", "第五句"]


def test_closing_quotes_stay_with_their_sentence():
    text = "他说：“党的力量来自组织。”随后又说。"
    assert texts(text) == ["他说：“党的力量来自组织。”", "随后又说。"]


def test_half_width_terminators_and_repeated_marks():
    assert texts("真的吗?!是的;好") == ["真的吗?!", "是的;", "好"]


def test_offsets_and_spaces():
    text = "\u3000甲句。  乙句。 "
    spans = split_sentences(text)
    assert [(s.start, s.end) for s in spans] == [(1, 4), (6, 9)]
    assert split_sentences("   ") == () and split_sentences("") == ()


CJK = st.text(alphabet=st.sampled_from(list("党的力量来自组织。！？；;?!”」） \u3000ab1")), max_size=80)


@given(CJK)
def test_sentences_cover_every_non_space_character_in_order(text):
    spans = split_sentences(text)
    covered = set()
    last_end = 0
    for s in spans:
        assert last_end <= s.start < s.end <= len(text)
        assert not text[s.start].isspace() and not text[s.end - 1].isspace()
        covered.update(range(s.start, s.end))
        last_end = s.end
    assert all(i in covered for i, ch in enumerate(text) if ch not in " \t\n\u3000\xa0")


@given(CJK, st.integers(min_value=5, max_value=40), st.integers(min_value=0, max_value=2))
@settings(max_examples=200)
def test_windows_cover_all_sentences_within_size(text, size, overlap):
    sentences = split_sentences(text)
    windows = make_windows(sentences, size, overlap)
    if not sentences:
        assert windows == ()
        return
    assert windows[0].start == sentences[0].start and windows[-1].end == sentences[-1].end
    starts = {s.start for s in sentences}
    ends = {s.end for s in sentences}
    for a, b in zip(windows, windows[1:]):
        assert a.start < b.start and a.end < b.end  # advancing
    for s in sentences:  # no sentence falls between windows
        assert any(w.start <= s.start and s.end <= w.end for w in windows)
    for w in windows:
        assert w.start in starts and w.end in ends
        inside = [s for s in sentences if w.start <= s.start and s.end <= w.end]
        assert w.end - w.start <= size or len(inside) == 1


def test_short_paragraph_is_one_window():
    sentences = (Span(0, 3), Span(3, 6))
    assert make_windows(sentences, 100, 1) == (Span(0, 6),)


def test_passage_ids_are_content_hashes():
    a = passage_id("doc1", ("一、甲",), "正文。", 1)
    assert a == passage_id("doc1", ("一、甲",), "正文。", 1)
    assert a != passage_id("doc1", ("二、乙",), "正文。", 1)
    assert a != passage_id("doc1", ("一、甲",), "正文。", 2)
    assert a != passage_id("doc2", ("一、甲",), "正文。", 1)


def test_repeated_paragraphs_get_distinct_ids_and_rebuilds_are_idempotent():
    doc = parse_document("x.txt", "标题\n一、甲\n同样的话。\n同样的话。")
    first = make_passages(doc, ChunkSettings())
    again = make_passages(parse_document("x.txt", "标题\n一、甲\n同样的话。\n同样的话。"), ChunkSettings())
    assert len({p.passage_id for p in first}) == 2
    assert [p.passage_id for p in first] == [p.passage_id for p in again]
    assert [p.paragraph for p in first] == [1, 2]


def _passages(text: str):
    return make_passages(parse_document("t.txt", text), ChunkSettings())


def test_lead_in_reaches_the_next_paragraph_only():
    passages = _passages("报告\n一、目标\n今年的主要预期目标是：\n国内生产总值增长5%左右。\n另一段话，不受引导。\n")
    texts = [p.text for p in passages]
    leads = lead_ins(passages)
    assert leads[texts.index("国内生产总值增长5%左右。")] == "今年的主要预期目标是："
    assert leads[texts.index("另一段话，不受引导。")] is None
    assert leads[texts.index("今年的主要预期目标是：")] is None


def test_lead_in_reaches_a_run_of_points_and_stops_at_a_new_section():
    passages = _passages("报告\n一、成就\n主要成就是：\n——经济稳定增长。\n——就业总体稳定。\n二、任务\n粮食稳产。\n")
    leads = dict(zip([p.text for p in passages], lead_ins(passages)))
    assert leads["——经济稳定增长。"] == leads["——就业总体稳定。"] == "主要成就是："
    assert leads["粮食稳产。"] is None


def test_a_long_paragraph_ending_in_a_colon_is_no_lead_in():
    long = "我们在过去一年里" * 10 + "取得了以下成绩："
    passages = _passages(f"报告\n{long}\n成绩很多。\n")
    assert lead_ins(passages) == [None, None]
