"""The JSON the HTTP API returns: the same objects as `qa ask --json`, `qa quotes --json` and `qa list --json`."""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from fastapi import File, Query, Request, UploadFile
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse

from qa.answer import Assistant
from qa.app.document_page import render_document
from qa.app.messages import error_message, message
from qa.app.output import add_json, answer_json, documents_json, trace_json
from qa.check.draft import read_draft
from qa.errors import InvalidSetting, QAError, TooLarge
from qa.library import list_documents
from qa.export import export_trace
from qa.records import Filters, trace_years
from qa.search.when import as_of_year


def _error(exc: QAError) -> dict:
    return {"error": {"code": exc.code, "message": error_message(exc)}}


def ask(assistant: Assistant, question: str, k: int | None = None, doc: str | None = None, year: str | None = None,
        as_of: str | None = None, per_document: int | None = None, history: list[str] | None = None) -> dict:
    """An answer as `qa ask --json` prints it, or {"error": {code, message}}; every argument but the question may be
    left out. history: the questions asked before in the conversation, oldest first."""
    try:
        answer = assistant.ask(question, k or None, Filters.parse(doc or None, year or None),
                               as_of=as_of_year(as_of), per_document=per_document, history=history or ())
    except QAError as exc:
        return _error(exc)
    return answer_json(answer)


def quotes(assistant: Assistant, theme: str, k: int | None = None, doc: str | None = None,
           year: str | None = None) -> dict:
    """Theme quotes as `qa quotes --json` prints them, or {"error": …}."""
    try:
        answer = assistant.find_quotes(theme, k or None, Filters.parse(doc or None, year or None))
    except QAError as exc:
        return _error(exc)
    return answer_json(answer)


def check(assistant: Assistant, draft: str, all_sentences: bool = False) -> dict:
    """引文核对 as `qa check --json` prints it, or {"error": …}."""
    try:
        return assistant.check(draft, all_sentences=bool(all_sentences)).to_json()
    except QAError as exc:
        return _error(exc)


def trace(assistant: Assistant, phrase: str, kind: str | None = None, year_from=None, year_to=None) -> dict:
    """提法演变 as `qa trace --json` prints it, or {"error": …}."""
    try:
        return trace_json(assistant.trace(phrase, kind or None, trace_years(year_from or None, year_to or None)))
    except QAError as exc:
        return _error(exc)


TRACE_FORMATS = ("json", "docx", "md")


def trace_file(assistant: Assistant, phrase: str, kind: str | None, year_from, year_to, format: str):
    """(the timeline written to a temporary .docx or .md, None) or (None, the error's JSON)."""
    try:
        if format not in TRACE_FORMATS:
            raise InvalidSetting(name="format", value=format, valid="、".join(TRACE_FORMATS))
        found = assistant.trace(phrase, kind or None, trace_years(year_from or None, year_to or None))
    except QAError as exc:
        return None, _error(exc)
    path = Path(tempfile.mkdtemp(prefix="trace-")) / f"trace.{format}"
    if not found.rows:
        return None, trace_json(found)
    return export_trace(found, path), None


def add(library, paths: list[str]) -> dict:
    """Add uploaded files to the library and the index: what `qa add --json` prints, or {"error": …}."""
    if not paths:
        return {"error": {"code": "nothing_uploaded", "message": message("nothing_uploaded")}}
    try:
        return add_json(library.add_report(paths))
    except QAError as exc:
        return _error(exc)


def save_upload(folder: Path, name: str | None, content) -> Path:
    """An uploaded file saved under its own name (no folders) in a new folder below the uploads folder."""
    where = Path(tempfile.mkdtemp(prefix="api-", dir=folder))
    target = where / (Path((name or "").replace("\\", "/")).name or "upload.txt")
    with open(target, "wb") as out:
        shutil.copyfileobj(content, out)
    return target


async def posted_draft(request: Request, uploads: Path | None) -> tuple[str, bool]:
    """The draft of a /api/check request — ?draft=…, a form field `draft`, a file `file` (multipart) or the raw
    body — and whether its form asks for all_sentences. A file is read and its copy deleted at once."""
    draft = request.query_params.get("draft")
    if draft is not None or request.method != "POST":
        return draft or "", False
    if not request.headers.get("content-type", "").startswith(("multipart/form-data",
                                                                "application/x-www-form-urlencoded")):
        return (await request.body()).decode("utf-8", errors="replace"), False
    form = await request.form()
    asked = str(form.get("all_sentences", "")).lower() in ("1", "true", "on")
    given = form.get("file") or form.get("draft")
    if not hasattr(given, "read"):
        return given or "", asked
    saved = save_upload(uploads or Path(tempfile.gettempdir()), given.filename, given.file)
    try:
        return read_draft(saved), asked
    finally:
        shutil.rmtree(saved.parent, ignore_errors=True)


def documents(assistant: Assistant) -> list[dict]:
    """The documents as `qa list --json` prints them: file, title, date, passages, status."""
    return documents_json(list_documents(assistant.settings))


def signed_in(server, request) -> bool:
    """Whether the request may read the library: always without a login; with one, only with the session cookie
    Gradio's login page set (Gradio's own check, which does not cover routes added beside it)."""
    if getattr(server, "auth", None) is None:
        return True
    cookies = request.cookies
    token = cookies.get(f"access-token-{server.cookie_id}") or cookies.get(f"access-token-unsecure-{server.cookie_id}")
    return token is not None and server.tokens.get(token) is not None


def add_routes(server, assistant: Assistant, library=None) -> None:
    """Plain HTTP routes on the app's own server (FastAPI, under Gradio), for curl, scripts and citation links:
    GET /api/ask?question=…[&k&doc&year&as_of&per_document&after=previous question], /api/quotes?theme=…[&k&doc&year],
    /api/documents, /api/check (draft=… or a file posted as multipart `file`; [&all_sentences=true]),
    /api/trace?phrase=…[&kind&from&to&format=docx|md], POST /api/add
    (multipart files; only when the app may write), and /doc/{doc_id}?p=passage&s=start&e=end (the whole document at the cited place). Behind a login
    they answer only a signed-in browser session (or a script that posted /login first)."""
    def refused(request: Request) -> JSONResponse | None:
        if signed_in(server, request):
            return None
        return JSONResponse({"error": {"code": "login_required", "message": message("login_required")}},
                            status_code=401)

    def ask_route(request: Request, question: str, k: int | None = None, doc: str | None = None,
                  year: str | None = None, as_of: str | None = None, per_document: int | None = None,
                  after: str | None = None):
        return refused(request) or ask(assistant, question, k, doc, year, as_of, per_document,
                                       [after] if after else None)

    def quotes_route(request: Request, theme: str, k: int | None = None, doc: str | None = None,
                     year: str | None = None):
        return refused(request) or quotes(assistant, theme, k, doc, year)

    def documents_route(request: Request):
        return refused(request) or documents(assistant)

    def document_route(request: Request, doc_id: str, p: str | None = None, s: int | None = None,
                       e: int | None = None):
        if not signed_in(server, request):
            return HTMLResponse(message("login_required"), status_code=401)
        found = assistant.document(doc_id)
        if found is None:
            return HTMLResponse(message("document_not_found", key=doc_id, choices="qa list"), status_code=404)
        meta, passages = found
        quote = (s, e) if s is not None and e is not None else None
        return HTMLResponse(render_document(meta, passages, p, quote))

    async def check_route(request: Request, all_sentences: bool = False):
        """The draft as a query argument (GET ?draft=…), a form field, a file (multipart) or the raw body."""
        if denied := refused(request):
            return denied
        size, limit_mb = int(request.headers.get("content-length") or 0), assistant.settings.limits.file_mb
        if size > limit_mb * 2**20:  # refused before the body is read
            return _error(TooLarge(reason="file_too_large", size_mb=round(size / 2**20, 1), limit_mb=limit_mb))
        try:
            draft, asked = await posted_draft(request, library.uploads if library else None)
        except QAError as exc:
            return _error(exc)
        return check(assistant, draft, all_sentences or asked)

    def trace_route(request: Request, phrase: str = "", kind: str | None = None,
                    year_from: str | None = Query(None, alias="from"), year_to: str | None = Query(None, alias="to"),
                    format: str | None = None):
        """JSON, or with format=docx / md the timeline as a file to download."""
        if denied := refused(request):
            return denied
        format = (format or "json").lower()
        if format == "json":
            return trace(assistant, phrase, kind, year_from, year_to)
        path, failed = trace_file(assistant, phrase, kind, year_from, year_to, format)
        if failed is not None:
            return JSONResponse(failed, status_code=400 if "error" in failed else 404)
        name = "提法演变" + path.suffix
        return FileResponse(path, filename=name)

    def add_route(request: Request, files: list[UploadFile] = File(...)):
        if denied := refused(request):
            return denied
        folder = library.uploads or Path(tempfile.gettempdir())
        saved = [str(save_upload(folder, f.filename, f.file)) for f in files]
        return add(library, saved)

    if library is not None:
        server.add_api_route("/api/add", add_route, methods=["POST"])
    server.add_api_route("/api/check", check_route, methods=["GET", "POST"])
    for path, route in (("/api/ask", ask_route), ("/api/quotes", quotes_route), ("/api/documents", documents_route),
                        ("/api/trace", trace_route)):
        server.add_api_route(path, route, methods=["GET", "POST"])
    server.add_api_route("/doc/{doc_id}", document_route, methods=["GET"])
