"""Scale: synthetic libraries of 10k, 100k and 1M passages made from the shared speeches; build and question figures.

Passages are real paragraphs of the shared speeches repeated with variations: copy v of a paragraph has its
sentences rotated by v and every number raised by v, so BM25 sees new tokens; each of its window vectors is the
paragraph's real vector (embedded once by the product's engine and cached) plus noise (cosine about 0.97 to the
original). Copies are near duplicates in both spaces, harder for search than real text, so recall figures are
conservative. Embedding is left out of build times: it is the engine's windows/s (bench_engines.py) times the
windows. Libraries are written through the product's own segment writer and merge, 100k passages at a time, then
served by the product's IndexReader and Assistant; the questions are eval/speech_questions.jsonl.

    .venv/bin/python scripts/bench_scale.py --sizes 10000 100000 1000000 --work /tmp/qa-scale
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
CHUNK = 100_000  # passages per segment written; larger libraries are then merged into one, as the product does
_NUMBER = re.compile(r"\d+")


def base_passages():
    """Every paragraph of the shared speeches (or the seed) as the product chunks it: (passage, occasion)."""
    from qa.ingest.chunk import make_passages
    from qa.ingest.read import read_source
    from qa.settings import ChunkSettings
    from qa.ingest.structure import parse_source

    files = sorted((SHARED / "speeches").glob("*/*.txt")) or sorted((ROOT / "data").glob("*.txt"))
    out = []
    for path in files:
        for doc in parse_source(path.name, read_source(path)):
            out += [(p, doc.occasion) for p in make_passages(doc, ChunkSettings())]
    return out


def base_vectors(work: Path, passages) -> dict[str, np.ndarray]:
    """Window vectors of the base paragraphs by text hash, from the product's embedding cache (embedded once)."""
    from qa.index.cache import EmbeddingCache
    from qa.search.embed import BundledEmbedder
    from qa.index.prepare import embed_missing, text_hash
    from qa.app.messages import message
    from qa.search.tokens import simplified

    texts = sorted({simplified(p.text[w.start : w.end]) for p, _ in passages for w in p.windows})
    hashes = [text_hash(t) for t in texts]
    embedder = BundledEmbedder(notify=lambda code, **d: print(message(code, **d)))
    cache = EmbeddingCache(work / "cache", embedder.name, embedder.dim)
    try:
        started = time.perf_counter()
        vectors, embedded = embed_missing(embedder, texts, hashes, cache, 16, None)
        if embedded:
            print(f"embedded {embedded} base windows in {time.perf_counter() - started:.0f} s")
    finally:
        cache.close()
    return dict(zip(hashes, vectors))


def variation(passage, v: int, doc_id: str, passage_id: str):
    """Copy v of a passage: sentences rotated by v, numbers raised by v; offsets recomputed."""
    from qa.ingest.chunk import make_windows, split_sentences

    sentences = [passage.sentence_text(i) for i in range(len(passage.sentences))]
    if v and sentences:
        k = v % len(sentences)
        sentences = sentences[k:] + sentences[:k]
        sentences = [_NUMBER.sub(lambda m: str(int(m.group()) + v), s) for s in sentences]
    text = "".join(sentences) if sentences else passage.text
    spans = split_sentences(text)
    return replace(passage, passage_id=passage_id, doc_id=doc_id, text=text, sentences=spans,
                   windows=make_windows(spans, 200, 1), terms=())


def synthetic(base, vectors_by_hash, first: int, last: int, rng):
    """Passages first..last of a synthetic library with their words, window hashes and vectors, BM25 postings and
    document rows: (passages, hashes, vectors, postings, doc_rows)."""
    from qa.index.prepare import keyword_text, text_hash
    from qa.search.bm25 import Postings
    from qa.search.tokens import keyword_tokens, simplified, tokenize
    from qa.settings import ChunkSettings

    passages, rows, hashes, vectors = [], [], [], []
    for i in range(first, last):
        original, occasion = base[i % len(base)]
        v = i // len(base)
        doc = f"doc{i // 100:07d}"
        p = variation(original, v, doc, f"p{i:09d}")
        p = replace(p, terms=tuple(tuple(tokenize(p.sentence_text(j))) for j in range(len(p.sentences))))
        passages.append((p, f"library/{doc}.txt"))
        rows.append(keyword_text(p, ChunkSettings(), occasion))
        own = [vectors_by_hash[text_hash(simplified(original.text[w.start : w.end]))] for w in original.windows]
        for j, w in enumerate(p.windows):
            hashes.append(text_hash(simplified(p.text[w.start : w.end])))
            # the original's window at the same place, perturbed: a near duplicate in the dense space
            vector = own[min(j, len(own) - 1)]
            vectors.append(vector + rng.normal(0, 0.012, vector.shape).astype(np.float32) * (v > 0))
    postings = Postings.build([keyword_tokens(t) for t in rows])
    vectors = np.vstack(vectors)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    docs = sorted({(p.doc_id, source) for p, source in passages})
    doc_rows = [(d, s, "合成文档", None, "0" * 64, 100, "[]", None, None) for d, s in docs]
    return passages, hashes, vectors, postings, doc_rows


def build(work: Path, size: int, base, vectors_by_hash, rng) -> dict:
    """Write a library of `size` passages through the product's segment writer; returns figures."""
    from qa.index.manifest import SCHEMA_VERSION, Manifest
    from qa.index.segment import merge_segments, write_segment
    from qa.index.segment_reader import SegmentReader
    from qa.index.store import publish
    from qa.ingest.chunk import CHUNKER_VERSION

    index = work / f"index-{size}"
    shutil.rmtree(index, ignore_errors=True)
    names, started, windows = [], time.perf_counter(), 0
    for first in range(0, size, CHUNK):
        passages, hashes, vectors, postings, doc_rows = synthetic(base, vectors_by_hash, first,
                                                                  min(size, first + CHUNK), rng)
        names.append(write_segment(index, doc_rows, passages, hashes, vectors, postings, 384))
        windows += len(vectors)
        print(f"  segment of {len(passages)} passages written ({time.perf_counter() - started:.0f} s so far)",
              flush=True)
    merged_s = 0.0
    if len(names) > 1:
        t = time.perf_counter()
        readers = [(SegmentReader(index / "segments" / n), []) for n in names]
        names = [merge_segments(index, readers)]
        for reader, _ in readers:
            reader.close()
        merged_s = time.perf_counter() - t
    build_s = time.perf_counter() - started
    manifest = Manifest(SCHEMA_VERSION, "multilingual-e5-small", 384, CHUNKER_VERSION, {"chunk": {}}, {},
                        segments=tuple({"name": n, "deleted": []} for n in names))
    publish(index, manifest)
    for n in os.listdir(index / "segments"):
        if n not in names:
            shutil.rmtree(index / "segments" / n, ignore_errors=True)
    disk = sum(f.stat().st_size for f in (index / "segments").rglob("*") if f.is_file()) / 1e6
    kind = json.loads((index / "segments" / names[0] / "meta.json").read_text())["vector_index"]
    return {"passages": size, "windows": windows, "build_s": build_s, "merge_s": merged_s, "disk_mb": disk,
            "kind": kind, "index": index}


def serve(index: Path, questions: list[str]) -> dict:
    """Load the library with the product's reader and answer the questions in process; latency and recall."""
    import faiss

    from qa.answer import Assistant
    from qa.search.embed import BundledEmbedder
    from qa.settings import Settings

    rss_before = _rss_mb()
    started = time.perf_counter()
    embedder = BundledEmbedder()
    assistant, _ = Assistant.open(Settings(data_dir=index, index_dir=index), embedder=embedder, update=False)
    assistant.ask("预热")
    load_s = time.perf_counter() - started
    p50, p95 = timed(assistant, questions)
    rss = _rss_mb() - rss_before
    # dense recall@10 of the served index against an exact search of the same vectors
    segment = assistant.index.segments[0]
    recall = None
    if not isinstance(segment.vectors, faiss.IndexScalarQuantizer):
        exact = faiss.IndexFlatIP(384)
        exact.add(segment.vectors.reconstruct_n(0, segment.vectors.ntotal))
        queries = embedder.embed_queries(questions)
        _, want = exact.search(queries, 10)
        _, got = segment.vectors.search(queries, 10)
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(want, got)]))
    return {"load_s": load_s, "p50_ms": p50, "p95_ms": p95, "rss_mb": rss, "recall": recall}


def timed(assistant, questions: list[str]) -> tuple[float, float]:
    """p50 and p95 in ms of whole Assistant.ask, every question asked twice."""
    times = []
    for question in questions * 2:
        t = time.perf_counter()
        assistant.ask(question)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def setup(work: Path):
    """The machine said, and what every library is made of: (questions, base paragraphs, their window vectors)."""
    questions = [json.loads(line)["question"] for line in open(ROOT / "eval" / "speech_questions.jsonl",
                                                               encoding="utf-8")]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}", flush=True)
    base = base_passages()
    vectors = base_vectors(work, base)
    print(f"base: {len(base)} paragraphs, {len(vectors)} distinct windows", flush=True)
    return questions, base, vectors


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--work", default="/tmp/qa-scale")
    ap.add_argument("--keep", action="store_true", help="keep the libraries (they take GBs)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    questions, base, vectors = setup(work)
    rows = []
    for size in args.sizes:
        built = build(work, size, base, vectors, np.random.default_rng(size))
        served = serve(built["index"], questions)
        rows.append({**built, **served})
        r = rows[-1]
        print(f"{size}: {json.dumps({k: v for k, v in r.items() if k != 'index'}, default=str)}", flush=True)
        if not args.keep:
            shutil.rmtree(built["index"], ignore_errors=True)
    print("\n| passages | windows | vector index | build s (merge s), embedding excluded | on disk MB | "
          "load s | added RSS MB | question p50 / p95 ms | dense recall@10 vs exact |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        recall = f"{r['recall']:.3f}" if r["recall"] is not None else "exact"
        print(f"| {r['passages']:,} | {r['windows']:,} | {r['kind']} | {r['build_s']:.0f} ({r['merge_s']:.0f}) | "
              f"{r['disk_mb']:.0f} | {r['load_s']:.2f} | {r['rss_mb']:.0f} | {r['p50_ms']:.1f} / {r['p95_ms']:.1f} | "
              f"{recall} |")


if __name__ == "__main__":
    main()
