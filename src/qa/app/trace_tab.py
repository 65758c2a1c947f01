"""The 提法演变 tab: a formulation in, a timeline out (a row per document, the change from the year before),
exported to Word or Markdown (builders take the gradio module from the app, so only ui.py imports it)."""
from __future__ import annotations

import re
from pathlib import Path

from qa.answer import Assistant
from qa.app.cards import escape
from qa.app.library_tab import export_buttons
from qa.app.messages import error_message
from qa.app.trace_view import render_trace
from qa.errors import QAError
from qa.export import export_trace
from qa.ingest.metadata import DOCUMENT_KINDS
from qa.records import trace_years

ALL_KINDS = "全部文档"


def trace_phrase(assistant: Assistant, phrase: str | None, kind: str | None, year_from, year_to):
    """(HTML of the timeline, the trace or None when there is nothing to export)."""
    try:
        years = trace_years(year_from, year_to)
        trace = assistant.trace(phrase or "", None if kind in (None, "", ALL_KINDS) else kind, years)
    except QAError as exc:
        return f'<div class="qa-trace-summary">{escape(error_message(exc))}</div>', None
    return render_trace(trace), trace if trace.rows else None


def trace_tab(gr, assistant: Assistant, uploads: Path | None = None) -> None:
    with gr.Row():
        phrase = gr.Textbox(label="提法", placeholder="例如：稳中求进工作总基调、新质生产力、经济增长预期目标", scale=3,
                            elem_id="qa-trace-phrase")
        kind = gr.Dropdown([ALL_KINDS, *DOCUMENT_KINDS], value=ALL_KINDS, label="文档类别", scale=1,
                           elem_id="qa-trace-kind")
        year_from = gr.Textbox(label="起始年份", placeholder="如 2015", scale=1, elem_id="qa-trace-from")
        year_to = gr.Textbox(label="截止年份", placeholder="如 2025", scale=1, elem_id="qa-trace-to")
    run = gr.Button("查看演变", variant="primary", elem_id="qa-trace-run")
    result = gr.HTML(elem_id="qa-trace-result")
    trace = gr.State(None)
    export_buttons(gr, trace, "导出演变表（Word，出处为脚注）", "qa-trace", export_trace,
                   lambda t: "提法演变-" + re.sub(r"[^\w]+", "", t.phrase)[:20], uploads)  # a name any file system takes

    def handle(phrase_value, kind_value, first, last):
        return trace_phrase(assistant, phrase_value, kind_value, first, last)

    inputs = [phrase, kind, year_from, year_to]
    phrase.submit(handle, inputs, [result, trace], api_name=False)
    run.click(handle, inputs, [result, trace], api_name=False, show_progress="minimal", show_progress_on=[result])
