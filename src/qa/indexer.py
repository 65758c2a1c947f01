"""Build or update the index from the data folder, embedding only texts it has not embedded before."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .chunk import CHUNKER_VERSION, make_passages
from .embed import Embedder
from .errors import IndexIncompatible, IndexMissing, UnreadableFile
from .keyword import KeywordIndex, tokenize
from .manifest import SCHEMA_VERSION, Manifest, Staleness, compare
from .read import scan, read_text
from .records import Document, Passage
from .settings import DEFAULT_MODEL, Settings
from .store import IndexReader, current_build, write_build
from .structure import parse_document

Progress = Callable[[int, int], None]  # (windows embedded so far, windows to embed)


@dataclass(frozen=True)
class BuildReport:
    """What a sync did: whether it built, why, and how much it embedded or reused."""

    built: bool
    staleness: Staleness | None = None  # None when there was no usable index before
    documents: int = 0
    passages: int = 0
    windows: int = 0
    embedded: int = 0
    reused: int = 0
    rejected: tuple[tuple[str, str], ...] = ()  # (file, reason code)
    kept_previous: tuple[str, ...] = ()  # rejected files whose previous passages stay indexed
    duplicates: tuple[tuple[str, str], ...] = ()  # (file, file with the same content)
    replaced_index: str | None = None  # reason an unusable previous index was replaced
    seconds: float = 0.0


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def model_for(settings: Settings) -> str:
    """The model to use: the explicit setting, else the index's own model, else the bundled default."""
    if settings.embed.model:
        return settings.embed.model
    folder = current_build(settings.index_dir)
    if folder is not None:
        try:
            return Manifest.read(folder / "manifest.json").embedder
        except IndexIncompatible:
            pass
    return DEFAULT_MODEL


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


def sync(settings: Settings, embedder: Embedder, force: bool = False, progress: Progress | None = None) -> BuildReport:
    """Bring the index in line with the data folder; a no-op when nothing changed (unless force)."""
    started = time.perf_counter()
    files = scan(settings.data_dir)
    old, replaced = _open_previous(settings)
    stale = None
    if old is not None:
        stale = compare(
            old.manifest, {f.name: f.sha256 for f in files}, embedder.name, CHUNKER_VERSION, settings.index_shape()
        )
        if not stale.is_stale and not force:
            counts = old.manifest.counts
            old.close()
            return BuildReport(built=False, staleness=stale, documents=counts.get("documents", 0),
                               passages=counts.get("passages", 0), windows=counts.get("windows", 0))

    documents: list[tuple[Document, str]] = []
    entries: dict[str, dict] = {}
    rejected: dict[str, dict] = {}
    kept_previous, duplicates = [], []
    first_by_id: dict[str, str] = {}
    for f in files:
        try:
            doc = parse_document(f.name, read_text(f.path))
        except UnreadableFile as exc:
            rejected[f.name] = {"sha256": f.sha256, "reason": exc.details.get("reason", "unreadable")}
            previous = old.document(f.name) if old is not None else None
            if previous is not None:  # keep what was indexed rather than lose it
                documents.append(previous)
                kept_previous.append(f.name)
            continue
        if doc.doc_id in first_by_id:
            duplicates.append((f.name, first_by_id[doc.doc_id]))
            entries[f.name] = {"sha256": f.sha256, "doc_id": doc.doc_id, "duplicate_of": first_by_id[doc.doc_id]}
            continue
        first_by_id[doc.doc_id] = f.name
        documents.append((doc, f.sha256))
    for doc, sha in documents:
        entries.setdefault(doc.source, {"sha256": sha})
        entries[doc.source].update(doc_id=doc.doc_id, title=doc.title, date=doc.date, passages=len(doc.paragraphs))

    passages: list[tuple[Passage, str]] = []
    for doc, _ in documents:
        passages.extend((p, doc.source) for p in make_passages(doc, settings.chunk))

    window_rows, window_texts = [], []
    for row, (p, _) in enumerate(passages):
        for w in p.windows:
            window_rows.append(row)
            window_texts.append(p.text[w.start : w.end])
    hashes = [text_hash(t) for t in window_texts]

    cache = {}
    if old is not None and old.manifest.embedder == embedder.name and old.manifest.dim == embedder.dim:
        cache = old.cached_vectors()
    vectors, embedded = _embed_missing(embedder, window_texts, hashes, cache, settings.embed.batch_size, progress)
    keyword = KeywordIndex.build([tokenize(p.text) for p, _ in passages])

    manifest = Manifest(
        schema_version=SCHEMA_VERSION,
        embedder=embedder.name,
        dim=embedder.dim,
        chunker_version=CHUNKER_VERSION,
        index_shape=settings.index_shape(),
        documents=entries,
        rejected=rejected,
        counts={"documents": len(documents), "passages": len(passages), "windows": len(window_texts)},
    )
    if old is not None:
        old.close()
    write_build(settings.index_dir, manifest, documents, passages, list(zip(window_rows, hashes)), vectors, keyword)
    return BuildReport(
        built=True,
        staleness=stale,
        documents=len(documents),
        passages=len(passages),
        windows=len(window_texts),
        embedded=embedded,
        reused=len(window_texts) - embedded,
        rejected=tuple((name, r["reason"]) for name, r in rejected.items()),
        kept_previous=tuple(kept_previous),
        duplicates=tuple(duplicates),
        replaced_index=replaced,
        seconds=time.perf_counter() - started,
    )


def _open_previous(settings: Settings) -> tuple[IndexReader | None, str | None]:
    """The serving build if it is usable; otherwise None and why it will be replaced."""
    try:
        return IndexReader.open(settings.index_dir), None
    except IndexMissing:
        return None, None
    except IndexIncompatible as exc:
        return None, exc.details.get("reason", "incompatible")


def _embed_missing(embedder, texts, hashes, cache, batch_size, progress):
    """Vectors for all texts, taking cached ones by hash and embedding the rest in batches."""
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    todo = []
    for i, h in enumerate(hashes):
        if h in cache:
            vectors[i] = cache[h]
        else:
            todo.append(i)
    # identical texts inside this build are embedded once
    unique: dict[str, list[int]] = {}
    for i in todo:
        unique.setdefault(hashes[i], []).append(i)
    groups = list(unique.values())
    if progress:
        progress(0, len(groups))
    for start in range(0, len(groups), batch_size):
        batch = groups[start : start + batch_size]
        out = embedder.embed_passages([texts[g[0]] for g in batch])
        for g, vec in zip(batch, out):
            vectors[g] = vec
        if progress:
            progress(min(start + batch_size, len(groups)), len(groups))
    return vectors, len(groups)
