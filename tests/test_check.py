"""引文核对 end to end on a small corpus: each verdict, Traditional and half-width input, the CLI, the export."""
from __future__ import annotations

import json

import pytest
from conftest import write_corpus
from fakes import FakeEmbedder

from qa.answer import Assistant
from qa.app.cli import main
from qa.errors import DraftTooLong, EmptyDraft
from qa.settings import Settings

SPEECHES = {
    "2023年政府工作报告.txt": "政府工作报告\n——2023年3月5日在第十四届全国人民代表大会第一次会议上\n一、工作回顾\n"
    "过去一年，我们坚持稳中求进工作总基调，经济社会发展取得新的重大成就。\n二、今年工作\n"
    "要坚定不移深化改革开放，着力扩大国内需求，推动经济运行整体好转。\n",
    "机关党建讲话.txt": "在2024年机关党建工作会议上的讲话\n——2024年4月2日\n一、强化组织建设\n"
    "党的力量来自组织。党的全面领导、党的全部工作要靠党的坚强组织体系去实现。\n",
    "空格.txt": "防汛工作讲话\n——2022年6月1日\n一、压实责任\n防汛工作 事关 人民群众生命财产安全，必须 压实各级责任。\n",
    "转发.txt": "学习材料汇编\n——2024年5月6日\n一、摘编\n"
    "党的力量来自组织。党的全面领导、党的全部工作要靠党的坚强组织体系去实现。\n",
}
RIGHT = "党的力量来自组织。党的全面领导、党的全部工作要靠党的坚强组织体系去实现。"


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    root = tmp_path_factory.mktemp("check")
    write_corpus(root / "data", SPEECHES)
    assistant, _ = Assistant.open(Settings(data_dir=root / "data", index_dir=root / "index"), FakeEmbedder())
    yield assistant
    assistant.close()


def one(assistant, draft: str, **kw):
    checks = assistant.check(draft, **kw).checks
    assert len(checks) == 1, checks
    return checks[0]


def test_exact_quotation_with_its_sources_earliest_first(assistant):
    check = one(assistant, f"习近平总书记强调：“{RIGHT}”")
    assert check.verdict == "exact" and check.label == "原文一致" and check.changes == ()
    assert check.best.text == RIGHT.rstrip("。") and check.best.citation.title == "在2024年机关党建工作会议上的讲话"
    assert check.best.citation.render() == "《在2024年机关党建工作会议上的讲话》（2024年4月2日） › 一、强化组织建设 · 第1段"
    # the reprint is the same paragraph: merged into the best source, not listed apart
    assert [c.title for c in check.best.also_in] == ["学习材料汇编"] and check.others == ()


def test_altered_quotation_shows_each_edit(assistant):
    check = one(assistant, "会议指出：“党的力量来自组织，党的全面领导要靠坚强的组织体系去实现。”")
    assert check.verdict == "altered" and check.label == "有改动" and 0.7 < check.similarity < 1
    edits = [(c.op, c.draft, c.source) for c in check.changes if c.op != "equal"]
    assert ("delete", "", "、党的全部工作") in edits and ("replace", "，", "。") in edits
    assert "删去「、党的全部工作」" in check.summary() and check.best.citation.date == "2024-04-02"


def test_a_source_with_spaces_gives_its_text_as_written(assistant):
    check = one(assistant, "“防汛工作事关人民群众生命财产安全，必须压实各级责任。”")
    assert check.verdict == "exact" and check.best.text == "防汛工作 事关 人民群众生命财产安全，必须 压实各级责任"
    assert json.dumps(check.to_json(), ensure_ascii=False)  # offsets are plain ints
    altered = one(assistant, "“防汛工作事关群众生命财产安全，必须压实各级责任。”")
    assert altered.verdict == "altered" and ("delete", "", "人民") in [(c.op, c.draft, c.source) for c in altered.changes]
    assert json.dumps(altered.to_json(), ensure_ascii=False)


def test_invented_quotation_is_not_found(assistant):
    check = one(assistant, "他说：“明天我们一起去公园散步，然后吃一顿好饭。”")
    assert check.verdict == "not_found" and check.best is None and "没有找到" in check.summary()


def test_a_wrong_year_or_source_named_before_the_quotation(assistant):
    wrong = one(assistant, f"2019年政府工作报告指出：“{RIGHT}”")
    assert wrong.verdict == "wrong_source" and wrong.named.describe() == "2019年政府工作报告"
    assert "出处不符" in wrong.label and not wrong.altered
    right = one(assistant, "2023年政府工作报告指出：“坚持稳中求进工作总基调，经济社会发展取得新的重大成就。”")
    assert right.verdict == "exact" and right.best.citation.date == "2023-03-05"
    named = one(assistant, f"在2024年机关党建工作会议上强调：“{RIGHT}”")
    assert named.verdict == "exact"


def test_a_source_given_in_brackets_after_the_quotation_is_checked_too(assistant):
    wrong = one(assistant, f"“{RIGHT}”（2019年政府工作报告）")
    assert wrong.verdict == "wrong_source" and wrong.quotation.note == "2019年政府工作报告"
    assert one(assistant, f"“{RIGHT}”（《在2024年机关党建工作会议上的讲话》）").verdict == "exact"


def test_a_quotation_cut_with_an_ellipsis_matches_its_parts_in_order(assistant):
    cut = one(assistant, "讲话指出：“党的力量来自组织。……要靠党的坚强组织体系去实现。”")
    assert cut.verdict == "exact" and cut.best.text == RIGHT.rstrip("。")
    swapped = one(assistant, "讲话指出：“要靠党的坚强组织体系去实现……党的力量来自组织。”")
    assert swapped.verdict != "exact"


def test_the_named_source_leads_even_when_it_is_a_later_copy(assistant):
    check = one(assistant, f"《学习材料汇编》摘录：“{RIGHT}”")
    assert check.verdict == "exact" and check.best.citation.title == "学习材料汇编"


def test_traditional_and_half_width_input_match(assistant):
    traditional = one(assistant, "「黨的力量來自組織。黨的全面領導、黨的全部工作要靠黨的堅強組織體系去實現。」")
    assert traditional.verdict == "exact"
    half = one(assistant, '"要坚定不移深化改革开放,着力扩大国内需求,推动经济运行整体好转."')
    assert half.verdict == "exact" and half.best.citation.title == "政府工作报告"


def test_nested_quotation_is_part_of_the_one_around_it(assistant):
    report = assistant.check("讲话说：“党的力量来自组织。党的全面领导、党的全部工作要靠‘党的坚强组织体系’去实现。”")
    assert [c.verdict for c in report.checks] == ["exact"]  # the inner ‘…’ is not checked apart


def test_short_terms_are_not_judged_but_located(assistant):
    term = one(assistant, "要坚持“稳中求进”。")
    assert term.verdict == "unchecked" and term.best.citation.title == "政府工作报告" and "出现在" in term.summary()
    absent = one(assistant, "要坚持“两个确立”。")
    assert absent.verdict == "unchecked" and absent.best is None


def test_no_quotations_all_sentences_and_bad_drafts(assistant):
    assert assistant.check("今天的会议开得很好，大家辛苦了。").checks == ()
    report = assistant.check("要坚定不移深化改革开放，着力扩大国内需求，推动经济运行整体好转。还要做好自己的事情。",
                             all_sentences=True)
    assert [(c.verdict, c.quotation.marked) for c in report.checks] == [("exact", False), ("not_found", False)]
    with pytest.raises(EmptyDraft):
        assistant.check("  \n ")
    with pytest.raises(DraftTooLong):
        assistant.check("字" * (assistant.settings.limits.draft_chars + 1))


def test_offsets_point_into_the_draft_even_with_windows_line_ends(assistant):
    report = assistant.check(f"第一行\r\n习近平总书记强调：“{RIGHT}”\r\n")
    q = report.checks[0].quotation
    assert report.draft[q.start : q.end] == RIGHT and "\r" not in report.draft


@pytest.fixture
def where(tmp_path, capsys):
    write_corpus(tmp_path / "data", SPEECHES)
    args = ["--data", str(tmp_path / "data"), "--index", str(tmp_path / "index")]
    assert main(["build", "--model", "fake-bigram", *args]) == 0
    capsys.readouterr()
    return args


def test_cli_check_text_json_and_docx_export(where, tmp_path, capsys):
    import docx

    draft = tmp_path / "稿子.docx"
    document = docx.Document()
    document.add_paragraph(f"习近平总书记强调：“{RIGHT}”")
    document.add_paragraph("2019年政府工作报告指出：“要坚定不移深化改革开放，着力扩大国内需求。”")
    document.add_paragraph("他说：“明天我们一起去公园散步，然后吃一顿好饭。”")
    document.save(draft)
    assert main(["check", str(draft), "--no-update", *where]) == 0
    out = capsys.readouterr().out
    assert out.startswith("核对 3 处引文：原文一致 1，未找到 1，出处不符 1") and "[1] 原文一致 “党的力量" in out
    assert main(["check", str(draft), "--json", "--no-update", "--export", str(tmp_path / "核对.docx"), *where]) == 0
    report = json.loads(capsys.readouterr().out)
    first = report["quotations"][0]
    assert report["counts"]["exact"] == 1 and first["verdict"] == "exact" and first["label"] == "原文一致"
    assert report["draft"][first["start"] : first["end"]] == first["span"] == RIGHT
    assert first["best_source"]["citation"].startswith("《在2024年机关党建工作会议上的讲话》")
    assert set(first) >= {"diff", "other_sources", "lead_in", "named_source", "similarity"}
    checked = docx.Document(str(tmp_path / "核对.docx"))
    footnotes = checked.part.package.part_related_by  # noqa: F841 (the package is readable)
    import zipfile

    notes = zipfile.ZipFile(tmp_path / "核对.docx").read("word/footnotes.xml").decode("utf-8")
    assert "【原文一致】" in notes and "【出处不符】" in notes and "【未找到】" in notes
    highlighted = {r.text: r.font.highlight_color for p in checked.paragraphs for r in p.runs if r.font.highlight_color}
    assert len(highlighted) == 3


def test_cli_check_refuses_a_bad_export_name_and_an_empty_draft(where, tmp_path, capsys):
    empty = tmp_path / "空.txt"
    empty.write_text("\n", encoding="utf-8")
    assert main(["check", str(empty), "--no-update", *where]) == 1
    assert "请粘贴或上传要核对的稿子" in capsys.readouterr().err
    assert main(["check", str(empty), "--export", "x.pdf", *where]) == 2
    assert ".docx" in capsys.readouterr().err
    assert main(["check", str(tmp_path / "没有这个稿子.txt"), "--no-update", *where]) == 1
    assert "没有这个稿子.txt" in capsys.readouterr().err


def test_the_tab_reads_an_uploaded_draft_and_deletes_its_copy(assistant, tmp_path):
    import docx

    from qa.app.check_tab import check_draft

    uploads = tmp_path / "uploads"
    (uploads / "abc").mkdir(parents=True)
    draft = uploads / "abc" / "稿子.docx"
    document = docx.Document()
    document.add_paragraph(f"习近平总书记强调：“{RIGHT}”")
    document.save(draft)
    html, report = check_draft(assistant, "粘贴的文字不算", str(draft), False, uploads)
    assert report.checks[0].verdict == "exact" and 'class="qa-q qa-v-exact"' in html and not draft.exists()
    html, report = check_draft(assistant, "", None, False, uploads)
    assert report is None and "请粘贴或上传要核对的稿子" in html
    html, _ = check_draft(assistant, "没有引号的稿子。", None, False, uploads)
    assert "没有找到引号" in html


def test_an_empty_library_finds_nothing(tmp_path):
    (tmp_path / "data").mkdir()
    empty, _ = Assistant.open(Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "index"), FakeEmbedder())
    try:
        report = empty.check(f"习近平总书记强调：“{RIGHT}”要坚持“两个确立”。")
        assert [c.verdict for c in report.checks] == ["not_found", "unchecked"]
    finally:
        empty.close()
