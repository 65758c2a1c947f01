"""提法演变 measured on eval/trace.jsonl: year recall, right sentence, false years, and the time of one trace.

    python scripts/eval_trace.py --index /tmp/speech-index --split dev [--show]

The index holds the seed and the 192 shared documents (docs/EVALUATION.md, "Issue 21"). Year recall: gold years
the trace lists; right sentence: gold years whose row's sentence (the first of the row) holds one of the year's
gold fragments; false years: years the trace lists that the gold does not have.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from qa.check.checker import corpus_of  # noqa: E402
from qa.check.normal import fold  # noqa: E402
from qa.index.reader import IndexReader  # noqa: E402
from qa.trace.tracer import Tracer  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", required=True)
    parser.add_argument("--set", default=str(Path(__file__).resolve().parents[1] / "eval" / "trace.jsonl"))
    parser.add_argument("--split", choices=("dev", "test", "all"), default="dev")
    parser.add_argument("--show", action="store_true", help="list every miss")
    args = parser.parse_args()
    items = [json.loads(line) for line in open(args.set, encoding="utf-8") if line.strip()]
    items = [i for i in items if args.split == "all" or i["split"] == args.split]
    index = IndexReader.open(Path(args.index))
    began = time.perf_counter()
    tracer = Tracer(corpus_of(index), index.documents())
    built = time.perf_counter() - began
    gold_years = found = right = false = 0
    seconds = []
    for item in items:
        years = (item.get("from") or 1000, item.get("to") or 9999) if item.get("from") or item.get("to") else None
        t0 = time.perf_counter()
        trace = tracer.trace(item["phrase"], kind=item["kind"], years=years)
        seconds.append(time.perf_counter() - t0)
        gold = {int(y): [fold(f)[0] for f in fragments] for y, fragments in item["gold"].items()}
        rows: dict[int, list] = {}
        for row in trace.rows:
            rows.setdefault(row.year, []).append(row)
        misses = []
        for year, fragments in gold.items():
            gold_years += 1
            if year not in rows:
                misses.append(f"{year} missing")
                continue
            found += 1
            sentences = [fold(r.main.sentence)[0] for r in rows[year]]
            if any(f in s for f in fragments for s in sentences):
                right += 1
            else:
                misses.append(f"{year} wrong sentence: {rows[year][0].main.sentence[:80]}")
        extra = sorted(set(rows) - set(gold))
        false += len(extra)
        misses += [f"{y} false year: {rows[y][0].main.sentence[:80]}" for y in extra]
        if misses and args.show:
            print(f"— {item['phrase']} ({item['kind']}):")
            for m in misses:
                print("   ", m)
    print(f"{args.split}: {len(items)} formulations, {gold_years} gold years")
    print(f"year recall {found / gold_years:.3f}   right sentence {right / gold_years:.3f}   false years {false}")
    print(f"tracer built in {built:.2f} s; a trace: median {statistics.median(seconds) * 1000:.0f} ms, "
          f"max {max(seconds) * 1000:.0f} ms")


if __name__ == "__main__":
    main()
