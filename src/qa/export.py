"""Answers written out for Word and Markdown: each quote verbatim, its citation as a footnote."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape

from qa.records import Answer

NOT_CONFIDENT = "没有找到可靠的相关原文，以下是最接近的段落，仅供参考。"
EXPORT_FORMATS = (".md", ".docx")


def _turns(answers: Sequence[Answer], k: int | None):
    """Each answer with the hits to write: a reliable answer leaves out its passages of low relevance."""
    for answer in answers:
        hits = answer.hits[:k] if k else answer.hits
        if answer.confident:
            hits = tuple(h for h in hits if h.confidence != "low") or hits
        yield answer, hits


def to_markdown(answers: Sequence[Answer], k: int | None = None) -> str:
    """The conversation as Markdown: each question, its quotes as block quotes with [^n] footnotes citing them."""
    lines, notes = ["# 讲稿问答", ""], []
    for answer, hits in _turns(answers, k):
        lines += [f"## 问：{answer.question}", ""]
        if answer.searched:
            lines += [f"（按上文理解为：{answer.searched}）", ""]
        if answer.confident is False:
            lines += [NOT_CONFIDENT, ""]
        if not hits:
            lines += ["没有找到相关段落。", ""]
        for hit in hits:
            notes.append(hit.citation.render())
            lines += [f"> “{hit.quote.text}”[^{len(notes)}]", ""]
    lines += [f"[^{i}]: {note}" for i, note in enumerate(notes, start=1)]
    return "\n".join(lines).rstrip() + "\n"


_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _footnotes_xml(notes: list[str]) -> bytes:
    def note(i: int, text: str) -> str:
        return (f'<w:footnote w:id="{i}"><w:p><w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                f'<w:footnoteRef/></w:r><w:r><w:t xml:space="preserve"> {escape(text)}</w:t></w:r></w:p></w:footnote>')

    body = ('<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
            '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p>'
            '</w:footnote>' + "".join(note(i, text) for i, text in enumerate(notes, start=1)))
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes xmlns:w="{_W}">{body}</w:footnotes>'.encode()


def to_docx(answers: Sequence[Answer], path: Path, k: int | None = None) -> Path:
    """The conversation as a Word document: questions as headings, quotes in “”, each citation a real footnote."""
    import docx
    from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml

    document = docx.Document()
    document.add_heading("讲稿问答", level=1)
    notes: list[str] = []
    for answer, hits in _turns(answers, k):
        document.add_heading(f"问：{answer.question}", level=2)
        if answer.searched:
            document.add_paragraph(f"（按上文理解为：{answer.searched}）")
        if answer.confident is False:
            document.add_paragraph(NOT_CONFIDENT)
        if not hits:
            document.add_paragraph("没有找到相关段落。")
        for hit in hits:
            notes.append(hit.citation.render())
            paragraph = document.add_paragraph(f"“{hit.quote.text}”")
            paragraph._p.append(parse_xml(
                f'<w:r xmlns:w="{_W}"><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                f'<w:footnoteReference w:id="{len(notes)}"/></w:r>'))
    part = Part(PackURI("/word/footnotes.xml"), CONTENT_TYPE.WML_FOOTNOTES, _footnotes_xml(notes),
                document.part.package)
    document.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)
    document.save(str(path))
    return path


def export(answers: Sequence[Answer], path: Path, k: int | None = None) -> Path:
    """Write the answers to path, as Markdown (.md) or Word (.docx) by its suffix."""
    from qa.errors import InvalidSetting

    path = Path(path)
    if path.suffix.lower() == ".md":
        path.write_text(to_markdown(answers, k), encoding="utf-8")
        return path
    if path.suffix.lower() == ".docx":
        return to_docx(answers, path, k)
    raise InvalidSetting(name="export", value=path.name, valid="、".join(EXPORT_FORMATS))
