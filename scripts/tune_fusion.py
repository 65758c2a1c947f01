"""Tune hybrid fusion on a QA dev set: dense only, BM25 only, and RRF weight pairs, through the product's
own chunker, embedder and keyword index. Dev sets only: held-out splits are for reporting, never tuning.

    .venv/bin/python scripts/tune_fusion.py ../shared/data/cmrc2018/dev --window-chars 200
    .venv/bin/python scripts/tune_fusion.py ../shared/data/drcd/dev --fold          # Traditional folded before embedding
    .venv/bin/python scripts/tune_fusion.py ../shared/data/cmrc2018/dev --title --passages 250

Vectors are cached by text in --cache with the product's own embedding cache (embedding is the slow part), so a
`qa build` index folder can be passed to reuse what it embedded.
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

from qa.index.cache import EmbeddingCache  # noqa: E402
from qa.index.prepare import text_hash  # noqa: E402
from qa.ingest.chunk import make_windows, split_sentences  # noqa: E402
from qa.search.bm25 import BM25, Postings  # noqa: E402
from qa.search.embed import load_embedder  # noqa: E402
from qa.search.fusion import reciprocal_rank_fusion  # noqa: E402
from qa.search.tokens import keyword_tokens, simplified  # noqa: E402

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
    ap.add_argument("--cache", default="/tmp/qa-tune", help="embedding cache folder (or a qa build index folder)")
    ap.add_argument("--fold", action="store_true", help="fold Traditional to Simplified before embedding")
    ap.add_argument("--title", action="store_true", help="prefix each embedded window with its passage title")
    ap.add_argument("--bm25-title", action="store_true", help="index the title with the passage text in BM25")
    ap.add_argument("--passages", type=int, default=0, help="only the first N passages and their questions")
    args = ap.parse_args()

    passages, queries = load(args.prefix)
    if args.passages:
        passages = passages[: args.passages]
        kept = {p["id"] for p in passages}
        queries = [q for q in queries if set(q["gold_passage_ids"]) <= kept]
    embedder = load_embedder(args.model)
    texts, owner = [], []
    for i, p in enumerate(passages):
        for w in make_windows(split_sentences(p["text"]), args.window_chars, args.overlap):
            text = p["text"][w.start : w.end]
            text = f"{p['title']}\n{text}" if args.title else text
            texts.append(simplified(text) if args.fold else text)
            owner.append(i)
    vectors = embed_cached(embedder, texts, Path(args.cache))

    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    postings = Postings.build(
        [keyword_tokens(f"{p['title']}\n{p['text']}" if args.bm25_title else p["text"]) for p in passages]
    )
    keyword = BM25([(postings, 0)], np.ones(len(passages), dtype=bool))
    row_of = {p["id"]: i for i, p in enumerate(passages)}
    qvec = embedder.embed_queries([simplified(q["question"]) if args.fold else q["question"] for q in queries])
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
          f"(window {args.window_chars}, overlap {args.overlap}, rrf k {args.rrf_k}, fold {args.fold}, "
          f"title {args.title}, bm25 title {args.bm25_title})")
    for weights in WEIGHTS:
        r1 = r5 = 0
        for qi, q in enumerate(queries):
            gold = {row_of[g] for g in q["gold_passage_ids"]}
            fused = [r for r, _ in reciprocal_rank_fusion([dense_lists[qi], keyword_lists[qi]], args.rrf_k, weights)]
            r1 += bool(fused) and fused[0] in gold
            r5 += bool(gold & set(fused[:5]))
        print(f"dense {weights[0]:.1f} / bm25 {weights[1]:.1f}: R@1 {r1 / len(queries):.4f}  R@5 {r5 / len(queries):.4f}")


def embed_cached(embedder, texts: list[str], folder: Path) -> np.ndarray:
    """Vectors for texts, reusing and filling the product's embedding cache in folder."""
    cache = EmbeddingCache(folder, embedder.name, embedder.dim)
    hashes = [text_hash(t) for t in texts]
    known = cache.get_many(hashes)
    missing = list(dict.fromkeys(h for h in hashes if h not in known))
    first = {h: i for i, h in reversed(list(enumerate(hashes)))}
    started = time.perf_counter()
    for start in range(0, len(missing), 32):
        batch = missing[start : start + 32]
        out = embedder.embed_passages([texts[first[h]] for h in batch])
        fresh = dict(zip(batch, out))
        cache.put_many(fresh)
        known.update(fresh)
    if missing:
        print(f"embedded {len(missing)} windows in {time.perf_counter() - started:.0f} s", flush=True)
    cache.close()
    return np.stack([known[h] for h in hashes]).astype(np.float32)


if __name__ == "__main__":
    main()
