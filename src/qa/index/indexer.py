"""Build or update the index from the data folder: only changed documents are parsed, tokenised and embedded.

A first build (or --force, another model, other chunk settings) writes one segment with every document. After
that, each update writes one segment with the added or changed documents and marks the documents of changed
or removed files as deleted; when segments pile up, the small ones are merged (copying vectors and postings,
never embedding or tokenising again).
"""
from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from qa.errors import IndexIncompatible, IndexMissing
from qa.index.cache import EmbeddingCache
from qa.index.manifest import SCHEMA_VERSION, Manifest, compare
from qa.index.plan import Plan, full_plan, incremental_plan
from qa.index.reader import IndexReader
from qa.index.segment import document_row, merge_segments, write_segment
from qa.index.segment_reader import SegmentReader
from qa.index.store import current_build, publish, writing
from qa.ingest.chunk import CHUNKER_VERSION, lead_ins, make_passages
from qa.ingest.read import scan
from qa.records import BuildReport, Passage, Staleness
from qa.search.bm25 import Postings
from qa.search.embed import Embedder
from qa.search.embed import prepare as prepare_model
from qa.search.tokens import keyword_tokens, simplified, tokenize, tokenizer_name
from qa.settings import DEFAULT_DATA_DIR, DEFAULT_MODEL, ChunkSettings, Settings

Progress = Callable[[int, int], None]  # (windows embedded so far, windows to embed)
MAX_SEGMENTS = 8  # more than this and the small segments are merged into one
MAX_DEAD = 0.3  # a segment with more than this share of deleted passages is rewritten without them


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def keyword_text(passage: Passage, chunk: ChunkSettings, occasion: str | None = None, lead: str | None = None) -> str:
    """What BM25 indexes for a passage: its text, and with keyword_context its title, occasion, section path and
    the lead-in paragraph that introduces it."""
    if not chunk.keyword_context:
        return passage.text
    context = [passage.title, *([occasion] if occasion else []), *passage.section_path, *([lead] if lead else [])]
    return "\n".join([*context, passage.text])


def resolve(settings: Settings) -> Settings:
    """Fill what was left open: the model and data source of the existing index, else the defaults."""
    manifest = None
    folder = current_build(settings.index_dir)
    if folder is not None:
        try:
            manifest = Manifest.read(folder / "manifest.json")
        except IndexIncompatible:
            pass
    model = settings.embed.model or (manifest.embedder if manifest else DEFAULT_MODEL)
    data = settings.data_dir or (Path(manifest.data_source) if manifest and manifest.data_source else DEFAULT_DATA_DIR)
    backend = settings.store.backend or (manifest.backend_kind if manifest else "local")
    return replace(settings, data_dir=Path(data), embed=replace(settings.embed, model=model),
                   store=replace(settings.store, backend=backend))


def staleness(settings: Settings, model: str) -> Staleness | None:
    """How data/ differs from the serving index; None when there is no usable index."""
    folder = current_build(settings.index_dir)
    if folder is None:
        return None
    try:
        manifest = Manifest.read(folder / "manifest.json")
    except IndexIncompatible:
        return None
    files = {f.name: f.sha256 for f in scan(settings.data_dir)}
    return compare(manifest, files, model, CHUNKER_VERSION, settings.index_shape())


def sync(settings: Settings, embedder: Embedder, force: bool = False, progress: Progress | None = None,
         notify: Callable[..., None] | None = None) -> BuildReport:
    """Bring the index in line with the data folder; a no-op when nothing changed (unless force).

    Holds the index's write lock throughout, so two writers never interleave."""
    with writing(settings.index_dir, notify, timeout=settings.limits.lock_wait_s):
        return _sync(settings, embedder, force, progress)


def _sync(settings: Settings, embedder: Embedder, force: bool, progress: Progress | None) -> BuildReport:
    """Compare, plan, write and publish; the previous build's reader and the cache are closed on every path."""
    started = time.perf_counter()
    files = scan(settings.data_dir)
    with ExitStack() as closing:
        old, replaced = _open_previous(settings)
        if old is not None:
            closing.callback(old.close)
        stale = None if old is None else compare(old.manifest, {f.name: f.sha256 for f in files}, embedder.name,
                                                   CHUNKER_VERSION, settings.index_shape())
        moved = old is not None and old.manifest.backend_kind != (settings.store.backend or "local")
        if old is not None and not stale.is_stale and not force and not moved:
            return _unchanged(old.manifest, stale)
        full = old is None or force or bool(stale.model_changed) or stale.shape_changed or moved
        plan = full_plan(files, old) if full else incremental_plan(files, old, stale)
        cache = EmbeddingCache(settings.index_dir, embedder.name, embedder.dim)
        closing.callback(cache.close)
        if settings.store.backend == "milvus":
            from qa.index import milvus_writer

            try:
                made = prepare(settings, embedder, cache, plan, progress)
                manifest = milvus_writer.write(settings, embedder, made, plan, old, full)
            except milvus_writer.NeedsFullBuild:  # the cache has every vector: nothing is embedded again
                full, plan = True, full_plan(files, old)
                made = prepare(settings, embedder, cache, plan, progress)
                manifest = milvus_writer.write(settings, embedder, made, plan, old, full)
            embedded, windows, merged = (made.embedded if made else 0), (len(made.hashes) if made else 0), 0
            used = set(made.hashes) if made else set()
        else:
            manifest, embedded, windows, merged = _write(settings, embedder, cache, plan, old if not full else None,
                                                         progress)
            used = _used_hashes(settings.index_dir, manifest) if full else set()
        if full:  # forget vectors of texts no build uses any more (updates keep them: a removal can be undone)
            cache.prune(used)
    counts = manifest.counts
    return BuildReport(
        built=True, staleness=stale, documents=counts["documents"], passages=counts["passages"],
        windows=counts["windows"], embedded=embedded, reused=windows - embedded,
        rejected=tuple((n, {k: v for k, v in r.items() if k != "sha256"}) for n, r in plan.rejected.items()),
        kept_previous=tuple(plan.kept_previous), duplicates=tuple(plan.duplicates), replaced_index=replaced,
        seconds=time.perf_counter() - started, full=full, merged=merged,
    )


def _unchanged(manifest: Manifest, stale: Staleness) -> BuildReport:
    counts = manifest.counts
    return BuildReport(built=False, staleness=stale, documents=counts.get("documents", 0),
                       passages=counts.get("passages", 0), windows=counts.get("windows", 0), full=False)


def _write(settings: Settings, embedder: Embedder, cache: EmbeddingCache, plan: Plan, old: IndexReader | None,
           progress: Progress | None) -> tuple[Manifest, int, int, int]:
    """The plan's new segment, the segment list (old segments with their newly deleted documents, unless this is a
    full build), compaction, and the new build published. Returns (manifest, embedded, windows, merged)."""
    name, embedded, windows = _new_segment(settings, embedder, cache, plan, progress)
    for entry in plan.entries.values():
        for doc in entry.get("documents", []):
            doc.setdefault("segment", name)
    segments = [] if old is None else [
        {"name": e["name"], "deleted": sorted(set(e["deleted"]) | plan.deleted.get(e["name"], set()))}
        for e in old.manifest.segments
    ]
    if name:
        segments.append({"name": name, "deleted": []})
    segments, merged = _compact(settings, segments, plan.entries)
    manifest = make_manifest(settings, embedder, plan, segments)
    publish(settings.index_dir, manifest)
    return manifest, embedded, windows, merged


@dataclass
class Prepared:
    """A plan's new documents made ready to store: passages with their words, window vectors, BM25 postings."""

    documents: list[tuple]  # segment.document_row()s
    passages: list[tuple[Passage, str]]  # (passage with its sentences' words, source)
    hashes: list[str]  # text hash of every window, passage by passage
    vectors: np.ndarray  # one per window
    postings: Postings  # one row per passage
    embedded: int  # windows embedded now (the rest came from the cache)


def prepare(settings: Settings, embedder: Embedder, cache: EmbeddingCache, plan: Plan,
            progress: Progress | None) -> Prepared | None:
    """Chunk, embed (what the cache lacks) and tokenise the plan's new documents; None when there are none."""
    if not plan.new_docs:
        return None
    passages: list[tuple[Passage, str]] = []
    leads: list[str | None] = []
    windows: dict[str, int] = {}
    for doc, _ in plan.new_docs:
        made = make_passages(doc, settings.chunk)
        windows[doc.doc_id] = sum(len(p.windows) for p in made)
        passages.extend((p, doc.source) for p in made)
        leads.extend(lead_ins(made))
    # Traditional text is folded to Simplified for the model, as questions are (measured on DRCD dev)
    texts = [simplified(p.text[w.start : w.end]) for p, _ in passages for w in p.windows]
    hashes = [text_hash(t) for t in texts]
    occasions = {doc.doc_id: doc.occasion for doc, _ in plan.new_docs}
    if not cache.has_all(hashes):
        prepare_model(embedder)  # loading holds the GIL: done before tokenising starts beside the embedding
    # tokenising (Python) runs while the engine embeds (native code, without the GIL)
    with ThreadPoolExecutor(max_workers=1) as pool:
        tokenised = pool.submit(_tokenise, passages, leads, settings.chunk, occasions)
        vectors, embedded = _embed_missing(embedder, texts, hashes, cache, settings.embed.batch_size, progress)
        passages, postings = tokenised.result()
    for entry in plan.entries.values():
        for doc in entry.get("documents", []):
            if doc["doc_id"] in windows and "segment" not in doc:
                doc["windows"] = windows[doc["doc_id"]]
    return Prepared([document_row(d, sha) for d, sha in plan.new_docs], passages, hashes, vectors, postings, embedded)


def _new_segment(settings: Settings, embedder: Embedder, cache: EmbeddingCache, plan: Plan,
                 progress: Progress | None) -> tuple[str | None, int, int]:
    """The plan's new documents as a segment of our own files: (its name, windows embedded, windows)."""
    made = prepare(settings, embedder, cache, plan, progress)
    if made is None:
        return None, 0, 0
    name = write_segment(settings.index_dir, made.documents, made.passages, made.hashes, made.vectors, made.postings,
                         embedder.dim)
    return name, made.embedded, len(made.hashes)


def _tokenise(passages, leads, chunk: ChunkSettings, occasions: dict) -> tuple[list[tuple[Passage, str]], Postings]:
    """Each sentence's words (stored, so choosing a quote never tokenises at question time) and BM25 postings."""
    with_terms = [(replace(p, terms=tuple(tuple(tokenize(p.sentence_text(i))) for i in range(len(p.sentences)))), source)
                  for p, source in passages]
    postings = Postings.build([keyword_tokens(keyword_text(p, chunk, occasions.get(p.doc_id), lead))
                               for (p, _), lead in zip(passages, leads)])
    return with_terms, postings


def _compact(settings: Settings, segments: list[dict], entries: dict) -> tuple[list[dict], int]:
    """Merge segments when there are too many, or rewrite those mostly deleted; returns (segments, merged)."""
    if not segments:
        return segments, 0
    folder = Path(settings.index_dir) / "segments"
    size = {s["name"]: json.loads((folder / s["name"] / "meta.json").read_text(encoding="utf-8"))["passages"]
            for s in segments}
    live = dict.fromkeys(size, 0)
    for entry in entries.values():
        for doc in entry.get("documents", []):
            live[doc["segment"]] = live.get(doc["segment"], 0) + doc["passages"]
    dead = {name: 1 - live[name] / size[name] if size[name] else 0.0 for name in size}
    largest = max(segments, key=lambda s: live[s["name"]])["name"]
    if len(segments) > MAX_SEGMENTS:
        chosen = [s for s in segments if s["name"] != largest or dead[largest] > MAX_DEAD]
    else:
        chosen = [s for s in segments if dead[s["name"]] > MAX_DEAD]
    if not chosen:
        return segments, 0
    readers = [(SegmentReader(folder / s["name"]), s["deleted"]) for s in chosen]
    try:
        name = merge_segments(settings.index_dir, readers)
    finally:
        for reader, _ in readers:
            reader.close()
    moved = {s["name"] for s in chosen}
    if name is None:  # nothing left alive in them: drop them
        return [s for s in segments if s["name"] not in moved], len(chosen)
    for entry in entries.values():
        for doc in entry.get("documents", []):
            if doc.get("segment") in moved:
                doc["segment"] = name
    kept = [s for s in segments if s["name"] not in moved]
    return kept + [{"name": name, "deleted": []}], len(chosen)


def make_manifest(settings: Settings, embedder: Embedder, plan: Plan, segments, backend: dict | None = None) -> Manifest:
    """The manifest of a build: its files, documents, counts, and where its passages are."""
    docs = [d for e in plan.entries.values() for d in e.get("documents", [])]
    counts = {"documents": len(docs), "passages": sum(d["passages"] for d in docs),
              "windows": sum(d.get("windows", 0) for d in docs), "segments": len(segments)}
    return Manifest(
        schema_version=SCHEMA_VERSION, embedder=embedder.name, dim=embedder.dim, chunker_version=CHUNKER_VERSION,
        index_shape=settings.index_shape(), documents=plan.entries, rejected=plan.rejected, counts=counts,
        data_source=str(settings.data_dir), segments=tuple(segments), keyword={"tokenizer": tokenizer_name()},
        backend=backend or {},
    )


def _used_hashes(index_dir: Path, manifest: Manifest) -> set[str]:
    used: set[str] = set()
    for entry in manifest.segments:
        reader = SegmentReader(Path(index_dir) / "segments" / entry["name"])
        try:
            used.update(reader.window_hashes())
        finally:
            reader.close()
    return used


def _open_previous(settings: Settings) -> tuple[IndexReader | None, str | None]:
    """The serving build if it is usable; otherwise None and why it will be replaced."""
    try:
        return IndexReader.open(settings.index_dir, replace(settings.store, backend=None)), None
    except IndexMissing:
        return None, None
    except IndexIncompatible as exc:
        return None, exc.details.get("reason", "incompatible")


def _embed_missing(embedder, texts, hashes, cache: EmbeddingCache, batch_size, progress):
    """Vectors for all texts: cached ones by hash, the rest embedded in batches of similar length, cached at once."""
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    known = cache.get_many(hashes)
    unique: dict[str, list[int]] = {}  # identical texts inside this build are embedded once
    for i, h in enumerate(hashes):
        if h in known:
            vectors[i] = known[h]
        else:
            unique.setdefault(h, []).append(i)
    # similar lengths batched together pad less (1.15-1.6x faster, measured on every engine)
    groups = sorted(unique.values(), key=lambda g: len(texts[g[0]]))
    if progress:
        progress(0, len(groups))
    for start in range(0, len(groups), batch_size):
        batch = groups[start : start + batch_size]
        out = embedder.embed_passages([texts[g[0]] for g in batch])
        for g, vec in zip(batch, out):
            vectors[g] = vec
        cache.put_many({hashes[g[0]]: vec for g, vec in zip(batch, out)})
        if progress:
            progress(min(start + batch_size, len(groups)), len(groups))
    return vectors, len(groups)
