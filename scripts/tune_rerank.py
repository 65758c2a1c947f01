"""Replay the reranker on question sets: the first stage's candidates and the reranker's scores are computed once per
question, then every (candidates read, weight) pair is scored offline (R@1, R@3, MRR@10 over passages).

    .venv/bin/python scripts/tune_rerank.py --index /tmp/speech-index eval/speech_dev.jsonl [more.jsonl] \\
        [--candidates 10,20,30] [--weights 0.5,0.7,1.0]

Tune on dev sets only; the figures that count come from `qa eval` with the chosen defaults."""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from qa.answer import Assistant
from qa.evaluate import answers, load_questions
from qa.search.rerank import blend, passage_text
from qa.search.when import as_of_year
from qa.settings import Settings


def replay(index_dir: Path, questions, most: int, trained: Path | None = None):
    """Per question: relevance of each first-stage candidate (best first) and the reranker's score of each."""
    from qa.search.cross_encoder import TRAINED_DIR, TrainedReranker

    assistant, _ = Assistant.open(Settings(index_dir=index_dir), update=False)
    reranker = TrainedReranker(folder=trained or TRAINED_DIR)  # the shipped adapter, or e.g. a trial run's
    rows, spent = [], []
    with assistant.serving() as (index, retriever):
        for q in questions:
            found = retriever.search(q.question, most, as_of=as_of_year(q.as_of), rerank=False)
            passages = index.passages([c.row for c in found])
            t = time.perf_counter()
            scores = reranker.score(q.question, [passage_text(p.title, p.date, p.section_path, p.text)
                                                           for p in passages])
            spent.append(time.perf_counter() - t)
            rows.append(([answers(p, q) for p in passages], [c.score for c in found], scores))
    assistant.close()
    return rows, spent


def figures(rows, n: int, weight: float) -> tuple[float, float, float]:
    r1 = r3 = mrr = 0.0
    for relevant, first, scores in rows:
        order = blend(first[:n], scores[:n], weight) + list(range(n, len(first))) if n else list(range(len(first)))
        ranks = [i for i, j in enumerate(order) if relevant[j]]
        if ranks:
            r1 += ranks[0] < 1
            r3 += ranks[0] < 3
            mrr += 1 / (ranks[0] + 1) if ranks[0] < 10 else 0
    return r1 / len(rows), r3 / len(rows), mrr / len(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("questions", nargs="+", type=Path)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--candidates", default="0,10,15,20,30")
    ap.add_argument("--weights", default="0.3,0.5,0.6,0.7,0.8,1.0")
    ap.add_argument("--trained", type=Path, help="the folder of another adapter (default: the shipped one)")
    args = ap.parse_args()
    sizes = [int(x) for x in args.candidates.split(",")]
    weights = [float(x) for x in args.weights.split(",")]
    for path in args.questions:
        rows, spent = replay(args.index, load_questions(path), max(max(sizes), 10), args.trained)
        print(f"{path.name}: {len(rows)} questions; reranker {1000 * float(np.median(spent)):.0f} ms median "
              f"for {max(max(sizes), 10)} candidates")
        for n in sizes:
            for w in weights if n else [0.0]:
                r1, r3, mrr = figures(rows, n, w)
                print(f"  candidates {n:3d} weight {w:.2f}: R@1 {r1:.4f} R@3 {r3:.4f} MRR@10 {mrr:.4f}")


if __name__ == "__main__":
    main()
