"""Render a plain speech text as the other formats users bring: legacy encodings, Word, a web page, a PDF."""
from __future__ import annotations

import html
from pathlib import Path

from qa.ingest.headings import parse_heading


def lines_of(text: str) -> list[str]:
    return [ln.strip() for ln in text.split("\n") if ln.strip()]


def as_docx(text: str, path: Path, title: str | None = None) -> Path:
    """One Word paragraph per line; the title in the Title style, standalone headings in Heading 1/2 styles."""
    import docx

    document = docx.Document()
    for line in lines_of(text):
        heading = parse_heading(line)
        if line == title:
            document.add_paragraph(line, style="Title")
        elif heading is not None and not heading.run_in and heading.level in (1, 2):
            document.add_heading(line, level=heading.level)
        else:
            document.add_paragraph(line)
    document.save(str(path))
    return path


def as_html(text: str, path: Path, title: str | None = None, encoding: str = "utf-8") -> Path:
    """A 范文-site page: navigation, the speech in a content block, a sidebar of links, a footer and scripts."""
    body = "\n".join(
        f"<h1>{html.escape(ln)}</h1>" if ln == title else f"<p>{html.escape(ln)}</p>" for ln in lines_of(text)
    )
    page = f"""<!DOCTYPE html><html><head><meta charset="{encoding}"><title>{html.escape(title or '')}_范文大全</title>
<script>var ads = "相关推荐";</script><style>p {{ margin: 0 }}</style></head>
<body><div class="nav"><a href="/">首页</a> | <a href="/fw/">工作范文</a> | <a href="/jh/">讲话稿</a></div>
<div class="main"><div class="sidebar"><ul><li><a href="/1">热门范文一</a></li><li><a href="/2">热门范文二</a></li></ul></div>
<div class="content"><!-- 正文开始 -->
{body}
</div></div><div class="footer"><p>版权所有 范文大全</p></div><script>track();</script></body></html>"""
    path.write_bytes(page.encode(encoding))
    return path


def as_pdf(text: str, path: Path, chars_per_line: int = 32) -> Path:
    """A text-layer PDF laid out like Chinese print: first lines indented two characters, every line cut at the
    page width."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path))
    y = 800
    for line in lines_of(text):
        heading = parse_heading(line)
        if heading is None or heading.run_in:
            line = "\u3000\u3000" + line  # first-line indent of Chinese print
        for start in range(0, len(line), chars_per_line):
            if y < 60:
                pdf.showPage()
                y = 800
            pdf.setFont("STSong-Light", 11)
            pdf.drawString(40, y, line[start : start + chars_per_line])
            y -= 16
    pdf.save()
    return path


def as_scanned_pdf(path: Path) -> Path:
    """A PDF whose pages carry no text layer, as a scanner makes them."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_blank_page(width=595, height=842)
    with open(path, "wb") as f:
        writer.write(f)
    return path
