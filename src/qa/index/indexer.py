"""Build or update the index from the data folder: only changed documents are parsed, tokenised and embedded.

A first build (or --force, another model, other chunk settings) writes one segment with every document. After
that, each update writes one segment with the added or changed documents and marks the documents of changed
or removed files as deleted; when segments pile up, the small ones are merged (copying vectors and postings,
never embedding or tokenising again).
"""
from __future__ import annotations

import json
import time
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Callable

from qa.errors import IndexIncompatible, IndexMissing
from qa.index.cache import EmbeddingCache
from qa.index.manifest import SCHEMA_VERSION, Manifest, compare
from qa.index.plan import Plan, full_plan, incremental_plan
from qa.index.prepare import Progress, prepare
from qa.index.reader import IndexReader
from qa.index.segment import merge_segments, write_segment
from qa.index.segment_reader import SegmentReader
from qa.index.store import current_build, publish, writing
from qa.ingest.chunk import CHUNKER_VERSION
from qa.ingest.read import scan
from qa.records import BuildReport, Staleness
from qa.search.embed import Embedder
from qa.search.tokens import tokenizer_name
from qa.settings import DEFAULT_DATA_DIR, DEFAULT_MODEL, Settings

MAX_SEGMENTS = 8  # more than this and the small segments are merged into one
MAX_DEAD = 0.3  # a segment with more than this share of deleted passages is rewritten without them


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
                stored = milvus_writer.write(settings, embedder, made, plan, old, full)
            except milvus_writer.NeedsFullBuild:  # the cache has every vector: nothing is embedded again
                full, plan = True, full_plan(files, old)
                made = prepare(settings, embedder, cache, plan, progress)
                stored = milvus_writer.write(settings, embedder, made, plan, old, full)
            manifest = make_manifest(settings, embedder, plan, (), stored.backend)
            milvus_writer.publish_build(settings, manifest, stored)
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


def _new_segment(settings: Settings, embedder: Embedder, cache: EmbeddingCache, plan: Plan,
                 progress: Progress | None) -> tuple[str | None, int, int]:
    """The plan's new documents as a segment of our own files: (its name, windows embedded, windows)."""
    made = prepare(settings, embedder, cache, plan, progress)
    if made is None:
        return None, 0, 0
    name = write_segment(settings.index_dir, made.documents, made.passages, made.hashes, made.vectors, made.postings,
                         embedder.dim)
    return name, made.embedded, len(made.hashes)


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
