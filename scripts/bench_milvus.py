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
import shutil
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
    """Passages first..last of the synthetic library as the indexer prepares them (prepare.Prepared)."""
    from qa.index.prepare import Prepared

    passages, hashes, vectors, postings, doc_rows = bench_scale.synthetic(base, vectors_by_hash, first, last, rng)
    return Prepared(doc_rows, passages, hashes, vectors, postings, 0)


def build(work: Path, size: int, base, vectors_by_hash, max_rss_mb: float) -> dict:
    """A full build of `size` passages on Milvus Lite, inserted CHUNK passages at a time, then published; stopped
    early (and said so) when the process outgrows max_rss_mb, as Milvus Lite keeps the whole library in memory."""
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
        term_ids = mw._append_tables(tables, made)
        avgdl = avgdl or tables.avgdl  # a full build saturates with its mean length; chunk one's is as good here
        t = time.perf_counter()
        mw._insert(conn, collection, tables, made, term_ids, rows_before, windows, avgdl, settings.store.milvus_batch)
        insert_s += time.perf_counter() - t
        windows += len(made.hashes)
        print(f"  {len(tables.live):,} passages, {windows:,} windows inserted ({insert_s:.0f} s inserting, "
              f"{time.perf_counter() - started:.0f} s in all, RSS {bench_scale._rss_mb():.0f} MB)", flush=True)
        if bench_scale._rss_mb() > max_rss_mb and len(tables.live) < size:
            print(f"  stopped at {len(tables.live):,} passages: RSS over {max_rss_mb:.0f} MB", flush=True)
            break
    t = time.perf_counter()
    conn.call("flush", collection)
    conn.call("load_collection", collection)
    load_s = time.perf_counter() - t
    backend = {"kind": "milvus", "uri": "", "collection": collection, "alias": "speech_qa", "library": library,
               "avgdl": avgdl, "rows": len(tables.live), "windows": windows}
    plan = Plan(entries={})
    manifest = replace(make_manifest(settings, _Model(), plan, (), backend),
                       counts={"documents": len(tables.documents), "passages": len(tables.live), "windows": windows})
    mw.publish_build(settings, manifest, mw.Stored(backend, tables, conn))
    disk = sum(f.stat().st_size for f in (index / "milvus.db").rglob("*") if f.is_file()) / 1e6
    return {"passages": len(tables.live), "asked": size, "windows": windows, "insert_s": insert_s, "windows_per_s": windows / insert_s,
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
    p50, p95 = bench_scale.timed(assistant, questions)
    return {"open_s": load_s, "p50_ms": p50, "p95_ms": p95, "rss_serving_mb": bench_scale._rss_mb()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--work", default="/tmp/qa-milvus")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--max-rss-gb", type=float, default=18.0, help="stop inserting above this (default 18)")
    args = ap.parse_args()
    if len(args.sizes) > 1:  # each size in a process of its own: Milvus Lite keeps a library in memory until exit
        import subprocess

        for size in args.sizes:
            subprocess.run([sys.executable, __file__, "--sizes", str(size), "--work", args.work,
                            "--max-rss-gb", str(args.max_rss_gb), *(["--keep"] if args.keep else [])], check=True)
        return
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    questions, base, vectors = bench_scale.setup(work)
    built = build(work, args.sizes[0], base, vectors, args.max_rss_gb * 1024)
    r = {**built, **serve(built.pop("settings"), questions)}
    print(json.dumps({k: v for k, v in r.items() if k != "index"}, default=str), flush=True)
    if not args.keep:
        shutil.rmtree(built["index"], ignore_errors=True)
    print("\n| passages | windows | insert windows/s | build s (flush+load s) | Lite folder MB | RSS after build MB | "
          "open s | question p50 / p95 ms | RSS serving MB |\n|---|---|---|---|---|---|---|---|---|")
    print(f"| {r['passages']:,} | {r['windows']:,} | {r['windows_per_s']:,.0f} | {r['build_s']:.0f} "
          f"({r['flush_load_s']:.0f}) | {r['disk_mb']:.0f} | {r['rss_after_build_mb']:.0f} | {r['open_s']:.1f} | "
          f"{r['p50_ms']:.1f} / {r['p95_ms']:.1f} | {r['rss_serving_mb']:.0f} |")


if __name__ == "__main__":
    main()
