"""The browser app (Gradio): the chat, theme quotes, and document management with progress."""
from __future__ import annotations

import json
import os
import shutil
import sys
import threading
from pathlib import Path

from qa.answer import Assistant
from qa.errors import QAError
from qa.library import REMOVED_FOLDER, DocumentRow, Progress, add_files, list_documents, rebuild, remove_document
from qa.app.messages import SUPPORTED, add_summary, build_summary, error_message, message
from qa.app.output import progress_bar
from qa.ingest.read import inside
from qa.records import Filters
from qa.app.cards import COPY_JS, CSS, SCROLL_TO_ANSWER, escape, render_answer, render_documents, render_quotes  # noqa: F401
from qa.settings import Settings

TITLE = "讲稿问答"
EXAMPLES = ["党的力量来自哪里？", "如何培养和关爱机关党务干部？", "党组织标准化规范化建设有哪些要求？"]
# System fonts only: the app must not reach for web fonts on an offline intranet machine.
FONTS = ["PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "sans-serif"]
ALL_DOCUMENTS = "全部文档"
DOCUMENT_HEADERS = ["文件", "标题", "日期", "讲话人", "段落", "状态"]


def confirm_remove_js(folder: str) -> str:
    """Deleting asks first; a cancelled dialog sends no document, and nothing happens."""
    head, tail = message("confirm_remove", source="\x00", folder=folder).split("\x00")
    return f"(source) => (source && confirm({json.dumps(head)} + source + {json.dumps(tail)})) ? source : null"


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
    """The 文档管理 tab's actions: one at a time, each followed by the assistant serving the new index.

    Uploaded files are temporary copies made by the browser server: they are deleted once added or refused."""

    def __init__(self, assistant: Assistant, uploads: Path | None = None) -> None:
        self.assistant = assistant
        self.uploads = uploads  # where the server keeps uploads (only files below it are ever deleted)
        self._lock = threading.Lock()

    @property
    def removed_folder(self) -> Path:
        return Path(self.assistant.settings.data_dir) / REMOVED_FOLDER

    def rows(self) -> list[DocumentRow]:
        return list_documents(self.assistant.settings)

    def choices(self) -> list[str]:
        return [r.source for r in self.rows() if r.status != "removed"]

    def titles(self) -> list[str]:
        return [ALL_DOCUMENTS] + sorted({r.title for r in self.rows() if r.status == "indexed" and r.title})

    def add(self, paths: list[str], progress: Progress | None = None, notify=None) -> list[str]:
        if not paths:
            return [message("nothing_uploaded")]
        try:
            with self._lock:
                report = add_files(self.assistant.settings, [Path(p) for p in paths], self.assistant.embedder,
                                   progress, notify)
                self.assistant.after_write()
        finally:
            self._forget_uploads(paths)
        return add_summary(report)

    def _forget_uploads(self, paths: list[str]) -> None:
        """Delete the server's temporary copies: an upload is never kept or served back outside data/."""
        if self.uploads is None:
            return
        root = self.uploads.resolve()
        for path in map(Path, paths):
            if inside(path.resolve(), root):
                path.unlink(missing_ok=True)
                if path.parent != root:
                    shutil.rmtree(path.parent, ignore_errors=True)  # Gradio keeps each upload in a folder of its own

    def remove(self, source: str | None, progress: Progress | None = None, notify=None) -> list[str]:
        if not source:
            return [message("nothing_chosen")]
        with self._lock:
            row, report = remove_document(self.assistant.settings, source, self.assistant.embedder, progress, notify)
            self.assistant.after_write()
        return [message("removed", source=row.source, title="", folder=str(self.removed_folder)), *build_summary(report)]

    def rebuild(self, progress: Progress | None = None, notify=None) -> list[str]:
        with self._lock:
            report = rebuild(self.assistant.settings, self.assistant.embedder, force=True, progress=progress,
                             notify=notify)
            self.assistant.after_write()
        return build_summary(report)


def _status_line(assistant: Assistant) -> str:
    assistant.refresh()  # a build made elsewhere (qa add in a terminal) shows at the next page load
    counts = assistant.index.manifest.counts
    return message("status_line", documents=counts.get("documents", 0), passages=counts.get("passages", 0),
                   model=escape(assistant.embedder.name))


def _filter_row(gr, titles: list[str], prefix: str):
    with gr.Row():
        doc = gr.Dropdown(titles, value=ALL_DOCUMENTS, label="文档", allow_custom_value=True, scale=3,
                          info="选择一篇，或输入标题中的文字", elem_id=f"{prefix}-doc")
        year = gr.Textbox(label="年份", placeholder="例如 2024 或 2019-2024", scale=1, elem_id=f"{prefix}-year")
    return doc, year


def _ask_tab(gr, assistant: Assistant, titles: list[str]):
    chat = gr.Chatbot(label="问答", height="68vh", elem_id="qa-chat", autoscroll=False)
    with gr.Row():
        box = gr.Textbox(placeholder="输入问题，例如：党的力量来自哪里？", show_label=False, scale=8, elem_id="qa-question")
        send = gr.Button("提问", variant="primary", scale=1, elem_id="qa-send")
    with gr.Accordion("筛选与设置", open=False):
        doc, year = _filter_row(gr, titles, "qa-ask")
        k = gr.Slider(1, assistant.settings.serve.max_k, value=assistant.settings.retrieve.k, step=1, label="返回段落数")
    gr.Examples(EXAMPLES, inputs=box, label="示例问题")

    def handle(question, history, k_value, doc_value, year_value):
        return respond(assistant, question, history, k_value, doc_value, year_value)

    box.submit(handle, [box, chat, k, doc, year], [box, chat], api_name=False).then(None, js=SCROLL_TO_ANSWER)
    send.click(handle, [box, chat, k, doc, year], [box, chat], api_name="ask").then(None, js=SCROLL_TO_ANSWER)
    return doc


def _quotes_tab(gr, assistant: Assistant, titles: list[str]):
    with gr.Row():
        theme = gr.Textbox(placeholder="输入主题，例如：标准化建设", show_label=False, scale=8, elem_id="qa-theme")
        search = gr.Button("找引文", variant="primary", scale=1, elem_id="qa-find")
    with gr.Accordion("筛选与设置", open=False):
        doc, year = _filter_row(gr, titles, "qa-quote")
        how_many = gr.Slider(1, assistant.settings.serve.max_quotes, value=assistant.settings.retrieve.quotes_k, step=1,
                             label="返回句数")
    quotes = gr.HTML(elem_id="qa-quotes")

    def handle(theme_value, n, doc_value, year_value):
        return find_quotes(assistant, theme_value, n, doc_value, year_value)

    theme.submit(handle, [theme, how_many, doc, year], quotes, api_name=False)
    search.click(handle, [theme, how_many, doc, year], quotes, api_name="find_quotes")
    return doc


def _library_tab(gr, library: Library, writable: bool):
    """The document list, and (when writable) upload, delete and rebuild; returns the outputs refreshed after a
    change or a page load, the function computing them, and the action components (None when read-only)."""
    removed = escape(str(library.removed_folder))
    if writable:
        gr.Markdown(message("library_intro", supported=escape(SUPPORTED), folder=removed))
    else:
        gr.Markdown(escape(message("read_only_banner")), elem_id="qa-read-only")
    result = gr.Markdown(elem_id="qa-library-result")
    table = gr.Dataframe(render_documents(library.rows()), headers=DOCUMENT_HEADERS, interactive=False, wrap=True,
                         elem_id="qa-documents", label="文档")

    def values_read_only():
        return [render_documents(library.rows())]

    if not writable:  # no upload, delete or rebuild endpoint exists at all
        return [table], values_read_only, None
    with gr.Row():
        # no file_types filter: Gradio would refuse other names with a bare English "Error"; add_files refuses
        # them instead, in Chinese, with the reason
        upload = gr.File(file_count="multiple", label="上传讲稿", elem_id="qa-upload", scale=3)
        with gr.Column(scale=1):
            add = gr.Button("添加到索引", variant="primary", elem_id="qa-add")
            rebuild = gr.Button("重建索引", elem_id="qa-rebuild")
    with gr.Row():
        chosen = gr.Dropdown(library.choices(), value=None, label="选择要删除的文档", scale=3, elem_id="qa-remove-doc")
        remove = gr.Button("删除", variant="stop", scale=1, elem_id="qa-remove")

    def values():
        return [render_documents(library.rows()), gr.update(choices=library.choices(), value=None)]

    confirm = confirm_remove_js(str(library.removed_folder))
    return [table, chosen], values, (result, upload, add, rebuild, chosen, remove, confirm)


def build_app(assistant: Assistant, notices: list[str] = (), writable: bool = True, uploads: Path | None = None):
    """The Blocks app. Counts, tables and choices are computed at every page load, so a reload or a second tab
    shows what another tab or a `qa add` in a terminal changed."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    library = Library(assistant, uploads)
    titles = library.titles()
    with gr.Blocks(title=TITLE) as app:
        status = gr.Markdown(_status_line(assistant), elem_id="qa-status")
        if notices:  # what the start-up sync did: skipped files, duplicates, a model change
            gr.Markdown("<br>".join(escape(line) for line in notices), elem_id="qa-notices")
        with gr.Tabs():
            with gr.Tab("问答", id="ask"):
                ask_doc = _ask_tab(gr, assistant, titles)
            with gr.Tab("找引文", id="quotes"):
                quote_doc = _quotes_tab(gr, assistant, titles)
            with gr.Tab("文档管理", id="library"):
                lib_outputs, lib_values, actions = _library_tab(gr, library, writable)

        def page_state():
            fresh = library.titles()
            return [_status_line(assistant), gr.update(choices=fresh), gr.update(choices=fresh), *lib_values()]

        state_outputs = [status, ask_doc, quote_doc, *lib_outputs]
        app.load(page_state, None, state_outputs, api_name=False)
        if writable:
            _wire_library(gr, library, actions, page_state, state_outputs)
    return app


def _wire_library(gr, library: Library, actions, page_state, state_outputs) -> None:
    result, upload, add, rebuild, chosen, remove, confirm = actions
    outputs = [result, *state_outputs]

    def run(action, *args, progress):
        def report(done, total):
            progress((done, total), desc="嵌入段落", unit="段")

        def notify(code, **details):  # a wait for another writer shows in the progress bar
            progress(0, desc=message(code, **details))

        try:
            lines = action(*args, progress=report, notify=notify)
        except QAError as exc:
            lines = [error_message(exc)]
        return ["<br>".join(escape(line) for line in lines), *page_state()]

    def on_add(files, progress=gr.Progress()):
        return run(library.add, [f if isinstance(f, str) else f.name for f in files or []], progress=progress)

    def on_remove(source, progress=gr.Progress()):
        return run(library.remove, source, progress=progress)

    def on_rebuild(progress=gr.Progress()):
        return run(library.rebuild, progress=progress)

    add.click(on_add, [upload], outputs, api_name="add_documents").then(lambda: None, None, upload)
    remove.click(on_remove, [chosen], outputs, js=confirm, api_name="remove_document")
    rebuild.click(on_rebuild, None, outputs, api_name="rebuild_index")


def is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def writes_allowed(settings: Settings) -> tuple[bool, str | None]:
    """Whether the app may add, remove and rebuild, and the warning to print when it may not because anyone on
    the network could: a non-loopback address without a login."""
    if settings.serve.read_only:
        return False, None
    if settings.serve.auth is None and not is_loopback(settings.serve.host):
        return False, message("open_without_auth", host=settings.serve.host)
    return True, None


def serve(settings: Settings) -> None:
    """Bring the index up to date, then serve the chat on settings.serve.host:port."""
    prepared: list[str] = []  # a model converted or an engine chosen on first use: said here and on the page

    def notify(code: str, **details) -> None:
        text = message(code, **details)
        print(text, file=sys.stderr, flush=True)
        if code in ("model_prepared", "engine_chosen"):
            prepared.append(text)

    writable, warning = writes_allowed(settings)
    if warning:
        print(warning, file=sys.stderr, flush=True)
    assistant, report = Assistant.open(settings, progress=progress_bar(), notify=notify)
    summary = prepared + (build_summary(report) if report else [])
    for line in summary:
        print(line, file=sys.stderr)
    # the first line of a sync that built nothing only says the index is up to date: not worth a notice
    notices = prepared + (build_summary(report)[0 if report.built else 1:] if report else [])
    import tempfile

    uploads = Path(os.environ.setdefault("GRADIO_TEMP_DIR", str(Path(tempfile.gettempdir()) / "speech-qa-uploads")))
    app = build_app(assistant, notices, writable=writable, uploads=uploads)
    import gradio as gr

    auth = tuple(settings.serve.auth.split(":", 1)) if settings.serve.auth else None
    print(message("app_started", host=settings.serve.host, port=settings.serve.port), file=sys.stderr, flush=True)
    app.queue(default_concurrency_limit=settings.serve.concurrency).launch(
        server_name=settings.serve.host,
        server_port=settings.serve.port,
        auth=auth,
        max_file_size=f"{settings.limits.file_mb}mb",
        theme=gr.themes.Default(font=FONTS, font_mono=["monospace"]),
        css=CSS,
        js=COPY_JS,
        footer_links=[],
        show_error=False,
    )
