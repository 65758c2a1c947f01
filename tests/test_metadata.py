"""Head of a speech (title, date, speaker, occasion), news leads, photo credits and text normalisation."""
from __future__ import annotations

import json

import pytest
from conftest import SHARED

from qa.ingest.metadata import cut_photo_credits, date_from_name, read_head, speaker_of
from qa.ingest.normalize import join_spaced_name, strip_footnote_marks, strip_invisible
from qa.ingest.read import read_text
from qa.ingest.structure import parse_document

GOV = "政府工作报告\n——2024年3月5日在第十四届全国人民代表大会第二次会议上\n国务院总理　李　强\n各位代表：\n现在，我代表国务院报告工作。"
CONGRESS = ("高举旗帜\n为建设国家而团结奋斗\n——在中国共产党第二十次全国代表大会上的报告\n（2022年10月16日）\n习　近　平\n"
            "同志们：\n现在，我代表中央委员会作报告。")
GLUED = ("新华社北京11月4日电共创美好未来——在第五届博览会上的讲话（2022年11月4日）中华人民共和国主席　习近平\n"
         "11月4日晚，开幕式以视频方式举行。 新华社记者 李学仁 摄尊敬的来宾：\n"
         "我谨代表中国政府表示祝贺。")


def test_government_report_head():
    doc = parse_document("2024_政府工作报告.txt", GOV)
    assert (doc.title, doc.date, doc.speaker, doc.occasion) == (
        "政府工作报告", "2024-03-05", "国务院总理　李强", "在第十四届全国人民代表大会第二次会议上")
    assert [p.text for p in doc.paragraphs] == ["各位代表：", "现在，我代表国务院报告工作。"]


def test_two_line_title_with_date_line_and_spaced_speaker():
    doc = parse_document("20_报告.txt", CONGRESS)
    assert doc.title == "高举旗帜\u3000为建设国家而团结奋斗"
    assert (doc.date, doc.speaker) == ("2022-10-16", "习近平")
    assert doc.occasion == "在中国共产党第二十次全国代表大会上的报告"
    assert doc.paragraphs[0].text == "同志们："


def test_glued_news_lead_and_photo_caption():
    doc = parse_document("2022-11-04_共创美好未来.txt", GLUED)
    assert (doc.title, doc.date, doc.speaker) == ("共创美好未来", "2022-11-04", "中华人民共和国主席　习近平")
    assert [p.text for p in doc.paragraphs] == ["尊敬的来宾：", "我谨代表中国政府表示祝贺。"]
    assert "新华社北京11月4日电" in doc.dropped
    assert any(d.endswith("新华社记者 李学仁 摄") and d.startswith("11月4日晚") for d in doc.dropped)


@pytest.mark.parametrize(
    "line, pieces",
    [
        ("正文。新华社记者 鞠鹏/摄下一句。", ["正文。", "下一句。"]),
        ("新华社发（王壮飞 摄）同志们：", ["同志们："]),
        ("没有图片说明的一句。", ["没有图片说明的一句。"]),
    ],
)
def test_photo_credits_are_cut_out(line, pieces):
    assert cut_photo_credits(line)[0] == pieces


def test_caption_never_ends_up_in_a_quote():
    doc = parse_document("x.txt", "标题\n3月1日，习近平出席会议。新华社记者 谢环驰 摄同志们：\n今天开会。")
    assert all("摄" not in p.text for p in doc.paragraphs)


def test_head_without_anything_leaves_lines_alone():
    head, rest = read_head(["同志们：", "今天开会。"])
    assert head.title is None and rest == ["同志们：", "今天开会。"]


@pytest.mark.parametrize(
    "line, who",
    [("国务院总理　李　强", "国务院总理　李强"), ("习　近　平", "习近平"), ("同志们", None), ("加强党的建设", None)],
)
def test_speaker_of(line, who):
    assert speaker_of(line) == who


def test_dates_from_file_names():
    assert date_from_name("2024-03-05_标题.txt") == "2024-03-05"
    assert date_from_name("sub/2024_标题.txt") == "2024"
    assert date_from_name("20_报告.txt") is None


def test_text_date_wins_unless_the_name_is_more_precise():
    assert parse_document("2024_政府工作报告.txt", GOV).date == "2024-03-05"
    doc = parse_document("2023-01-02_讲话.txt", "讲话\n——2023年在会议上\n正文。")
    assert doc.date == "2023-01-02"


def test_normalisation():
    assert strip_invisible("74.4\u200b万亿元\ufeff") == "74.4万亿元"
    assert join_spaced_name("总理　李　强说") == "总理　李　强说"  # 强 runs on into 说: not a lone name
    assert join_spaced_name("主持人 李　强") == "主持人 李强"
    assert join_spaced_name("珍爱湿地　守护未来") == "珍爱湿地　守护未来"
    assert strip_footnote_marks("上屆代表會議[1]以來[注2]的工作") == "上屆代表會議以來的工作"


def test_footnotes_are_dropped_and_markers_kept_out_of_text():
    doc = parse_document("x.txt", "标题\n代表会议[1]以来的工作。\n↑ 为代表大会之误。")
    assert [p.text for p in doc.paragraphs] == ["代表会议以来的工作。"]
    assert doc.dropped == ("↑ 为代表大会之误。",)


def test_zero_width_space_inside_numbers_is_gone():
    doc = parse_document("x.txt", "标题\n国内生产总值达到74.4\u200b万亿元。")
    assert doc.paragraphs[0].text == "国内生产总值达到74.4万亿元。"


@pytest.mark.skipif(not (SHARED / "speeches").is_dir(), reason="shared speeches not present")
def test_shared_xi_heads():
    """Every speech with a glued news lead gets its title, date and speaker, and no photo credit survives."""
    rows = [json.loads(line) for line in (SHARED / "speeches" / "index.jsonl").open(encoding="utf-8")]
    xi = [r for r in rows if r["collection"] == "xi_speeches"]
    for row in xi:
        path = SHARED / row["file"]
        doc = parse_document(path.name, read_text(path))
        assert doc.date and doc.date.startswith(row["file"].split("/")[-1][:4]), row["file"]
        assert not any("新华社记者" in p.text and "摄" in p.text for p in doc.paragraphs), row["file"]
        assert not doc.paragraphs[0].text.startswith("新华社"), row["file"]
