"""Answers and checked drafts written out for Word and Markdown: each quote verbatim, its citation as a footnote."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape

from qa.check.findings import CheckReport, outermost
from qa.check.quotations import CLOSING
from qa.records import Answer
from qa.trace.timeline import Trace

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


def _footnoted_docx(path: Path, title: str, blocks: list[tuple[str, list[tuple[str, str | None, int | None]]]]) -> Path:
    """A Word document of paragraphs made of runs (text, highlight colour or None, footnote number or None: a
    footnote reference after the run); blocks are (style, runs) with style "h1", "h2" or "p"; notes follow."""
    import docx
    from docx.opc.constants import CONTENT_TYPE, RELATIONSHIP_TYPE
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml

    document = docx.Document()
    document.add_heading(title, level=1)
    notes: list[str] = []
    for style, runs in blocks:
        if style in ("h1", "h2"):
            document.add_heading("".join(r[0] for r in runs), level=int(style[1]) + 1)
            continue
        paragraph = document.add_paragraph()
        for text, colour, note in runs:
            if text:
                run = paragraph.add_run(text)
                if colour:
                    run._r.get_or_add_rPr().append(parse_xml(f'<w:highlight xmlns:w="{_W}" w:val="{colour}"/>'))
            if note:
                notes.append(note)
                paragraph._p.append(parse_xml(
                    f'<w:r xmlns:w="{_W}"><w:rPr><w:vertAlign w:val="superscript"/></w:rPr>'
                    f'<w:footnoteReference w:id="{len(notes)}"/></w:r>'))
    part = Part(PackURI("/word/footnotes.xml"), CONTENT_TYPE.WML_FOOTNOTES, _footnotes_xml(notes),
                document.part.package)
    document.part.relate_to(part, RELATIONSHIP_TYPE.FOOTNOTES)
    document.save(str(path))
    return path


def to_docx(answers: Sequence[Answer], path: Path, k: int | None = None) -> Path:
    """The conversation as a Word document: questions as headings, quotes in “”, each citation a real footnote."""
    blocks = []
    for answer, hits in _turns(answers, k):
        blocks.append(("h2", [(f"问：{answer.question}", None, None)]))
        if answer.searched:
            blocks.append(("p", [(f"（按上文理解为：{answer.searched}）", None, None)]))
        if answer.confident is False:
            blocks.append(("p", [(NOT_CONFIDENT, None, None)]))
        if not hits:
            blocks.append(("p", [("没有找到相关段落。", None, None)]))
        for hit in hits:
            blocks.append(("p", [(f"“{hit.quote.text}”", None, hit.citation.render())]))
    return _footnoted_docx(path, "讲稿问答", blocks)


# Word's highlight colours for each verdict of 引文核对
VERDICT_COLOURS = {"exact": "green", "altered": "yellow", "not_found": "red", "wrong_source": "magenta",
                   "unchecked": "lightGray"}


def _marks(report: CheckReport) -> tuple[list[tuple[int, int, str]], dict[int, list[str]]]:
    """Highlighted spans (start, end, verdict; none inside another) and footnotes by the draft position they
    follow (after the quotation's closing mark)."""
    checks = report.checks
    spans = [(checks[i].quotation.start, checks[i].quotation.end, checks[i].verdict)
             for i in outermost([c.quotation for c in checks])]
    notes: dict[int, list[str]] = {}
    for check in checks:
        q = check.quotation
        at = q.end + 1 if q.end < len(report.draft) and report.draft[q.end] in CLOSING else q.end
        notes.setdefault(at, []).append(f"【{check.label}】{check.summary()}")
    return spans, notes


def check_blocks(report: CheckReport) -> list[list[tuple[str, str | None, str | None]]]:
    """The checked draft as paragraphs of runs: (text, verdict of the quotation it is part of or None, note)."""
    spans, notes = _marks(report)
    draft, out, start = report.draft, [], 0
    for line in draft.split("\n"):
        end = start + len(line)
        cuts = sorted({start, end} | {x for s, e, _ in spans for x in (s, e) if start < x < end}
                      | {x for x in notes if start < x < end})
        runs = []
        for a, b in zip(cuts, cuts[1:]):
            verdict = next((v for s, e, v in spans if s <= a and b <= e), None)
            runs.append((draft[a:b], verdict, None))
            for note in notes.get(b, []):
                runs.append(("", None, note))
        if line.strip():
            out.append(runs)
        start = end + 1
    return out


def check_markdown(report: CheckReport) -> str:
    """The checked draft as Markdown: each quotation followed by a footnote with its verdict and source."""
    lines, notes = ["# 引文核对", ""], []
    for runs in check_blocks(report):
        lines += [_markdown_runs(runs, notes, lambda v: v in ("altered", "not_found", "wrong_source")), ""]
    return _with_notes(lines, notes)


def _markdown_runs(runs, notes: list[str], bold) -> str:
    """A paragraph of runs (text, mark, note) as Markdown: a run whose mark bold() accepts in bold, each note a
    [^n] reference (the note appended to notes)."""
    text = ""
    for chunk, mark, note in runs:
        text += f"**{chunk}**" if bold(mark) and chunk.strip() else chunk
        if note:
            notes.append(note)
            text += f"[^{len(notes)}]"
    return text


def _with_notes(lines: list[str], notes: list[str]) -> str:
    lines = lines + [f"[^{i}]: {note}" for i, note in enumerate(notes, start=1)]
    return "\n".join(lines).rstrip() + "\n"


def export_check(report: CheckReport, path: Path) -> Path:
    """The checked draft written to path: Word (.docx) with each quotation highlighted by its verdict (green
    原文一致, yellow 有改动, red 未找到, magenta 出处不符) and a footnote giving the source, or Markdown (.md)."""
    def word(target: Path) -> Path:
        blocks = [("p", [(text, VERDICT_COLOURS.get(v) if v else None, note) for text, v, note in runs])
                  for runs in check_blocks(report)]
        return _footnoted_docx(target, "引文核对", blocks)

    return _write(Path(path), lambda: check_markdown(report), word)


def trace_blocks(trace: Trace) -> list[tuple[str, list[tuple[str, str | None, str | None]]]]:
    """A trace as (style, runs): its span of years, a heading per year, the sentence with the formulation
    highlighted and its citation as a footnote, then the change from the year before."""
    blocks = [("p", [(line, None, None)]) for line in trace.summary()]
    for row in trace.rows:
        main = row.main
        blocks.append(("h2", [(f"{row.year}年　《{row.title}》{main.how_note}", None, None)]))
        blocks.append(("p", [("“" + main.sentence[: main.start], None, None), (main.found, "yellow", None),
                             (main.sentence[main.end :] + "”", None, main.citation.render())]
                       + ([(f"（下段：{main.follows}）", None, None)] if main.follows else [])))
        if row.change is not None:
            blocks.append(("p", [(row.change.summary(), None, None)]))
    return blocks


def trace_markdown(trace: Trace) -> str:
    """A trace as Markdown: a section per year, the formulation in bold, each citation a [^n] footnote."""
    lines, notes = [f"# 提法演变：{trace.phrase}", ""], []
    for style, runs in trace_blocks(trace):
        lines += [f"## {runs[0][0]}" if style == "h2" else _markdown_runs(runs, notes, bool), ""]
    return _with_notes(lines, notes)


def export_trace(trace: Trace, path: Path) -> Path:
    """A trace written to path: Word (.docx, the formulation highlighted, citations as footnotes) or Markdown."""
    return _write(Path(path), lambda: trace_markdown(trace),
                  lambda target: _footnoted_docx(target, f"提法演变：{trace.phrase}", trace_blocks(trace)))


def export(answers: Sequence[Answer], path: Path, k: int | None = None) -> Path:
    """Write the answers to path, as Markdown (.md) or Word (.docx) by its suffix."""
    return _write(Path(path), lambda: to_markdown(answers, k), lambda target: to_docx(answers, target, k))


def export_path(name: str | Path) -> Path:
    """The file to export to, refused (with the valid suffixes) unless it ends in .md or .docx."""
    from qa.errors import InvalidSetting

    path = Path(name)
    if path.suffix.lower() not in EXPORT_FORMATS:
        raise InvalidSetting(name="export", value=str(name), valid="、".join(EXPORT_FORMATS))
    return path


def _write(path: Path, markdown, word) -> Path:
    """path written by its suffix: .md from markdown() (the text), .docx by word(path); any other is refused."""
    path = export_path(path)
    if path.suffix.lower() == ".md":
        path.write_text(markdown(), encoding="utf-8")
        return path
    return word(path)
