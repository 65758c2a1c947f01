"""The index folder on disk: builds written beside each other, switched atomically via CURRENT.

Layout::

    index/CURRENT                 name of the serving build (replaced with os.replace)
    index/builds/<id>/manifest.json
    index/builds/<id>/vectors.faiss   one row per embedded window
    index/builds/<id>/passages.sqlite documents, passages, sentences and windows (offsets in paragraphs)
    index/builds/<id>/bm25/           bm25s arrays and vocabulary (JSON and .npy, no pickle)
    index/embeddings/<model>.sqlite   vectors by text hash, written as they are made: never embed twice
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

import numpy as np

from .errors import IndexIncompatible, IndexMissing
from .keyword import KeywordIndex
from .manifest import Manifest
from .records import Document, Filters, Paragraph, Passage, Span

CURRENT = "CURRENT"
BUILDS = "builds"

_SCHEMA = """
CREATE TABLE documents (doc_id TEXT PRIMARY KEY, source TEXT, title TEXT, date TEXT,
                        sha256 TEXT, paragraphs INTEGER, dropped TEXT, speaker TEXT, occasion TEXT);
CREATE INDEX documents_source ON documents(source);
CREATE TABLE passages (row INTEGER PRIMARY KEY, passage_id TEXT UNIQUE, doc_id TEXT, source TEXT,
                       title TEXT, date TEXT, section_path TEXT, paragraph INTEGER, text TEXT, point TEXT);
CREATE TABLE sentences (passage_row INTEGER, ordinal INTEGER, start INTEGER, "end" INTEGER,
                        PRIMARY KEY (passage_row, ordinal));
CREATE TABLE windows (row INTEGER PRIMARY KEY, passage_row INTEGER, start INTEGER, "end" INTEGER, text_hash TEXT);
CREATE INDEX windows_passage ON windows(passage_row);
CREATE INDEX passages_source ON passages(source);
"""


def current_build(index_dir: Path) -> Path | None:
    """The folder of the serving build, or None when nothing was built yet."""
    pointer = Path(index_dir) / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    folder = Path(index_dir) / BUILDS / name
    return folder if name and folder.is_dir() else None


def write_build(
    index_dir: Path,
    manifest: Manifest,
    documents: Iterable[tuple[Document, str]],
    passages: list[tuple[Passage, str]],
    window_hashes: list[tuple[int, str]],
    vectors: np.ndarray,
    keyword: KeywordIndex,
) -> Path:
    """Write a complete new build beside the old one, then switch CURRENT to it atomically.

    documents: (document, sha256); passages: (passage, source); window_hashes: (passage row, text hash)
    for every window of every passage, in passage order.
    A crash before the final os.replace leaves the previous build serving.
    """
    import faiss

    index_dir = Path(index_dir)
    builds = index_dir / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    name = f"{stamp}-{uuid.uuid4().hex[:8]}"
    tmp = builds / f".tmp-{name}"
    tmp.mkdir()

    flat = faiss.IndexFlatIP(manifest.dim)
    if len(vectors):
        flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(flat, str(tmp / "vectors.faiss"))
    _write_sqlite(tmp / "passages.sqlite", documents, passages, window_hashes)
    keyword.save(tmp / "bm25")
    manifest.write(tmp / "manifest.json")
    _fsync_tree(tmp)

    final = builds / name
    os.replace(tmp, final)
    pointer_tmp = index_dir / f".{CURRENT}.{name}"
    pointer_tmp.write_text(name + "\n", encoding="utf-8")
    _fsync_file(pointer_tmp)
    previous = current_build(index_dir)
    os.replace(pointer_tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    prune(index_dir, keep={name, previous.name if previous else ""})
    return final


def read_documents(folder: Path) -> list[dict]:
    """Every document of a build: id, file, title, date, speaker, occasion and passage count, in file order."""
    con = sqlite3.connect(f"file:{Path(folder) / 'passages.sqlite'}?mode=ro", uri=True)
    try:
        return _documents(con)
    finally:
        con.close()


def _documents(con) -> list[dict]:
    rows = con.execute(
        "SELECT doc_id, source, title, date, speaker, occasion, paragraphs FROM documents ORDER BY source, rowid"
    ).fetchall()
    keys = ("doc_id", "source", "title", "date", "speaker", "occasion", "passages")
    return [dict(zip(keys, r)) for r in rows]


def prune(index_dir: Path, keep: set[str]) -> None:
    """Remove builds other than `keep` (the serving one and its predecessor, still open elsewhere)."""
    builds = Path(index_dir) / BUILDS
    for folder in builds.iterdir() if builds.is_dir() else ():
        if folder.name not in keep:
            shutil.rmtree(folder, ignore_errors=True)


def _write_sqlite(path, documents, passages, window_hashes) -> None:
    con = sqlite3.connect(path)
    try:
        con.executescript(_SCHEMA)
        con.executemany(
            "INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (d.doc_id, d.source, d.title, d.date, sha, len(d.paragraphs), json.dumps(d.dropped, ensure_ascii=False),
                 d.speaker, d.occasion)
                for d, sha in documents
            ],
        )
        con.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (row, p.passage_id, p.doc_id, source, p.title, p.date,
                 json.dumps(p.section_path, ensure_ascii=False), p.paragraph, p.text, p.point)
                for row, (p, source) in enumerate(passages)
            ],
        )
        con.executemany(
            "INSERT INTO sentences VALUES (?,?,?,?)",
            [(row, i, s.start, s.end) for row, (p, _) in enumerate(passages) for i, s in enumerate(p.sentences)],
        )
        spans = [w for p, _ in passages for w in p.windows]
        con.executemany(
            "INSERT INTO windows VALUES (?,?,?,?,?)",
            [(row, prow, w.start, w.end, h) for row, ((prow, h), w) in enumerate(zip(window_hashes, spans))],
        )
        con.commit()
    finally:
        con.close()


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            _fsync_file(path)
    _fsync_dir(folder)


class IndexReader:
    """A loaded build: vectors in FAISS, BM25 in memory, passages read from SQLite on demand."""

    def __init__(self, folder: Path) -> None:
        import faiss

        self.folder = folder
        self.manifest = Manifest.read(folder / "manifest.json")
        try:
            self.vectors = faiss.read_index(str(folder / "vectors.faiss"))
            self._con = sqlite3.connect(f"file:{folder / 'passages.sqlite'}?mode=ro", uri=True, check_same_thread=False)
            tables = {r[0] for r in self._con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if missing := {"documents", "passages", "sentences", "windows"} - tables:
                raise ValueError(f"tables missing: {', '.join(sorted(missing))}")
            rows = self._con.execute("SELECT passage_row FROM windows ORDER BY row").fetchall()
            self.size = self._con.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
            dates = self._con.execute("SELECT date FROM passages ORDER BY row").fetchall()
            self.keyword = KeywordIndex.load(folder / "bm25", self.size)
        except Exception as exc:  # faiss, sqlite and bm25s each fail their own way on a damaged build
            raise IndexIncompatible(index_dir=str(folder), reason=f"{type(exc).__name__}: {exc}") from None
        self.window_passage = np.array([r[0] for r in rows], dtype=np.int64)
        # the year of each passage's document (0 when undated), for questions that name a year
        self.row_year = np.array([int(d[:4]) if d and d[:4].isdigit() else 0 for (d,) in dates], dtype=np.int32)
        if self.vectors.d != self.manifest.dim or self.vectors.ntotal != len(self.window_passage):
            raise IndexIncompatible(index_dir=str(folder), reason="vector count or dimension does not match")
        self._lock = threading.Lock()

    @classmethod
    def open(cls, index_dir: Path) -> "IndexReader":
        folder = current_build(index_dir)
        if folder is None:
            raise IndexMissing(index_dir=str(index_dir))
        return cls(folder)

    def rows_matching(self, filters: Filters) -> np.ndarray:
        """Passage rows of the documents a filter admits: title, file name or id containing filters.doc, and a
        date within filters.years (documents without a date are left out by a year filter)."""
        where, args = [], []
        if filters.doc:
            where.append("(instr(title, ?) > 0 OR instr(source, ?) > 0 OR doc_id LIKE ? || '%')")
            args += [filters.doc, filters.doc, filters.doc]
        if filters.years is not None:
            where.append("CAST(substr(date, 1, 4) AS INTEGER) BETWEEN ? AND ?")
            args += list(filters.years)
        sql = "SELECT row FROM passages" + (" WHERE " + " AND ".join(where) if where else "")
        with self._lock:
            return np.array([r[0] for r in self._con.execute(sql, args)], dtype=np.int64)

    def documents(self) -> list[dict]:
        """Every indexed document (see read_documents)."""
        with self._lock:
            return _documents(self._con)

    def passage(self, row: int) -> Passage:
        return self._passages("WHERE row = ?", (row,))[0]

    def passages_of(self, source: str) -> list[Passage]:
        return self._passages("WHERE source = ? ORDER BY row", (source,))

    def documents_of(self, source: str) -> list[tuple[Document, str]]:
        """The documents indexed from one source file, with that file's hash as it was then."""
        with self._lock:
            rows = self._con.execute(
                "SELECT doc_id, title, date, sha256, dropped, speaker, occasion FROM documents WHERE source = ? "
                "ORDER BY rowid", (source,)
            ).fetchall()
        found = []
        for doc_id, title, date, sha, dropped, speaker, occasion in rows:
            passages = self._passages("WHERE doc_id = ? ORDER BY row", (doc_id,))
            paragraphs = tuple(
                Paragraph(p.section_path, p.paragraph, p.text, key=p.passage_id, point=p.point) for p in passages
            )
            doc = Document(doc_id, source, title, date, paragraphs, dropped=tuple(json.loads(dropped)),
                           speaker=speaker, occasion=occasion)
            found.append((doc, sha))
        return found

    def _passages(self, where: str, args: tuple) -> list[Passage]:
        with self._lock:
            rows = self._con.execute(
                f"SELECT row, passage_id, doc_id, title, date, section_path, paragraph, text, point FROM passages {where}",
                args,
            ).fetchall()
            spans = {}
            for table in ("sentences", "windows"):
                for prow, a, b in self._con.execute(
                    f'SELECT passage_row, start, "end" FROM {table} WHERE passage_row IN '
                    f"({','.join('?' * len(rows))}) ORDER BY passage_row, start",
                    [r[0] for r in rows],
                ):
                    spans.setdefault((table, prow), []).append(Span(a, b))
        return [
            Passage(
                passage_id=r[1], doc_id=r[2], title=r[3], date=r[4],
                section_path=tuple(json.loads(r[5])), paragraph=r[6], text=r[7],
                sentences=tuple(spans.get(("sentences", r[0]), ())),
                windows=tuple(spans.get(("windows", r[0]), ())),
                point=r[8],
            )
            for r in rows
        ]

    def close(self) -> None:
        self._con.close()


class EmbeddingCache:
    """Vectors by text hash for one model, committed batch by batch beside the builds.

    A build that fails or is killed half-way keeps what it embedded; the next one starts from there.
    """

    def __init__(self, index_dir: Path, model: str, dim: int) -> None:
        folder = Path(index_dir) / "embeddings"
        folder.mkdir(parents=True, exist_ok=True)
        slug = hashlib.sha256(model.encode("utf-8")).hexdigest()[:16]
        self._con = sqlite3.connect(folder / f"{slug}-{dim}.sqlite")
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("CREATE TABLE IF NOT EXISTS vectors (hash TEXT PRIMARY KEY, vector BLOB)")
        self._con.execute("CREATE TABLE IF NOT EXISTS model (name TEXT, dim INTEGER)")
        if self._con.execute("SELECT COUNT(*) FROM model").fetchone()[0] == 0:
            self._con.execute("INSERT INTO model VALUES (?, ?)", (model, dim))
        self._con.commit()
        self.dim = dim

    def get_many(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = list(dict.fromkeys(hashes))
        found = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self._con.execute(
                f"SELECT hash, vector FROM vectors WHERE hash IN ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
            found.update((h, np.frombuffer(blob, dtype=np.float32)) for h, blob in rows if len(blob) == 4 * self.dim)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        self._con.executemany(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
            [(h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()],
        )
        self._con.commit()

    def prune(self, keep: set[str]) -> None:
        """Forget vectors of texts that no build uses any more."""
        self._con.execute("CREATE TEMP TABLE IF NOT EXISTS keep (hash TEXT PRIMARY KEY)")
        self._con.execute("DELETE FROM keep")
        self._con.executemany("INSERT OR IGNORE INTO keep VALUES (?)", [(h,) for h in keep])
        self._con.execute("DELETE FROM vectors WHERE hash NOT IN (SELECT hash FROM keep)")
        self._con.commit()

    def close(self) -> None:
        self._con.close()
