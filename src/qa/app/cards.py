"""HTML for the browser: citation cards with highlighted quotes, the document table, and the page's CSS and JS."""
from __future__ import annotations

from qa.app.messages import CONFIDENCE_LABELS, STATUS_LABELS, document_line, message
from qa.records import Answer, DocumentStatus, Hit

CSS = """
.qa-card {border: 1px solid #d9d9d9; border-radius: 8px; padding: 10px 12px; margin: 8px 0; background: #fff;}
.qa-cite {font-weight: 600; color: #8b1a1a; margin-bottom: 6px; overflow-wrap: anywhere;}
.qa-score {color: #888; font-weight: normal; font-size: 0.85em; margin-left: 6px;}
.qa-text {line-height: 1.8; margin: 0;}
.qa-text mark {background: #ffe58f; padding: 1px 0;}
.qa-card details summary {cursor: pointer; color: #666; font-size: 0.9em; margin-top: 4px;}
.qa-full {margin-top: 6px;}
.qa-foot {margin-top: 6px; display: flex; gap: 8px; align-items: baseline;}
.qa-line {color: #555; font-size: 0.85em;}
.qa-copy {flex: none; padding: 2px 10px; border: 1px solid #c9c9c9; border-radius: 4px; background: #fafafa;
          cursor: pointer; font-size: 0.85em;}
.qa-also {margin-top: 4px; color: #666; font-size: 0.85em;}
.qa-high {color: #2e7d32;} .qa-medium {color: #8a6d00;} .qa-low {color: #999;}
.qa-none {font-weight: 600; margin: 4px 0;}
.qa-open {margin-left: 8px; font-size: 0.85em; font-weight: normal; color: #1a5fb4;}
.qa-searched {color: #666; font-size: 0.9em; margin: 2px 0 4px;}
.qa-closest summary {cursor: pointer; color: #666;}
.qa-score, .qa-open, .qa-copy, .qa-card details summary, button, th {white-space: nowrap;}
#qa-documents table {table-layout: auto; width: 100%;}
"""

# After an answer arrives, scroll the chat so that its first card (the best hit) is in view.
SCROLL_TO_ANSWER = """() => { setTimeout(() => {
  const all = document.querySelectorAll('#qa-chat .qa-answer');
  if (!all.length) return;
  const el = all[all.length - 1];
  let box = el.parentElement;
  while (box && box.scrollHeight <= box.clientHeight + 1) box = box.parentElement;
  if (box) box.scrollTop += el.getBoundingClientRect().top - box.getBoundingClientRect().top - 80;
}, 150); }"""
# Copy buttons: one listener for the page (the chat's HTML may not carry scripts); the clipboard API needs a
# secure context, so plain-http intranet hosts fall back to a hidden textarea and execCommand.
COPY_JS = """() => {
  document.addEventListener('click', async (event) => {
    const button = event.target.closest('.qa-copy');
    if (!button) return;
    const line = button.closest('.qa-card').querySelector('.qa-line');
    const text = line ? line.textContent : '';
    let done = false;
    try { await navigator.clipboard.writeText(text); done = true; } catch (e) {}
    if (!done) {
      const area = document.createElement('textarea');
      area.value = text; document.body.appendChild(area); area.select();
      try { done = document.execCommand('copy'); } catch (e) {}
      area.remove();
    }
    button.textContent = done ? '已复制' : '复制失败，请手动选择';
    setTimeout(() => { button.textContent = '复制引文'; }, 2000);
  });
}"""
# Characters of context shown on each side of the quote before "展开整段".
CONTEXT_CHARS = 90
# HTML specials and the characters Markdown acts on become numeric entities, shown as written.
_INERT = {c: f"&#{ord(c)};" for c in "&<>\"'\\`*_{}[]()#+-.!|~$"}


def escape(text: str) -> str:
    """Document text for the chat bubble: never HTML, never Markdown, displayed exactly."""
    return "".join(_INERT.get(ch, ch) for ch in text)


def _marked(text: str, start: int, end: int, lo: int = 0, hi: int | None = None) -> str:
    hi = len(text) if hi is None else hi
    return escape(text[lo:start]) + "<mark>" + escape(text[start:end]) + "</mark>" + escape(text[end:hi])


def _copy_line(hit: Hit) -> str:
    return (
        f'<div class="qa-foot"><button class="qa-copy">复制引文</button>'
        f'<span class="qa-line">{escape(hit.quote_line)}</span></div>'
    )


def _also(hit: Hit) -> str:
    if not hit.also_in:
        return ""
    return '<div class="qa-also">另见：' + "；".join(escape(c.render()) for c in hit.also_in) + "</div>"


def render_hit(hit: Hit) -> str:
    """One citation card: the citation, the quote highlighted in its context, the whole paragraph on demand."""
    p, q = hit.passage, hit.quote
    label = CONFIDENCE_LABELS.get(hit.confidence or "")
    score = f'<span class="qa-score qa-{hit.confidence}">相关度：{label}</span>' if label else ""
    # the whole document, opened at this paragraph with the quote highlighted (served by the app: api.add_routes)
    where = f"doc/{p.doc_id}?p={p.passage_id}&amp;s={q.start}&amp;e={q.end}#p-{p.passage_id}"
    link = f'<a class="qa-open" href="{where}" target="_blank" rel="noopener">查看全文</a>'
    head = f'<div class="qa-cite">[{hit.rank}] {escape(hit.citation.render())}{score}{link}</div>'
    foot = _copy_line(hit) + _also(hit)
    if len(p.text) <= 2 * CONTEXT_CHARS + len(q.text):
        return f'<div class="qa-card">{head}<p class="qa-text">{_marked(p.text, q.start, q.end)}</p>{foot}</div>'
    lo, hi = max(0, q.start - CONTEXT_CHARS), min(len(p.text), q.end + CONTEXT_CHARS)
    excerpt = ("…" if lo else "") + _marked(p.text, q.start, q.end, lo, hi) + ("…" if hi < len(p.text) else "")
    return (
        f'<div class="qa-card">{head}<p class="qa-text">{excerpt}</p>'
        f'<details><summary>展开整段（{len(p.text)} 字）</summary>'
        f'<p class="qa-text qa-full">{_marked(p.text, q.start, q.end)}</p></details>{foot}</div>'
    )


def render_answer(answer: Answer) -> str:
    if answer.notice:
        return escape(message(answer.notice))
    if not answer.hits:
        return escape(message("no_hits"))
    # no blank lines: Markdown would otherwise treat what follows as text, not HTML
    cards = "".join(render_hit(h) for h in answer.hits)
    said = (message("searched_in", scope=answer.scope, text=answer.searched) if answer.scope
            else message("searched_as", text=answer.searched))
    searched = f'<p class="qa-searched">{escape(said)}</p>' if answer.searched else ""
    if answer.confident is False:  # the closest passages stay one click away, never presented as an answer
        fold = escape(message("closest_passages", count=len(answer.hits)))
        return (f'<div class="qa-answer">{searched}<p class="qa-none">{escape(message("not_confident"))}</p>'
                f'<details class="qa-closest"><summary>{fold}</summary>{cards}</details></div>')
    return f'<div class="qa-answer">{searched}找到 {len(answer.hits)} 段相关原文：{cards}</div>'


def render_quotes(answer: Answer) -> str:
    """Theme quotes: one card a sentence, with its citation, the places it recurs, and a copy button."""
    if answer.notice or not answer.hits:
        return f'<div class="qa-answer">{escape(message(answer.notice or "no_quotes"))}</div>'
    cards = [
        f'<div class="qa-card"><div class="qa-cite">[{hit.rank}] {escape(hit.citation.render())}</div>'
        f'<p class="qa-text"><mark>{escape(hit.quote.text)}</mark></p>{_also(hit)}{_copy_line(hit)}</div>'
        for hit in answer.hits
    ]
    return f'<div class="qa-answer">找到 {len(cards)} 句可引用的原文：{"".join(cards)}</div>'


def render_documents(rows) -> list[list]:
    """The 文档管理 table: file, title, date, speaker, passages, status (all plain text)."""
    return [
        [r.source, r.title or "", r.date or "", r.speaker or "", r.passages, STATUS_LABELS.get(r.status, r.status)
         + ("" if r.status in (DocumentStatus.INDEXED, DocumentStatus.PENDING) else "：" + document_line(r))]
        for r in rows
    ]
