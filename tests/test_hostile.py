"""Hostile inputs: paths out of the data folder, symlinks, clashing and overlong names, empty, locked and huge files,
markup and escape codes in texts; every refusal explained in Chinese, nothing already indexed lost."""
from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import pytest
from conftest import TINY, write_corpus
from hypothesis import given, settings as hsettings, strategies as st
from render import as_docx

from qa.answer import Assistant
from qa.app.cards import render_answer, render_documents, render_quotes
from qa.app.messages import add_summary, error_message, message
from qa.app.output import safe as _safe
from qa.data_folder import check_name as _check_name, fit_name, keep_removed
from qa.errors import InvalidSetting, TooLarge, UnreadableFile
from qa.index.indexer import sync
from qa.index.reader import IndexReader
from qa.ingest.chunk import MAX_SENTENCE_CHARS, make_passages, split_sentences
from qa.ingest.extract import extract_document
from qa.ingest.normalize import normalize_text
from qa.ingest.read import scan
from qa.ingest.structure import is_breadcrumb, parse_document, parse_source
from qa.library import add_files, list_documents, remove_document
from qa.settings import Settings, from_environment

SPEECH = "丙讲话\n\n一、要求\n\n要抓落实，要守纪律。\n"


def _indexed_sources(settings) -> set[str]:
    return {r.source for r in list_documents(settings) if r.status == "indexed"}


def _all_files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


# ---- nothing leaves the data folder ------------------------------------------------------------------------

@pytest.mark.parametrize("given", [".", ".."])
def test_adding_dot_or_dotdot_writes_only_inside_data(tiny, fake, tmp_path, monkeypatch, given):
    outer = write_corpus(tmp_path / "外面", {"稿/a.txt": SPEECH})
    monkeypatch.chdir(outer / "稿")
    before = _all_files(tmp_path) - _all_files(tiny.data_dir) - _all_files(tiny.index_dir)
    report = add_files(tiny, [Path(given)], fake)
    after = _all_files(tmp_path) - _all_files(tiny.data_dir) - _all_files(tiny.index_dir)
    assert after == before  # nothing written beside data/ or index/
    assert report.added and all(not n.startswith(("/", "..", ".")) for n in report.added)
    assert all((tiny.data_dir / n).resolve().is_relative_to(tiny.data_dir.resolve()) for n in report.added)


def test_adding_the_project_folder_does_not_copy_data_or_index_into_data(tiny, fake, tmp_path):
    add_files(tiny, [], fake)
    report = add_files(tiny, [tmp_path], fake)  # tmp_path holds data/ and index/
    assert report.added == () and report.rejected == ()
    assert not (tiny.data_dir / tmp_path.name).exists()


@pytest.mark.parametrize("name", ["..", "../x.txt", "a/../../x.txt", "a//x.txt", "a\\..\\x.txt", "x\x1b[31m.txt",
                                  "a/./x.txt", ""])
def test_names_that_lead_out_are_refused(tiny, name):
    assert _check_name(name, tiny.data_dir) == "outside_data"


@pytest.mark.parametrize("name", [".bashrc.txt", "~$草稿.docx", "sub/.hidden.md", ".git/x.txt"])
def test_hidden_names_are_refused(tiny, name):
    assert _check_name(name, tiny.data_dir) == "hidden_name"


@pytest.mark.parametrize("name", ["甲.txt", "sub/乙.md", "2024 年 报告 (1).docx"])
def test_ordinary_names_pass(tiny, name):
    assert _check_name(name, tiny.data_dir) is None


def test_symlinked_folder_in_data_leading_out_is_refused(tiny, tmp_path):
    outside = write_corpus(tmp_path / "secret", {"s.txt": SPEECH})
    (tiny.data_dir / "link").symlink_to(outside, target_is_directory=True)
    assert _check_name("link/new.txt", tiny.data_dir) == "outside_data"
    assert all(not f.name.startswith("link/") for f in scan(tiny.data_dir))  # never entered


def test_symlinked_file_leading_out_is_listed_refused_and_never_read(tiny, fake, tmp_path):
    secret = tmp_path / "passwd.txt"
    secret.write_text("root:x:0:0:机密口令:/root:/bin/bash\n\n机密口令在这里。\n", encoding="utf-8")
    (tiny.data_dir / "passwd.txt").symlink_to(secret)
    report = sync(tiny, fake)
    assert dict(report.rejected)["passwd.txt"]["reason"] == "symlink"
    row = next(r for r in list_documents(tiny) if r.source == "passwd.txt")
    assert row.status == "rejected" and "符号链接" in message("skipped_file", path=row.source, kept="", **row.details)
    assistant, _ = Assistant.open(tiny, fake, update=False)
    hits = assistant.ask("机密口令", k=10).hits
    assert all("机密" not in h.passage.text for h in hits)
    assistant.close()


def test_symlink_inside_data_to_a_file_inside_data_is_read(tiny, fake):
    (tiny.data_dir / "sub").mkdir()
    (tiny.data_dir / "sub" / "丙.txt").write_text(SPEECH, encoding="utf-8")
    (tiny.data_dir / "别名.txt").symlink_to(tiny.data_dir / "sub" / "丙.txt")
    report = sync(tiny, fake)
    assert ("别名.txt", "sub/丙.txt") in report.duplicates or ("sub/丙.txt", "别名.txt") in report.duplicates


def test_symlinks_inside_an_added_folder_are_passed_over(tiny, fake, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SPEECH, encoding="utf-8")
    incoming = write_corpus(tmp_path / "新稿", {"a.txt": "丁讲话\n\n要守纪律。"})
    (incoming / "link.txt").symlink_to(secret)
    report = add_files(tiny, [incoming], fake)
    assert report.added == ("新稿/a.txt",)
    assert not (tiny.data_dir / "新稿" / "link.txt").exists()


# ---- nothing lost -------------------------------------------------------------------------------------------

def test_same_name_different_content_keeps_the_old_file(tiny, fake, tmp_path):
    add_files(tiny, [], fake)
    other = tmp_path / "up" / "甲讲话.txt"
    write_corpus(other.parent, {"甲讲话.txt": SPEECH})
    report = add_files(tiny, [other], fake)
    assert report.replaced == ("甲讲话.txt",)
    kept = list((tiny.data_dir / ".removed").iterdir())
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == TINY["甲讲话.txt"]
    assert any("旧文件已移到" in line for line in add_summary(report))


def test_two_uploads_cleaned_to_one_name_both_survive(tiny, fake, tmp_path):
    a = write_corpus(tmp_path / "a", {"evil.txt": SPEECH})
    b = write_corpus(tmp_path / "b", {"evil.txt": "丁讲话\n\n要守纪律，要讲规矩。"})
    report = add_files(tiny, [a / "evil.txt", b / "evil.txt"], fake)
    assert report.added == ("evil.txt", "evil (2).txt")
    assert {"evil.txt", "evil (2).txt"} <= _indexed_sources(tiny)


def test_same_content_twice_in_one_request_is_added_once(tiny, fake, tmp_path):
    a = write_corpus(tmp_path / "a", {"x.txt": SPEECH})
    b = write_corpus(tmp_path / "b", {"x.txt": SPEECH})
    report = add_files(tiny, [a / "x.txt", b / "x.txt"], fake)
    assert report.added == ("x.txt",) and report.unchanged == ("x.txt",)


def test_two_removals_of_one_name_in_one_second_keep_both(tiny, fake):
    write_corpus(tiny.data_dir, {"a/同名.txt": SPEECH, "b/同名.txt": "丁讲话\n\n要守纪律。"})
    sync(tiny, fake)
    remove_document(tiny, "a/同名.txt", fake)
    remove_document(tiny, "b/同名.txt", fake)
    kept = sorted(p.read_text(encoding="utf-8") for p in (tiny.data_dir / ".removed").iterdir())
    assert len(kept) == 2 and kept[0] != kept[1]


def test_keep_removed_never_overwrites(tmp_path):
    data = tmp_path / "data"
    names = []
    for i in range(5):
        write_corpus(data, {"x.txt": f"第{i}份"})
        names.append(keep_removed(data, "x.txt").name)
    assert len(set(names)) == 5
    assert sorted(p.read_text(encoding="utf-8") for p in (data / ".removed").iterdir()) == [f"第{i}份" for i in range(5)]


@pytest.mark.parametrize("size", [246, 250, 253, 255])
def test_names_of_246_to_255_bytes_are_added_and_removed(tiny, fake, tmp_path, size):
    stem = "长" * ((size - 4) // 3)
    name = stem + "a" * (size - 4 - len(stem.encode())) + ".txt"
    assert len(name.encode()) == size
    up = tmp_path / "up"
    up.mkdir()
    (up / name).write_text(SPEECH, encoding="utf-8")
    report = add_files(tiny, [up / name], fake)
    (added,) = report.added
    assert len(added.encode()) <= tiny.limits.name_bytes and added.endswith(".txt")
    remove_document(tiny, added, fake)
    (kept,) = list((tiny.data_dir / ".removed").iterdir())
    assert len(kept.name.encode()) <= 255


@pytest.mark.parametrize("name,limit", [("长" * 100 + ".txt", 200), ("a" * 300, 200), ("子/" + "长" * 90 + ".md", 120)])
def test_fit_name_keeps_suffix_and_limit(name, limit):
    fitted = fit_name(name, limit)
    assert all(len(p.encode()) <= limit for p in fitted.split("/"))
    assert Path(fitted).suffix == Path(name).suffix


# ---- refusals that tell the truth ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", [".secret.txt", "~$草稿.txt", ".bashrc.md"])
def test_hidden_files_are_refused_not_added(tiny, fake, tmp_path, name):
    (tmp_path / name).write_text(SPEECH, encoding="utf-8")
    report = add_files(tiny, [tmp_path / name], fake)
    assert report.added == () and dict(report.rejected)[name]["reason"] == "hidden_name"
    lines = add_summary(report)
    assert not any("已添加" in line for line in lines) and any("隐藏文件" in line for line in lines)


@pytest.mark.parametrize("content,reason", [("", "empty_file"), ("   \n\n\u3000\n", "empty_file"),
                                            ("\ufeff", "empty_file")])
def test_empty_files_are_refused(tiny, fake, tmp_path, content, reason):
    (tmp_path / "空.txt").write_text(content, encoding="utf-8")
    report = add_files(tiny, [tmp_path / "空.txt"], fake)
    assert dict(report.rejected)["空.txt"]["reason"] == reason
    assert "文件是空的" in add_summary(report)[0]


def test_empty_file_in_data_is_refused_by_a_build(tiny, fake):
    (tiny.data_dir / "空.txt").write_bytes(b"")
    report = sync(tiny, fake)
    assert dict(report.rejected)["空.txt"]["reason"] == "empty_file" and report.documents == 2


def test_file_too_large_is_refused_alone(tiny, fake, tmp_path):
    small = Settings(data_dir=tiny.data_dir, index_dir=tiny.index_dir).with_overrides(limits={"file_mb": 1})
    (tmp_path / "大.txt").write_text("大" * 400_000 + "。", encoding="utf-8")
    (tmp_path / "小.txt").write_text(SPEECH, encoding="utf-8")
    report = add_files(small, [tmp_path / "大.txt", tmp_path / "小.txt"], fake)
    assert report.added == ("小.txt",)
    assert dict(report.rejected)["大.txt"]["reason"] == "file_too_large"
    assert "超过每个文件 1 MB" in " ".join(add_summary(report))


def test_too_many_files_refuses_the_request_and_copies_nothing(tiny, fake, tmp_path):
    few = tiny.with_overrides(limits={"files": 2})
    paths = []
    for i in range(3):
        (tmp_path / f"{i}.txt").write_text(f"第{i}讲\n\n要抓落实{i}。", encoding="utf-8")
        paths.append(tmp_path / f"{i}.txt")
    with pytest.raises(TooLarge) as caught:
        add_files(few, paths, fake)
    assert "超过上限 2 个" in error_message(caught.value)
    assert not any(tiny.data_dir.glob("?.txt"))


def test_request_too_large_refuses_the_request(tiny, fake, tmp_path):
    small = tiny.with_overrides(limits={"request_mb": 1})
    for i in range(2):
        (tmp_path / f"{i}.txt").write_text("长" * 200_000 + "。", encoding="utf-8")
    with pytest.raises(TooLarge) as caught:
        add_files(small, [tmp_path / "0.txt", tmp_path / "1.txt"], fake)
    assert "MB" in error_message(caught.value) and "没有执行" in error_message(caught.value)


@pytest.mark.parametrize("name,raw,reason", [
    ("坏.docx", b"PK\x03\x04 not really a zip", "damaged"),
    ("坏.pdf", b"%PDF-1.4\n garbage", "damaged"),
    ("二进制.txt", b"\x00\x01\x02\x03" * 100, "binary"),
    ("程序.exe", b"MZ\x90\x00", "unsupported_format"),
    ("乱码.txt", bytes(range(128, 256)) * 4, "unknown_encoding"),
])
def test_unreadable_files_are_refused_with_their_reason(tiny, fake, tmp_path, name, raw, reason):
    (tmp_path / name).write_bytes(raw)
    report = add_files(tiny, [tmp_path / name], fake)
    assert dict(report.rejected)[name]["reason"] == reason
    assert "该文件未添加" in add_summary(report)[0]
    assert _indexed_sources(tiny) == set(TINY)  # what was indexed before is all still there


def test_missing_file_is_named(tiny, fake, tmp_path):
    report = add_files(tiny, [tmp_path / "没有.txt"], fake)
    assert add_summary(report)[0] == "找不到文件「没有.txt」。"


def test_encrypted_pdf_says_encrypted(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt(user_password="密码", owner_password="o", algorithm="RC4-128")
    writer.write(tmp_path / "加密.pdf")
    with pytest.raises(UnreadableFile) as caught:
        extract_document(tmp_path / "加密.pdf")
    assert caught.value.details["reason"] == "pdf_encrypted"
    assert "已加密" in error_message(caught.value) and "损坏" not in error_message(caught.value)


@pytest.mark.parametrize("reason,extra", [
    ("hidden_name", {}), ("empty_file", {}), ("no_paragraphs", {}), ("symlink", {}), ("pdf_encrypted", {}),
    ("too_many_pages", {"pages": 3000, "limit": 2000}), ("file_too_large", {"size_mb": 60, "limit_mb": 50}),
    ("outside_data", {}),
])
def test_every_refusal_reads_as_chinese(reason, extra):
    text = message("unreadable_file", path="x.txt", reason=reason, **extra)
    assert "{" not in text and reason not in text and re.search(r"[\u4e00-\u9fff]{4}", text)


# ---- parsing never drops text silently ----------------------------------------------------------------------

@pytest.mark.parametrize("line", [
    "优良天数比例＞80%，PM2.5平均浓度＞35微克/立方米的城市减少。",
    "增速＞5%＞预期目标。",
    "A>B>C这种写法在公式中很常见，我们要看清实质。",
    "市场主体＞1.8亿户 > 去年，创新指数＞全球第十一位",
])
def test_comparisons_are_not_breadcrumbs(line):
    assert not is_breadcrumb(line)
    doc = parse_document("t.txt", f"测试讲话\n\n{line}\n\n结束了。")
    assert any(line in p.text for p in doc.paragraphs)


@pytest.mark.parametrize("line", ["首页 > 新闻 > 讲话", "当前位置：首页 > 领导讲话", "新闻中心 › 时政要闻 › 正文",
                                  "首页>要闻"])
def test_breadcrumbs_are_dropped_and_listed(line):
    doc = parse_document("t.txt", f"{line}\n测试讲话\n\n要抓落实。")
    assert line in doc.dropped and all(line not in p.text for p in doc.paragraphs)


def test_docx_text_after_an_entity_reference_is_kept(tmp_path):
    path = as_docx("标题\n\n前文XYZ", tmp_path / "实体.docx")
    with zipfile.ZipFile(path) as z:
        files = {n: z.read(n) for n in z.namelist()}
    xml = files["word/document.xml"].decode("utf-8")
    head, body = xml.split("?>", 1)
    xml = head + '?><!DOCTYPE w:document [<!ENTITY foo "X">]>' + body.replace("前文XYZ", "前文&amp;中间&foo;后文。")
    files["word/document.xml"] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w") as z:
        for n, b in files.items():
            z.writestr(n, b)
    assert "前文&中间后文。" in extract_document(path).text


_WORDS = st.sampled_from(["我们", "要", "坚持", "发展", "比例", "＞", ">", "80%", "，", "。", "首页", "新闻", "、",
                          "人民", "改革", " ", "2024年", "目标", "；", "？", "“", "”", "A", "›"])


@hsettings(max_examples=150, deadline=None)
@given(st.lists(st.lists(_WORDS, min_size=1, max_size=25).map("".join), min_size=1, max_size=8))
def test_every_body_line_is_kept_or_listed_as_dropped(lines):
    lines = [ln.strip() for ln in lines if ln.strip()]
    doc = parse_document("t.txt", "测试讲话\n\n" + "\n\n".join(lines))
    kept = "\n".join([doc.title, *(h for p in doc.paragraphs for h in p.section_path), *(p.text for p in doc.paragraphs),
                      *doc.dropped, doc.speaker or "", doc.occasion or "", doc.date or ""])
    squeeze = lambda t: re.sub(r"\s", "", t)  # noqa: E731
    for line in lines:
        assert squeeze(line) in squeeze(kept) or any(squeeze(d) in squeeze(line) for d in doc.dropped), line


# ---- bounded work per input ---------------------------------------------------------------------------------

def test_sixty_kilobytes_without_a_full_stop_becomes_small_windows():
    text = "，".join(["坚持稳中求进工作总基调"] * 5000)  # ~60 K characters, no 。！？；
    doc = parse_document("t.txt", "无句号的长文\n\n" + text)
    passages = make_passages(doc, Settings().chunk)
    spans = [w for p in passages for w in p.windows]
    assert spans and max(w.end - w.start for w in spans) <= MAX_SENTENCE_CHARS


@hsettings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("我们要坚持，、。 abc；!") + ["\u3000"]), max_size=3000))
def test_sentences_are_capped_and_cover_the_text(text):
    spans = split_sentences(text)
    assert all(s.end - s.start <= MAX_SENTENCE_CHARS for s in spans)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))
    covered = set()
    for s in spans:
        covered.update(range(s.start, s.end))
    assert all(i in covered for i, ch in enumerate(text) if ch not in " \t\n\u3000\xa0")


def test_a_long_unbroken_latin_run_is_cut_hard():
    spans = split_sentences("x" * 1000)
    assert [s.end - s.start for s in spans] == [400, 400, 200]


# ---- escape codes and markup stay inert ---------------------------------------------------------------------

def test_control_characters_are_dropped_from_texts():
    assert normalize_text("要\x1b[31m抓落实\x07。\x00") == "要[31m抓落实。"


@pytest.mark.parametrize("text", ["\x1b[2J清屏", "响铃\x07", "\x1b]0;标题\x07", "退格\x08\x08", "\x9b31m"])
def test_terminal_output_shows_escape_codes_as_text(text):
    shown = _safe(text)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", shown) and "\\x" in shown


XSS = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '"><svg onload=alert(1)>',
       "<a href='javascript:alert(1)'>点我</a>", '<iframe srcdoc="<script>alert(1)</script>">',
       '</textarea><script>alert(1)</script>', '[点我](javascript:alert(1))', '<style>*{display:none}</style>']


@pytest.mark.parametrize("payload", XSS)
def test_markup_in_texts_titles_and_names_is_escaped(fake, tmp_path, payload):
    data = write_corpus(tmp_path / "data", {"稿.txt": f"标题{payload}\n\n一、要求{payload}\n\n要抓落实{payload}。"})
    settings = Settings(data_dir=data, index_dir=tmp_path / "index")
    assistant, _ = Assistant.open(settings, fake)
    html = render_answer(assistant.ask("抓落实")) + render_quotes(assistant.find_quotes("抓落实"))
    rows = render_documents(list_documents(settings))
    assistant.close()
    assert "<script" not in html and "<img" not in html and "<svg" not in html and "<iframe" not in html
    assert "<style" not in html and "<a href='javascript" not in html and "](javascript:" not in html
    assert payload in rows[0][1]  # the table gets plain text: Gradio's Dataframe shows cells as text, not HTML


# ---- exposure -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("auth", ["nocolon", ":pass", ""])
def test_bad_auth_is_refused_with_the_form(auth, monkeypatch):
    monkeypatch.setenv("QA_AUTH", auth)
    if auth == "":
        assert from_environment().serve.auth is None
        return
    with pytest.raises(InvalidSetting) as caught:
        from_environment()
    assert "用户名:密码" in error_message(caught.value) and auth not in error_message(caught.value)


@pytest.mark.parametrize("host,auth,read_only,allowed", [
    ("127.0.0.1", None, False, True), ("localhost", None, False, True), ("0.0.0.0", None, False, False),
    ("0.0.0.0", "u:p", False, True), ("127.0.0.1", None, True, False), ("192.168.1.5", "u:p", True, False),
])
def test_writes_only_where_safe(host, auth, read_only, allowed):
    from qa.app.ui import writes_allowed

    settings = Settings().with_overrides(serve={"host": host, "auth": auth, "read_only": read_only})
    ok, warning = writes_allowed(settings)
    assert ok is allowed
    assert (warning is not None) == (host == "0.0.0.0" and auth is None and not read_only)


def _api_names(app) -> set[str]:
    return {d.get("api_name") for d in app.config["dependencies"] if d.get("api_name")}


def test_read_only_app_has_no_write_endpoints(tiny, fake):
    from qa.app.ui import build_app

    assistant, _ = Assistant.open(tiny, fake)
    names = _api_names(build_app(assistant, writable=False))
    assert {"ask", "find_quotes"} <= names and not names & {"add_documents", "remove_document", "rebuild_index"}
    assert {"ask", "find_quotes", "add_documents", "remove_document", "rebuild_index"} <= _api_names(
        build_app(assistant, writable=True))
    assistant.close()


def test_uploads_are_deleted_after_adding_or_refusing(tiny, fake, tmp_path):
    from qa.app.library_tab import Library

    uploads = tmp_path / "uploads"
    good = write_corpus(uploads / "a1", {"好.txt": SPEECH}) / "好.txt"
    bad = uploads / "b2" / ".隐藏.txt"
    bad.parent.mkdir()
    bad.write_text(SPEECH, encoding="utf-8")
    assistant, _ = Assistant.open(tiny, fake)
    lines = Library(assistant, uploads).add([str(good), str(bad)])
    assistant.close()
    assert any("已添加「好.txt」" in line for line in lines) and any("隐藏文件" in line for line in lines)
    assert not good.exists() and not bad.exists() and not any(uploads.iterdir())
    assert (tiny.data_dir / "好.txt").exists()


def test_library_messages_for_empty_choices_are_chinese(tiny, fake):
    from qa.app.library_tab import Library

    assistant, _ = Assistant.open(tiny, fake)
    library = Library(assistant)
    assert library.add([]) == ["请先选择要上传的文件。"] and library.remove(None) == ["请先在列表中选择要删除的文档。"]
    assistant.close()


def test_parse_refuses_title_only_text():
    from qa.records import SourceText

    with pytest.raises(UnreadableFile) as caught:
        parse_source("t.txt", SourceText(text="只有标题", format="txt"))
    assert caught.value.details["reason"] in ("no_paragraphs", "empty_file")


def test_a_file_refused_later_keeps_its_indexed_passages(tiny, fake):
    sync(tiny, fake)
    (tiny.data_dir / "甲讲话.txt").write_bytes(b"\x00\x01" * 50)
    report = sync(tiny, fake)
    assert "甲讲话.txt" in report.kept_previous
    reader = IndexReader.open(tiny.index_dir)
    assert reader.passages_of("甲讲话.txt")
    reader.close()
    assert os.path.exists(tiny.data_dir / "甲讲话.txt")
