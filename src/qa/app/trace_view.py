"""提法演变 as HTML: the span of years, then one row per document with the formulation marked and the change."""
from __future__ import annotations

from qa.app.cards import escape
from qa.app.messages import trace_notice
from qa.trace.timeline import HOW_LABELS, Change, Occurrence, Trace, TraceRow

TRACE_CSS = """
.qa-trace-summary {margin: 4px 0 8px; line-height: 1.8;}
.qa-trace {border-left: 3px solid #d9d9d9; margin-left: 3.2em; padding-left: 0;}
.qa-trace-row {position: relative; padding: 6px 10px 10px 14px; border-bottom: 1px dashed #eee;}
.qa-trace-year {position: absolute; left: -4.1em; top: 6px; width: 3.4em; text-align: right; font-weight: 600;}
.qa-trace-title {color: #555; font-size: 0.92em;}
.qa-trace-how {font-size: 0.8em; border-radius: 3px; padding: 0 4px; margin-left: 6px; background: #f0f0f0;}
.qa-trace-sentence {margin: 4px 0; line-height: 1.9;}
.qa-trace-sentence mark {background: #ffe58f;}
.qa-trace-change {font-size: 0.92em; color: #444;}
.qa-trace-change ins {background: #d9f7be; text-decoration: none;}
.qa-trace-change del {background: #ffccc7;}
.qa-trace-figure {font-weight: 600;}
.qa-trace-follows {color: #555; margin-left: 0.5em;}
.qa-trace-more summary {cursor: pointer; color: #666; font-size: 0.9em;}
"""


def render_trace(trace: Trace) -> str:
    """The whole timeline; a trace with nothing to show gives its message."""
    if not trace.rows:
        return f'<div class="qa-trace-summary">{escape(trace_notice(trace))}</div>'
    headline, *absent = trace.summary()
    head = (f'<div class="qa-trace-summary">{escape(headline)}（用时 {trace.seconds:.2f} 秒）'
            + "".join(f"<br>{escape(line)}" for line in absent) + "</div>")
    return head + '<div class="qa-trace" id="qa-trace-rows">' + "".join(_row(r) for r in trace.rows) + "</div>"


def _sentence(o: Occurrence) -> str:
    s = o.sentence
    follows = f'<span class="qa-trace-follows">{escape(o.follows)}</span>' if o.follows else ""
    return escape(s[: o.start]) + "<mark>" + escape(s[o.start : o.end]) + "</mark>" + escape(s[o.end :]) + follows


def _link(o: Occurrence) -> str:
    where = (f"doc/{o.doc_id}?p={o.passage_id}&amp;s={o.offset + o.start}&amp;e={o.offset + o.end}"
             f"#p-{o.passage_id}")
    return f'<a class="qa-open" href="{where}" target="_blank" rel="noopener">查看全文</a>'


def _change(change: Change | None) -> str:
    if change is None:
        return '<div class="qa-trace-change">最早出现。</div>'
    html = {"same": lambda _: "提法相同", "rewritten": lambda _: "表述改写",
            "added": lambda t: "、".join(f"增加<ins>{escape(a)}</ins>" for a in t),
            "removed": lambda t: "、".join(f"删去<del>{escape(r)}</del>" for r in t),
            "figure": lambda t: f'数字 <span class="qa-trace-figure">{escape(t[0])} → {escape(t[1])}</span>',
            "figure_kept": lambda t: f"（{escape(t[0])}）"}
    said = "；".join(html[name](texts) for name, texts in change.parts()).replace("；（", "（")
    return f'<div class="qa-trace-change">较{escape(change.since)}：{said}</div>'


def _row(row: TraceRow) -> str:
    main = row.main
    how = f'<span class="qa-trace-how">{HOW_LABELS[main.how]}</span>' if main.how != "exact" else ""
    figure = f'　<span class="qa-trace-figure">{escape(main.figure)}</span>' if main.figure else ""
    more = ""
    if len(row.occurrences) > 1:
        others = "".join(f'<p class="qa-trace-sentence">{_sentence(o)}　<span class="qa-trace-title">'
                         f"{escape(o.citation.render())}</span> {_link(o)}</p>" for o in row.occurrences[1:])
        more = (f'<details class="qa-trace-more"><summary>本篇另有 {len(row.occurrences) - 1} 处</summary>'
                f"{others}</details>")
    return (f'<div class="qa-trace-row"><span class="qa-trace-year">{row.year}</span>'
            f'<div class="qa-trace-title">《{escape(row.title)}》（{escape(row.kind)}）{how}{figure} {_link(main)}</div>'
            f'<p class="qa-trace-sentence">{_sentence(main)}</p>'
            f'<div class="qa-trace-title">{escape(main.citation.render())}</div>{_change(row.change)}{more}</div>')
