"""The JSON the HTTP API returns: the same objects as `qa ask --json`, `qa quotes --json` and `qa list --json`."""
from __future__ import annotations

from qa.answer import Assistant
from qa.app.messages import error_message
from qa.app.output import answer_json
from qa.errors import QAError
from qa.library import list_documents
from qa.records import Filters
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


def documents(assistant: Assistant) -> list[dict]:
    """The documents as `qa list --json` prints them: file, title, date, passages, status."""
    return [{**row.__dict__, "status": str(row.status)} for row in list_documents(assistant.settings)]


def add_routes(server, assistant: Assistant) -> None:
    """Plain HTTP routes on the app's own server (FastAPI, under Gradio), for curl and scripts:
    GET /api/ask?question=…[&k&doc&year&as_of&per_document&after=previous question], /api/quotes?theme=…[&k&doc&year], /api/documents.
    They are read-only; the server adds them only where no login is asked for (Gradio's login does not cover them)."""

    def ask_route(question: str, k: int | None = None, doc: str | None = None, year: str | None = None,
                  as_of: str | None = None, per_document: int | None = None, after: str | None = None) -> dict:
        return ask(assistant, question, k, doc, year, as_of, per_document, [after] if after else None)

    def quotes_route(theme: str, k: int | None = None, doc: str | None = None, year: str | None = None) -> dict:
        return quotes(assistant, theme, k, doc, year)

    def documents_route() -> list[dict]:
        return documents(assistant)

    for path, route in (("/api/ask", ask_route), ("/api/quotes", quotes_route), ("/api/documents", documents_route)):
        server.add_api_route(path, route, methods=["GET", "POST"])
