"""How long a trace takes over a whole library: the tracer's first build, then every phrase of eval/trace.jsonl
over every document (no kind, no years), common words, and phrases found nowhere (the suggestions' path).

    python scripts/bench_trace.py --index /tmp/speech-index
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from qa.check.checker import corpus_of  # noqa: E402
from qa.index.reader import IndexReader  # noqa: E402
from qa.trace.tracer import Tracer  # noqa: E402

COMMON = ["发展", "改革开放", "人民群众", "中国特色社会主义", "经济增长预期目标", "赤字率"]
NOWHERE = ["新质量生产力", "稳中求快工作总基调", "量子通信互联网+行动"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index", required=True)
    parser.add_argument("--set", default=str(Path(__file__).resolve().parents[1] / "eval" / "trace.jsonl"))
    args = parser.parse_args()
    index = IndexReader.open(Path(args.index))
    began = time.perf_counter()
    source = corpus_of(index)
    folded = time.perf_counter() - began
    tracer = Tracer(source, index.documents())
    built = time.perf_counter() - began
    phrases = [json.loads(line)["phrase"] for line in open(args.set, encoding="utf-8") if line.strip()]
    first = time.perf_counter()
    tracer.trace(phrases[0])  # the character-pair table is made on the first variant search
    first = time.perf_counter() - first
    print(f"{len(tracer.documents)} dated documents, {len(source.passages)} passages, "
          f"{len(source.corpus):,} folded characters")
    print(f"folding the library {folded:.2f} s; tracer ready {built:.2f} s; first trace {first:.2f} s")
    for name, group in (("eval phrases, every document", phrases), ("common words", COMMON), ("found nowhere", NOWHERE)):
        times, rows = [], []
        for phrase in group:
            t0 = time.perf_counter()
            trace = tracer.trace(phrase)
            times.append(time.perf_counter() - t0)
            rows.append(len(trace.rows))
        print(f"{name}: {len(group)} traces, median {statistics.median(times) * 1000:.0f} ms, "
              f"max {max(times) * 1000:.0f} ms ({group[times.index(max(times))]}, {rows[times.index(max(times))]} rows)")
    print(f"peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")


if __name__ == "__main__":
    main()
