"""The qa command in-process (qa.app.cli.main) on tiny corpora with the fake embedder: every command, its words,
its JSON and its exit codes, in seconds. test_cli.py keeps a few true end-to-end runs of the installed command."""
from __future__ import annotations

import io
import json

import pytest
from conftest import TINY, write_corpus

from qa.app.cli import main

FAKE = ["--model", "fake-bigram"]


@pytest.fixture
def where(tmp_path, capsys):
    write_corpus(tmp_path / "data", TINY)
    args = ["--data", str(tmp_path / "data"), "--index", str(tmp_path / "index")]
    assert main(["build", *FAKE, *args]) == 0
    capsys.readouterr()  # the build's report is not the test's
    return args


def qa(capsys, *args, code=0):
    got = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert got == code, f"exit {got}\n{out}\n{err}"
    return out, err


def test_ask_json(capsys, where):
    out, _ = qa(capsys, "ask", "粮食产量", "--json", "-k", "2", *where)
    answer = json.loads(out)
    top = answer["hits"][0]
    assert answer["question"] == "粮食产量" and len(answer["hits"]) == 2
    assert top["title"] == "乙报告" and top["section_path"] == ["一、经济发展"]
    assert top["text"][top["quote_start"] : top["quote_end"]] == top["quote"] == "经济总量稳步增长，粮食产量创历史新高。"
    assert top["citation"] == "《乙报告》 › 一、经济发展 · 第1段"


def test_ask_text_shows_citation_quote_and_paragraph(capsys, where):
    out, _ = qa(capsys, "ask", "粮食产量", "-k", "1", *where)
    assert out.startswith("问：粮食产量\n")
    assert "[1] 《乙报告》 › 一、经济发展 · 第1段" in out and "引用：“经济总量稳步增长，粮食产量创历史新高。”" in out


def test_ask_stdin_lines_and_a_punctuation_only_line(capsys, where, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("粮食产量\n\n作风建设\n" + "？" * 3 + "\n"))
    out, _ = qa(capsys, "ask", "-", "-k", "1", *where)
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line.get("question") for line in lines[:2]] == ["粮食产量", "作风建设"]
    assert len(lines) == 3 and lines[2]["question"] == "？？？"  # answered (if weakly), never the end of the run


def test_quotes(capsys, where):
    out, _ = qa(capsys, "quotes", "学习", "-k", "2", "--json", *where)
    assert all("学习" in h["quote"] for h in json.loads(out)["hits"])
    out, _ = qa(capsys, "quotes", "学习", "-k", "1", *where)
    assert out.startswith("主题：学习") and "出处：《甲讲话》" in out


def test_status(capsys, where):
    out, _ = qa(capsys, "status", *where)
    assert "模型：fake-bigram（64 维）" in out and "状态：最新" in out and "甲讲话.txt：《甲讲话》，" in out
    info = json.loads(qa(capsys, "status", "--json", *where)[0])
    assert (info["documents"], info["stale"], info["model"]) == (2, False, "fake-bigram")
    assert set(info) >= {"index", "data", "dim", "engine", "segments", "passages", "windows", "built", "added",
                         "changed", "removed", "rejected"}


def test_status_says_what_changed(capsys, where, tmp_path):
    (tmp_path / "data" / "丙.txt").write_text("丙讲话\n\n要抓落实。", encoding="utf-8")
    (tmp_path / "data" / "乙报告.txt").unlink()
    out, _ = qa(capsys, "status", *where)
    assert "状态：需要更新（新增：丙.txt；删除：乙报告.txt）。运行 qa build 更新。" in out


def test_bad_settings_exit_2_with_the_valid_range(capsys, where):
    _, err = qa(capsys, "ask", "问题", "-k", "0", *where, code=2)
    assert "设置 k 的值「0」无效，有效范围：1–100" in err
    _, err = qa(capsys, "eval", "q.jsonl", "--mode", "sparse", *where[2:], code=2)
    assert "hybrid、dense、keyword" in err
    with pytest.raises(SystemExit):  # no abbreviations: --mode is not taken for --model
        main(["ask", "问题", "--mode", "dense", *where])
    _, err = qa(capsys, "ask", "问题", "--year", "去年", *where, code=2)
    assert "YYYY 或 YYYY-YYYY" in err


def test_missing_index_and_data(capsys, tmp_path):
    _, err = qa(capsys, "ask", "问题", *FAKE, "--data", tmp_path / "无", "--index", tmp_path / "idx", code=1)
    assert "还没有索引" in err and "找不到文本目录" in err
    _, err = qa(capsys, "status", "--index", tmp_path / "idx", code=1)
    assert "还没有索引" in err


def test_build_update_and_rejected_file(capsys, where, tmp_path):
    assert "索引已是最新" in qa(capsys, "build", *where)[0]
    (tmp_path / "data" / "乱码.txt").write_bytes("これは日本語のテキストです。".encode("shift_jis"))
    (tmp_path / "data" / "新讲话.txt").write_text("新讲话\n\n一、总体要求\n\n坚持稳中求进。", encoding="utf-8")
    out, _ = qa(capsys, "build", *where)
    assert "已更新索引（只处理了变化的文件）：3 篇文档" in out and "新嵌入 1 个片段" in out
    assert "已跳过文件「乱码.txt」：无法确定文字编码" in out
    hit = json.loads(qa(capsys, "ask", "稳中求进", "--json", "-k", "1", *where)[0])["hits"][0]
    assert hit["citation"] == "《新讲话》 › 一、总体要求 · 第1段"


def test_build_jsonl_and_eval(capsys, tmp_path):
    passages = tmp_path / "passages.jsonl"
    passages.write_text('{"id": "A_0", "title": "长江", "text": "长江是中国第一长河。全长约六千三百公里。"}\n'
                        '{"id": "B_0", "title": "黄河", "text": "黄河是中华民族的母亲河。全长约五千四百公里。"}\n',
                        encoding="utf-8")
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "黄河全长多少公里", "gold_passage_ids": ["B_0"]}\n'
                         '{"question": "中国第一长河是哪条", "gold": ["中国第一长河"], "doc": "长江"}\n', encoding="utf-8")
    index = tmp_path / "index"
    qa(capsys, "build", "--jsonl", passages, "--index", index, *FAKE)
    report = json.loads(qa(capsys, "eval", questions, "--index", index, "--json")[0])
    assert report["questions"] == 2 and report["recall"]["R@1"] == 1.0
    every = json.loads(qa(capsys, "eval", questions, "--index", index, "--mode", "all", "--json")[0])
    assert [r["mode"] for r in every] == ["hybrid", "dense", "keyword"]
    assert "MRR@10" in qa(capsys, "eval", questions, "--index", index, "--mode", "keyword")[0]
    hit = json.loads(qa(capsys, "ask", "母亲河", "--json", "-k", "1", "--index", index)[0])["hits"][0]
    assert hit["citation"] == "《黄河》 · 第1段"  # the index remembers its JSONL source and its model


def test_add_list_remove(capsys, where, tmp_path):
    incoming = write_corpus(tmp_path / "incoming", {"防汛讲话.txt": "全市防汛工作会议讲话\n——2023年6月1日\n一、思想上高度重视\n"
                                                               "防汛工作事关群众生命财产安全。\n"})
    out, _ = qa(capsys, "add", incoming / "防汛讲话.txt", *where)
    assert "已添加「防汛讲话.txt」" in out
    listed = json.loads(qa(capsys, "list", "--json", *where)[0])
    mine = next(r for r in listed if r["source"] == "防汛讲话.txt")
    assert (mine["title"], mine["date"], mine["status"], mine["passages"]) == ("全市防汛工作会议讲话", "2023-06-01", "indexed", 1)
    out, _ = qa(capsys, "list", *where)
    assert out.startswith("文档 3 篇已索引") and "《全市防汛工作会议讲话》（防汛讲话.txt，2023-06-01，1 段）已索引" in out
    _, err = qa(capsys, "remove", "不存在的讲话", *where, code=1)
    assert "没有找到文档「不存在的讲话」。可选：" in err
    out, _ = qa(capsys, "remove", "防汛", *where)
    assert "已删除「防汛讲话.txt」（《全市防汛工作会议讲话》）" in out
    assert all(r["source"] != "防汛讲话.txt" for r in json.loads(qa(capsys, "list", "--json", *where)[0]))


def test_add_refusal_exits_1_when_nothing_was_added(capsys, where, tmp_path):
    (tmp_path / ".隐藏.txt").write_text("隐藏讲话\n\n要抓落实。", encoding="utf-8")
    out, _ = qa(capsys, "add", tmp_path / ".隐藏.txt", *where, code=1)
    assert "隐藏文件" in out and "已添加" not in out
    report = json.loads(qa(capsys, "add", tmp_path / ".隐藏.txt", "--json", *where, code=1)[0])
    assert report["added"] == [] and report["rejected"][0]["file"] == ".隐藏.txt"
    assert "隐藏文件" in report["messages"][0]


def test_list_of_an_empty_folder(capsys, tmp_path):
    (tmp_path / "data").mkdir()
    out, _ = qa(capsys, "list", "--data", tmp_path / "data", "--index", tmp_path / "index")
    assert "中还没有文档。用 qa add 文件… 添加。" in out


def test_parse_shows_what_ingestion_understood(capsys, tmp_path):
    text = ("政府工作报告\n——2024年3月5日在第十四届全国人民代表大会第二次会议上\n国务院总理　李　强\n各位代表：\n"
            "一、工作回顾\n过去一年很不平凡。\n（一）经济回升向好\n一是增长。\n二是就业。\n二、总体要求\n稳中求进。\n"
            "相关推荐\n别的文章")
    path = tmp_path / "2024_政府工作报告.txt"
    path.write_text(text, encoding="utf-8")
    got = json.loads(qa(capsys, "parse", path, "--json")[0])
    assert (got["title"], got["date"], got["speaker"], got["occasion"]) == (
        "政府工作报告", "2024-03-05", "国务院总理　李强", "在第十四届全国人民代表大会第二次会议上")
    assert got["sections"] == [
        {"heading": "一、工作回顾", "level": 1, "paragraphs": 1, "children": [
            {"heading": "（一）经济回升向好", "level": 2, "paragraphs": 2, "children": []}]},
        {"heading": "二、总体要求", "level": 1, "paragraphs": 1, "children": []},
    ]
    assert got["dropped"] == ["相关推荐", "别的文章"] and got["points"] == 2
    plain = qa(capsys, "parse", path)[0]
    assert "讲话人：国务院总理　李强" in plain and "  - 一、工作回顾（1 段）" in plain and "× 相关推荐" in plain
    _, err = qa(capsys, "parse", tmp_path / "没有.txt", code=1)
    assert "找不到文件" in err


def test_terminal_escape_codes_in_a_question_are_shown_not_sent(capsys, where):
    out, _ = qa(capsys, "ask", "粮食\x1b[2J产量", "-k", "1", *where)
    assert "\x1b[2J" not in out and "\\x1b[2J" in out


def test_as_of_sets_what_this_year_means(capsys, tmp_path):
    write_corpus(tmp_path / "data", {
        "2023_报告.txt": "2023年政府工作报告\n\n一、目标\n\n今年粮食产量预期目标是一万三千亿斤。\n",
        "2024_报告.txt": "2024年政府工作报告\n\n一、目标\n\n今年粮食产量预期目标是一万四千亿斤。\n"})
    where = ["--data", tmp_path / "data", "--index", tmp_path / "index", *FAKE]
    qa(capsys, "build", *where)
    newest = json.loads(qa(capsys, "ask", "今年粮食产量预期目标", "--json", "-k", "1", *where)[0])["hits"][0]
    asked = json.loads(qa(capsys, "ask", "今年粮食产量预期目标", "--json", "-k", "1", "--as-of", "2023-03-05",
                          *where)[0])["hits"][0]
    assert "一万四千亿斤" in newest["text"] and "一万三千亿斤" in asked["text"]
    _, err = qa(capsys, "ask", "今年", "--as-of", "去年", *where, code=2)
    assert "YYYY 或 YYYY-MM-DD" in err


def test_per_doc_lists_the_best_passage_of_each_document(capsys, where):
    every = json.loads(qa(capsys, "ask", "学习 作风 就业", "--json", "-k", "5", *where)[0])["hits"]
    best = json.loads(qa(capsys, "ask", "学习 作风 就业", "--json", "-k", "5", "--per-doc", "1", *where)[0])["hits"]
    assert len({h["title"] for h in every}) < len(every)
    assert sorted(h["title"] for h in best) == ["乙报告", "甲讲话"]
    _, err = qa(capsys, "ask", "学习", "--per-doc", "-1", *where, code=2)
    assert "per_document" in err and "0–100" in err


def test_an_unreliable_answer_says_so_in_words_and_json(capsys, where, monkeypatch):
    from qa.search import confidence

    monkeypatch.setitem(confidence.CALIBRATIONS, "fake-bigram",
                        confidence.Calibration(dense_floor=2.0, keyword_floor=2.0, dense_high=3.0, keyword_high=3.0))
    out, _ = qa(capsys, "ask", "天气怎么样", "-k", "1", *where)
    assert "没有找到可靠的相关原文" in out and "仍然查看最接近的 1 段" in out and "相关度：低" in out
    answer = json.loads(qa(capsys, "ask", "天气怎么样", "-k", "1", "--json", *where)[0])
    assert answer["confident"] is False and answer["hits"][0]["confidence"] == "low"


def test_after_reads_a_follow_up_with_the_question_before(capsys, where):
    out, _ = qa(capsys, "ask", "为什么？", "--after", "粮食产量", "-k", "1", *where)
    assert "按上文理解为：在《乙报告》中查找“粮食产量，为什么？”" in out and "粮食产量创历史新高" in out
    answer = json.loads(qa(capsys, "ask", "为什么？", "--after", "粮食产量", "-k", "1", "--json", *where)[0])
    assert answer["searched"] == "粮食产量，为什么？" and answer["question"] == "为什么？"
    assert answer["scope"] == "《乙报告》"  # kept in the previous answer's document
    alone = json.loads(qa(capsys, "ask", "为什么？", "-k", "1", "--json", *where)[0])
    assert alone["searched"] is None


def test_export_writes_the_answer_for_word_or_markdown(capsys, where, tmp_path):
    qa(capsys, "ask", "粮食产量", "-k", "1", "--export", tmp_path / "答.md", *where)
    assert "[^1]: 《乙报告》 › 一、经济发展 · 第1段" in (tmp_path / "答.md").read_text(encoding="utf-8")
    qa(capsys, "ask", "粮食产量", "-k", "1", "--export", tmp_path / "答.docx", *where)
    assert (tmp_path / "答.docx").stat().st_size > 0
    _, err = qa(capsys, "ask", "粮食产量", "--export", tmp_path / "答.pdf", *where, code=2)
    assert ".md、.docx" in err


def test_rerank_is_off_by_default_and_turned_on_or_chosen_by_name(capsys, where, monkeypatch):
    import fakes

    calls = []
    monkeypatch.setattr(fakes.FakeReranker, "score", lambda self, q, ps: calls.append(len(ps)) or [0.0] * len(ps))
    qa(capsys, "ask", "粮食产量", "--json", "-k", "1", "--no-update", *where)
    qa(capsys, "ask", "粮食产量", "--json", "-k", "1", "--no-update", "--no-rerank", *where)
    assert calls == []
    qa(capsys, "ask", "粮食产量", "--json", "-k", "1", "--no-update", "--rerank", *where)
    qa(capsys, "quotes", "学习", "--json", "--no-update", "--reranker", "fake-rerank", *where)
    assert len(calls) == 2  # the trained reranker's name gives the fake in this process
    monkeypatch.setenv("QA_RERANK", "1")
    qa(capsys, "ask", "粮食产量", "--json", "-k", "1", "--no-update", *where)
    assert len(calls) == 3
    monkeypatch.setenv("QA_RERANK", "0")
    qa(capsys, "ask", "粮食产量", "--json", "-k", "1", "--no-update", *where)
    assert len(calls) == 3
    _, err = qa(capsys, "ask", "粮食产量", "--reranker", "no-such", "--no-update", *where, code=2)
    assert "no-such" in err and "none" in err
