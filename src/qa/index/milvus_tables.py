"""A Milvus build's own files: which rows and documents it serves, and the BM25 statistics over them.

Layout of ``index/builds/<id>/`` beside manifest.json::

    documents.json   the documents by ordinal (the `doc` field in Milvus): id, file, title, date, ...
    rows/*.npy       per passage row (the `row` field): year, document, tie-break key, BM25 length, windows, live
    vocab/*.npy      per term id (the sparse dimension): its 64-bit hash and how many live passages hold it

Rows and ordinals only grow within one collection; a removed document's rows stay in the tables, not live. All
NumPy and JSON: nothing is pickled.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.search.bm25 import B, K1, term_hashes

_ROWS = ("year", "doc", "key", "length", "windows", "live")
_VOCAB = ("hashes", "df")


@dataclass
class Tables:
    year: np.ndarray  # int32
    doc: np.ndarray  # int32: document ordinal
    key: np.ndarray  # int64: hash of the passage id (ties broken as our own index breaks them)
    length: np.ndarray  # int32: BM25 tokens
    windows: np.ndarray  # int32: embedded windows
    live: np.ndarray  # bool
    hashes: np.ndarray  # uint64: term hash by term id
    df: np.ndarray  # int64: live passages holding the term
    documents: list[dict]  # by ordinal; "live" says whether this build serves it

    @classmethod
    def empty(cls) -> "Tables":
        z = np.zeros(0, np.int32)
        return cls(z, z, np.zeros(0, np.int64), z, z, np.zeros(0, bool), np.zeros(0, np.uint64),
                   np.zeros(0, np.int64), [])

    def save(self, folder: Path) -> None:
        for sub, names in (("rows", _ROWS), ("vocab", _VOCAB)):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            for name in names:
                np.save(folder / sub / f"{name}.npy", getattr(self, name), allow_pickle=False)
        (folder / "documents.json").write_text(json.dumps(self.documents, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> "Tables":
        arrays = {name: np.load(folder / "rows" / f"{name}.npy", allow_pickle=False) for name in _ROWS}
        arrays.update({name: np.load(folder / "vocab" / f"{name}.npy", allow_pickle=False) for name in _VOCAB})
        documents = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
        tables = cls(**arrays, documents=documents)
        if not len(tables.year) == len(tables.doc) == len(tables.live) == len(tables.key):
            raise ValueError("row tables of different lengths")
        return tables

    def copy(self) -> "Tables":
        return Tables(*(np.array(getattr(self, n)) for n in (*_ROWS, *_VOCAB)),
                      documents=[dict(d) for d in self.documents])

    @property
    def avgdl(self) -> float:
        """Mean BM25 length of the live passages, as our own BM25 computes it (float32)."""
        size = int(self.live.sum())
        return float(np.float32(self.length[self.live].astype(np.float32).sum(dtype=np.float64) / size)) if size else 1.0


class Vocabulary:
    """Term hash -> term id (the sparse dimension) of a build, looked up in a sorted copy."""

    def __init__(self, hashes: np.ndarray) -> None:
        self._order = np.argsort(hashes, kind="stable")
        self._sorted = hashes[self._order]

    def ids(self, hashed: np.ndarray) -> np.ndarray:
        """The term id of each hash, -1 where the build has no such term."""
        hashed = np.asarray(hashed, dtype=np.uint64)
        at = np.searchsorted(self._sorted, hashed)
        found = np.full(len(hashed), -1, np.int64)
        ok = at < len(self._sorted)
        ok[ok] = self._sorted[at[ok]] == hashed[ok]
        found[ok] = self._order[at[ok]]
        return found


def idf(df: int, size: int) -> float:
    """Our BM25's idf (search/bm25.py): 0 for a term no live passage has."""
    return math.log(1 + (size - df + 0.5) / (df + 0.5)) if df else 0.0


def saturated(tfs: np.ndarray, lengths: np.ndarray, avgdl: float) -> np.ndarray:
    """tf / (tf + k1 (1 - b + b dl / avgdl)) in float32, exactly as our own BM25 computes it."""
    norm = np.float32(K1) * (np.float32(1 - B) + np.float32(B) * lengths.astype(np.float32) / np.float32(avgdl))
    tfs = tfs.astype(np.float32)
    return tfs / (tfs + norm)


def query_terms(tokens, vocab: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
    """(term ids the build knows, how often each is in the question) of a question's tokens."""
    unique, repeats = np.unique(term_hashes(list(tokens)), return_counts=True)
    ids = vocab.ids(unique)
    keep = ids >= 0
    return ids[keep], repeats[keep]
