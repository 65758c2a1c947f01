"""Keyword side: words (rjieba where it agrees with jieba), bigrams, Traditional/Simplified folding, BM25 segments."""
from __future__ import annotations

import math

import glob
import re

import numpy as np
import pytest
from conftest import SHARED
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.search import tokens as keyword
from qa.search.bm25 import B, BM25, K1, Postings, merge
from qa.search.tokens import cut_for_search, keyword_tokens, simplified, tokenize

REPORTS = ["经济总量稳步增长，粮食产量创历史新高。", "就业形势总体稳定。养老金按时足额发放。",
           "粮食安全是国之大者，要稳定粮食播种面积。", "坚持稳中求进工作总基调。", ""]


def test_words_are_simplified_and_filtered():
    assert simplified("中華人民共和國國務院") == "中华人民共和国国务院"
    assert tokenize("黨的力量來自哪裡？") == tokenize("党的力量来自哪里？")
    assert "的" not in tokenize("党的力量") and "，" not in tokenize("甲，乙")


def test_bigrams_join_the_words():
    tokens = keyword_tokens("组织建设")
    assert "组织" in tokens and "§织建" in tokens and "§组织" in tokens


def test_stopword_only_question_has_no_keyword_tokens():
    assert keyword_tokens("是什么？哪些呢") == []
    assert keyword_tokens("") == []


def test_texts_where_rjieba_differs_go_to_jieba():
    jieba = keyword._jieba()
    for text in ["细颗粒物（PM2.5）平均浓度下降", "B-25轰炸机", "白䲟可当哪些鱼类？", "2011-2020年规划", "zh-hk的页面",
                 "formula_1赛车", "视网膜厚度0.5mm", "网易163.com", "2012.03.29发布", "增长5.2%左右", "5G基站"]:
        assert cut_for_search(text) == jieba.lcut_for_search(text)
    assert not keyword._JIEBA_ONLY.search("国内生产总值增长5.2%左右，城镇新增就业1256万人")  # the usual figures


def test_a_plain_latin_block_is_cut_like_jieba_without_loading_it(monkeypatch):
    jieba = keyword._jieba()
    expected = {t: jieba.lcut_for_search(t) for t in ["细颗粒物（PM2.5）平均浓度下降2.7%", "规划（2011-2020）印发",
                                                      "访问 www.gov.cn 查询"]}
    monkeypatch.setattr(keyword, "_jieba", lambda: pytest.fail("jieba was needed"))
    for text, tokens in expected.items():
        assert cut_for_search(text) == tokens


def test_rjieba_gives_jiebas_tokens_on_every_shared_speech():
    """The whole shared speech corpus: every paragraph and every sentence cut identically (or routed to jieba)."""
    files = glob.glob(str(SHARED / "speeches" / "*" / "*.txt"))
    if not files or keyword._fast() is None:
        pytest.skip("needs ../shared/data and rjieba")
    jieba = keyword._jieba()
    paragraphs = [simplified(line.strip()) for f in files for line in open(f, encoding="utf-8") if line.strip()]
    sentences = [s for p in paragraphs for s in re.split(r"(?<=[。！？；])", p) if s]
    differ = [t[:40] for t in paragraphs + sentences if cut_for_search(t) != jieba.lcut_for_search(t)]
    assert len(paragraphs) > 9000 and differ == []
    loads = []
    real = keyword._jieba
    keyword._jieba = lambda: loads.append(1) or real()
    try:
        [cut_for_search(p) for p in paragraphs]
    finally:
        keyword._jieba = real
    assert len(loads) < 10  # jieba's dictionary is needed for a handful of paragraphs only


def _index(texts, offsets=None):
    token_lists = [keyword_tokens(t) for t in texts]
    if offsets is None:
        return BM25([(Postings.build(token_lists), 0)], np.ones(len(texts), bool))
    parts = [(Postings.build(token_lists[a:b]), a) for a, b in zip(offsets, offsets[1:] + [len(texts)])]
    return BM25(parts, np.ones(len(texts), bool))


def test_traditional_question_finds_simplified_passage():
    index = _index(REPORTS)
    assert index.search(keyword_tokens("經濟總量增長了嗎"), 2)[0][0] == 0
    assert index.search([], 2) == [] and index.search(["不存在"], 2) == []
    # BM25's idf, ln(1 + (N - df + 0.5) / (df + 0.5)), over the 5 passages: rarer words weigh more
    assert index.idf("经济") == pytest.approx(math.log(1 + 4.5 / 1.5))
    assert index.idf("粮食") == pytest.approx(math.log(1 + 3.5 / 2.5))
    assert index.idf("粮食") < index.idf("经济")
    assert index.idf("不存在") == 0


def test_scores_equal_bm25s():
    bm25s = pytest.importorskip("bm25s")
    token_lists = [keyword_tokens(t) for t in REPORTS[:4]]
    reference = bm25s.BM25(k1=K1, b=B)
    reference.index(token_lists, show_progress=False)
    ours = _index(REPORTS[:4])
    query = keyword_tokens("粮食产量稳定增长")
    expected = reference.get_scores([t for t in query if t in reference.vocab_dict])
    for row, score in ours.search(query, 4):
        assert score == pytest.approx(float(expected[row]), abs=1e-5)


def test_segments_score_like_one_corpus_and_deleted_rows_drop_out():
    whole = _index(REPORTS)
    split = _index(REPORTS, offsets=[0, 2, 3])
    query = keyword_tokens("粮食产量")
    assert split.search(query, 5) == whole.search(query, 5)
    live = np.array([True, True, False, True, True])
    masked = BM25([(Postings.build([keyword_tokens(t) for t in REPORTS]), 0)], live)
    without = _index([t for t, keep in zip(REPORTS, live) if keep])
    assert [s for _, s in masked.search(query, 5)] == [s for _, s in without.search(query, 5)]
    assert 2 not in [r for r, _ in masked.search(query, 5)]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["甲", "乙", "丙", "丁", "§甲乙"]), max_size=6), min_size=1, max_size=8),
       st.data())
def test_merging_postings_equals_building_them_at_once(token_lists, data):
    """For any corpus and any split, merged postings are the ones built from the concatenation."""
    cut = data.draw(st.integers(0, len(token_lists)))
    first, second = Postings.build(token_lists[:cut]), Postings.build(token_lists[cut:])
    merged = merge([(first, np.arange(cut)), (second, np.arange(cut, len(token_lists)))])
    whole = Postings.build(token_lists)
    for name in ("hashes", "ptr", "rows", "tfs", "lengths"):
        assert np.array_equal(getattr(merged, name), getattr(whole, name)), name


def test_empty_keyword_index():
    empty = BM25([(Postings.build([]), 0)], np.zeros(0, bool))
    assert empty.size == 0 and empty.search(["经济"], 3) == []
