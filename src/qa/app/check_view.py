"""HTML of 引文核对: the draft with each quotation coloured by its verdict, and a card per quotation (source, edits,
citation) that a click on the quotation scrolls to."""
from __future__ import annotations

from qa.app.cards import escape
from qa.app.messages import message
from qa.check.findings import TERM_CHARS, VERDICT_LABELS, CheckReport, QuoteCheck, SourceFound, outermost

CHECK_CSS = """
.qa-check-summary {margin: 4px 0 8px;}
.qa-draft {white-space: pre-wrap; line-height: 2; border: 1px solid #d9d9d9; border-radius: 8px; padding: 10px 14px;
           background: #fff; max-height: 60vh; overflow-y: auto;}
.qa-q {text-decoration: none; color: inherit; border-radius: 3px; padding: 1px 0; cursor: pointer;}
.qa-v-exact {background: #d9f7be;} .qa-v-altered {background: #ffe58f;} .qa-v-not_found {background: #ffccc7;}
.qa-v-wrong_source {background: #efdbff;} .qa-v-unchecked {background: #f0f0f0;}
.qa-q sup {color: #666; font-size: 0.75em; margin-left: 1px;}
.qa-badge {padding: 1px 8px; border-radius: 10px; font-size: 0.85em; white-space: nowrap; margin-right: 6px;}
.qa-check-card {border: 1px solid #d9d9d9; border-radius: 8px; padding: 8px 12px; margin: 8px 0; background: #fff;
                scroll-margin-top: 80px;}
.qa-check-card:target {box-shadow: 0 0 0 3px #91caff;}
.qa-diff {line-height: 1.9; margin: 4px 0;}
.qa-diff del {background: #ffccc7; text-decoration: line-through;} .qa-diff ins {background: #d9f7be;}
.qa-check-note {color: #555; font-size: 0.9em;}
"""
# verdicts of unmarked sentences (逐句核对) worth showing: a sentence of one's own that is found nowhere is normal
_BORROWED = ("exact", "altered")


def _shown(report: CheckReport) -> list[tuple[int, QuoteCheck]]:
    return [(i, c) for i, c in enumerate(report.checks, start=1) if c.quotation.marked or c.verdict in _BORROWED]


def render_check(report: CheckReport) -> str:
    """The checked draft and its cards; a draft without quotations says so."""
    shown = _shown(report)
    if not shown:
        return f'<div class="qa-check-summary">{escape(message("no_quotations"))}</div>'
    counts = {}
    for _, c in shown:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    tally = " ".join(f'<span class="qa-badge qa-v-{v}">{VERDICT_LABELS[v]} {n}</span>' for v, n in counts.items())
    head = (f'<div class="qa-check-summary">核对 {len(shown)} 处引文（用时 {report.seconds:.2f} 秒）：{tally}'
            f'<span class="qa-check-note">　点击稿中的引文查看原文、改动和出处。</span></div>')
    cards = "".join(_card(i, c) for i, c in shown if c.verdict != "unchecked")
    terms = [(i, c) for i, c in shown if c.verdict == "unchecked"]
    if terms:  # terms in quotation marks (“两个确立”) are not quotations: their cards wait behind a fold
        cards += (f'<details class="qa-terms"><summary>少于 {TERM_CHARS} 个字的短语 {len(terms)} 个（不作引文核对）</summary>'
                  + "".join(_card(i, c) for i, c in terms) + "</details>")
    return head + _draft_html(report, shown) + cards


def _draft_html(report: CheckReport, shown: list[tuple[int, QuoteCheck]]) -> str:
    draft, out, at = report.draft, [], 0
    for k in outermost([c.quotation for _, c in shown]):
        i, c = shown[k]
        q = c.quotation
        out.append(escape(draft[at : q.start]))
        out.append(f'<a class="qa-q qa-v-{c.verdict}" id="qa-q-{i}" href="#qa-check-{i}" title="{c.label}">'
                   f'{escape(draft[q.start : q.end])}<sup>{i}</sup></a>')
        at = q.end
    out.append(escape(draft[at:]))
    return f'<div class="qa-draft" id="qa-check-draft">{"".join(out)}</div>'


def _diff_html(check: QuoteCheck) -> str:
    parts = []
    for c in check.changes:
        if c.op == "equal":
            parts.append(escape(c.draft))
        if c.op in ("replace", "delete"):
            parts.append(f"<del>{escape(c.source)}</del>")
        if c.op in ("replace", "insert"):
            parts.append(f"<ins>{escape(c.draft)}</ins>")
    legend = '<span class="qa-check-note">（<del>删除线</del>：原文有、稿中没有；<ins>底色</ins>：稿中改成或加上的字）</span>'
    return f'<div class="qa-diff">改动：{"".join(parts)}{legend}</div>'


def _source_html(found: SourceFound, label: str) -> str:
    where = f"doc/{found.doc_id}?p={found.passage_id}&amp;s={found.start}&amp;e={found.end}#p-{found.passage_id}"
    link = f'<a class="qa-open" href="{where}" target="_blank" rel="noopener">查看全文</a>'
    html = (f'<div>{label}：“{escape(found.text)}”</div>'
            f'<div class="qa-cite">{escape(found.citation.render())}{link}</div>')
    if found.also_in:
        html += ('<div class="qa-check-note">同一段落另见：' + "；".join(escape(c.render()) for c in found.also_in)
                 + "</div>")
    return html


def _card(i: int, check: QuoteCheck) -> str:
    q = check.quotation
    kind = "" if q.marked else "（未加引号的句子）"
    parts = [f'<div class="qa-check-head"><span class="qa-badge qa-v-{check.verdict}">{check.label}</span>'
             f'[{i}]{kind} “{escape(q.text)}”<a class="qa-open" href="#qa-q-{i}">回到稿中</a></div>']
    if q.lead_in:
        parts.append(f'<div class="qa-check-note">引语前：{escape(q.lead_in)}</div>')
    if check.verdict == "wrong_source":
        parts.append(f'<div>稿中所称出处：{escape(check.named.describe())}；原文出处不同。</div>')
    if check.changes:
        parts.append(_diff_html(check))
    if check.best:
        parts.append(_source_html(check.best, "见于" if check.verdict == "unchecked" else "原文"))
    elif check.verdict in ("not_found", "unchecked"):
        parts.append(f'<div>{escape(check.summary())}</div>')
    if check.others:
        rows = "".join(f"<li>{escape(o.citation.render())}</li>" for o in check.others)
        parts.append(f'<details><summary>另见 {len(check.others)} 处（按时间先后）</summary><ul>{rows}</ul></details>')
    return f'<div class="qa-check-card" id="qa-check-{i}">{"".join(parts)}</div>'
