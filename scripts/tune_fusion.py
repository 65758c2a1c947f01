"""Tune hybrid fusion on a QA dev set: dense only, BM25 only, and RRF weight pairs, through the product's
own chunker, embedder and keyword index. Dev sets only: held-out splits are for reporting, never tuning.

    .venv/bin/python scripts/tune_fusion.py ../shared/data/cmrc2018/dev --window-chars 200

Vectors are cached beside the passages file's name in --cache (embedding is the slow part).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from qa.chunk import make_windows, split_sentences  # noqa: E402
from qa.embed import load_embedder  # noqa: E402
from qa.fusion import reciprocal_rank_fusion  # noqa: E402
from qa.keyword import KeywordIndex, keyword_tokens  # noqa: E402

WEIGHTS = [(1, 0), (0, 1), (1, 1), (0.8, 1), (0.6, 1), (1, 0.8)]


def load(prefix: str):
    passages = [json.loads(line) for line in open(f"{prefix}_passages.jsonl", encoding="utf-8")]
    queries = [json.loads(line) for line in open(f"{prefix}_queries.jsonl", encoding="utf-8")]
    return passages, queries


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prefix", help="e.g. ../shared/data/cmrc2018/dev (reads _passages.jsonl, _queries.jsonl)")
    ap.add_argument("--window-chars", type=int, default=360)
    ap.add_argument("--overlap", type=int, default=1)
    ap.add_argument("--rrf-k", type=int, default=60)
    ap.add_argument("--candidates", type=int, default=50)
    ap.add_argument("--model", default=None)
    ap.add_argument("--cache", default="/tmp/qa-tune")
    args = ap.parse_args()

    passages, queries = load(args.prefix)
    embedder = load_embedder(args.model)
    texts, owner = [], []
    for i, p in enumerate(passages):
        for w in make_windows(split_sentences(p["text"]), args.window_chars, args.overlap):
            texts.append(p["text"][w.start : w.end])
            owner.append(i)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    tag = f"{Path(args.prefix).parent.name}-{Path(args.prefix).name}-{embedder.name.replace('/', '_')}-{args.window_chars}-{args.overlap}"
    vec_path = cache / f"{tag}.npy"
    if vec_path.exists():
        vectors = np.load(vec_path, allow_pickle=False)
    else:
        started = time.perf_counter()
        vectors = np.concatenate([embedder.embed_passages(texts[i : i + 32]) for i in range(0, len(texts), 32)])
        print(f"embedded {len(texts)} windows in {time.perf_counter() - started:.0f} s", flush=True)
        np.save(vec_path, vectors, allow_pickle=False)

    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    keyword = KeywordIndex.build([keyword_tokens(p["text"]) for p in passages])
    row_of = {p["id"]: i for i, p in enumerate(passages)}
    qvec = embedder.embed_queries([q["question"] for q in queries])
    _, found = index.search(qvec, args.candidates * 3)

    dense_lists, keyword_lists = [], []
    for qi, q in enumerate(queries):
        rows: list[int] = []
        for w in found[qi]:
            if w >= 0 and owner[w] not in rows:
                rows.append(owner[w])
        dense_lists.append(rows[: args.candidates])
        keyword_lists.append([r for r, _ in keyword.search(keyword_tokens(q["question"]), args.candidates)])

    print(f"{len(queries)} questions, {len(passages)} passages, {len(texts)} windows "
          f"(window {args.window_chars}, overlap {args.overlap}, rrf k {args.rrf_k})")
    for weights in WEIGHTS:
        r1 = r5 = 0
        for qi, q in enumerate(queries):
            gold = {row_of[g] for g in q["gold_passage_ids"]}
            fused = [r for r, _ in reciprocal_rank_fusion([dense_lists[qi], keyword_lists[qi]], args.rrf_k, weights)]
            r1 += bool(fused) and fused[0] in gold
            r5 += bool(gold & set(fused[:5]))
        print(f"dense {weights[0]:.1f} / bm25 {weights[1]:.1f}: R@1 {r1 / len(queries):.4f}  R@5 {r5 / len(queries):.4f}")


if __name__ == "__main__":
    main()
