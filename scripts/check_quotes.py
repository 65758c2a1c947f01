"""Verdict accuracy of 引文核对 on eval/quote_check.jsonl: per class, the share given the expected verdict, the
share whose best source is the sentence's own paragraph (or a copy of it), and the time per quotation.

Each quotation is checked inside a draft of ten, as a user would paste it (lead-in, “quotation”, filler text),
so finding the quotation in the draft is measured too.

    python scripts/check_quotes.py eval/quote_check.jsonl --index /tmp/speech-index [--split dev|test|all]
        [--altered-min 0.6 0.7 …]"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from qa.check import checker as checking  # noqa: E402
from qa.check.checker import Checker  # noqa: E402
from qa.index.reader import IndexReader  # noqa: E402

FILLER = "这是起草人自己的话，用来连接上下文。"
PER_DRAFT = 10


def drafts(items: list[dict]):
    """(draft text, [(item, start of its quotation)]) of PER_DRAFT items each."""
    for i in range(0, len(items), PER_DRAFT):
        text, spans = "", []
        for item in items[i : i + PER_DRAFT]:
            text += item["lead_in"] + "“"
            spans.append((item, len(text)))
            text += item["quote"] + "”" + FILLER + "\n"
        yield text, spans


def evaluate(checker: Checker, items: list[dict]) -> dict:
    by_class: dict[str, dict] = {}
    seconds, quotations = 0.0, 0
    confusion: dict[str, dict[str, int]] = {}
    for text, spans in drafts(items):
        began = time.perf_counter()
        report = checker.check(text)
        seconds += time.perf_counter() - began
        by_start = {c.quotation.start: c for c in report.checks}
        quotations += len(spans)
        for item, start in spans:
            check = by_start.get(start)
            verdict = check.verdict if check else "missed"
            row = by_class.setdefault(item["class"], {"n": 0, "right": 0, "source": 0, "with_gold": 0, "both": 0})
            row["n"] += 1
            row["right"] += verdict == item["expect"]
            confusion.setdefault(item["class"], {}).setdefault(verdict, 0)
            confusion[item["class"]][verdict] += 1
            if item["gold"]:
                row["with_gold"] += 1
                best = check.best if check else None
                row["source"] += bool(best and best.passage_id in item["gold"])
                row["both"] += bool(best and best.passage_id in item["gold"]) and verdict == item["expect"]
    out = {}
    for name, row in by_class.items():
        out[name] = {"n": row["n"], "verdict": round(row["right"] / row["n"], 4),
                     "source@1": round(row["source"] / row["with_gold"], 4) if row["with_gold"] else None,
                     "verdict_and_source": round(row["both"] / row["with_gold"], 4) if row["with_gold"] else None,
                     "verdicts": confusion[name]}
    out["ms_per_quotation"] = round(1000 * seconds / max(quotations, 1), 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("items", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--split", default="dev", choices=["dev", "test", "all"])
    parser.add_argument("--altered-min", type=float, nargs="*")
    parser.add_argument("--memory", action="store_true", help="also the checker's memory (tracemalloc: a slower build)")
    args = parser.parse_args()
    items = [json.loads(line) for line in args.items.read_text(encoding="utf-8").splitlines() if line.strip()]
    items = [i for i in items if args.split == "all" or i["split"] == args.split]
    index = IndexReader.open(args.index)
    began = time.perf_counter()
    checker = Checker(index)
    print(f"checker built in {time.perf_counter() - began:.2f} s; {len(items)} quotations ({args.split})",
          file=sys.stderr)
    if args.memory:
        import gc
        import tracemalloc

        tracemalloc.start()
        kept = Checker(index)
        gc.collect()
        now, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"checker memory: {now / 2**20:.1f} MB kept, {peak / 2**20:.1f} MB at the peak of its build "
              f"({len(kept.source.passages)} passages, {len(kept.source.corpus):,} characters)", file=sys.stderr)
    for value in args.altered_min or [checking.ALTERED_MIN]:
        checking.ALTERED_MIN = value
        print(json.dumps({"altered_min": value, **evaluate(checker, items)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
