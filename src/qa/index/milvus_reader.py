"""A build whose passages live in Milvus, read through the same interface as our own files (reader.py).

Vectors, BM25 sparse vectors and passages come from the collection the manifest names; which rows are served,
their years and the BM25 statistics come from the build's own tables, so a reader sees exactly its build even while
a writer adds to the same collection (rows past its tables, and documents it does not serve, are filtered out).
"""
from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np

from qa.errors import IndexIncompatible
from qa.index.manifest import Manifest
from qa.index.milvus_client import (NO_TERMS, SCHEMA, TOP_K_MAX, collection_record, connect, resolve_uri,
                                    unpack_record)
from qa.index.milvus_tables import Tables, Vocabulary, idf, query_terms
from qa.index.store import read_hold
from qa.records import Document, Filters, Paragraph, Passage, Span
from qa.settings import StoreSettings

BATCH = 500  # rows per query: a filter of 500 numbers is well inside every server's limits


def check_record(record: dict | None, manifest: Manifest, collection: str, where: str) -> None:
    """Refuse a collection that does not hold what the manifest says: vectors of another model or size, passages
    of another chunker, another library's, or an older schema."""
    if record is None:
        raise IndexIncompatible(index_dir=where, reason=f"Milvus 上没有本索引的集合 {collection}")
    wanted = {"schema": SCHEMA, "model": manifest.embedder, "dim": manifest.dim,
              "chunker": manifest.chunker_version, "library": manifest.backend.get("library")}
    wrong = [f"{k}={record.get(k)}≠{v}" for k, v in wanted.items() if record.get(k) != v]
    if wrong:
        raise IndexIncompatible(index_dir=where, reason=f"Milvus 集合 {collection} 与索引不符：{'，'.join(wrong)}")


class MilvusReader:
    """A loaded build on Milvus: the IndexReader interface (rows, live, size, keyword, dense_search, passages…)."""

    def __init__(self, folder: Path, store: StoreSettings) -> None:
        self.folder = Path(folder)
        self.build = self.folder.name
        self._hold = read_hold(self.folder)  # pruning leaves a build (and its collection) alone while this is open
        index_dir = self.folder.parent.parent
        try:
            self.manifest = Manifest.read(self.folder / "manifest.json")
            self.tables = Tables.load(self.folder)
        except IndexIncompatible:
            self.close()
            raise
        except (OSError, ValueError, KeyError) as exc:
            self.close()
            raise IndexIncompatible(index_dir=str(folder), reason=f"{type(exc).__name__}: {exc}") from None
        backend = self.manifest.backend
        self.collection = backend["collection"]
        try:
            self.conn = connect(store, resolve_uri(store, index_dir, backend.get("uri")))
            check_record(collection_record(self.conn, self.collection) if self._exists() else None,
                         self.manifest, self.collection, str(index_dir))
            self.conn.call("load_collection", self.collection)
        except Exception:
            self.close()
            raise
        t = self.tables
        self.live = t.live
        self.size = int(t.live.sum())
        self.row_year = t.year
        self.row_key = t.key
        self.vocab = Vocabulary(t.hashes)
        self.keyword = MilvusKeyword(self)
        dead = sorted({int(d) for d in range(len(t.documents)) if not t.documents[d]["live"]})
        # what this build serves of a collection other builds write to as well
        self._served = f"row < {len(t.live)}" + (f" and doc not in {dead}" if dead else "")
        self._lock = threading.Lock()

    def _exists(self) -> bool:
        return bool(self.conn.call("has_collection", self.collection))

    def _filter(self, allowed: np.ndarray | None) -> tuple[str, np.ndarray]:
        """The Milvus filter of what may be returned, and the same as a mask of rows (exact where a filter
        names only whole documents)."""
        mask = self.live.copy()
        if allowed is None:
            return self._served, mask
        wanted = np.zeros(len(mask), bool)
        wanted[np.asarray(allowed, np.int64)] = True
        mask &= wanted
        docs = np.unique(self.tables.doc[mask]).tolist()
        return f"{self._served} and doc in {docs}", mask

    def dense_search(self, query: np.ndarray, n: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, inner product of its best window), best first: as IndexReader.dense_search."""
        expr, mask = self._filter(allowed)
        count = int(self.tables.windows[mask].sum())
        if count == 0 or n <= 0:
            return []
        # several windows can belong to one passage: fetch more windows than passages wanted
        hits = self.conn.call("search", self.collection, data=[np.asarray(query, np.float32).reshape(-1).tolist()],
                              anns_field="vector", limit=min(count, n * 3, TOP_K_MAX), filter=expr,
                              output_fields=["row"], search_params={"metric_type": "IP"})
        best: dict[int, float] = {}
        for hit in hits[0] if hits else ():
            row = int(hit["entity"]["row"])
            if mask[row] and self.tables.windows[row] and row not in best:  # a passage without windows has none
                best[row] = float(hit["distance"])
        return sorted(best.items(), key=lambda item: (-item[1], int(self.row_key[item[0]])))[:n]

    def rows_matching(self, filters: Filters) -> np.ndarray:
        """Live rows of the documents a filter admits (as IndexReader.rows_matching)."""
        chosen = np.zeros(len(self.tables.documents), bool)
        for ordinal, d in enumerate(self.tables.documents):
            if filters.doc and not (filters.doc in (d["title"] or "") or filters.doc in d["source"]
                                    or d["doc_id"].startswith(filters.doc)):
                continue
            if filters.years is not None:
                year = (d["date"] or "")[:4]
                if not year.isdigit() or not filters.years[0] <= int(year) <= filters.years[1]:
                    continue
            chosen[ordinal] = True
        return np.flatnonzero(self.live & chosen[self.tables.doc]).astype(np.int64)

    def documents(self) -> list[dict]:
        """Every served document: id, file, title, date, speaker, occasion and passage count, in file order."""
        keys = ("doc_id", "source", "title", "date", "speaker", "occasion")
        found = [{**{k: d.get(k) for k in keys}, "passages": d["paragraphs"]}
                 for d in self.tables.documents if d["live"]]
        return sorted(found, key=lambda d: d["source"])

    def passage(self, row: int) -> Passage:
        return self.passages([row])[0]

    def passages(self, rows) -> list[Passage]:
        """The passages of these rows, in the order given."""
        rows = [int(r) for r in rows]
        found: dict[int, Passage] = {}
        wanted = sorted(set(rows))
        for start in range(0, len(wanted), BATCH):
            chunk = wanted[start : start + BATCH]
            for entity in self.conn.call("get", self.collection, ids=chunk, output_fields=["row", "record"]):
                found[int(entity["row"])] = _passage(unpack_record(entity["record"]))
        missing = [r for r in rows if r not in found]
        if missing:
            raise IndexIncompatible(index_dir=str(self.folder.parent.parent),
                                    reason=f"Milvus 集合 {self.collection} 缺少段落（行 {missing[:5]}）")
        return [found[r] for r in rows]

    def _rows_of_source(self, source: str) -> np.ndarray:
        ordinals = [i for i, d in enumerate(self.tables.documents) if d["source"] == source and d["live"]]
        return np.flatnonzero(self.live & np.isin(self.tables.doc, ordinals))

    def passages_of(self, source: str) -> list[Passage]:
        """The served passages of one source file, in reading order."""
        return self.passages(self._rows_of_source(source).tolist())

    def documents_of(self, source: str) -> list[tuple[Document, str]]:
        """The served documents indexed from one source file, with that file's hash as it was then."""
        found = []
        passages = self.passages_of(source)
        for d in self.tables.documents:
            if d["source"] != source or not d["live"]:
                continue
            paragraphs = tuple(Paragraph(p.section_path, p.paragraph, p.text, key=p.passage_id, point=p.point)
                               for p in passages if p.doc_id == d["doc_id"])
            found.append((Document(d["doc_id"], source, d["title"], d["date"], paragraphs,
                                   dropped=tuple(d.get("dropped", ())), speaker=d.get("speaker"),
                                   occasion=d.get("occasion")), d["sha256"]))
        return found

    def close(self) -> None:
        if getattr(self, "_hold", None) is not None:
            self._hold.close()
            self._hold = None


class MilvusKeyword:
    """BM25 as our own (search/bm25.BM25): the question's idf weights against the stored saturated term
    frequencies, summed by Milvus as a sparse inner product."""

    def __init__(self, reader: MilvusReader) -> None:
        self._reader = reader
        self.size = reader.size

    def idf(self, token: str) -> float:
        ids, _ = query_terms([token], self._reader.vocab)
        return idf(int(self._reader.tables.df[ids[0]]), self.size) if len(ids) else 0.0

    def ceiling(self, tokens) -> float:
        """As BM25.ceiling: the sum of the tokens' idf, an unknown token counted at the idf of the rarest."""
        if self.size == 0:
            return 0.0
        rarest = math.log(1 + (self.size + 0.5) / 0.5)
        return sum(self.idf(t) or rarest for t in tokens)

    def search(self, tokens, n: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, score) of the best n served rows with a positive score, best first (ties: by passage key)."""
        reader = self._reader
        if not tokens or self.size == 0 or n <= 0:
            return []
        ids, repeats = query_terms(tokens, reader.vocab)
        weights = {}
        for term, times in zip(ids.tolist(), repeats.tolist()):
            df = int(reader.tables.df[term])
            if df:  # float32 products, as our own BM25 forms them
                weights[term] = float(np.float32(times) * np.float32(idf(df, self.size)))
        weights.pop(NO_TERMS, None)
        if not weights:
            return []
        expr, mask = reader._filter(allowed)
        # a few more than n: equal scores at the edge are then ordered by passage key, as our own BM25 orders them
        hits = reader.conn.call("search", reader.collection, data=[weights], anns_field="sparse",
                                limit=min(2 * n + 10, TOP_K_MAX), filter=expr, output_fields=["row"],
                                search_params={"metric_type": "IP"})
        scored = [(int(h["entity"]["row"]), float(h["distance"])) for h in (hits[0] if hits else ())]
        scored = [(row, s) for row, s in scored if s > 0 and mask[row]]
        return sorted(scored, key=lambda item: (-item[1], int(reader.row_key[item[0]])))[:n]


def _passage(r: dict) -> Passage:
    return Passage(passage_id=r["passage_id"], doc_id=r["doc_id"], title=r["title"], date=r["date"],
                   section_path=tuple(r["section_path"]), paragraph=r["paragraph"], text=r["text"], point=r["point"],
                   sentences=tuple(Span(a, b) for a, b in r["sentences"]),
                   windows=tuple(Span(a, b) for a, b in r["windows"]),
                   terms=tuple(tuple(w) for w in r.get("terms") or ()))
