"""A loaded build for answering: its segments side by side in one row space, deleted documents masked out."""
from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from qa.errors import IndexIncompatible, IndexMissing
from qa.index.manifest import Manifest
from qa.index.segment import SEGMENTS
from qa.index.segment_reader import SegmentReader
from qa.index.store import current_build, read_hold
from qa.records import Document, Filters, Passage
from qa.search.bm25 import BM25
from qa.settings import StoreSettings


class IndexReader:
    """A loaded build: its segments side by side in one row space, deleted documents masked out.

    Rows are global: segment i's local row r is row offsets[i] + r. Only live rows are ever returned.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.build = self.folder.name
        self._hold = read_hold(self.folder)  # pruning leaves a build alone while this is open
        self.segments: list[SegmentReader] = []
        try:
            self.manifest = Manifest.read(self.folder / "manifest.json")
            for entry in self.manifest.segment_entries:
                self.segments.append(SegmentReader(self.folder.parent.parent / SEGMENTS / entry.name))
            for segment in self.segments:
                if segment.meta["dim"] != self.manifest.dim:
                    raise ValueError(f"segment {segment.name}: dimension {segment.meta['dim']}")
        except IndexIncompatible:
            self.close()
            raise
        except Exception as exc:  # faiss, sqlite and numpy each fail their own way on a damaged build
            self.close()
            raise IndexIncompatible(index_dir=str(folder), reason=f"{type(exc).__name__}: {exc}") from None
        sizes = [s.size for s in self.segments]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.live = np.ones(int(self.offsets[-1]), dtype=bool)
        self._window_live = []
        for i, (segment, entry) in enumerate(zip(self.segments, self.manifest.segment_entries)):
            dead = segment.rows_of(entry.deleted)
            self.live[self.offsets[i] + dead] = False
            self._window_live.append(self.live[self.offsets[i] + np.asarray(segment.window_passage, np.int64)]
                                     if len(dead) else None)
        self.size = int(self.live.sum())
        self.row_year = (np.concatenate([s.passage_year for s in self.segments]) if self.segments
                         else np.zeros(0, np.int32))
        # ties are broken by passage id, not by row: an update or a merge never reorders equal scores
        self.row_key = (np.concatenate([s.passage_key for s in self.segments]) if self.segments
                        else np.zeros(0, np.int64))
        self.keyword = BM25([(s.postings, int(o)) for s, o in zip(self.segments, self.offsets)], self.live,
                            self.row_key)
        self._lock = threading.Lock()

    @classmethod
    def open(cls, index_dir: Path, store: StoreSettings | None = None):
        """The serving build: an IndexReader, or a MilvusReader when the build lives on Milvus (store: how to reach
        it; default from the environment). A writer may switch and prune between reading CURRENT and opening the
        build: then the build CURRENT names now is opened instead."""
        for attempt in range(3):
            folder = current_build(index_dir)
            if folder is None:
                raise IndexMissing(index_dir=str(index_dir))
            try:
                return open_build(folder, store, store.backend if store is not None else None)
            except IndexIncompatible:
                if attempt == 2 or current_build(index_dir) == folder:
                    raise
        raise AssertionError("unreachable")

    def dense_search(self, query: np.ndarray, n: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, cosine of its best window) of the n best live passages, best first; only `allowed` rows if given."""
        import faiss

        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        best: dict[int, float] = {}
        for i, segment in enumerate(self.segments):
            ntotal = segment.vectors.ntotal
            keep = self._window_live[i]
            if allowed is not None:
                in_segment = allowed[(allowed >= self.offsets[i]) & (allowed < self.offsets[i + 1])] - self.offsets[i]
                wanted = np.zeros(segment.size, dtype=bool)
                wanted[in_segment] = True
                window_ok = wanted[np.asarray(segment.window_passage)]
                keep = window_ok if keep is None else keep & window_ok
            count = ntotal if keep is None else int(keep.sum())
            if count == 0:
                continue
            params = None
            if keep is not None:
                bitmap = np.packbits(keep, bitorder="little")
                selector = faiss.IDSelectorBitmap(ntotal, faiss.swig_ptr(bitmap))
                params = (faiss.SearchParametersIVF(sel=selector, nprobe=segment.vectors.nprobe)
                          if isinstance(segment.vectors, faiss.IndexIVF) else faiss.SearchParameters(sel=selector))
            # several windows can belong to one passage: fetch more windows than passages wanted
            scores, ids = segment.vectors.search(query, min(count, n * 3), params=params)
            for score, wid in zip(scores[0], ids[0]):
                if wid < 0:
                    break
                row = int(self.offsets[i]) + int(segment.window_passage[wid])
                if row not in best:
                    best[row] = float(score)
        ranked = sorted(best.items(), key=lambda item: (-item[1], int(self.row_key[item[0]])))
        return ranked[:n]

    def rows_matching(self, filters: Filters) -> np.ndarray:
        """Live rows of the documents a filter admits: title, file name or id containing filters.doc, and a date
        within filters.years (documents without a date are left out by a year filter)."""
        with self._lock:
            rows = [s.rows_matching(filters) + o for s, o in zip(self.segments, self.offsets)]
        found = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        return found[self.live[found]]

    def documents(self) -> list[dict]:
        """Every served document: id, file, title, date, speaker, occasion and passage count, in file order."""
        deleted = {d for entry in self.manifest.segment_entries for d in entry.deleted}
        with self._lock:
            docs = [d for s in self.segments for d in s.documents() if d["doc_id"] not in deleted]
        return sorted(docs, key=lambda d: d["source"])

    def passage(self, row: int) -> Passage:
        return self.passages([row])[0]

    def passages(self, rows) -> list[Passage]:
        """The passages of these rows, in the order given (one query per segment)."""
        wanted: dict[int, list[int]] = {}
        for row in rows:
            i = int(np.searchsorted(self.offsets, int(row), side="right")) - 1
            wanted.setdefault(i, []).append(int(row) - int(self.offsets[i]))
        found = {}
        with self._lock:
            for i, local in wanted.items():
                marks = ",".join("?" * len(local))
                for r, p in self.segments[i].passages(f"WHERE row IN ({marks})", tuple(local)):
                    found[int(self.offsets[i]) + r] = p
        return [found[int(row)] for row in rows]

    def passages_of(self, source: str) -> list[Passage]:
        """The served passages of one source file, in reading order."""
        found = []
        with self._lock:
            for segment, offset in zip(self.segments, self.offsets):
                found += [p for row, p in segment.passages("WHERE source = ? ORDER BY row", (source,))
                          if self.live[offset + row]]
        return found

    def documents_of(self, source: str) -> list[tuple[Document, str]]:
        """The served documents indexed from one source file, with that file's hash as it was then."""
        deleted = {d for entry in self.manifest.segment_entries for d in entry.deleted}
        with self._lock:
            return [(doc, sha) for s in self.segments for doc, sha in s.documents_of("WHERE source = ?", (source,))
                    if doc.doc_id not in deleted]

    def close(self) -> None:
        for segment in self.segments:
            segment.close()
        self.segments = []
        if getattr(self, "_hold", None) is not None:
            self._hold.close()  # releases the shared lock
            self._hold = None


def open_build(folder: Path, store: StoreSettings | None = None, wanted: str | None = None):
    """A build opened by the reader of its backend; BackendMismatch when `wanted` names another backend."""
    from qa.errors import BackendMismatch
    from qa.settings import from_environment

    kind = Manifest.read(Path(folder) / "manifest.json").backend_kind
    if wanted is not None and wanted != kind:
        raise BackendMismatch(index_dir=str(Path(folder).parent.parent), wanted=wanted, actual=kind)
    if kind == "local":
        return IndexReader(folder)
    if kind == "milvus":
        from qa.index.milvus_reader import MilvusReader

        return MilvusReader(folder, store if store is not None else from_environment().store)
    raise IndexIncompatible(index_dir=str(folder), reason=f"backend {kind}")
