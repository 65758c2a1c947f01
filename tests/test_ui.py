"""Rendering of answers for the chat: escaped text, highlighted quotes, Chinese messages."""
from __future__ import annotations

from pathlib import Path

import pytest

import html

from qa.answer import Assistant
from qa.app.cards import escape, render_answer, render_quotes
from qa.app.ui import build_app, find_quotes, respond
from qa.records import Answer, Citation, Hit, Passage, Quote, Span


def hit_with(text: str, start: int, end: int) -> Hit:
    p = Passage("p", "d", "标题<b>", None, ("一、甲",), 2, text, (Span(0, len(text)),), (Span(0, len(text)),))
    return Hit(1, 0.5, p, Quote(text[start:end], start, end), Citation("标题<b>", None, ("一、甲",), 2))


def test_document_text_is_never_html_or_markdown():
    shown = escape("<script>alert(1)</script> **粗体** [链接](x) # 标题 &amp;")
    assert "<" not in shown and ">" not in shown and "*" not in shown and "[" not in shown and "#" not in shown.replace("&#", "")
    assert "&#60;script&#62;" in shown and "&#38;amp;" in shown


def test_card_highlights_the_quote_and_shows_the_citation():
    html = render_answer(Answer("问", (hit_with("前文。<i>引文</i>。后文。", 3, 13),)))
    assert "<mark>&#60;i&#62;引文&#60;/i&#62;。</mark>" in html
    assert "《标题&#60;b&#62;》 › 一、甲 · 第2段" in html
    assert "\n\n" not in html and "<details>" not in html  # a short paragraph is shown whole


def test_long_paragraph_shows_context_and_the_whole_on_demand():
    text = "甲" * 300 + "要引用的这句话。" + "乙" * 300
    html = render_answer(Answer("问", (hit_with(text, 300, 308),)))
    excerpt, full = html.split("<details>")
    assert "…" + "甲" * 90 + "<mark>要引用的这句话。</mark>" + "乙" * 90 + "…" in excerpt
    assert "甲" * 300 + "<mark>要引用的这句话。</mark>" + "乙" * 300 in full


def test_notices_are_chinese():
    assert "还没有任何文档" in render_answer(Answer("问", notice="empty_index"))
    assert "没有找到相关段落" in render_answer(Answer("问"))


def test_respond_appends_messages_and_reports_errors(tiny, fake):
    assistant, _ = Assistant.open(tiny, embedder=fake)
    box, history, asked = respond(assistant, "粮食产量", [], 2)
    assert box == "" and [m["role"] for m in history] == ["user", "assistant"]
    assert "qa-card" in history[1]["content"] and "经济总量稳步增长" in history[1]["content"]
    assert [a.question for a in asked] == ["粮食产量"]
    _, same, still = respond(assistant, "   ", history, 2, answers=asked)
    assert same == history and still == asked


def test_respond_can_list_the_best_passage_of_each_document(tiny, fake):
    assistant, _ = Assistant.open(tiny, embedder=fake)
    _, every, _ = respond(assistant, "学习 作风 就业", [], 5)
    _, best, _ = respond(assistant, "学习 作风 就业", [], 5, best_per_document=True)
    assert every[1]["content"].count("qa-card\"") > best[1]["content"].count("qa-card\"") == 2


def test_app_builds_with_notices(tiny, fake):
    assistant, _ = Assistant.open(tiny, embedder=fake)
    app = build_app(assistant, ["已跳过文件「<b>旧</b>.txt」：不是 UTF-8 编码。"])
    values = {c["props"].get("elem_id"): c["props"].get("value") for c in app.config["components"]}
    assert app.title == "讲稿问答"
    assert "<b>" not in values["qa-notices"] and html.unescape(values["qa-notices"]) == "已跳过文件「<b>旧</b>.txt」：不是 UTF-8 编码。"
    assert "已索引 2 篇文档、7 个段落" in values["qa-status"]
    assert {"甲讲话", "乙报告"} <= {row[1] for row in values["qa-documents"]["data"]}


def test_quote_line_in_the_usual_chinese_form():
    c = Citation("在某会议上的讲话", "2024-03-05", ("三、要强化组织建设，彰显组织优势", "（一）要建强支部"), 2)
    assert c.quote_line("党的力量来自组织。") == (
        "“党的力量来自组织。”（《在某会议上的讲话》，2024年3月5日，三、要强化组织建设，彰显组织优势，（一）要建强支部）"
    )
    assert Citation("报告", "2023", (), 1).quote_line("甲。") == "“甲。”（《报告》，2023年）"
    assert Citation("报告", None, (), 1).quote_line("甲。") == "“甲。”（《报告》）"


def test_quotes_tab_renders_escaped_cards(tiny, fake):
    assistant, _ = Assistant.open(tiny, embedder=fake)
    html = find_quotes(assistant, "粮食产量", 5)
    assert "<mark>经济总量稳步增长，粮食产量创历史新高。</mark>" in html and "qa-copy" in html
    assert "请输入问题" in find_quotes(assistant, "  ", 5)
    assert "没有找到" in render_quotes(Answer("主题"))


def test_a_follow_up_is_read_with_the_turn_before_unless_turned_off(tiny, fake):
    assistant, _ = Assistant.open(tiny, embedder=fake)
    _, history, asked = respond(assistant, "粮食产量", [], 2)
    _, history, asked = respond(assistant, "那就业呢？", history, 2, answers=asked)
    # its own topic, kept in the previous answer's document
    assert "按上文理解为：在《乙报告》中查找“就业呢？”" in history[-1]["content"]
    _, history, asked = respond(assistant, "为什么？", history, 2, answers=asked)
    assert "按上文理解为：在《乙报告》中查找“就业，为什么？”" in history[-1]["content"]
    assert asked[-1].question == "为什么？" and asked[-1].scope == "《乙报告》"
    _, off, _ = respond(assistant, "为什么？", history, 2, answers=asked, follow_up=False)
    assert "按上文理解为" not in off[-1]["content"]


def test_the_conversation_exports_to_markdown_and_word_with_footnotes(tiny, fake, tmp_path):
    import docx

    from qa.app.ui import export_conversation
    from qa.errors import InvalidSetting
    from qa.export import export, to_markdown

    assistant, _ = Assistant.open(tiny, embedder=fake)
    _, _, answers = respond(assistant, "粮食产量", [], 1)
    _, _, answers = respond(assistant, "为什么？", [], 1, answers=answers)
    text = to_markdown(answers)
    assert "## 问：粮食产量" in text and "> “经济总量稳步增长，粮食产量创历史新高。”[^1]" in text
    assert "[^1]: 《乙报告》 › 一、经济发展 · 第1段" in text and "（按上文理解为：粮食产量，为什么？）" in text
    path = Path(export_conversation(answers, ".docx", tmp_path))
    word = docx.Document(str(path))
    assert "“经济总量稳步增长，粮食产量创历史新高。”" in [p.text for p in word.paragraphs]
    footnotes = next(r.target_part for r in word.part.rels.values() if r.reltype.endswith("/footnotes"))
    assert "《乙报告》 › 一、经济发展 · 第1段" in footnotes.blob.decode("utf-8")
    assert 'w:footnoteReference w:id="1"' in word.element.xml
    assert export_conversation([], ".md", tmp_path) is None
    with pytest.raises(InvalidSetting):
        export(answers, tmp_path / "x.pdf")


def test_the_page_reports_chinese_before_gradio_starts():
    import asyncio

    from qa.app.page_language import CHINESE_FIRST, ChineseFirst

    def served(content_type: bytes, chunks: list[bytes]):
        async def app(scope, receive, send):
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", content_type), (b"content-length", b"0")]})
            for i, chunk in enumerate(chunks):
                await send({"type": "http.response.body", "body": chunk, "more_body": i < len(chunks) - 1})

        sent = []

        async def send(message):
            sent.append(message)

        asyncio.run(ChineseFirst(app)({"type": "http", "method": "GET"}, None, send))
        return dict(sent[0]["headers"]), b"".join(m.get("body", b"") for m in sent[1:])

    headers, body = served(b"text/html; charset=utf-8", [b"<html><head><title>x", b"</title></head></html>"])
    assert body == b"<html><head>" + CHINESE_FIRST + b"<title>x</title></head></html>"
    assert headers[b"content-length"] == str(len(body)).encode()
    headers, body = served(b"application/json", [b'{"a": "<head>"}'])
    assert body == b'{"a": "<head>"}' and headers[b"content-length"] == b"0"  # untouched
