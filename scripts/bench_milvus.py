#!/usr/bin/env python
"""Scale on Milvus Lite: the synthetic libraries of bench_scale.py (10k–1M passages) written to a Milvus collection
through the product's Milvus writer, then served by the product's MilvusReader and Assistant.

Figures: insert rate (windows/s, entities with vector, sparse BM25 vector and passage record), question p50/p95
in process (the question's embedding included), and memory (Milvus Lite runs inside this process, so the resident
size is the whole of it). Embedding is left out, as in bench_scale.py.

    .venv/bin/python scripts/bench_milvus.py --sizes 100000 1000000 --work /tmp/qa-milvus
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_scale  # noqa: E402

CHUNK = 50_000  # passages prepared and inserted at a time


def prepared(base, vectors_by_hash, first: int, last: int, rng):
    """Passages first..last of the synthetic library as the indexer prepares them (indexer.Prepared)."""
    from qa.index.prepare import Prepared, keyword_text, text_hash
    from qa.search.bm25 import Postings
    from qa.search.tokens import keyword_tokens, simplified, tokenize
    from qa.settings import ChunkSettings

    passages, texts, hashes, vectors, docs = [], [], [], [], {}
    for i in range(first, last):
        original, occasion = base[i % len(base)]
        v = i // len(base)
        doc = f"doc{i // 100:07d}"
        p = bench_scale.variation(original, v, doc, f"p{i:09d}")
        p = replace(p, terms=tuple(tuple(tokenize(p.sentence_text(j))) for j in range(len(p.sentences))))
        passages.append((p, f"library/{doc}.txt"))
        docs.setdefault(doc, (doc, f"library/{doc}.txt", "合成文档", None, "0" * 64, 0, "[]", None, None))
        texts.append(keyword_text(p, ChunkSettings(), occasion))
        own = [vectors_by_hash[text_hash(simplified(original.text[w.start : w.end]))] for w in original.windows]
        for j, w in enumerate(p.windows):
            hashes.append(text_hash(simplified(p.text[w.start : w.end])))
            vector = own[min(j, len(own) - 1)]
            vectors.append(vector + rng.normal(0, 0.012, vector.shape).astype(np.float32) * (v > 0))
    vectors = np.vstack(vectors)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    postings = Postings.build([keyword_tokens(t) for t in texts])
    return Prepared(list(docs.values()), passages, hashes, vectors, postings, 0)


def build(work: Path, size: int, base, vectors_by_hash) -> dict:
    """A full build of `size` passages on Milvus Lite, inserted CHUNK passages at a time, then published."""
    from qa.index import milvus_writer as mw
    from qa.index.indexer import make_manifest
    from qa.index.milvus_client import SCHEMA, connect, create_collection, resolve_uri
    from qa.index.milvus_tables import Tables
    from qa.index.plan import Plan
    from qa.ingest.chunk import CHUNKER_VERSION
    from qa.settings import Settings, StoreSettings

    index = work / f"milvus-{size}"
    shutil.rmtree(index, ignore_errors=True)
    settings = Settings(data_dir=index, index_dir=index, store=StoreSettings(backend="milvus"))
    conn = connect(settings.store, resolve_uri(settings.store, index))
    library, collection = uuid.uuid4().hex[:16], f"speech_qa_bench_{size}"
    create_collection(conn, collection, 384, {"schema": SCHEMA, "model": "multilingual-e5-small", "dim": 384,
                                              "chunker": CHUNKER_VERSION, "library": library})
    tables, rng, windows, insert_s, started = Tables.empty(), np.random.default_rng(size), 0, 0.0, time.perf_counter()
    avgdl = None
    for first in range(0, size, CHUNK):
        made = prepared(base, vectors_by_hash, first, min(size, first + CHUNK), rng)
        rows_before = len(tables.live)
        mw._append_tables(tables, made)
        avgdl = avgdl or tables.avgdl  # a full build saturates with its mean length; chunk one's is as good here
        t = time.perf_counter()
        mw._insert(conn, collection, tables, made, rows_before, windows, avgdl, settings.store.milvus_batch)
        insert_s += time.perf_counter() - t
        windows += len(made.hashes)
        print(f"  {len(tables.live):,} passages, {windows:,} windows inserted ({insert_s:.0f} s inserting, "
              f"{time.perf_counter() - started:.0f} s in all, RSS {bench_scale._rss_mb():.0f} MB)", flush=True)
    t = time.perf_counter()
    conn.call("flush", collection)
    conn.call("load_collection", collection)
    load_s = time.perf_counter() - t
    backend = {"kind": "milvus", "uri": "", "collection": collection, "alias": "speech_qa", "library": library,
               "avgdl": avgdl, "rows": len(tables.live), "windows": windows}
    plan = Plan(entries={})
    manifest = replace(make_manifest(settings, _Model(), plan, (), backend),
                       counts={"documents": len(tables.documents), "passages": size, "windows": windows})
    mw.publish_build(settings, manifest, mw.Stored(backend, tables, conn))
    disk = sum(f.stat().st_size for f in (index / "milvus.db").rglob("*") if f.is_file()) / 1e6
    return {"passages": size, "windows": windows, "insert_s": insert_s, "windows_per_s": windows / insert_s,
            "build_s": time.perf_counter() - started, "flush_load_s": load_s, "disk_mb": disk,
            "rss_after_build_mb": bench_scale._rss_mb(), "index": index, "settings": settings}


class _Model:
    name, dim = "multilingual-e5-small", 384


def serve(settings, questions: list[str]) -> dict:
    """The library opened by the product's reader and asked every question twice, in process."""
    from qa.answer import Assistant
    from qa.search.embed import BundledEmbedder

    started = time.perf_counter()
    assistant, _ = Assistant.open(settings, embedder=BundledEmbedder(), update=False)
    assistant.ask("预热")
    load_s = time.perf_counter() - started
    times = []
    for question in questions * 2:
        t = time.perf_counter()
        assistant.ask(question)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"open_s": load_s, "p50_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))],
            "rss_serving_mb": bench_scale._rss_mb()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--work", default="/tmp/qa-milvus")
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    questions = [json.loads(line)["question"] for line in open(ROOT / "eval" / "speech_questions.jsonl",
                                                               encoding="utf-8")]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}", flush=True)
    base = bench_scale.base_passages()
    vectors = bench_scale.base_vectors(work, base)
    rows = []
    for size in args.sizes:
        built = build(work, size, base, vectors)
        served = serve(built.pop("settings"), questions)
        rows.append({**built, **served})
        print(f"{size}: {json.dumps({k: v for k, v in rows[-1].items() if k != 'index'}, default=str)}", flush=True)
        if not args.keep:
            shutil.rmtree(built["index"], ignore_errors=True)
    print("\n| passages | windows | insert windows/s | build s (flush+load s) | Lite folder MB | RSS after build MB | "
          "open s | question p50 / p95 ms | RSS serving MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['passages']:,} | {r['windows']:,} | {r['windows_per_s']:,.0f} | {r['build_s']:.0f} "
              f"({r['flush_load_s']:.0f}) | {r['disk_mb']:.0f} | {r['rss_after_build_mb']:.0f} | {r['open_s']:.1f} | "
              f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} | {r['rss_serving_mb']:.0f} |")


if __name__ == "__main__":
    main()
