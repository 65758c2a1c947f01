"""Structure: noise removal, title, headings (standalone and run-in), section paths."""
from __future__ import annotations

import json
import re

import pytest
from conftest import SEED, SHARED

from qa.ingest.headings import point_marker
from qa.ingest.metadata import title_from_name
from qa.ingest.read import read_text
from qa.ingest.structure import display_heading, parse_document, parse_heading, split_noise

L1 = ["一、要突出政治引领，彰显政治优势", "二、要深化理论武装，彰显理论优势",
      "三、要强化组织建设，彰显组织优势", "四、要狠抓队伍建设，彰显人才优势"]


@pytest.fixture(scope="module")
def seed():
    return parse_document(SEED.name, read_text(SEED))


def test_seed_title_and_noise(seed):
    assert seed.title == "在2024年机关党建工作质量提升推进会上的讲话稿"
    texts = [p.text for p in seed.paragraphs]
    for noise in ("首页", "网友发表时间", "相关推荐", "热门文档", "2590692"):
        assert not any(noise in t for t in texts), noise
    assert any(d.startswith("首页") for d in seed.dropped)
    assert "相关推荐" in seed.dropped and "热门文档" in seed.dropped


def test_seed_heading_levels(seed):
    level1 = {p.section_path[0] for p in seed.paragraphs if p.section_path}
    level2 = {p.section_path for p in seed.paragraphs if len(p.section_path) == 2}
    assert sorted(level1) == sorted(L1)
    assert len(level2) == 12
    assert ("三、要强化组织建设，彰显组织优势", "（一）要建强机关党委机关党支部") in level2


def test_seed_preamble_is_its_own_section(seed):
    first = seed.paragraphs[:2]
    assert [p.section_path for p in first] == [(), ()]
    assert first[0].text == "同志们:" and [p.ordinal for p in first] == [1, 2]


def test_seed_run_in_heading_keeps_paragraph_verbatim(seed):
    p = next(p for p in seed.paragraphs if p.section_path[-1:] == ("（一）要提高政治站位，强化责任担当",))
    assert p.text.startswith("(一)要提高政治站位,强化责任担当。提高政治站位")
    assert p.ordinal == 1


def test_seed_every_paragraph_has_path_and_ordinal(seed):
    assert len(seed.paragraphs) == 18
    counts = {}
    for p in seed.paragraphs:
        counts[p.section_path] = counts.get(p.section_path, 0) + 1
        assert p.ordinal == counts[p.section_path]
        assert p.text and p.text == p.text.strip()
    organisation = [p for p in seed.paragraphs if p.section_path == (L1[2],)]
    assert len(organisation) == 1 and "党的力量来自组织" in organisation[0].text


def test_seed_paragraphs_are_verbatim_lines(seed):
    raw_lines = {line.strip() for line in read_text(SEED).split("\n")}
    assert all(p.text in raw_lines for p in seed.paragraphs)


@pytest.mark.parametrize(
    "line, level, title, run_in",
    [
        ("一、要突出政治引领,彰显政治优势", 1, "一、要突出政治引领，彰显政治优势", False),
        ("十一、加强党的领导", 1, "十一、加强党的领导", False),
        ("（二）坚持问题导向。", 2, "（二）坚持问题导向", False),
        ("(三)要坚定政治立场,严守政治纪律。坚定政治立场就是……", 2, "（三）要坚定政治立场，严守政治纪律", True),
        ("（一)混合括号也算", 2, "（一）混合括号也算", False),
        ("\u3000\u3000二、缩进的标题", 1, "二、缩进的标题", False),
        ("第一部分　总体要求", 0, "第一部分　总体要求", False),
        ("1．吸收新党员", 3, "1．吸收新党员", False),
        ("2、数字编号", 3, "2、数字编号", False),
        ("（1）阿拉伯数字。后面是正文。", 4, "（1）阿拉伯数字", True),
    ],
)
def test_parse_heading(line, level, title, run_in):
    h = parse_heading(line)
    assert (h.level, h.title, h.run_in) == (level, title, run_in)


@pytest.mark.parametrize("line", ["一是加强学习。", "第一，加强学习。", "1.5万亿元的投资", "2024年工作回顾", "这是一、二两点", ""])
def test_not_a_heading(line):
    assert parse_heading(line) is None


def test_long_numbered_line_is_a_run_in_paragraph():
    line = "一、" + "这是一句很长的话，" * 10 + "到这里才结束。后面还有内容。"
    h = parse_heading(line)
    assert h.run_in and len(h.title) <= 50 and h.title.startswith("一、这是一句很长的话")


@pytest.mark.parametrize(
    "line, point",
    [("一是加强学习，提高本领。", "一是"), ("十二是其他。", "十二是"), ("第一，经费不足。", "第一"),
     ("——坚持稳中求进。", "——"), ("第一次会议召开。", None), ("这是一个问题。", None), ("一、标题", None)],
)
def test_point_marker(line, point):
    assert point_marker(line) == point


def test_points_and_deeper_headings_in_the_path():
    text = ("标题\n第一部分　总论\n一、目标\n1．主要任务\n一是稳增长。\n二是保就业。\n——坚持甲。甲很重要。\n"
            "——坚持乙，这一句很长很长很长很长很长很长很长。\n（1）细目\n正文。\n二、措施\n措施正文。")
    doc = parse_document("x.txt", text)
    got = [(p.section_path, p.ordinal, p.point) for p in doc.paragraphs]
    part, goal, task = "第一部分　总论", "一、目标", "1．主要任务"
    assert got == [
        ((part, goal, task), 1, "一是"), ((part, goal, task), 2, "二是"),
        ((part, goal, task), 3, "——坚持甲"), ((part, goal, task), 4, "第2项"),
        ((part, goal, task, "（1）细目"), 1, None),
        ((part, "二、措施"), 1, None),
    ]


def test_display_heading_keeps_number_commas():
    assert display_heading("(一)增长1,000亿元,效果好。") == "（一）增长1,000亿元，效果好"


def test_level_two_before_any_level_one():
    doc = parse_document("x.txt", "标题\n（一）第一点\n内容一。\n（二）第二点\n内容二。")
    assert [p.section_path for p in doc.paragraphs] == [("（一）第一点",), ("（二）第二点",)]


def test_title_falls_back_to_file_name():
    doc = parse_document("2024-03-05_在某会议上的讲话.txt", "同志们：\n今天开会。")
    assert doc.title == "在某会议上的讲话" and doc.date == "2024-03-05"
    assert [p.text for p in doc.paragraphs] == ["同志们：", "今天开会。"]
    assert title_from_name("20_报告.txt") == "报告"


def test_trailer_drops_the_rest_but_not_at_the_start():
    kept, dropped = split_noise(["标题", "正文。", "相关推荐", "别的文章", "广告"])
    assert kept == ["标题", "正文。"] and dropped == ["相关推荐", "别的文章", "广告"]


def test_empty_document():
    doc = parse_document("空.txt", "")
    assert doc.paragraphs == () and doc.title == "空"


@pytest.mark.skipif(not (SHARED / "speeches").is_dir(), reason="shared speeches not present")
def test_all_shared_speeches_parse():
    rows = [json.loads(line) for line in (SHARED / "speeches" / "index.jsonl").open(encoding="utf-8")]
    assert len(rows) == 192
    for row in rows:
        path = SHARED / row["file"]
        doc = parse_document(path.name, read_text(path))
        assert doc.title and doc.paragraphs, row["file"]


@pytest.mark.skipif(not (SHARED / "speeches").is_dir(), reason="shared speeches not present")
def test_heading_counts_agree_with_the_shared_index():
    """Level-1 (一、) and level-2 (（一）) headings per document, as counted in speeches/index.jsonl."""
    rows = [json.loads(line) for line in (SHARED / "speeches" / "index.jsonl").open(encoding="utf-8")]
    for row in rows:
        path = SHARED / row["file"]
        doc = parse_document(path.name, read_text(path))
        found = [level for level, _ in doc.sections]
        want = row["headings"]
        assert (found.count(1), found.count(2)) == (want.get("h_一、", 0), want.get("h_（一）", 0)), row["file"]


def test_a_salutation_closes_numbered_sub_sections():
    text = ("2024年政府工作报告\n\n三、2024年政府工作任务\n\n（十）切实保障和改善民生\n\n加强社会保障。\n\n各位代表！\n\n"
            "我们要坚持和完善民族区域自治制度。\n\n四、结束语\n\n（一）团结奋斗\n\n同志们：\n\n奋斗创造未来。\n")
    doc = parse_document("2024_报告.txt", text)
    paths = {p.text: p.section_path for p in doc.paragraphs}
    assert paths["加强社会保障。"] == ("三、2024年政府工作任务", "（十）切实保障和改善民生")
    assert paths["各位代表！"] == paths["我们要坚持和完善民族区域自治制度。"] == ("三、2024年政府工作任务",)
    assert paths["奋斗创造未来。"] == ("四、结束语",)
    assert [level for level, _ in doc.sections] == [1, 2, 1, 2]  # the headings themselves are all kept


@pytest.mark.skipif(not (SHARED / "speeches").is_dir(), reason="shared speeches not present")
def test_closing_parts_of_the_work_reports_are_not_in_their_last_sub_section():
    """民族、宗教、国防、港澳台、外交 and the closing words follow 各位代表！ in the 52 work reports: none of them is cited
    under the last （十）."""
    closing = re.compile(r"^我们要坚持和完善民族区域自治制度|^我们要继续全面准确贯彻“一国两制”")
    for path in sorted((SHARED / "speeches" / "gov_work_reports").glob("*.txt")):
        doc = parse_document(path.name, read_text(path))
        for para in doc.paragraphs:
            if closing.match(para.text) or para.text.strip() == "各位代表！":
                assert len(para.section_path) <= 1, (path.name, para.section_path, para.text[:20])
