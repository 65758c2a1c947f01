"""A segment opened for reading: vectors and arrays memory-mapped, passages read from SQLite on demand."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Iterable

import numpy as np

from qa.index.segment import FORMAT
from qa.records import Document, Filters, Paragraph, Passage, Span
from qa.search.bm25 import Postings


_PASSAGE_COLUMNS = ("row", "passage_id", "doc_id", "title", "date", "section_path", "paragraph", "text", "point")


class SegmentReader:
    """A segment opened for reading: vectors and arrays memory-mapped, passages read from SQLite on demand."""

    def __init__(self, folder: Path) -> None:
        import faiss

        self.folder = Path(folder)
        self.name = self.folder.name
        self.meta = json.loads((self.folder / "meta.json").read_text(encoding="utf-8"))
        if self.meta.get("format") != FORMAT:
            raise ValueError(f"segment {self.name}: format {self.meta.get('format')}, expected {FORMAT}")
        flag = faiss.IO_FLAG_MMAP_IFC if self.meta["vector_index"].startswith("flat") else faiss.IO_FLAG_MMAP
        self.vectors = faiss.read_index(str(self.folder / "vectors.faiss"), flag)
        self.window_passage = np.load(self.folder / "window_passage.npy", mmap_mode="r", allow_pickle=False)
        self.passage_year = np.load(self.folder / "passage_year.npy", allow_pickle=False)
        self.passage_key = np.load(self.folder / "passage_key.npy", allow_pickle=False)
        self.postings = Postings.load(self.folder / "postings")
        self.con = sqlite3.connect(f"file:{self.folder / 'passages.sqlite'}?mode=ro", uri=True,
                                   check_same_thread=False)
        self.size = int(self.meta["passages"])
        if self.vectors.ntotal != len(self.window_passage) or len(self.passage_year) != self.size:
            raise ValueError(f"segment {self.name}: vector, window and passage counts do not match")

    def rows_of(self, doc_ids: Iterable[str]) -> np.ndarray:
        """Local rows of these documents' passages."""
        ids, found = list(doc_ids), []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            found += self.con.execute(
                f"SELECT row FROM passages WHERE doc_id IN ({','.join('?' * len(chunk))})", chunk).fetchall()
        return np.array([r[0] for r in found], dtype=np.int64)

    def rows_matching(self, filters: Filters) -> np.ndarray:
        """Local rows of the documents a filter admits (see IndexReader.rows_matching)."""
        where, args = [], []
        if filters.doc:
            where.append("(instr(title, ?) > 0 OR instr(source, ?) > 0 OR doc_id LIKE ? || '%')")
            args += [filters.doc, filters.doc, filters.doc]
        if filters.years is not None:
            where.append("CAST(substr(date, 1, 4) AS INTEGER) BETWEEN ? AND ?")
            args += list(filters.years)
        sql = "SELECT row FROM passages" + (" WHERE " + " AND ".join(where) if where else "")
        return np.array([r[0] for r in self.con.execute(sql, args)], dtype=np.int64)

    def documents(self) -> list[dict]:
        rows = self.con.execute(
            "SELECT doc_id, source, title, date, speaker, occasion, paragraphs FROM documents ORDER BY source, rowid"
        ).fetchall()
        keys = ("doc_id", "source", "title", "date", "speaker", "occasion", "passages")
        return [dict(zip(keys, r)) for r in rows]

    def window_hashes(self) -> list[str]:
        return [r[0] for r in self.con.execute("SELECT text_hash FROM windows ORDER BY row")]

    def vectors_of(self, windows: np.ndarray) -> np.ndarray:
        """The stored vectors of these windows (fp16 codes, decoded exactly as float32)."""
        if not len(windows):
            return np.zeros((0, self.meta["dim"]), np.float32)
        if hasattr(self.vectors, "make_direct_map"):  # an inverted file finds vectors by id only with a map
            self.vectors.make_direct_map()
        return self.vectors.reconstruct_batch(np.asarray(windows, dtype=np.int64))

    def documents_of(self, where: str, args: tuple) -> list[tuple[Document, str]]:
        """Documents (with their file hash as it was indexed) matching a WHERE clause on the documents table."""
        rows = self.con.execute(
            f"SELECT doc_id, source, title, date, sha256, dropped, speaker, occasion FROM documents {where} "
            "ORDER BY rowid", args).fetchall()
        found = []
        for doc_id, source, title, date, sha, dropped, speaker, occasion in rows:
            passages = self.passages("WHERE doc_id = ? ORDER BY row", (doc_id,))
            paragraphs = tuple(Paragraph(p.section_path, p.paragraph, p.text, key=p.passage_id, point=p.point)
                               for _, p in passages)
            found.append((Document(doc_id, source, title, date, paragraphs, dropped=tuple(json.loads(dropped)),
                                   speaker=speaker, occasion=occasion), sha))
        return found

    def passages(self, where: str, args: tuple) -> list[tuple[int, Passage]]:
        """(local row, passage) for a WHERE clause on the passages table."""
        rows = [dict(zip(_PASSAGE_COLUMNS, r)) for r in self.con.execute(
            f"SELECT {', '.join(_PASSAGE_COLUMNS)} FROM passages {where}", args)]
        spans: dict[tuple[str, int], list[Span]] = {}
        words: dict[int, list[tuple[str, ...]]] = {}
        for start in range(0, len(rows), 500):
            chunk = [r["row"] for r in rows[start : start + 500]]
            marks = ",".join("?" * len(chunk))
            for prow, a, b, w in self.con.execute(
                f'SELECT passage_row, start, "end", words FROM sentences WHERE passage_row IN ({marks}) '
                "ORDER BY passage_row, start", chunk):
                spans.setdefault(("sentences", prow), []).append(Span(a, b))
                words.setdefault(prow, []).append(tuple(w.split("\t")) if w else ())
            for prow, a, b in self.con.execute(
                f'SELECT passage_row, start, "end" FROM windows WHERE passage_row IN ({marks}) '
                "ORDER BY passage_row, start", chunk):
                spans.setdefault(("windows", prow), []).append(Span(a, b))
        return [
            (r["row"], Passage(passage_id=r["passage_id"], doc_id=r["doc_id"], title=r["title"], date=r["date"],
                               section_path=tuple(json.loads(r["section_path"])), paragraph=r["paragraph"],
                               text=r["text"], point=r["point"],
                               sentences=tuple(spans.get(("sentences", r["row"]), ())),
                               windows=tuple(spans.get(("windows", r["row"]), ())),
                               terms=tuple(words.get(r["row"], ()))))
            for r in rows
        ]

    def close(self) -> None:
        self.con.close()
