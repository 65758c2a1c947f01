"""Printing for the terminal: answers, quotes, outlines, evaluation reports, the progress bar; nothing raw."""
from __future__ import annotations

import json
import sys

from qa.app.messages import CONFIDENCE_LABELS, add_summary, message
from qa.check.findings import TERM_CHARS, VERDICT_LABELS
from qa.ingest.normalize import CONTROL
from qa.records import Answer



def safe(text: str) -> str:
    """Text for a terminal: control characters (escape codes among them) shown as \\xNN, never sent raw."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def print_answer(answer: Answer, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer_json(answer), ensure_ascii=False))
        return
    print(f"问：{safe(answer.question)}")
    if answer.notice:
        print(message(answer.notice))
        return
    if not answer.hits:
        print(message("no_hits"))
        return
    bold = sys.stdout.isatty()
    if answer.searched:
        print(message("searched_in_cli", scope=safe(answer.scope), text=safe(answer.searched)) if answer.scope
              else message("searched_as_cli", text=safe(answer.searched)))
    if answer.confident is False:
        print(message("not_confident"))
        print(message("closest_passages", count=len(answer.hits)) + "：")
    for hit in answer.hits:
        p, q = hit.passage, hit.quote
        label = CONFIDENCE_LABELS.get(hit.confidence or "")
        print(f"\n[{hit.rank}] {safe(hit.citation.render())}" + (f"  （相关度：{label}）" if label else ""))
        print(f"    引用：{safe(hit.quote_line)}")
        quote = safe(q.text)
        marked = safe(p.text[: q.start]) + (f"\033[1;33m{quote}\033[0m" if bold else quote) + safe(p.text[q.end :])
        print(f"    段落：{marked}")
        for other in hit.also_in:
            print(f"    另见：{safe(other.render())}")


def documents_json(rows) -> list[dict]:
    """The documents as `qa list --json` prints them (and the API returns them): file, title, date, passages, status."""
    return [{**row.__dict__, "status": str(row.status)} for row in rows]


def add_json(report) -> dict:
    """What adding files did, as `qa add --json` prints it (and the API returns it), with the same lines in words."""
    build = report.build
    return {
        "added": list(report.added),
        "replaced": list(report.replaced),
        "unchanged": list(report.unchanged),
        "duplicates": [{"file": name, "same_as": same} for name, same in report.duplicates],
        "rejected": [{"file": name, **details} for name, details in report.rejected],
        "index": None if build is None else {"built": build.built, "documents": build.documents,
                                             "passages": build.passages, "embedded": build.embedded,
                                             "reused": build.reused, "seconds": round(build.seconds, 2)},
        "messages": add_summary(report),
    }


def answer_json(answer: Answer) -> dict:
    out = {"question": answer.question, "searched": answer.searched, "scope": answer.scope, "confident": answer.confident,
           "hits": [h.to_json() for h in answer.hits]}
    if answer.notice:
        out["notice"] = {"code": answer.notice, "message": message(answer.notice)}
    return out


def print_quotes(answer: Answer) -> None:
    """`qa quotes` in words: each sentence with its citation line and the copies found elsewhere."""
    print(f"主题：{safe(answer.question)}")
    if answer.notice or not answer.hits:
        print(message(answer.notice or "no_quotes"))
        return
    for hit in answer.hits:
        print(f"\n[{hit.rank}] {safe(hit.quote_line)}")
        print(f"    出处：{safe(hit.citation.render())}")
        for other in hit.also_in:
            print(f"    另见：{safe(other.render())}")


def print_lines(lines, file=None) -> None:
    for line in lines:
        print(safe(line), file=file or sys.stdout)


def print_outline(item: dict) -> None:
    """`qa parse` in words: head, then the section tree with paragraph counts, then what was dropped."""
    print(f"标题：{item['title']}")
    for label, key in (("日期", "date"), ("讲话人", "speaker"), ("场合", "occasion")):
        print(f"{label}：{item.get(key) or '（未找到）'}")
    encoding = f"，编码 {item['encoding']}" if item.get("encoding") else ""
    print(f"格式：{item.get('format')}{encoding}；段落 {item['paragraphs']} 个（开头 {item['preamble']} 个不属于任何章节，"
          f"要点 {item['points']} 个）")

    def walk(nodes, depth):
        for node in nodes:
            print(f"{'  ' * depth}- {node['heading']}（{node['paragraphs']} 段）")
            walk(node["children"], depth + 1)

    print("章节：" if item["sections"] else "章节：（没有找到标题）")
    walk(item["sections"], 1)
    if item["dropped"]:
        print(f"删掉的杂质（{len(item['dropped'])} 行）：")
        for line in item["dropped"]:
            print(f"  × {line[:80]}{'…' if len(line) > 80 else ''}")


def print_report(summary: dict, show: int = 20) -> None:
    """`qa eval` in words: the figures, then the questions whose answer was not in the top k."""
    print(f"问题 {summary['questions']} 个 · 模式 {summary['mode']} · k={summary['k']} · 模型 {summary['model']}")
    metrics = [f"{name} {value:.4f}" for name, value in summary["recall"].items()] + [f"MRR@10 {summary['mrr@10']:.4f}"]
    if summary["quote@1"] is not None:
        metrics.append(f"quote@1 {summary['quote@1']:.4f}")
    print("  ".join(metrics))
    for heading, group in (("按类别", "by_category"), ("按问法", "by_kind")):
        if summary.get(group):
            print(f"{heading}：")
        for kind, figures in summary.get(group, {}).items():
            quote = "" if figures["quote@1"] is None else f"  quote@1 {figures['quote@1']:.2f}"
            print(f"  {kind}（{figures['questions']} 题）：R@1 {figures.get('R@1', 0):.2f}  "
                  f"R@3 {figures.get('R@3', 0):.2f}{quote}")
    if summary["failures"]:
        print(f"前 {summary['k']} 名中没有答案的问题（{len(summary['failures'])} 个）：")
        for failure in summary["failures"][:show]:
            print(f"  - {failure['question']}  （金标：{'、'.join(failure['gold'])}；第一名：{failure['top']}）")


def progress_bar(desc: str = "嵌入段落", unit: str = "段"):
    """A tqdm bar on stderr, created on the first report so no-op syncs print nothing."""
    state = {}

    def report(done: int, total: int) -> None:
        if total == 0:
            return
        if "bar" not in state:
            from tqdm import tqdm

            state["bar"] = tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False, disable=None)
        bar = state["bar"]
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return report


SHOW_OTHERS = 5  # other places a quotation appears, listed in the terminal


def print_check(report) -> None:
    """引文核对 in the terminal: the counts, then each quotation with its verdict, edits and sources."""
    counts = report.counts()
    if not report.checks:
        print(message("no_quotations"))
        return
    tally = "，".join(f"{VERDICT_LABELS[v]} {n}" for v, n in counts.items() if n)
    print(f"核对 {len(report.checks)} 处引文：{tally}（用时 {report.seconds:.2f} 秒）\n")
    terms = [c.quotation.text for c in report.checks if c.verdict == "unchecked"]
    for i, check in enumerate(report.checks, start=1):
        if check.verdict == "unchecked":
            continue
        q = check.quotation
        line = report.draft.count("\n", 0, q.start) + 1
        shown = q.text if len(q.text) <= 60 else q.text[:58] + "……"
        kind = "" if q.marked else "（未加引号）"
        print(f"[{i}] {check.label}{kind} “{safe(shown)}”（第{line}行）")
        if q.lead_in:
            print(f"    引语前：{safe(q.lead_in)}")
        print(f"    {safe(check.summary())}")
        for other in check.others[:SHOW_OTHERS]:
            print(f"    另见：{safe(other.citation.render())}")
        if len(check.others) > SHOW_OTHERS:
            print(f"    另见：……共 {len(check.others)} 处（--json 列出全部）")
        print()
    if terms:
        print(f"未核对：少于 {TERM_CHARS} 个字的短语 {len(terms)} 个：" + "".join(f"“{safe(t)}”" for t in terms))


def trace_lines(trace) -> list[str]:
    """A trace in lines for the terminal: the span of years, then each document with its sentence and change."""
    from qa.app.messages import trace_notice

    if not trace.rows:
        return [trace_notice(trace)]
    lines = trace.summary()
    for row in trace.rows:
        main = row.main
        lines += ["", f"【{row.year}】《{row.title}》{main.how_note}",
                  f"  “{main.sentence[:main.start]}【{main.found}】{main.sentence[main.end:]}”"
                  + (f"（下段：{main.follows}）" if main.follows else ""),
                  f"  出处：{main.citation.render()}"]
        if row.change is not None:
            lines.append(f"  {row.change.summary()}")
        if len(row.occurrences) > 1:
            lines.append(f"  本篇另有 {len(row.occurrences) - 1} 处。")
    return lines


def print_trace(trace) -> None:
    print_lines(trace_lines(trace), file=None if trace.rows else sys.stderr)


def trace_json(trace) -> dict:
    """A trace as `qa trace --json` prints it: Trace.to_json, with the message in words when there is nothing
    to show."""
    from qa.app.messages import trace_notice

    out = trace.to_json()
    if trace.notice:
        out["message"] = trace_notice(trace)
    return out
