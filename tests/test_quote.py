"""Quote choice: the best sentence, verbatim, with offsets."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qa.ingest.chunk import make_windows, split_sentences
from qa.records import Passage
from qa.search.quotes import best_span, bigrams, choose_quote, group_near_duplicates, shingles
from qa.search.tokens import tokenize


def passage(text: str) -> Passage:
    sentences = split_sentences(text)
    return Passage("p", "d", "标题", None, ("一、甲",), 1, text, sentences, make_windows(sentences, 300, 1))


def span(question, sentences, idf):
    return best_span(question, tokenize(question), sentences, [tokenize(t) for t in sentences], idf)


def test_best_span_covers_the_most_question_weight():
    sentences = ["经济总量稳步增长。", "党的力量来自组织。", "组织建设要加强。"]
    idf = {"党": 0.5, "力量": 2.0, "组织": 1.0, "建设": 1.0}
    assert span("党的力量", sentences, idf) == (1, 1)
    assert span("组织建设", sentences, idf) == (2, 2)
    assert span("无关的话", sentences, {}) is None
    assert span("党的力量", [], idf) is None
    assert best_span("", [], sentences, [tokenize(t) for t in sentences], idf) is None


def test_two_sentences_when_the_second_adds_weight():
    sentences = ["黄河是中华民族的母亲河。", "全长约五千四百公里。", "流经九个省区。"]
    idf = {"黄河": 2.0, "全长": 2.0, "公里": 1.0}
    assert span("黄河全长多少公里", sentences, idf) == (0, 1)
    assert span("黄河", sentences, idf) == (0, 0)  # nothing more to gain: one sentence


def test_number_questions_prefer_sentences_with_numbers():
    sentences = ["粮食产量再创新高。", "粮食产量达到一万三千亿斤。"]
    assert span("粮食产量是多少", sentences, {"粮食": 1.0, "产量": 1.0}) == (1, 1)


def test_bigrams_catch_what_segmentation_splits():
    assert bigrams("组织建设") == {"组织", "织建", "建设"}
    assert span("织建", ["经济增长。", "加强组织建设。"], {}) == (1, 1)


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


def test_near_duplicates_group_across_punctuation_script_and_small_edits():
    a = "坚持稳中求进工作总基调，完整、准确、全面贯彻新发展理念，加快构建新发展格局。"
    b = "堅持穩中求進工作總基調,完整、準確、全面貫徹新發展理念,加快構建新發展格局。"
    c = "坚持稳中求进工作总基调，完整准确全面贯彻新发展理念，加快构建新发展格局，着力推动高质量发展。"
    d = "就业形势总体稳定。"
    assert group_near_duplicates([a, d, b, c]) == [[0, 2, 3], [1]]
    assert group_near_duplicates([]) == []
    assert group_near_duplicates(["", "", "甲"]) == [[0], [1], [2]]  # empty texts are never copies
    assert shingles("甲乙") == frozenset({"甲乙"})


def test_a_run_in_heading_is_not_quoted_alone():
    from dataclasses import replace

    text = "（三）要坚持学习常态化制度化。要把学习作为一种生活方式、工作方式。学习要持之以恒。"
    p = replace(passage(text), section_path=("二、要深化理论武装", "（三）要坚持学习常态化制度化"))
    idf = {t: 1.0 for t in tokenize("如何坚持学习常态化制度化")}
    quote = choose_quote(p, "如何坚持学习常态化制度化", tokenize("如何坚持学习常态化制度化"), idf)
    assert quote.text == "要坚持学习常态化制度化。要把学习作为一种生活方式、工作方式。"  # never the heading's number
    plain = choose_quote(passage(text), "坚持学习常态化制度化", tokenize("坚持学习常态化制度化"), idf)
    assert plain.text == "要坚持学习常态化制度化。"  # without the section path it is just a sentence


def _speech(text: str):
    from qa.ingest.chunk import make_passages
    from qa.ingest.structure import parse_document
    from qa.settings import ChunkSettings

    return make_passages(parse_document("t.txt", "报告\n\n" + text), ChunkSettings())[0]


def test_a_which_question_quotes_the_whole_enumeration():
    from qa.search.quotes import choose_quote

    p = _speech("今年的主要目标是：国内生产总值增长8%左右；城镇新增就业不低于900万人；物价基本稳定。下一段另说别的。")
    quote = choose_quote(p, "今年的主要目标有哪些？", tokenize("今年的主要目标有哪些？"), {})
    assert quote.text == "今年的主要目标是：国内生产总值增长8%左右；城镇新增就业不低于900万人；物价基本稳定。"


def test_a_why_question_takes_the_reason_that_follows():
    from qa.search.quotes import choose_quote

    p = _speech("把增长预期目标定在7.5%左右，兼顾了需要和可能。这与小康目标相衔接，有利于增强市场信心。另一句。")
    question = "为什么把增长预期目标定在7.5%左右？"
    quote = choose_quote(p, question, tokenize(question), {})
    assert quote.text.endswith("有利于增强市场信心。") and quote.text.startswith("把增长预期目标")
    same = choose_quote(p, "增长预期目标定在多少？", tokenize("增长预期目标定在多少？"), {})
    assert same.text == "把增长预期目标定在7.5%左右，兼顾了需要和可能。"  # other questions: unchanged


def test_a_how_question_takes_the_measures_after_a_sentence_naming_the_task():
    from qa.search.quotes import choose_quote

    p = _speech("强化就业优先政策。加大对企业稳岗扩岗支持力度。降低社保费率。实施稳岗返还政策。做好重点群体就业工作。")
    question = "怎样加大对企业稳岗扩岗支持力度？"
    quote = choose_quote(p, question, tokenize(question), {})
    assert quote.text == "加大对企业稳岗扩岗支持力度。降低社保费率。实施稳岗返还政策。"
    long = "加大对企业稳岗扩岗支持力度，" + "并且做好各方面的配套工作" * 4 + "。下一句。"
    p = _speech(long)  # a sentence that already says how is quoted alone
    assert choose_quote(p, question, tokenize(question), {}).text == long[: long.index("。") + 1]


def test_question_kinds():
    from qa.search.quotes import question_kind

    assert question_kind("今年城镇新增就业目标是多少？") == "number"
    assert question_kind("主要任务有哪些？") == "list"
    assert question_kind("为什么要坚持稳中求进？") == "reason"
    assert question_kind("如何推进乡村振兴？") == "means"
    assert question_kind("党的力量来自哪里？") == "other"


def test_quotation_marks_are_balanced_by_growing_or_cutting_the_quote():
    from qa.search.quotes import quote_span, unbalanced

    def quote(text, first, last=None):
        sentences = split_sentences(text)
        start, end = quote_span(text, sentences, first, first if last is None else last)
        return text[start:end]

    text = "总书记指出：“学习是立身之本。要持之以恒。”我们要照办。"
    assert quote(text, 0) == "总书记指出：“学习是立身之本。要持之以恒。”"  # grown to the closing mark
    assert quote(text, 1) == "总书记指出：“学习是立身之本。要持之以恒。”"  # grown back to the opening mark
    assert quote("他说：“我们要团结，要奋斗，要把事业推向前进。", 0) == "我们要团结，要奋斗，要把事业推向前进。"
    assert quote("报告说：「坚持稳中求进」是工作总基调。", 0) == "报告说：「坚持稳中求进」是工作总基调。"
    assert quote("（二）要抓好落实。落实是关键。", 0, 1) == "要抓好落实。落实是关键。"
    assert quote("一是要抓好落实。", 0) == "一是要抓好落实。"  # a point's 一是 is part of the sentence
    assert unbalanced("“甲「乙」”") == ([], []) and unbalanced("甲”乙“") == ([3], [1])


@given(st.text(alphabet="甲乙丙。，“”「」‘’（一）、 ", max_size=40), st.data())
def test_quotes_are_never_empty_and_stay_inside_their_sentences_span(text, data):
    from qa.search.quotes import quote_span

    sentences = split_sentences(text)
    if not sentences:
        return
    first = data.draw(st.integers(0, len(sentences) - 1))
    last = data.draw(st.integers(first, len(sentences) - 1))
    start, end = quote_span(text, sentences, first, last)
    assert 0 <= start < end <= len(text)
