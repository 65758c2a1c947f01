"""The index folder on disk: builds that list segments, switched atomically via CURRENT, one writer at a time.

Layout::

    index/CURRENT                    name of the serving build (replaced with os.replace)
    index/.lock                      held by every process that writes (filelock)
    index/builds/<id>/manifest.json  a build: its segments, the documents each no longer serves, what files it read
    index/segments/<id>/             immutable segments (see segment.py); builds share them
    index/embeddings/<model>.sqlite  vectors by text hash, written as they are made: never embed twice

Adding a document writes one small segment and a new manifest; removing one writes only a manifest. A crash
before CURRENT is switched leaves the previous build serving; what it wrote is removed by the next writer.
"""
from __future__ import annotations

import os
import shutil
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from .bm25 import BM25
from .errors import IndexIncompatible, IndexMissing
from .manifest import Manifest
from .records import Document, Filters, Passage
from .segment import SEGMENTS, fsync_dir
from .segment_reader import SegmentReader

CURRENT = "CURRENT"
BUILDS = "builds"
LOCK = ".lock"


def current_build(index_dir: Path) -> Path | None:
    """The folder of the serving build, or None when nothing was built yet."""
    pointer = Path(index_dir) / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    folder = Path(index_dir) / BUILDS / name
    return folder if name and folder.is_dir() else None


@contextmanager
def writing(index_dir: Path, notify: Callable[..., None] | None = None):
    """Hold the index's inter-process write lock; a second writer waits (and says so) until the first is done."""
    from filelock import FileLock, Timeout

    Path(index_dir).mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(Path(index_dir) / LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if notify:
            notify("waiting_for_writer")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


def publish(index_dir: Path, manifest: Manifest) -> Path:
    """Write a build manifest beside the serving one, switch CURRENT to it, and prune what no build needs.

    Call while holding `writing`. The segments the manifest lists must already be in place.
    """
    index_dir = Path(index_dir)
    builds = index_dir / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = builds / f".tmp-{name}"
    tmp.mkdir()
    manifest.write(tmp / "manifest.json")
    with open(tmp / "manifest.json", "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, builds / name)
    pointer_tmp = index_dir / f".{CURRENT}.{name}"
    pointer_tmp.write_text(name + "\n", encoding="utf-8")
    with open(pointer_tmp, "rb") as f:
        os.fsync(f.fileno())
    previous = current_build(index_dir)
    os.replace(pointer_tmp, index_dir / CURRENT)
    fsync_dir(index_dir)
    prune(index_dir, keep={name, previous.name if previous else ""})
    return builds / name


def prune(index_dir: Path, keep: set[str]) -> None:
    """Remove builds other than `keep` (the serving one and its predecessor, which a running app may still be
    reading), segments none of them lists, and leftovers of writers that were killed."""
    index_dir = Path(index_dir)
    used: set[str] = set()
    builds = index_dir / BUILDS
    for folder in sorted(builds.iterdir()) if builds.is_dir() else ():
        if folder.name in keep:
            try:
                used.update(s["name"] for s in Manifest.read(folder / "manifest.json").segments)
            except IndexIncompatible:
                pass
        else:
            shutil.rmtree(folder, ignore_errors=True)
    segments = index_dir / SEGMENTS
    for folder in segments.iterdir() if segments.is_dir() else ():
        if folder.name not in used:
            shutil.rmtree(folder, ignore_errors=True)
    for leftover in index_dir.glob(f".{CURRENT}.*"):
        leftover.unlink(missing_ok=True)


def read_documents(folder: Path) -> list[dict]:
    """Every served document of a build (id, file, title, date, speaker, occasion, passages), from SQLite alone."""
    import sqlite3

    folder = Path(folder)
    manifest = Manifest.read(folder / "manifest.json")
    found = []
    for entry in manifest.segments:
        path = folder.parent.parent / SEGMENTS / entry["name"] / "passages.sqlite"
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT doc_id, source, title, date, speaker, occasion, paragraphs FROM documents "
                               "ORDER BY rowid").fetchall()
        finally:
            con.close()
        keys = ("doc_id", "source", "title", "date", "speaker", "occasion", "passages")
        deleted = set(entry["deleted"])
        found += [dict(zip(keys, r)) for r in rows if r[0] not in deleted]
    return sorted(found, key=lambda d: d["source"])


class IndexReader:
    """A loaded build: its segments side by side in one row space, deleted documents masked out.

    Rows are global: segment i's local row r is row offsets[i] + r. Only live rows are ever returned.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.manifest = Manifest.read(self.folder / "manifest.json")
        self.segments: list[SegmentReader] = []
        try:
            for entry in self.manifest.segments:
                self.segments.append(SegmentReader(self.folder.parent.parent / SEGMENTS / entry["name"]))
            for segment in self.segments:
                if segment.meta["dim"] != self.manifest.dim:
                    raise ValueError(f"segment {segment.name}: dimension {segment.meta['dim']}")
        except Exception as exc:  # faiss, sqlite and numpy each fail their own way on a damaged build
            self.close()
            raise IndexIncompatible(index_dir=str(folder), reason=f"{type(exc).__name__}: {exc}") from None
        sizes = [s.size for s in self.segments]
        self.offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        self.live = np.ones(int(self.offsets[-1]), dtype=bool)
        self._window_live = []
        for i, (segment, entry) in enumerate(zip(self.segments, self.manifest.segments)):
            dead = segment.rows_of(entry["deleted"])
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
    def open(cls, index_dir: Path) -> "IndexReader":
        folder = current_build(index_dir)
        if folder is None:
            raise IndexMissing(index_dir=str(index_dir))
        return cls(folder)

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
        deleted = {d for entry in self.manifest.segments for d in entry["deleted"]}
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
        deleted = {d for entry in self.manifest.segments for d in entry["deleted"]}
        with self._lock:
            return [(doc, sha) for s in self.segments for doc, sha in s.documents_of("WHERE source = ?", (source,))
                    if doc.doc_id not in deleted]

    def close(self) -> None:
        for segment in self.segments:
            segment.close()
