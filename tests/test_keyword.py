"""Keyword side: jieba words, character bigrams, Traditional/Simplified folding, BM25."""
from __future__ import annotations

from qa.keyword import KeywordIndex, keyword_tokens, simplified, tokenize


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


def test_traditional_question_finds_simplified_passage():
    texts = ["经济总量稳步增长，粮食产量创历史新高。", "就业形势总体稳定。"]
    index = KeywordIndex.build([keyword_tokens(t) for t in texts])
    assert index.search(keyword_tokens("經濟總量增長了嗎"), 2)[0][0] == 0
    assert index.search([], 2) == [] and index.search(["不存在"], 2) == []
    assert index.idf("经济") > 0 and index.idf("不存在") == 0


def test_empty_keyword_index():
    empty = KeywordIndex.build([])
    assert empty.size == 0 and empty.search(["经济"], 3) == []
