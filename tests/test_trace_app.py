"""提法演变 at the edges: the qa trace command, its Word and Markdown export, the HTTP route and gradio endpoint."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import zipfile

import pytest
from conftest import TRACE_CORPUS, write_corpus

from qa.app.cli import main

FAKE = ["--model", "fake-bigram"]


@pytest.fixture(scope="module")
def where(tmp_path_factory):
    root = tmp_path_factory.mktemp("trace-cli")
    write_corpus(root / "data", TRACE_CORPUS)
    args = ["--data", str(root / "data"), "--index", str(root / "index")]
    assert main(["build", *FAKE, *args]) == 0
    return args


def qa(capsys, *args, code=0):
    capsys.readouterr()
    got = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert got == code, f"exit {got}\n{out}\n{err}"
    return out, err


def test_trace_in_words(capsys, where):
    out, _ = qa(capsys, "trace", "经济增长预期目标", "--kind", "政府工作报告", *FAKE, *where)
    assert "“经济增长预期目标”在政府工作报告中：3 篇文档、3 个年份出现，最早 2022 年，最近 2024 年。" in out
    assert "较2022年：" in out and "数字 6%左右 → 5.5%左右" in out
    assert "出处：《2024年市政府工作报告》（2024年1月15日） › 二、2024年主要目标 · 第1段" in out


def test_trace_json_is_the_api_object(capsys, where):
    out, _ = qa(capsys, "trace", "稳中求进工作总基调", "--from", "2023", "--json", *FAKE, *where)
    trace = json.loads(out)
    assert trace["years"] == [2023, None] and trace["first"] == 2023 and trace["last"] == 2024
    first = trace["rows"][0]["occurrences"][0]
    assert first["how"] == "variant" and first["found"] == "稳中求进的工作总基调"
    assert first["sentence"][first["start"] : first["end"]] == first["found"]
    assert trace["rows"][-1]["change"]["summary"].startswith("较2023年")


def test_trace_exports_word_with_footnotes_and_markdown(capsys, where, tmp_path):
    qa(capsys, "trace", "经济增长预期目标", "--kind", "政府工作报告", "--export", tmp_path / "t.docx", *FAKE, *where)
    with zipfile.ZipFile(tmp_path / "t.docx") as docx:
        body = docx.read("word/document.xml").decode()
        notes = docx.read("word/footnotes.xml").decode()
    assert "footnoteReference" in body and 'w:val="yellow"' in body  # the formulation highlighted
    assert "《2023年市政府工作报告》（2023年1月12日） › 二、2023年主要目标" in notes
    qa(capsys, "trace", "经济增长预期目标", "--kind", "政府工作报告", "--export", tmp_path / "t.md", *FAKE, *where)
    markdown = (tmp_path / "t.md").read_text(encoding="utf-8")
    assert markdown.startswith("# 提法演变：经济增长预期目标") and "“今年全市**经济增长预期目标**为6%左右。”[^1]" in markdown
    assert "[^1]: 《2022年市政府工作报告》" in markdown


@pytest.mark.parametrize("args, code, words", [
    (["", ], 2, "请输入要查的提法"),
    (["新"], 2, "只有一个字"),
    (["新质量生产力"], 1, "出现过的相近提法：“新质生产力”"),
    (["稳中求进", "--from", "1990", "--to", "1995"], 1, "没有1990—1995年的文档"),
    (["稳中求进", "--from", "20x"], 2, "起始年份"),
    (["稳中求进", "--kind", "报告"], 2, "政府工作报告、党代会报告"),
    (["稳中求进", "--export", "t.pdf"], 2, ".md、.docx"),
])
def test_trace_bad_input_in_chinese(capsys, where, args, code, words):
    _, err = qa(capsys, "trace", *args, *FAKE, *where, code=code)
    assert words in err


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from conftest import serve_app

    yield from serve_app(tmp_path_factory.mktemp("trace-api"), TRACE_CORPUS)


def _get(url: str):
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers.get("content-type"), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("content-type"), error.read()


def test_trace_over_http_and_gradio_client(served):
    from gradio_client import Client

    trace = Client(served, verbose=False).predict("经济增长预期目标", "政府工作报告", api_name="/trace")
    assert [r["occurrences"][0]["figure"] for r in trace["rows"]] == ["6%左右", "5.5%左右", "5%左右"]
    query = urllib.parse.urlencode({"phrase": "经济增长预期目标", "kind": "政府工作报告", "from": "2023"})
    status, _, body = _get(f"{served}api/trace?{query}")
    assert status == 200 and [r["year"] for r in json.loads(body)["rows"]] == [2023, 2024]
    status, kind, body = _get(f"{served}api/trace?{query}&format=docx")
    assert status == 200 and kind.startswith("application/vnd.openxmlformats") and body[:2] == b"PK"
    status, _, body = _get(f"{served}api/trace?" + urllib.parse.urlencode({"phrase": "新"}))
    assert json.loads(body)["error"]["code"] == "bad_phrase"
    status, _, body = _get(f"{served}api/trace?" + urllib.parse.urlencode({"phrase": "新质量生产力", "format": "docx"}))
    assert status == 404 and "新质生产力" in json.loads(body)["message"]
    status, _, body = _get(f"{served}api/trace?" + urllib.parse.urlencode({"phrase": "稳中求进", "format": "pdf"}))
    assert status == 400 and "json、docx、md" in json.loads(body)["error"]["message"]
