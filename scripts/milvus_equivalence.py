#!/usr/bin/env python
"""Do the local and Milvus backends answer alike? The top-10 passages and their scores, question by question.

    scripts/milvus_equivalence.py eval/speech_dev.jsonl eval/speech_test.jsonl \
        --local /tmp/speech-index --milvus /tmp/speech-milvus

Both indexes must be built from the same data with the same model (qa build … [--backend milvus]). For every
question: the same passages in the same order, and fused, dense and BM25 scores within --tolerance.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from qa.index.reader import IndexReader  # noqa: E402
from qa.search.embed import embedder_for  # noqa: E402
from qa.search.retrieve import Retriever  # noqa: E402
from qa.settings import Settings, from_environment  # noqa: E402


def compare(questions, local, milvus, embedder, settings: Settings, k: int, tolerance: float) -> dict:
    sides = [Retriever(index, embedder, settings.retrieve) for index in (local, milvus)]
    worst, differing, times = 0.0, [], {"local": [], "milvus": []}
    for q in questions:
        found = []
        for name, retriever in zip(("local", "milvus"), sides):
            started = time.perf_counter()
            hits = retriever.search(q, k=k)
            times[name].append(time.perf_counter() - started)
            ids = [p.passage_id for p in retriever.index.passages([h.row for h in hits])]
            found.append([(pid, h.score, h.dense_score, h.keyword_share) for pid, h in zip(ids, hits)])
        a, b = found
        same = [x[0] for x in a] == [y[0] for y in b]
        gap = max((abs((u or 0) - (v or 0)) for x, y in zip(a, b) for u, v in zip(x[1:], y[1:])), default=0.0)
        worst = max(worst, gap)
        if not same or gap > tolerance:
            differing.append({"question": q, "local": [x[0][:12] for x in a], "milvus": [y[0][:12] for y in b],
                              "gap": gap})
    ms = {name: sorted(t)[len(t) // 2] * 1000 for name, t in times.items() if t}
    return {"questions": len(questions), "differing": len(differing), "max_score_gap": worst,
            "p50_ms": ms, "examples": differing[:5]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", nargs="+")
    parser.add_argument("--local", required=True)
    parser.add_argument("--milvus", required=True)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--tolerance", type=float, default=1e-4)
    args = parser.parse_args()
    settings = from_environment()
    local = IndexReader.open(Path(args.local))
    milvus = IndexReader.open(Path(args.milvus), settings.store)
    if local.manifest.backend_kind != "local" or milvus.manifest.backend_kind != "milvus":
        parser.error("--local must be a local index and --milvus a Milvus one")
    embedder = embedder_for(settings.with_overrides(embed={"model": local.manifest.embedder}))
    report = {}
    for path in args.questions:
        questions = [json.loads(line)["question"] for line in open(path, encoding="utf-8") if line.strip()]
        report[Path(path).name] = compare(questions, local, milvus, embedder, settings, args.k, args.tolerance)
    print(json.dumps(report, ensure_ascii=False, indent=1))
    return 0 if all(r["differing"] == 0 for r in report.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
