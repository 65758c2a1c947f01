"""The browser app (Gradio): the chat, theme quotes, and document management with progress."""
from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

from .answer import Assistant
from .embed import release
from .errors import QAError
from .indexer import Progress, sync
from .library import DocumentRow, add_files, list_documents, remove_document
from .messages import SUPPORTED, add_summary, build_summary, error_message, message, progress_bar
from .read import TEXT_SUFFIXES
from .records import Filters
from .cards import COPY_JS, CSS, SCROLL_TO_ANSWER, escape, render_answer, render_documents, render_quotes  # noqa: F401
from .settings import Settings

TITLE = "讲稿问答"
EXAMPLES = ["党的力量来自哪里？", "如何培养和关爱机关党务干部？", "党组织标准化规范化建设有哪些要求？"]
# System fonts only: the app must not reach for web fonts on an offline intranet machine.
FONTS = ["PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "sans-serif"]
ALL_DOCUMENTS = "全部文档"
DOCUMENT_HEADERS = ["文件", "标题", "日期", "讲话人", "段落", "状态"]
# Deleting asks first; a cancelled dialog sends no document, and nothing happens.
CONFIRM_REMOVE = "(source) => (source && confirm('确定删除「' + source + '」吗？文件会移到 data/.removed/。')) ? source : null"


def _filters(doc: str | None, year: str | None) -> Filters:
    return Filters.parse(None if doc in (None, ALL_DOCUMENTS) else doc, year)


def find_quotes(assistant: Assistant, theme: str, k: int, doc: str | None = None, year: str | None = None) -> str:
    if not (theme or "").strip():
        return escape(message("empty_question"))
    try:
        return render_quotes(assistant.find_quotes(theme, int(k), _filters(doc, year)))
    except QAError as exc:
        return escape(error_message(exc))


def respond(assistant: Assistant, question: str, history: list, k: int, doc: str | None = None,
            year: str | None = None):
    history = list(history or [])
    question = (question or "").strip()
    if not question:
        return "", history
    try:
        reply = render_answer(assistant.ask(question, int(k), _filters(doc, year)))
    except QAError as exc:
        reply = escape(error_message(exc))
    history.append({"role": "user", "content": escape(question)})
    history.append({"role": "assistant", "content": reply})
    return "", history


class Library:
    """The 文档管理 tab's actions: one at a time, each followed by the assistant serving the new index."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self._lock = threading.Lock()

    def rows(self) -> list[DocumentRow]:
        return list_documents(self.assistant.settings)

    def choices(self) -> list[str]:
        return [r.source for r in self.rows() if r.status != "removed"]

    def titles(self) -> list[str]:
        return [ALL_DOCUMENTS] + sorted({r.title for r in self.rows() if r.status == "indexed" and r.title})

    def add(self, paths: list[str], progress: Progress | None = None) -> list[str]:
        if not paths:
            return ["请先选择要上传的文件。"]
        with self._lock:
            report = add_files(self.assistant.settings, [Path(p) for p in paths], self.assistant.embedder, progress)
            release(self.assistant.embedder)
            self.assistant.reload()
        return add_summary(report)

    def remove(self, source: str | None, progress: Progress | None = None) -> list[str]:
        if not source:
            return ["请先在列表中选择要删除的文档。"]
        with self._lock:
            row, report = remove_document(self.assistant.settings, source, self.assistant.embedder, progress)
            release(self.assistant.embedder)
            self.assistant.reload()
        return [f"已删除「{row.source}」，文件已移到 data/.removed/，可以从那里恢复。", *build_summary(report)]

    def rebuild(self, progress: Progress | None = None) -> list[str]:
        with self._lock:
            report = sync(self.assistant.settings, self.assistant.embedder, force=True, progress=progress)
            release(self.assistant.embedder)
            self.assistant.reload()
        return build_summary(report)


def _status_line(assistant: Assistant) -> str:
    counts = assistant.index.manifest.counts
    return (f"## {TITLE}\n已索引 {counts.get('documents', 0)} 篇文档、{counts.get('passages', 0)} 个段落"
            f" · 模型：{escape(assistant.embedder.name)}")


def build_app(assistant: Assistant, notices: list[str] = ()):
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    library = Library(assistant)

    def filter_row(prefix: str):
        with gr.Row():
            doc = gr.Dropdown(library.titles(), value=ALL_DOCUMENTS, label="文档", allow_custom_value=True, scale=3,
                              info="选择一篇，或输入标题中的文字", elem_id=f"{prefix}-doc")
            year = gr.Textbox(label="年份", placeholder="例如 2024 或 2019-2024", scale=1, elem_id=f"{prefix}-year")
        return doc, year

    with gr.Blocks(title=TITLE) as app:
        status = gr.Markdown(_status_line(assistant), elem_id="qa-status")
        if notices:  # what the start-up sync did: skipped files, duplicates, a model change
            gr.Markdown("<br>".join(escape(line) for line in notices), elem_id="qa-notices")
        with gr.Tabs():
            with gr.Tab("问答", id="ask"):
                chat = gr.Chatbot(label="问答", height="68vh", elem_id="qa-chat", autoscroll=False)
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="输入问题，例如：党的力量来自哪里？", show_label=False, scale=8, elem_id="qa-question"
                    )
                    send = gr.Button("提问", variant="primary", scale=1, elem_id="qa-send")
                with gr.Accordion("筛选与设置", open=False):
                    ask_doc, ask_year = filter_row("qa-ask")
                    k = gr.Slider(1, 10, value=assistant.settings.retrieve.k, step=1, label="返回段落数")
                gr.Examples(EXAMPLES, inputs=box, label="示例问题")
            with gr.Tab("找引文", id="quotes"):
                with gr.Row():
                    theme = gr.Textbox(
                        placeholder="输入主题，例如：标准化建设", show_label=False, scale=8, elem_id="qa-theme"
                    )
                    search = gr.Button("找引文", variant="primary", scale=1, elem_id="qa-find")
                with gr.Accordion("筛选与设置", open=False):
                    quote_doc, quote_year = filter_row("qa-quote")
                    how_many = gr.Slider(1, 30, value=10, step=1, label="返回句数")
                quotes = gr.HTML(elem_id="qa-quotes")
            with gr.Tab("文档管理", id="library"):
                gr.Markdown(f"支持的格式：{escape(SUPPORTED)}。同样内容的文件不会重复索引；删除的文件移到 data/.removed/。")
                with gr.Row():
                    upload = gr.File(file_count="multiple", file_types=list(TEXT_SUFFIXES), label="上传讲稿",
                                     elem_id="qa-upload", scale=3)
                    with gr.Column(scale=1):
                        add = gr.Button("添加到索引", variant="primary", elem_id="qa-add")
                        rebuild = gr.Button("重建索引", elem_id="qa-rebuild")
                result = gr.Markdown(elem_id="qa-library-result")
                table = gr.Dataframe(render_documents(library.rows()), headers=DOCUMENT_HEADERS, interactive=False,
                                     wrap=True, elem_id="qa-documents", label="文档")
                with gr.Row():
                    chosen = gr.Dropdown(library.choices(), value=None, label="选择要删除的文档", scale=3,
                                         elem_id="qa-remove-doc")
                    remove = gr.Button("删除", variant="stop", scale=1, elem_id="qa-remove")

        def handle(question, history, k_value, doc, year):
            return respond(assistant, question, history, k_value, doc, year)

        for event in (box.submit, send.click):
            event(handle, [box, chat, k, ask_doc, ask_year], [box, chat]).then(None, js=SCROLL_TO_ANSWER)
        for event in (theme.submit, search.click):
            event(lambda t, n, d, y: find_quotes(assistant, t, n, d, y), [theme, how_many, quote_doc, quote_year],
                  quotes)

        def refreshed(lines):
            titles = library.titles()
            return (
                "<br>".join(escape(line) for line in lines),
                render_documents(library.rows()),
                gr.update(choices=library.choices(), value=None),
                _status_line(assistant),
                gr.update(choices=titles),
                gr.update(choices=titles),
            )

        outputs = [result, table, chosen, status, ask_doc, quote_doc]

        def run(action, *args, progress):
            def report(done, total):
                progress((done, total), desc="嵌入段落", unit="段")

            try:
                return refreshed(action(*args, progress=report))
            except QAError as exc:
                return refreshed([error_message(exc)])

        def on_add(files, progress=gr.Progress()):
            return run(library.add, [f if isinstance(f, str) else f.name for f in files or []], progress=progress)

        def on_remove(source, progress=gr.Progress()):
            return run(library.remove, source, progress=progress)

        def on_rebuild(progress=gr.Progress()):
            return run(library.rebuild, progress=progress)

        add.click(on_add, [upload], outputs).then(lambda: None, None, upload)
        remove.click(on_remove, [chosen], outputs, js=CONFIRM_REMOVE)
        rebuild.click(on_rebuild, None, outputs)
    return app


def serve(settings: Settings) -> None:
    """Bring the index up to date, then serve the chat on settings.serve.host:port."""
    prepared: list[str] = []  # a model converted or an engine chosen on first use: said here and on the page

    def notify(code: str, **details) -> None:
        text = message(code, **details)
        print(text, file=sys.stderr, flush=True)
        if code in ("model_prepared", "engine_chosen"):
            prepared.append(text)

    assistant, report = Assistant.open(settings, progress=progress_bar(), notify=notify)
    summary = prepared + (build_summary(report) if report else [])
    for line in summary:
        print(line, file=sys.stderr)
    notices = [line for line in summary if not line.startswith("索引已是最新")]
    app = build_app(assistant, notices)
    import gradio as gr

    print(f"讲稿问答已启动：http://{settings.serve.host}:{settings.serve.port}", file=sys.stderr, flush=True)
    app.queue(default_concurrency_limit=2).launch(
        server_name=settings.serve.host,
        server_port=settings.serve.port,
        theme=gr.themes.Default(font=FONTS, font_mono=["monospace"]),
        css=CSS,
        js=COPY_JS,
        footer_links=[],
        show_error=False,
    )
