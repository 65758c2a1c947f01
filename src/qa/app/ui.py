"""The browser app (Gradio): the chat, theme quotes, and document management with progress."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from qa.answer import Assistant
from qa.app import api
from qa.app.cards import COPY_JS, CSS, SCROLL_TO_ANSWER, escape, render_answer, render_quotes
from qa.app.check_tab import check_tab
from qa.app.check_view import CHECK_CSS
from qa.app.trace_tab import trace_tab
from qa.app.trace_view import TRACE_CSS
from qa.app.library_tab import ALL_DOCUMENTS, Library, download_path, library_tab, wire_library
from qa.app.messages import build_summary, error_message, message
from qa.app.output import progress_bar
from qa.app.page_language import ChineseFirst
from qa.errors import QAError
from qa.export import export
from qa.records import Answer, Filters
from qa.search.when import as_of_year
from qa.settings import Settings

TITLE = "讲稿问答"
EXAMPLES = ["党的力量来自哪里？", "如何培养和关爱机关党务干部？", "党组织标准化规范化建设有哪些要求？"]
# System fonts only: the app must not reach for web fonts on an offline intranet machine.
FONTS = ["PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "sans-serif"]


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
            year: str | None = None, as_of: str | None = None, best_per_document: bool = False,
            answers: list[Answer] | None = None, follow_up: bool = True):
    """One chat turn: ("", the chat with the question and its answer, the answers so far). A follow-up
    (「那要怎么加强？」) is read with the turn before it unless follow_up is off."""
    history, answers = list(history or []), list(answers or [])
    question = (question or "").strip()
    if not question:
        return "", history, answers
    try:
        answer = assistant.ask(question, int(k), _filters(doc, year), as_of=as_of_year(as_of),
                               per_document=1 if best_per_document else None,
                               history=[a.question for a in answers], follow_up=bool(follow_up))
        reply = render_answer(answer)
        answers.append(answer)
    except QAError as exc:
        reply = escape(error_message(exc))
    history.append({"role": "user", "content": escape(question)})
    history.append({"role": "assistant", "content": reply})
    return "", history, answers


def export_conversation(answers: list[Answer] | None, suffix: str, folder: Path | None = None) -> str | None:
    """The conversation written to a new file (.md or .docx) for download; None when nothing was asked yet."""
    if not answers:
        return None
    return str(export(answers, download_path(folder, f"讲稿问答{suffix}")))


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


def _ask_tab(gr, assistant: Assistant, titles: list[str], uploads: Path | None = None):
    # no Gradio copy buttons: they copy the HTML; each card's 复制引文 copies the quote with its citation
    chat = gr.Chatbot(label="问答", height="68vh", elem_id="qa-chat", autoscroll=False, buttons=[])
    with gr.Row():
        box = gr.Textbox(placeholder="输入问题，例如：党的力量来自哪里？", show_label=False, scale=8, elem_id="qa-question")
        send = gr.Button("提问", variant="primary", scale=1, elem_id="qa-send")
    with gr.Accordion("筛选与设置", open=False):
        doc, year = _filter_row(gr, titles, "qa-ask")
        with gr.Row():
            k = gr.Slider(1, assistant.settings.serve.max_k, value=assistant.settings.retrieve.k, step=1,
                          label="返回段落数", scale=3)
            as_of = gr.Textbox(label="“今年”指", placeholder="例如 2024（默认：最新文档的年份）", scale=1,
                               elem_id="qa-as-of")
            per_document = gr.Checkbox(label="每篇文档只列最佳一段", value=False, scale=1, elem_id="qa-per-doc")
            follow_up = gr.Checkbox(label="结合上文理解追问", value=True, scale=1, elem_id="qa-follow-up",
                                    info="如「那要怎么加强？」按上一问理解")
    gr.Examples(EXAMPLES, inputs=box, label="示例问题")
    answers = gr.State([])  # the answers of this conversation (follow-ups and export read them)
    with gr.Row():
        to_markdown = gr.Button("导出为 Markdown", size="sm", elem_id="qa-export-md")
        to_word = gr.Button("导出为 Word（引文出处为脚注）", size="sm", elem_id="qa-export-docx")
    exported = gr.File(label="导出的文件", visible=False, elem_id="qa-exported")

    def handle(question, history, k_value, doc_value, year_value, as_of_value, per_document_value, answers_value,
               follow_up_value):
        return respond(assistant, question, history, k_value, doc_value, year_value, as_of_value, per_document_value,
                       answers_value, follow_up_value)

    def download(answers_value, suffix):
        path = export_conversation(answers_value, suffix, uploads)
        return gr.update(value=path, visible=path is not None)

    inputs = [box, chat, k, doc, year, as_of, per_document, answers, follow_up]
    outputs = [box, chat, answers]
    # one small progress mark on the chat, nothing greyed out: the question box stays usable while it runs
    busy = {"show_progress": "minimal", "show_progress_on": [chat]}
    box.submit(handle, inputs, outputs, api_name=False, **busy).then(None, js=SCROLL_TO_ANSWER)
    send.click(handle, inputs, outputs, api_name="chat", api_visibility="undocumented", **busy).then(
        None, js=SCROLL_TO_ANSWER)
    chat.clear(lambda: [], None, answers, api_name=False)
    to_markdown.click(lambda a: download(a, ".md"), answers, exported, api_name=False)
    to_word.click(lambda a: download(a, ".docx"), answers, exported, api_name=False)
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
    search.click(handle, [theme, how_many, doc, year], quotes, api_name="find_quotes", api_visibility="undocumented")
    return doc


def build_app(assistant: Assistant, notices: list[str] = (), writable: bool = True, uploads: Path | None = None,
              library: Library | None = None):
    """The Blocks app. Counts, tables and choices are computed at every page load, so a reload or a second tab
    shows what another tab or a `qa add` in a terminal changed."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    import gradio as gr

    library = library or Library(assistant, uploads)
    titles = library.titles()
    with gr.Blocks(title=TITLE) as app:
        status = gr.Markdown(_status_line(assistant), elem_id="qa-status")
        started_on = assistant.index.build
        # what the start-up sync did (skipped files, duplicates, a model change): shown until the index changes
        notice = gr.Markdown("<br>".join(escape(line) for line in notices), elem_id="qa-notices",
                             visible=bool(notices))
        with gr.Tabs():
            with gr.Tab("问答", id="ask"):
                ask_doc = _ask_tab(gr, assistant, titles, uploads)
            with gr.Tab("找引文", id="quotes"):
                quote_doc = _quotes_tab(gr, assistant, titles)
            with gr.Tab("引文核对", id="check"):
                check_tab(gr, assistant, uploads)
            with gr.Tab("提法演变", id="trace"):
                trace_tab(gr, assistant, uploads)
            with gr.Tab("文档管理", id="library"):
                lib_outputs, lib_values, actions = library_tab(gr, library, writable)

        def page_state():
            fresh = library.titles()
            status_line = _status_line(assistant)  # also picks up a build made elsewhere
            current = bool(notices) and assistant.index.build == started_on
            return [status_line, gr.update(visible=current), gr.update(choices=fresh), gr.update(choices=fresh),
                    *lib_values()]

        # adding over the API needs an uploads folder: only files below it may be added
        json_api(gr, assistant, library if writable and library.uploads else None)
        state_outputs = [status, notice, ask_doc, quote_doc, *lib_outputs]
        app.load(page_state, None, state_outputs, api_name=False)
        if writable:
            wire_library(gr, library, actions, page_state, state_outputs)
    return app


def json_api(gr, assistant: Assistant, library: Library | None = None) -> None:
    """Endpoints that return JSON (the objects of `qa ask --json`, `qa quotes --json`, `qa list --json`,
    `qa add --json`, `qa check --json`, `qa trace --json`), for gradio_client and plain HTTP: /gradio_api/call/ask,
    /quotes, /documents, /check, /trace, and /add when
    the app may write. Only the question or theme is needed."""

    def ask(question: str, k: int = 0, doc: str = "", year: str = "", as_of: str = "", per_document: int = 0,
            history: list[str] | None = None) -> dict:
        """Answer a question: hits with quote, citation and confidence. k 0: the default; per_document 1: the best
        passage of each document; history: the questions asked before, oldest first (a follow-up is read with
        them)."""
        return api.ask(assistant, question, k, doc, year, as_of, per_document, history)

    def quotes(theme: str, k: int = 0, doc: str = "", year: str = "") -> dict:
        """Quotable sentences on a theme across the documents, copies merged."""
        return api.quotes(assistant, theme, k, doc, year)

    def documents() -> list[dict]:
        """Every document of the data folder: file, title, date, passages and status."""
        return api.documents(assistant)

    def check(draft: str, all_sentences: bool = False) -> dict:
        """引文核对: every quotation of the draft with its verdict (exact, altered, not_found, wrong_source), the
        edits, the best source with its citation and the other places it appears; all_sentences: also the
        sentences outside quotation marks."""
        return api.check(assistant, draft, all_sentences)

    def trace(phrase: str, kind: str = "", year_from: str = "", year_to: str = "") -> dict:
        """提法演变: the formulation in each document in year order (its sentence, how it was found, the figure it
        gives, the citation) and the change from the year before; kind: 政府工作报告, 党代会报告, 决议, 讲话 or 其他;
        year_from / year_to: YYYY, either optional."""
        return api.trace(assistant, phrase, kind, year_from, year_to)

    def add(files: list[gr.FileData]) -> dict:
        """Add files (uploaded with gradio_client's handle_file) to the library and the index: added, replaced,
        unchanged, duplicates, rejected (with the reason), the index update, and the same in words."""
        paths = [f["path"] if isinstance(f, dict) else getattr(f, "path", f) for f in files or []]
        return api.add(library, paths)

    # gradio is imported in this function only, so the hint is given as an object, not a string to resolve
    add.__annotations__ = {"files": list[gr.FileData], "return": dict}

    for fn in (ask, quotes, documents, check, trace) + ((add,) if library is not None else ()):
        gr.api(fn, api_name=fn.__name__)


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
    assistant.prepare()  # the reranker loaded (and on first use exported) before the first question, not during it
    summary = prepared + (build_summary(report) if report else [])
    for line in summary:
        print(line, file=sys.stderr)
    # the first line of a sync that built nothing only says the index is up to date: not worth a notice
    notices = prepared + (build_summary(report)[0 if report.built else 1:] if report else [])
    import tempfile

    uploads = Path(os.environ.setdefault("GRADIO_TEMP_DIR", str(Path(tempfile.gettempdir()) / "speech-qa-uploads")))
    library = Library(assistant, uploads)  # one for the page and the REST routes: one add at a time
    app = build_app(assistant, notices, writable=writable, uploads=uploads, library=library)
    import gradio as gr
    from starlette.middleware import Middleware

    auth = tuple(settings.serve.auth.split(":", 1)) if settings.serve.auth else None
    print(message("app_started", host=settings.serve.host, port=settings.serve.port), file=sys.stderr, flush=True)
    app.queue(default_concurrency_limit=settings.serve.concurrency).launch(
        server_name=settings.serve.host,
        server_port=settings.serve.port,
        auth=auth,
        max_file_size=f"{settings.limits.file_mb}mb",
        theme=gr.themes.Default(font=FONTS, font_mono=["monospace"]),
        css=CSS + CHECK_CSS + TRACE_CSS,
        js=COPY_JS,
        footer_links=[],
        app_kwargs={"middleware": [Middleware(ChineseFirst)]},
        show_error=False,
        prevent_thread_lock=True,
    )
    api.add_routes(app.app, assistant, library if writable else None)  # uploads is always set here
    app.block_thread()
