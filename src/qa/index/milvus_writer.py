"""Write a build to Milvus: a full build fills a new collection, an update deletes and inserts in the serving one.

A full build (the first, --force, another model, chunker or backend, or BM25 lengths drifted) creates a collection
named <name>_<time>_<id>, fills it, and only then publishes the build and points the alias <name> at it, so a
reader never sees a half-filled version. An update inserts the new documents' rows past the serving build's
tables (invisible to its readers) and marks removed documents not live; their rows are deleted from Milvus once
no remaining build serves them. Collections no build refers to (a killed writer's) are dropped by the next writer.
Everything runs under the index's write lock.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from qa.errors import IndexIncompatible
from qa.index.manifest import Manifest
from qa.index.milvus_client import (NO_TERMS, OTHER_WINDOWS, SCHEMA, collection_record, connect, create_collection,
                                    default_uri, pack_record, resolve_uri)
from qa.index.milvus_reader import check_record
from qa.index.milvus_tables import Tables, Vocabulary, saturated
from qa.index.store import BUILDS, publish
from qa.ingest.chunk import CHUNKER_VERSION
from qa.search.bm25 import term_hashes
from qa.settings import Settings

# BM25 weights are stored saturated with the mean passage length of the collection's first build (Milvus cannot
# re-weight them at question time); when updates move the mean further than this, the next update is a full build.
MAX_AVGDL_DRIFT = 0.02
MAX_DEAD_DOCUMENTS = 2_000  # removed documents a reader filters out by name; more, and the next update is a full build
TINY = 1e-30  # the weight of NO_TERMS


class NeedsFullBuild(Exception):
    """An update that should be a full build (why: the reason)."""


@dataclass
class Stored:
    """What write() stored, for publish(): the manifest's backend entry, the build's tables, the connection."""

    backend: dict
    tables: Tables
    conn: object


def write(settings: Settings, embedder, made, plan, old, full: bool) -> Stored:
    """Store the prepared documents (indexer.Prepared, or None) in Milvus, not yet served. old: the serving reader
    (a MilvusReader when the update continues its collection), full: start a new collection."""
    index_dir = Path(settings.index_dir)
    store = settings.store
    before = old.manifest.backend if old is not None and old.manifest.backend_kind == "milvus" else {}
    uri = resolve_uri(store, index_dir, before.get("uri"))
    conn = connect(store, uri)
    library = before.get("library") or uuid.uuid4().hex[:16]
    if full:
        collection = f"{store.milvus_name}_{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S')}_{uuid.uuid4().hex[:8]}"
        record = {"schema": SCHEMA, "model": embedder.name, "dim": embedder.dim, "chunker": CHUNKER_VERSION,
                  "library": library}
        create_collection(conn, collection, embedder.dim, record)
        tables = Tables.empty()
        avgdl = None
    else:
        collection = before["collection"]
        try:
            check_record(collection_record(conn, collection) if conn.call("has_collection", collection) else None,
                         old.manifest, collection, str(index_dir))
        except IndexIncompatible as exc:
            raise NeedsFullBuild(exc.details.get("reason")) from None
        tables = old.tables.copy()
        conn.call("delete", collection, filter=f"row >= {len(tables.live)}")  # what a killed writer inserted
        _unserve(conn, collection, tables, {d for ids in plan.deleted.values() for d in ids})
        avgdl = float(before["avgdl"])
    for entry in plan.entries.values():
        for doc in entry.get("documents", []):
            doc.setdefault("segment", collection)
    rows_before = len(tables.live)
    term_ids = _append_tables(tables, made) if made is not None else None
    if avgdl is None:
        avgdl = tables.avgdl
    elif abs(tables.avgdl - avgdl) > MAX_AVGDL_DRIFT * avgdl:
        raise NeedsFullBuild(f"BM25 mean length {avgdl:.1f} -> {tables.avgdl:.1f}")
    elif sum(not d["live"] for d in tables.documents) > MAX_DEAD_DOCUMENTS:
        raise NeedsFullBuild("too many removed documents")
    windows_before = int(before.get("windows", 0)) if not full else 0
    if made is not None:
        _insert(conn, collection, tables, made, term_ids, rows_before, windows_before, avgdl, store.milvus_batch)
        conn.call("flush", collection)
    conn.call("load_collection", collection)
    # Lite in the index folder is recorded as "": the folder can move; a server's address is kept (never its token)
    backend = {"kind": "milvus", "uri": "" if uri == default_uri(index_dir) else uri,
               "collection": collection, "alias": store.milvus_name if full else before.get("alias", store.milvus_name),
               "library": library, "avgdl": avgdl, "rows": len(tables.live),
               "windows": windows_before + (len(made.hashes) if made is not None else 0)}
    return Stored(backend, tables, conn)


def publish_build(settings: Settings, manifest: Manifest, stored: Stored) -> None:
    """Serve the stored build: its files and manifest switched to, the alias moved, what no build needs dropped."""
    publish(settings.index_dir, manifest, files=stored.tables.save)
    _point_alias(stored.conn, stored.backend["alias"], stored.backend["collection"])
    clean(Path(settings.index_dir), stored.conn, stored.backend["library"], stored.backend["alias"])


def _unserve(conn, collection: str, tables: Tables, doc_ids: set[str]) -> None:
    """Mark these documents and their rows not live, and take their terms out of the document frequencies."""
    ordinals = [i for i, d in enumerate(tables.documents) if d["live"] and d["doc_id"] in doc_ids]
    if not ordinals:
        return
    for start in range(0, len(ordinals), 500):
        chunk = ordinals[start : start + 500]
        rows = np.flatnonzero(tables.live & np.isin(tables.doc, chunk))
        heads = conn.call("query", collection, filter=f"head == true and doc in {chunk}",
                          output_fields=["row", "sparse"], limit=max(len(rows), 1))
        if len(heads) != len(rows):  # the collection lost rows: start a new one rather than trust it
            raise NeedsFullBuild(f"collection {collection} lacks passages")
        for entity in heads:
            terms = [int(t) for t in _sparse_keys(entity["sparse"]) if int(t) != NO_TERMS]
            np.subtract.at(tables.df, np.asarray(terms, np.int64), 1)
        tables.live[rows] = False
        for o in chunk:
            tables.documents[o]["live"] = False


def _sparse_keys(sparse) -> list:
    if isinstance(sparse, dict):
        return list(sparse)
    try:  # a scipy row, as some pymilvus versions return
        return list(sparse.indices)
    except AttributeError:
        return [k for k, _ in sparse]


def _append_tables(tables: Tables, made) -> np.ndarray:
    """The prepared documents' rows, documents and terms added to the tables (live); returns the term id (the
    sparse dimension) of each of made.postings' terms."""
    ordinal = {}
    for row in made.documents:  # segment.document_row(): doc_id, source, title, date, sha256, paragraphs, dropped…
        doc_id, source, title, date, sha, paragraphs, dropped, speaker, occasion = row
        ordinal[doc_id] = len(tables.documents)
        tables.documents.append({"doc_id": doc_id, "source": source, "title": title, "date": date, "sha256": sha,
                                 "paragraphs": paragraphs, "dropped": _json_list(dropped), "speaker": speaker,
                                 "occasion": occasion, "live": True})
    passages = [p for p, _ in made.passages]
    tables.year = np.concatenate([tables.year, [_year(p.date) for p in passages]]).astype(np.int32)
    tables.doc = np.concatenate([tables.doc, [ordinal[p.doc_id] for p in passages]]).astype(np.int32)
    tables.key = np.concatenate([tables.key, term_hashes([p.passage_id for p in passages]).view(np.int64)])
    tables.length = np.concatenate([tables.length, made.postings.lengths]).astype(np.int32)
    tables.windows = np.concatenate([tables.windows, [len(p.windows) for p in passages]]).astype(np.int32)
    tables.live = np.concatenate([tables.live, np.ones(len(passages), bool)])
    postings = made.postings
    known = Vocabulary(tables.hashes).ids(np.asarray(postings.hashes))
    fresh = known < 0
    known[fresh] = len(tables.hashes) + np.arange(int(fresh.sum()))
    tables.hashes = np.concatenate([tables.hashes, np.asarray(postings.hashes)[fresh]]).astype(np.uint64)
    tables.df = np.concatenate([tables.df, np.zeros(int(fresh.sum()), np.int64)])
    np.add.at(tables.df, np.repeat(known, np.diff(postings.ptr)), 1)  # one posting per (term, passage)
    return known


def _insert(conn, collection: str, tables: Tables, made, term_ids: np.ndarray, first_row: int, first_window: int,
            avgdl: float, batch: int) -> None:
    """One entity per window; the passage's first also carries the passage and its saturated term frequencies."""
    postings = made.postings
    term_of = np.repeat(term_ids, np.diff(postings.ptr))
    local_rows = np.asarray(postings.rows, np.int64)
    weights = saturated(np.asarray(postings.tfs), np.asarray(postings.lengths)[local_rows], avgdl)
    order = np.argsort(local_rows, kind="stable")
    bounds = np.searchsorted(local_rows[order], np.arange(len(made.passages) + 1))
    vectors = fp16(np.asarray(made.vectors, np.float32))
    pending, window = [], first_window
    w = 0
    for local, (passage, _) in enumerate(made.passages):
        picked = order[bounds[local] : bounds[local + 1]]
        sparse = {int(t): float(v) for t, v in zip(term_of[picked], weights[picked])} or {NO_TERMS: TINY}
        row = first_row + local
        doc = int(tables.doc[row])
        spans = passage.windows or ()
        record = pack_record(_record(passage))
        for j in range(max(len(spans), 1)):
            vector = vectors[w] if spans else np.zeros(vectors.shape[1], np.float32)
            head = j == 0
            pending.append({"id": row if head else OTHER_WINDOWS + window, "row": row, "doc": doc, "head": head,
                            "vector": vector.tolist(), "sparse": sparse if head else {NO_TERMS: TINY},
                            "record": record if head else ""})
            window += 1
            w += 1 if spans else 0
            if len(pending) >= batch:
                conn.call("insert", collection, pending)
                pending = []
    if pending:
        conn.call("insert", collection, pending)


def fp16(vectors: np.ndarray) -> np.ndarray:
    """The vectors as our own index stores them (faiss's fp16 codes, decoded): the same scores from either backend
    (numpy's own rounding differs from faiss's in about 1 value in 20,000)."""
    import faiss

    if not len(vectors):
        return vectors
    codec = faiss.IndexScalarQuantizer(vectors.shape[1], faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    return codec.sa_decode(codec.sa_encode(np.ascontiguousarray(vectors)))


def _record(p) -> dict:
    return {"passage_id": p.passage_id, "doc_id": p.doc_id, "title": p.title, "date": p.date,
            "section_path": list(p.section_path), "paragraph": p.paragraph, "text": p.text, "point": p.point,
            "sentences": [[s.start, s.end] for s in p.sentences], "windows": [[s.start, s.end] for s in p.windows],
            "terms": [list(t) for t in p.terms]}


def _point_alias(conn, alias: str, collection: str) -> None:
    """The alias names the serving collection, for anyone reading Milvus without our manifest."""
    if alias in (conn.call("list_aliases") or {}).get("aliases", []):
        conn.call("alter_alias", collection, alias)
    else:
        conn.call("create_alias", collection, alias)


def clean(index_dir: Path, conn, library: str, name: str) -> None:
    """Drop this library's collections no remaining build refers to (a killed writer's, superseded versions), and
    delete the rows of documents no remaining build serves. Call under the write lock, after publish()."""
    served: dict[str, set[int]] = {}  # collection -> document ordinals some build serves
    known: dict[str, int] = {}  # collection -> documents its newest build knows of
    for folder in sorted((Path(index_dir) / BUILDS).iterdir()):
        try:
            manifest = Manifest.read(folder / "manifest.json")
            if manifest.backend_kind != "milvus" or folder.name.startswith("."):
                continue
            docs = Tables.load(folder).documents
        except (IndexIncompatible, OSError, ValueError):
            continue
        collection = manifest.backend["collection"]
        served.setdefault(collection, set()).update(i for i, d in enumerate(docs) if d["live"])
        known[collection] = max(known.get(collection, 0), len(docs))
    for collection in conn.call("list_collections"):
        if collection.startswith(f"{name}_") and collection not in served:
            record = collection_record(conn, collection)
            if record is not None and record.get("library") == library:
                conn.call("drop_collection", collection)
    for collection, live in served.items():
        gone = [i for i in range(known[collection]) if i not in live]
        if gone:
            conn.call("delete", collection, filter=f"doc in {gone}")


def _year(date: str | None) -> int:
    return int(date[:4]) if date and date[:4].isdigit() else 0


def _json_list(text) -> list:
    import json

    return json.loads(text) if isinstance(text, str) else list(text or ())
