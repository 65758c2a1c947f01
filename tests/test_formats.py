"""Formats and encodings: the seed as GBK, UTF-16, Word, a web page and a PDF gives the same passages and citations."""
from __future__ import annotations

import pytest
from conftest import SEED
from render import as_docx, as_html, as_pdf, as_scanned_pdf

from qa.errors import UnreadableFile
from qa.ingest.extract import rejoin_wrapped_lines
from qa.ingest.read import decode, read_source, read_text
from qa.ingest.structure import parse_source

TITLE = "在2024年机关党建工作质量提升推进会上的讲话稿"


def outline(path):
    [doc] = parse_source(path.name, read_source(path))
    return doc.title, [(p.section_path, p.ordinal, p.point, p.text) for p in doc.paragraphs]


@pytest.fixture(scope="module")
def original(tmp_path_factory):
    return outline(SEED)


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_encodings(original, tmp_path, encoding):
    text = read_text(SEED)
    if encoding == "gbk":
        text = text.replace("\xa0", " ")  # characters GBK lacks cannot be in a GBK file
    path = tmp_path / "讲话.txt"
    path.write_bytes(text.encode(encoding))
    assert outline(path) == original


def test_word_document(original, tmp_path):
    assert outline(as_docx(read_text(SEED), tmp_path / "讲话.docx", title=TITLE)) == original


def test_web_page(original, tmp_path):
    got = outline(as_html(read_text(SEED), tmp_path / "讲话.html", title=TITLE))
    assert got == original


def test_web_page_in_gbk(original, tmp_path):
    text = read_text(SEED).replace("\xa0", " ")
    assert outline(as_html(text, tmp_path / "讲话.htm", title=TITLE, encoding="gbk")) == original


def test_pdf_with_wrapped_lines(original, tmp_path):
    assert outline(as_pdf(read_text(SEED), tmp_path / "讲话.pdf")) == original


def test_scanned_pdf_is_refused_with_a_reason(tmp_path):
    with pytest.raises(UnreadableFile) as info:
        read_source(as_scanned_pdf(tmp_path / "扫描件.pdf"))
    assert info.value.details["reason"] == "pdf_no_text" and info.value.details["pages"] == 2


def test_damaged_and_unsupported_files(tmp_path):
    (tmp_path / "坏.docx").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UnreadableFile) as info:
        read_source(tmp_path / "坏.docx")
    assert info.value.details["reason"] == "damaged"
    (tmp_path / "表格.xlsx").write_bytes(b"x")
    with pytest.raises(UnreadableFile) as info:
        read_source(tmp_path / "表格.xlsx")
    assert info.value.details["reason"] == "unsupported_format"


@pytest.mark.parametrize(
    "raw",
    ["これは日本語のテキストです。".encode("shift_jis"), "Résumé très déjà".encode("latin-1"), bytes(range(128, 256))],
)
def test_undecodable_text_is_refused_not_guessed(raw):
    with pytest.raises(UnreadableFile) as info:
        decode(raw, "x.txt")
    assert info.value.details["reason"] in ("unknown_encoding", "binary")


def test_short_gbk_is_not_mistaken_for_big5():
    assert decode("旧系统".encode("gbk"), "x.txt") == ("旧系统", "gb18030")
    assert decode("現在我代表國務院".encode("big5"), "x.txt")[0] == "現在我代表國務院"


def test_rejoin_wrapped_lines_without_indents():
    lines = ["一、总体要求", "这是一段很长的话被页面宽度截断了这是", "一段很长的话。", "短句。", "另一段也很长被页面宽度截断了这是一", "段话"]
    assert rejoin_wrapped_lines(lines) == "一、总体要求\n这是一段很长的话被页面宽度截断了这是一段很长的话。\n短句。\n另一段也很长被页面宽度截断了这是一段话"


def test_rejoin_wrapped_lines_with_indents():
    lines = ["一、总体要求", "\u3000\u3000这是一段很长的话被页面宽度截断了这", "是一段很长的话。这一行正好在句末断开。", "接着还是同一段话。",
             "\u3000\u3000新的一段。"]
    assert rejoin_wrapped_lines(lines) == (
        "一、总体要求\n这是一段很长的话被页面宽度截断了这是一段很长的话。这一行正好在句末断开。接着还是同一段话。\n新的一段。")
