"""Corpus management: add, replace, remove and list documents; filters by document and year."""
from __future__ import annotations

import pytest
from conftest import TINY, write_corpus
from render import as_docx

from qa.answer import Assistant
from qa.errors import AmbiguousDocument, DocumentNotFound, InvalidSetting
from qa.ingest.structure import outline, parse_document
from qa.library import add_files, find_document, list_documents, remove_document
from qa.records import Filters


def test_add_a_folder_keeps_its_layout_and_skips_copies(tiny, fake, tmp_path):
    incoming = write_corpus(tmp_path / "新稿", {"a.txt": "丙讲话\n\n一、要求\n\n要抓落实。", "sub/b.md": "丁讲话\n\n要守纪律。"})
    (tmp_path / "新稿" / "重复.txt").write_text(TINY["甲讲话.txt"], encoding="utf-8")
    report = add_files(tiny, [incoming], fake)
    assert report.added == ("新稿/a.txt", "新稿/sub/b.md")
    assert report.duplicates == (("新稿/重复.txt", "甲讲话.txt"),)
    assert (tiny.data_dir / "新稿" / "sub" / "b.md").exists()
    assert report.build.documents == 4
    assert not list(tiny.data_dir.rglob(".incoming-*"))  # copies are switched in whole


def test_changed_file_replaces_its_passages_and_only_new_text_is_embedded(tiny, fake, tmp_path):
    add_files(tiny, [], fake)
    changed = tmp_path / "甲讲话.txt"
    changed.write_text(TINY["甲讲话.txt"] + "\n三、抓好落实\n\n落实是关键。\n", encoding="utf-8")
    fake.embedded.clear()
    report = add_files(tiny, [changed], fake)
    assert report.replaced == ("甲讲话.txt",)
    assert fake.embedded == ["落实是关键。"]
    again = add_files(tiny, [changed], fake)
    assert again.unchanged == ("甲讲话.txt",) and not again.build.built


def test_remove_by_title_moves_the_file_and_reindexes(tiny, fake):
    add_files(tiny, [], fake)
    row, report = remove_document(tiny, "乙报告", fake)
    assert row.source == "乙报告.txt" and report.documents == 1
    assert not (tiny.data_dir / "乙报告.txt").exists()
    assert [p.name.split("_", 1)[1] for p in (tiny.data_dir / ".removed").iterdir()] == ["乙报告.txt"]
    assert [r.source for r in list_documents(tiny)] == ["甲讲话.txt"]


def test_find_document_errors_list_the_choices(tiny, fake):
    (tiny.data_dir / "丙讲话.txt").write_text("丙讲话\n\n内容。", encoding="utf-8")
    add_files(tiny, [], fake)
    with pytest.raises(DocumentNotFound) as info:
        find_document(tiny, "丁")
    assert len(info.value.details["choices"]) == 3
    with pytest.raises(AmbiguousDocument) as info:
        find_document(tiny, "讲话")
    assert info.value.details["choices"] == ["丙讲话.txt（《丙讲话》）", "甲讲话.txt（《甲讲话》）"]
    assert find_document(tiny, "甲讲话.txt").title == "甲讲话"


def test_list_shows_pending_rejected_and_indexed(tiny, fake):
    add_files(tiny, [], fake)
    (tiny.data_dir / "新.txt").write_text("新\n\n内容。", encoding="utf-8")
    (tiny.data_dir / "坏.txt").write_bytes(b"\x00\x01")
    status = {r.source: r.status for r in list_documents(tiny)}
    assert status == {"乙报告.txt": "indexed", "甲讲话.txt": "indexed", "新.txt": "pending", "坏.txt": "pending"}
    add_files(tiny, [], fake)
    rows = {r.source: r for r in list_documents(tiny)}
    assert rows["坏.txt"].status == "rejected" and rows["坏.txt"].details["reason"] == "binary"


def test_filters_by_document_and_year(tmp_path, fake):
    from qa.settings import Settings

    data = write_corpus(tmp_path / "data", {
        "2023_甲.txt": "甲\n\n一、工作\n\n抓好安全生产。",
        "2024-05-01_乙.txt": "乙\n\n一、工作\n\n抓好安全生产，确保平安。",
    })
    settings = Settings(data_dir=data, index_dir=tmp_path / "index")
    assistant, _ = Assistant.open(settings, embedder=fake)
    assert {h.passage.title for h in assistant.ask("安全生产", 5).hits} == {"甲", "乙"}
    assert {h.passage.title for h in assistant.ask("安全生产", 5, Filters(years=(2024, 2024))).hits} == {"乙"}
    assert {h.passage.title for h in assistant.ask("安全生产", 5, Filters(doc="2023_")).hits} == {"甲"}
    assert assistant.ask("安全生产", 5, Filters(years=(1990, 1991))).notice == "no_document_matches"
    assert [h.passage.title for h in assistant.find_quotes("安全生产", 5, Filters(doc="乙")).hits] == ["乙"]


@pytest.mark.parametrize(
    "year, years",
    [("2024", (2024, 2024)), ("2019-2024", (2019, 2024)), ("2024～2019", (2019, 2024)), ("2019至2024", (2019, 2024)),
     ("", None), (None, None)],
)
def test_filters_parse(year, years):
    assert Filters.parse("  ", year) == Filters(None, years)


@pytest.mark.parametrize("year", ["24", "2024-", "去年", "2019-2020-2021"])
def test_filters_parse_rejects(year):
    with pytest.raises(InvalidSetting) as info:
        Filters.parse(None, year)
    assert "YYYY" in info.value.details["valid"]


def test_outline_of_a_word_document(tmp_path):
    from qa.ingest.read import read_source
    from qa.ingest.structure import parse_source

    path = as_docx("会议讲话\n一、总体要求\n要抓落实。\n（一）压实责任\n一是明确分工。\n", tmp_path / "讲话.docx", title="会议讲话")
    [doc] = parse_source(path.name, read_source(path))
    got = outline(doc)
    assert got["title"] == "会议讲话" and got["points"] == 1
    assert got["sections"][0]["children"][0] == {"heading": "（一）压实责任", "level": 2, "paragraphs": 1, "children": []}


def test_outline_keeps_sections_without_paragraphs():
    got = outline(parse_document("x.txt", "标题\n一、总论\n（一）目标\n正文。"))
    assert got["sections"][0]["paragraphs"] == 0 and got["sections"][0]["children"][0]["paragraphs"] == 1
