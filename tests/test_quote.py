"""Quote choice: the best sentence, verbatim, with offsets."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qa.answer import best_sentence, bigram_overlap, choose_quote
from qa.chunk import make_windows, split_sentences
from qa.keyword import tokenize
from qa.records import Passage


def passage(text: str) -> Passage:
    sentences = split_sentences(text)
    return Passage("p", "d", "标题", None, ("一、甲",), 1, text, sentences, make_windows(sentences, 300, 1))


def test_best_sentence_by_idf_weighted_terms():
    sentences = [["经济", "增长"], ["党", "力量", "组织"], ["组织", "建设"]]
    idf = {"党": 0.5, "力量": 2.0, "组织": 1.0}
    assert best_sentence(["党", "力量"], sentences, idf) == 1
    assert best_sentence(["组织"], sentences, idf) == 2  # shorter sentence wins the tie on tf
    assert best_sentence(["无关"], sentences, idf) is None
    assert best_sentence(["党"], [], idf) is None
    assert best_sentence([], sentences, idf) is None


def test_bigram_fallback():
    assert bigram_overlap("组织建设", ["经济增长。", "加强组织建设。"]) == 1
    assert bigram_overlap("啊", ["经济增长。"]) is None


def test_choose_quote_finds_the_sentence():
    p = passage("习近平总书记强调:“党的力量来自组织。党的全面领导要靠组织体系去实现。”当今中国,最强大的是组织。")
    terms = tokenize("党的力量来自哪里？")
    quote = choose_quote(p, "党的力量来自哪里？", terms, {t: 1.0 for t in terms})
    assert "党的力量来自组织" in quote.text
    assert p.text[quote.start : quote.end] == quote.text


def test_choose_quote_without_overlap_takes_first_sentence():
    p = passage("第一句话。第二句话。")
    quote = choose_quote(p, "毫不相干", [], {})
    assert (quote.text, quote.start) == ("第一句话。", 0)


def test_choose_quote_on_text_without_sentences():
    p = passage("   ")
    assert choose_quote(p, "问题", ["问题"], {"问题": 1.0}).text == "   "


@given(st.text(alphabet=st.sampled_from(list("党的力量来自组织建设。！？；“”, ")), min_size=1, max_size=60),
       st.text(alphabet=st.sampled_from(list("党力量组织建设哪里")), max_size=8))
def test_quotes_are_always_verbatim_substrings(text, question):
    p = passage(text)
    terms = tokenize(question) if question else []
    quote = choose_quote(p, question, terms, {t: 1.0 for t in terms})
    assert p.text[quote.start : quote.end] == quote.text
