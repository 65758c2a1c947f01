"""The 引文核对 tab: paste or upload a draft, see every quotation coloured by its verdict, export it checked
(builders take the gradio module from the app, so only ui.py imports it)."""
from __future__ import annotations

from pathlib import Path

from qa.answer import Assistant
from qa.app.cards import escape
from qa.app.check_view import render_check
from qa.app.library_tab import export_buttons, forget_uploads
from qa.app.messages import error_message
from qa.check.draft import read_draft
from qa.errors import QAError
from qa.export import export_check

EXAMPLE = ("习近平总书记强调：“党的力量来自组织。党的全面领导、党的全部工作要靠党的坚强组织体系去实现。”\n"
           "会议指出：“党的力量来自组织，党的全面领导要靠坚强的组织体系去实现。”")


def check_draft(assistant: Assistant, text: str | None, upload: str | None, all_sentences: bool,
                uploads: Path | None = None):
    """(HTML of the checked draft, the report or None): an uploaded file wins over pasted text; it is read and
    its temporary copy deleted."""
    try:
        if upload:
            try:
                text = read_draft(Path(upload))
            finally:
                forget_uploads([upload], uploads)
        report = assistant.check(text or "", all_sentences=bool(all_sentences))
    except QAError as exc:
        return f'<div class="qa-check-summary">{escape(error_message(exc))}</div>', None
    return render_check(report), report


def check_tab(gr, assistant: Assistant, uploads: Path | None = None) -> None:
    with gr.Row():
        with gr.Column(scale=3):
            draft = gr.Textbox(label="稿子", lines=8, max_lines=20, placeholder="把稿子粘贴在这里，例如：\n" + EXAMPLE,
                               elem_id="qa-draft-text")
        with gr.Column(scale=1, min_width=220):
            upload = gr.File(label="或上传稿子（.txt .md .docx）", file_count="single", elem_id="qa-draft-file",
                             type="filepath")
            every = gr.Checkbox(label="逐句核对", value=False, info="也检查没有加引号的句子是否出自已索引的文档",
                                elem_id="qa-draft-all")
            run = gr.Button("核对引文", variant="primary", elem_id="qa-check")
    result = gr.HTML(elem_id="qa-check-result")
    report = gr.State(None)
    export_buttons(gr, report, "导出核对结果（Word，引文着色、出处为脚注）", "qa-check", export_check,
                   lambda _: "引文核对", uploads)

    def handle(text, file, all_sentences):
        return check_draft(assistant, text, file, all_sentences, uploads)

    run.click(handle, [draft, upload, every], [result, report], api_name=False,
              show_progress="minimal", show_progress_on=[result])
