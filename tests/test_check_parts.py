"""引文核对's pure parts: folding with offsets, finding quotations and lead-ins, named sources, alignment."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qa.check.align import align
from qa.check.attribution import NamedSource, agrees, named_source
from qa.check.normal import fold, original_span, trim_edges
from qa.check.quotations import draft_sentences, find_quotations
from qa.check.sources import SourceCorpus
from qa.records import Passage, Span


def test_fold_width_script_punctuation_and_spaces():
    folded, where = fold("習近平總書記強調: \"黨的力量來自組織。\" ３．５％")
    assert folded == "习近平总书记强调：党的力量来自组织。3.5%"
    assert where[folded.index("3")] == "習近平總書記強調: \"黨的力量來自組織。\" ３．５％".index("３")
    assert fold("「要树立『四个意识』」")[0] == fold("“要树立‘四个意识’”")[0] == "要树立四个意识"
    assert fold("a, b; c")[0] == "a，b；c" and fold("完成。 下一句")[0] == "完成。下一句"
    # a character OpenCC keeps inside a phrase it knows is folded again alone: both sides then agree
    assert fold("致力於")[0] == fold("致力于")[0]


@given(st.text(alphabet="党的力量來自組織，。, .;：“”「」 ３５ab\u3000\n", max_size=40))
def test_fold_maps_every_character_back(text):
    folded, where = fold(text)
    assert len(folded) == len(where) and list(where) == sorted(set(where))
    assert all(0 <= i < len(text) and not text[i].isspace() for i in where)
    start, end = original_span(where, 0, len(folded), len(text))
    assert text[start:end].strip() == text[start:end]


def test_trim_edges_leaves_the_words():
    text = "……党的力量来自组织。"
    assert text[slice(*trim_edges(text))] == "党的力量来自组织"
    assert trim_edges("。，") == (2, 2)


def test_quotations_nested_straight_and_corner_marks_with_lead_ins():
    draft = ('习近平总书记强调：“党的力量来自组织。要树立‘四个意识’。”他还指出，"发展是第一要务"。\n'
             "文件提出「外『内』外」。\n未闭合的“引号到段尾")
    found = find_quotations(draft)
    assert [(q.text, q.depth) for q in found] == [("党的力量来自组织。要树立‘四个意识’。", 0), ("四个意识", 1),
                                                   ("发展是第一要务", 0), ("外『内』外", 0), ("内", 1)]
    assert [q.lead_in for q in found if q.depth == 0] == ["习近平总书记强调：", "他还指出，", "文件提出"]
    assert all(draft[q.start : q.end] == q.text for q in found)


def test_a_lead_in_on_the_line_before_and_a_source_in_brackets_after():
    draft = "习近平总书记指出：\n“党的力量来自组织。”\n文件说“坚持稳中求进工作总基调”（2023年政府工作报告）。\n“独立一段。”"
    first, second, third = find_quotations(draft)
    assert first.lead_in == "习近平总书记指出：" and first.note == ""
    assert second.lead_in == "文件说" and second.note == "2023年政府工作报告"
    assert third.lead_in == "" and third.note == ""


def test_a_draft_without_quotations_and_its_sentences():
    draft = "今年我们要做好三件事。第一，抓好春耕生产，确保粮食丰收。短句。"
    assert find_quotations(draft) == []
    sentences = draft_sentences(draft, [])
    assert [s.text for s in sentences] == ["今年我们要做好三件事。", "第一，抓好春耕生产，确保粮食丰收。"]
    assert not any(s.marked for s in sentences)
    quoted = '他说：“今年我们要做好三件事。”然后散会了，大家都很高兴。'
    assert [s.text for s in draft_sentences(quoted, find_quotations(quoted))] == ["然后散会了，大家都很高兴。"]


def test_named_sources():
    assert named_source("习近平总书记强调：") == NamedSource()
    assert not named_source("截至2023年底，")
    assert named_source("2023年政府工作报告提出，") == NamedSource(year=2023, kind="政府工作报告")
    assert named_source("党的二十大报告指出：").congress == "二十"
    assert named_source("党的二十大强调，").congress == "二十"
    assert not named_source("党的十八大以来，习近平总书记反复强调要实施标准化战略，并指出，")
    assert named_source("党的二十届三中全会《决定》指出").plenum == ("二十", "三")
    assert named_source("他在《关于加强机关党建的意见》中指出").title == "关于加强机关党建的意见"
    occasion = named_source("在2024年机关党建工作质量提升推进会上强调：")
    assert occasion.year == 2024 and "机关党建" in occasion.occasion


def test_agrees_with_year_title_congress_and_occasion():
    report = named_source("2023年政府工作报告指出：")
    assert agrees(report, "政府工作报告", "2023-03-05")
    assert not agrees(report, "政府工作报告", "2019-03-05")
    assert not agrees(report, "在机关党建工作会议上的讲话", "2023-04-02")
    assert agrees(report, "政府工作报告", None)  # what a document does not say is not held against it
    congress = named_source("党的二十大报告指出：")
    assert agrees(congress, "高举中国特色社会主义伟大旗帜", "2022-10-16", "在中国共产党第二十次全国代表大会上的报告")
    assert not agrees(congress, "决胜全面建成小康社会", "2017-10-18", "在中国共产党第十九次全国代表大会上的报告")
    eleventh = named_source("《在中国共产党第十一次全国代表大会上的政治报告》指出：")
    assert agrees(eleventh, "在中国共产党第十一次全国代表大会上的政治报告", None)
    assert not agrees(eleventh, "在中国共产党第十次全国代表大会上的报告", None)
    meeting = named_source("在2024年机关党建工作质量提升推进会上强调：")
    assert agrees(meeting, "在2024年机关党建工作质量提升推进会上的讲话稿", None)
    assert not agrees(meeting, "在全市安全生产工作会议上的讲话", "2024-01-08")


def _corpus(*texts: str) -> SourceCorpus:
    return SourceCorpus([Passage(f"p{i}", f"d{i}", f"文{i}", None, (), 1, t, (Span(0, len(t)),), ())
                         for i, t in enumerate(texts)])


def test_alignment_edits_and_swapped_clauses():
    text = "我们要推广一批地方改革经验，开展营商环境创新试点，持续改善营商环境。"
    corpus = _corpus("别的段落说别的事情。", text)
    quote = "推广一批地方改良经验，开展营商环境创新试点"
    (passage, _, anchors), *_ = corpus.candidates(quote)
    assert passage == 1
    found = align(quote, corpus.texts[passage], anchors)
    assert [(e.op, quote[e.draft_start:e.draft_end], corpus.texts[1][e.source_start:e.source_end])
            for e in found.edits if e.op != "equal"] == [("replace", "良", "革")]
    assert corpus.texts[1][found.start:found.end] == "推广一批地方改革经验，开展营商环境创新试点"
    swapped = "开展营商环境创新试点，推广一批地方改革经验"
    (_, _, anchors), *_ = corpus.candidates(swapped)
    assert align(swapped, corpus.texts[1], anchors).coverage(len(swapped)) > 0.9


def test_exact_places_never_run_across_passages():
    corpus = _corpus("第一段到此为止", "为止第二段开始")
    assert corpus.exact("此为止为止第二") == []
    assert [(p.passage, p.start) for p in corpus.exact("为止")] == [(0, 5), (1, 0)]
