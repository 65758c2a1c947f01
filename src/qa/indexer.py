"""Build or update the index from the data folder, embedding only texts it has not embedded before."""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np

from .chunk import CHUNKER_VERSION, make_passages
from .embed import Embedder
from .errors import IndexIncompatible, IndexMissing, UnreadableFile
from .keyword import KeywordIndex, keyword_tokens, simplified
from .manifest import SCHEMA_VERSION, Manifest, Staleness, compare
from .read import read_source, scan
from .records import Document, Passage
from .settings import DEFAULT_DATA_DIR, DEFAULT_MODEL, ChunkSettings, Settings
from .store import EmbeddingCache, IndexReader, current_build, write_build
from .structure import parse_source

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
    rejected: tuple[tuple[str, dict], ...] = ()  # (file, {reason, and line or position})
    kept_previous: tuple[str, ...] = ()  # rejected files whose previous passages stay indexed
    duplicates: tuple[tuple[str, str], ...] = ()  # (file, file with the same content)
    replaced_index: str | None = None  # reason an unusable previous index was replaced
    seconds: float = 0.0


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


def keyword_text(passage: Passage, chunk: ChunkSettings, occasion: str | None = None) -> str:
    """What BM25 indexes for a passage: its text, and with keyword_context its title, occasion and section path."""
    if not chunk.keyword_context:
        return passage.text
    return "\n".join([passage.title, *([occasion] if occasion else []), *passage.section_path, passage.text])


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
    return replace(settings, data_dir=Path(data), embed=replace(settings.embed, model=model))


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

    documents, rejected, kept_previous, duplicates = _collect(files, old)
    entries = _manifest_entries(documents, duplicates, {f.name: f.sha256 for f in files})

    passages: list[tuple[Passage, str]] = []
    for doc, _ in documents:
        passages.extend((p, doc.source) for p in make_passages(doc, settings.chunk))

    window_rows, window_texts = [], []
    for row, (p, _) in enumerate(passages):
        for w in p.windows:
            window_rows.append(row)
            # Traditional text is folded to Simplified for the model, as questions are (measured on DRCD dev)
            window_texts.append(simplified(p.text[w.start : w.end]))
    hashes = [text_hash(t) for t in window_texts]

    cache = EmbeddingCache(settings.index_dir, embedder.name, embedder.dim)
    try:
        vectors, embedded = _embed_missing(embedder, window_texts, hashes, cache, settings.embed.batch_size, progress)
    except BaseException:
        cache.close()
        raise
    occasions = {doc.doc_id: doc.occasion for doc, _ in documents}
    keyword = KeywordIndex.build(
        [keyword_tokens(keyword_text(p, settings.chunk, occasions.get(p.doc_id))) for p, _ in passages]
    )

    manifest = Manifest(
        schema_version=SCHEMA_VERSION,
        embedder=embedder.name,
        dim=embedder.dim,
        chunker_version=CHUNKER_VERSION,
        index_shape=settings.index_shape(),
        documents=entries,
        rejected=rejected,
        counts={"documents": len(documents), "passages": len(passages), "windows": len(window_texts)},
        data_source=str(settings.data_dir),
    )
    if old is not None:
        old.close()
    try:
        write_build(settings.index_dir, manifest, documents, passages, list(zip(window_rows, hashes)), vectors, keyword)
        cache.prune(set(hashes))
    finally:
        cache.close()
    return BuildReport(
        built=True,
        staleness=stale,
        documents=len(documents),
        passages=len(passages),
        windows=len(window_texts),
        embedded=embedded,
        reused=len(window_texts) - embedded,
        rejected=tuple((name, {k: v for k, v in r.items() if k != "sha256"}) for name, r in rejected.items()),
        kept_previous=tuple(kept_previous),
        duplicates=tuple(duplicates),
        replaced_index=replaced,
        seconds=time.perf_counter() - started,
    )


def _collect(files, old: IndexReader | None):
    """Parse every source file: documents (with file hashes), rejected files, kept and duplicate ones."""
    documents: list[tuple[Document, str]] = []
    rejected: dict[str, dict] = {}
    kept_previous, duplicates = [], []
    first_by_id: dict[str, str] = {}
    for f in files:
        try:
            docs = parse_source(f.name, read_source(f.path))
        except UnreadableFile as exc:
            rejected[f.name] = {"sha256": f.sha256, **{k: v for k, v in exc.details.items() if k != "path"}}
            previous = old.documents_of(f.name) if old is not None else []
            if previous:  # keep what was indexed rather than lose it
                documents.extend(previous)
                kept_previous.append(f.name)
            continue
        for doc in docs:
            if doc.doc_id in first_by_id:
                duplicates.append((f.name, first_by_id[doc.doc_id]))
                continue
            first_by_id[doc.doc_id] = f.name
            documents.append((doc, f.sha256))
    return documents, rejected, kept_previous, duplicates


def _manifest_entries(documents, duplicates, hashes) -> dict[str, dict]:
    """Per source file: its content hash and its documents (or which file it duplicates)."""
    entries: dict[str, dict] = {}
    for doc, sha in documents:
        entry = entries.setdefault(doc.source, {"sha256": sha, "documents": []})
        entry["documents"].append(
            {"doc_id": doc.doc_id, "title": doc.title, "date": doc.date, "passages": len(doc.paragraphs)}
        )
    for name, same in duplicates:
        entries.setdefault(name, {"sha256": hashes[name], "documents": [], "duplicate_of": same})
    return entries


def _open_previous(settings: Settings) -> tuple[IndexReader | None, str | None]:
    """The serving build if it is usable; otherwise None and why it will be replaced."""
    try:
        return IndexReader.open(settings.index_dir), None
    except IndexMissing:
        return None, None
    except IndexIncompatible as exc:
        return None, exc.details.get("reason", "incompatible")


def _embed_missing(embedder, texts, hashes, cache: EmbeddingCache, batch_size, progress):
    """Vectors for all texts: cached ones by hash, the rest embedded in batches and cached at once."""
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    known = cache.get_many(hashes)
    todo = []
    for i, h in enumerate(hashes):
        if h in known:
            vectors[i] = known[h]
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
        cache.put_many({hashes[g[0]]: vec for g, vec in zip(batch, out)})
        if progress:
            progress(min(start + batch_size, len(groups)), len(groups))
    return vectors, len(groups)
