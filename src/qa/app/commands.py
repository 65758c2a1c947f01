"""What each `qa` command does: build, ask, quotes, check, add, remove, list, parse, status, eval, serve."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from qa.app.messages import add_summary, build_summary, document_line, error_message, message, status_lines
from qa.app.output import (add_json, answer_json, documents_json, print_answer, print_check, print_lines, print_outline,
                           print_quotes, print_report, print_trace, progress_bar, safe, trace_json)
from qa.errors import QAError
from qa.export import export, export_check, export_path, export_trace
from qa.records import DocumentStatus, Filters, trace_years
from qa.search.when import as_of_year
from qa.settings import TRAINED_RERANKER, Settings, from_environment


def _settings(args) -> Settings:
    return from_environment().with_overrides(
        data_dir=getattr(args, "jsonl", None) or getattr(args, "data", None),
        index_dir=getattr(args, "index", None),
        embed={"model": getattr(args, "model", None), "engine": getattr(args, "engine", None)},
        retrieve={"k": getattr(args, "k", None), "mode": getattr(args, "mode", None),
                  "reranker": _reranker(args)},
        serve={"host": getattr(args, "host", None), "port": getattr(args, "port", None),
               "auth": getattr(args, "auth", None), "read_only": getattr(args, "read_only", None) or None},
        store={"backend": getattr(args, "backend", None), "milvus_uri": getattr(args, "milvus_uri", None),
               "milvus_token": getattr(args, "milvus_token", None), "milvus_db": getattr(args, "milvus_db", None),
               "milvus_name": getattr(args, "milvus_name", None)},
    )


def _reranker(args) -> str | None:
    """--no-rerank, --rerank or --reranker NAME; None: the environment's or the default."""
    if getattr(args, "no_rerank", False):
        return "none"
    if getattr(args, "rerank", False):
        return TRAINED_RERANKER
    return getattr(args, "reranker", None)


def _notice(code: str, **details) -> None:
    """One-off notices (a model prepared on first use, a wait for another writer) go to stderr, never into --json."""
    print(message(code, **details), file=sys.stderr, flush=True)


def _embedder(settings: Settings):
    from qa.search.embed import embedder_for

    return embedder_for(settings, _notice)


def _open_assistant(settings: Settings, update: bool):
    from qa.answer import Assistant
    from qa.library import resolve

    settings = resolve(settings)
    if update and not settings.data_dir.exists():
        print(message("data_missing_using_index", data_dir=str(settings.data_dir)), file=sys.stderr)
        update = False
    assistant, report = Assistant.open(settings, update=update, progress=progress_bar(), notify=_notice)
    if report is not None and (report.built or report.rejected):
        print_lines(build_summary(report), file=sys.stderr)
    return assistant


def _filters(args) -> Filters:
    return Filters.parse(getattr(args, "doc", None), getattr(args, "year", None))


def cmd_build(args) -> int:
    from qa.library import rebuild, resolve

    settings = resolve(_settings(args))
    report = rebuild(settings, _embedder(settings), force=args.force, progress=progress_bar(), notify=_notice)
    print_lines(build_summary(report))
    return 0


def cmd_ask(args) -> int:
    settings = _settings(args)
    filters = _filters(args)
    as_of = as_of_year(args.as_of)  # a bad date is refused before anything loads
    if args.export:
        export_path(args.export)  # a bad name is refused before anything loads
    assistant = _open_assistant(settings, update=not args.no_update)
    if args.question != "-":
        history = [args.after] if args.after else []
        answer = assistant.ask(args.question, args.k, filters, as_of=as_of, per_document=args.per_doc, history=history)
        if args.export:
            export([answer], Path(args.export))
        print_answer(answer, args.json)
        return 0
    # one question per line in, one JSON object per line out; a bad line does not stop the rest
    for line in sys.stdin:
        question = line.strip()
        if not question:
            continue
        try:
            answer = assistant.ask(question, args.k, filters, as_of=as_of, per_document=args.per_doc)
            print(json.dumps(answer_json(answer), ensure_ascii=False), flush=True)
        except QAError as exc:
            error = {"code": exc.code, "message": error_message(exc)}
            print(json.dumps({"question": question, "error": error}, ensure_ascii=False), flush=True)
    return 0


def cmd_quotes(args) -> int:
    settings = _settings(args)
    assistant = _open_assistant(settings, update=not args.no_update)
    answer = assistant.find_quotes(args.theme, args.k or settings.retrieve.quotes_k, _filters(args))
    if args.json:
        print(json.dumps(answer_json(answer), ensure_ascii=False))
        return 0
    print_quotes(answer)
    return 0


def cmd_check(args) -> int:
    from qa.check.draft import read_draft

    settings = _settings(args)
    if args.export:
        export_path(args.export)  # a bad name is refused before anything loads
    draft = sys.stdin.read() if args.draft == "-" else read_draft(Path(args.draft))
    assistant = _open_assistant(settings, update=not args.no_update)
    report = assistant.check(draft, all_sentences=args.all_sentences)
    if args.export:
        export_check(report, Path(args.export))
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print_check(report)
    return 0


def cmd_trace(args) -> int:
    settings = _settings(args)
    if args.export:
        export_path(args.export)  # a bad name is refused before anything loads
    years = trace_years(args.year_from, args.year_to)
    assistant = _open_assistant(settings, update=not args.no_update)
    trace = assistant.trace(args.phrase, kind=args.kind, years=years)
    if args.export and trace.rows:
        export_trace(trace, Path(args.export))
    if args.json:
        print(json.dumps(trace_json(trace), ensure_ascii=False, indent=2))
    else:
        print_trace(trace)
    return 0 if trace.rows else 1


def cmd_add(args) -> int:
    from qa.library import add_files, resolve

    settings = resolve(_settings(args))
    report = add_files(settings, [Path(p) for p in args.paths], _embedder(settings), progress=progress_bar(),
                       notify=_notice)
    if args.json:
        print(json.dumps(add_json(report), ensure_ascii=False, indent=2))
    else:
        print_lines(add_summary(report))
    return 1 if report.rejected and not (report.added or report.replaced) else 0


def cmd_remove(args) -> int:
    from qa.library import remove_document, resolve

    settings = resolve(_settings(args))
    row, report = remove_document(settings, args.doc, _embedder(settings), progress=progress_bar(), notify=_notice)
    print(safe(message("removed", source=row.source, title=f"（《{row.title}》）" if row.title else "",
                        folder=str(settings.data_dir / ".removed"))))
    print_lines(build_summary(report))
    return 0


def cmd_list(args) -> int:
    from qa.library import list_documents, resolve

    settings = resolve(_settings(args))
    rows = list_documents(settings)
    if args.json:
        print(json.dumps(documents_json(rows), ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print(message("no_documents", data_dir=str(settings.data_dir)))
        return 0
    print(message("documents_head", count=sum(r.status == DocumentStatus.INDEXED for r in rows), data_dir=str(settings.data_dir)))
    for row in rows:
        print("  " + safe(document_line(row)))
    return 0


def cmd_parse(args) -> int:
    from qa.library import parse_file

    path = Path(args.file)
    if not path.is_file():
        print(message("file_not_found", path=str(path)), file=sys.stderr)
        return 1
    found = parse_file(path)
    if args.json:
        print(json.dumps(found[0] if len(found) == 1 else found, ensure_ascii=False, indent=2))
        return 0
    for item in found:
        print_outline(item)
    return 0


def cmd_status(args) -> int:
    from qa.status import index_status

    status = index_status(_settings(args))
    if args.json:
        print(json.dumps(status.to_json(), ensure_ascii=False, indent=2))
        return 0
    print_lines(status_lines(status))
    return 0


def cmd_eval(args) -> int:
    from qa.evaluate import evaluate, load_questions
    from qa.settings import MODES

    every = args.mode == "all"
    if every:
        args.mode = None
    settings = _settings(args)
    questions = load_questions(Path(args.questions))
    assistant = _open_assistant(settings, update=False)
    summaries = []
    for mode in MODES if every else (settings.retrieve.mode,):
        report = evaluate(assistant, questions, k=settings.retrieve.k, progress=progress_bar(f"提问（{mode}）", "题"),
                          mode=mode)
        summaries.append(report.summary(mode=mode, model=assistant.embedder.name))
    if args.json:
        print(json.dumps(summaries if every else summaries[0], ensure_ascii=False, indent=2))
        return 0
    for summary in summaries:
        print_report(summary, args.show)
    return 0


def cmd_serve(args) -> int:
    from qa.app.ui import serve

    serve(_settings(args))
    return 0
