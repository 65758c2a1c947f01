"""The whole document at the cited place: an HTML page with the section tree, the paragraph marked and the quote highlighted."""
from __future__ import annotations

from qa.app.cards import escape
from qa.records import Passage, chinese_date

PAGE_CSS = """
body {font-family: "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif;
      margin: 0; display: flex; color: #222;}
nav {width: 300px; flex: none; height: 100vh; overflow-y: auto; position: sticky; top: 0; padding: 12px 16px;
     border-right: 1px solid #ddd; box-sizing: border-box; font-size: 0.9em; background: #fafafa;}
nav ul {list-style: none; padding-left: 14px; margin: 2px 0;} nav > ul {padding-left: 0;}
nav a {color: #444; text-decoration: none; line-height: 1.6;} nav a:hover {text-decoration: underline;}
nav a.here {color: #8b1a1a; font-weight: 600;}
main {max-width: 860px; padding: 16px 32px 60vh; line-height: 1.9;}
h1 {font-size: 1.5em;} .meta {color: #666;}
p.para {margin: 0.6em 0; text-indent: 2em;} p.cited {background: #fff8e1; outline: 1px solid #f0d48a;}
mark {background: #ffe58f;} .no {color: #aaa; font-size: 0.8em; margin-right: 4px;}
"""


def render_document(meta: dict, passages: list[Passage], cited: str | None = None,
                    quote: tuple[int, int] | None = None) -> str:
    """A standalone page: the outline on the left (each heading a link), the text on the right; the cited passage
    (by id) is marked, its quote (start, end offsets) highlighted, and the page opens scrolled to it."""
    title = meta.get("title") or meta.get("source") or ""
    anchors: dict[tuple[str, ...], str] = {}
    body: list[str] = []
    shown: tuple[str, ...] = ()
    for p in passages:
        path = p.section_path
        if path != shown:
            common = next((i for i, (a, b) in enumerate(zip(path, shown)) if a != b), min(len(path), len(shown)))
            for depth in range(common, len(path)):
                key = path[: depth + 1]
                if key not in anchors:
                    anchors[key] = f"s{len(anchors) + 1}"
                    level = min(depth + 2, 6)
                    body.append(f'<h{level} id="{anchors[key]}">{escape(path[depth])}</h{level}>')
            shown = path
        text = escape(p.text)
        if p.passage_id == cited and quote and 0 <= quote[0] < quote[1] <= len(p.text):
            text = (escape(p.text[: quote[0]]) + "<mark>" + escape(p.text[quote[0]: quote[1]]) + "</mark>"
                    + escape(p.text[quote[1]:]))
        css = "para cited" if p.passage_id == cited else "para"
        body.append(f'<p class="{css}" id="p-{p.passage_id}"><span class="no">{p.paragraph}</span>{text}</p>')
    here = next((p.section_path for p in passages if p.passage_id == cited), ())
    date = f'<p class="meta">{escape(chinese_date(meta["date"]))}</p>' if meta.get("date") else ""
    scroll = (f'<script>document.getElementById("p-{cited}")?.scrollIntoView({{block: "center"}});</script>'
              if cited else "")
    return (f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>《{escape(title)}》</title>'
            f'<style>{PAGE_CSS}</style></head><body><nav><strong>目录</strong>{_outline(anchors, here)}</nav>'
            f'<main><h1>《{escape(title)}》</h1>{date}{"".join(body)}</main>{scroll}</body></html>')


def _outline(anchors: dict[tuple[str, ...], str], here: tuple[str, ...]) -> str:
    """Nested lists of the headings in reading order; the cited passage's sections in bold."""
    out, depth = [], 0
    for path, anchor in anchors.items():
        while depth < len(path):
            out.append("<ul>")
            depth += 1
        while depth > len(path):
            out.append("</ul>")
            depth -= 1
        css = ' class="here"' if here[: len(path)] == path else ""
        out.append(f'<li><a href="#{anchor}"{css}>{escape(path[-1])}</a></li>')
    out.append("</ul>" * depth)
    return "".join(out) if anchors else "<p>（没有章节标题）</p>"
