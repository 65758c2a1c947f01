"""BM25 over segments: term postings stored per segment, statistics taken over the live passages at query time.

Scores equal bm25s's ("lucene": idf = ln(1 + (N - df + 0.5) / (df + 0.5)), tf / (tf + k1 (1 - b + b dl/avgdl)),
with k1 1.0 and b 0.3) for the passages the index serves, however they are split into segments; that is what lets a
document be added or removed without re-scoring the others. Terms are looked up by a 64-bit hash in a sorted
array, so a segment loads by memory mapping, without a vocabulary to parse.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

# bm25s's defaults are k1 1.5, b 0.75. Less length normalisation suits speeches, whose long paragraphs are long
# because they say more, not because they repeat (speech dev R@1 0.793 -> 0.820, DRCD dev 0.9554 -> 0.9574,
# CMRC2018 dev 0.9885 -> 0.9876; docs/EVALUATION.md). Applied when an index is opened: nothing is re-indexed.
K1, B = 1.0, 0.3
_FILES = ("hashes", "ptr", "rows", "tfs", "lengths")


def term_hashes(terms: Sequence[str]) -> np.ndarray:
    """64-bit BLAKE2b hashes of terms (collisions: about 1 in 10^8 for a million distinct terms)."""
    return np.fromiter(
        (int.from_bytes(hashlib.blake2b(t.encode("utf-8"), digest_size=8).digest(), "little") for t in terms),
        dtype=np.uint64, count=len(terms),
    )


@dataclass(frozen=True)
class Postings:
    """One segment's inverted index: for each term hash (sorted), the rows holding it and how often."""

    hashes: np.ndarray  # uint64, sorted, unique
    ptr: np.ndarray  # int64, len(hashes) + 1: term i's postings are rows[ptr[i]:ptr[i+1]]
    rows: np.ndarray  # int32 local passage rows, ascending within a term
    tfs: np.ndarray  # uint16 term frequency (saturates at 65535; BM25 is flat long before)
    lengths: np.ndarray  # int32 tokens per passage

    @classmethod
    def build(cls, token_lists: Sequence[Sequence[str]]) -> "Postings":
        vocab: dict[str, int] = {}
        ids: list[int] = []
        for tokens in token_lists:
            ids.extend(vocab.setdefault(t, len(vocab)) for t in tokens)
        lengths = np.fromiter((len(t) for t in token_lists), dtype=np.int32, count=len(token_lists))
        rows = np.repeat(np.arange(len(token_lists), dtype=np.int64), lengths)
        hashes = term_hashes(list(vocab))
        return cls.from_pairs(hashes[np.asarray(ids, dtype=np.int64)], rows, np.ones(len(rows), np.int64), lengths)

    @classmethod
    def from_pairs(cls, hashes: np.ndarray, rows: np.ndarray, counts: np.ndarray, lengths: np.ndarray) -> "Postings":
        """From (term hash, row, count) triples, repeats allowed: they are summed."""
        if len(hashes) == 0:
            return cls.empty(lengths)
        order = np.lexsort((rows, hashes))
        hashes, rows, counts = hashes[order], rows[order], counts[order]
        new = np.ones(len(hashes), dtype=bool)
        new[1:] = (hashes[1:] != hashes[:-1]) | (rows[1:] != rows[:-1])
        starts = np.flatnonzero(new)
        tfs = np.add.reduceat(counts, starts)
        hashes, rows = hashes[starts], rows[starts]
        term_start = np.ones(len(hashes), dtype=bool)
        term_start[1:] = hashes[1:] != hashes[:-1]
        firsts = np.flatnonzero(term_start)
        return cls(hashes[firsts], np.append(firsts, len(hashes)).astype(np.int64), rows.astype(np.int32),
                   np.minimum(tfs, 65535).astype(np.uint16), np.asarray(lengths, dtype=np.int32))

    @classmethod
    def empty(cls, lengths=()) -> "Postings":
        return cls(np.zeros(0, np.uint64), np.zeros(1, np.int64), np.zeros(0, np.int32), np.zeros(0, np.uint16),
                   np.asarray(lengths, dtype=np.int32))

    def lookup(self, hashed: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, tfs) of one term hash; empty arrays when the segment does not have it."""
        i = int(np.searchsorted(self.hashes, np.uint64(hashed)))
        if i == len(self.hashes) or self.hashes[i] != np.uint64(hashed):
            return self.rows[:0], self.tfs[:0]
        return self.rows[self.ptr[i] : self.ptr[i + 1]], self.tfs[self.ptr[i] : self.ptr[i + 1]]

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name in _FILES:
            np.save(folder / f"{name}.npy", getattr(self, name), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> "Postings":
        """Memory-mapped: only the pages a question touches are read."""
        return cls(*(np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False) for name in _FILES))


def merge(parts: Sequence[tuple[Postings, np.ndarray]]) -> Postings:
    """One Postings from several, each with the map of its local rows to new rows (-1: row dropped).

    The maps must keep order (part after part, rows ascending within each), as merging segments does: then a
    stable sort by term is all it takes, and memory stays a few bytes per posting."""
    hashes, rows, tfs = [], [], []
    total = sum(int((new_row >= 0).sum()) for _, new_row in parts)
    lengths = np.zeros(total, np.int32)
    for postings, new_row in parts:
        kept = new_row >= 0
        lengths[new_row[kept]] = postings.lengths[kept]
        mapped = new_row[np.asarray(postings.rows)]
        keep = mapped >= 0
        hashes.append(np.repeat(np.asarray(postings.hashes), np.diff(postings.ptr))[keep])
        rows.append(mapped[keep].astype(np.int32))
        tfs.append(np.asarray(postings.tfs)[keep])
    if not hashes or not sum(len(h) for h in hashes):
        return Postings.empty(lengths)
    hashes, rows, tfs = np.concatenate(hashes), np.concatenate(rows), np.concatenate(tfs)
    order = np.argsort(hashes, kind="stable")
    hashes, rows, tfs = hashes[order], rows[order], tfs[order]
    firsts = np.flatnonzero(np.concatenate([[True], hashes[1:] != hashes[:-1]]))
    return Postings(hashes[firsts], np.append(firsts, len(hashes)).astype(np.int64), rows, tfs, lengths)


class BM25:
    """Scores over several segments' postings as if they were one corpus of their live rows."""

    def __init__(self, segments: Sequence[tuple[Postings, int]], live: np.ndarray,
                 tie_keys: np.ndarray | None = None) -> None:
        """segments: (postings, offset of its rows in the global row space); live: global mask of served rows;
        tie_keys: per row, what orders equal scores (default: the row)."""
        self._segments = list(segments)
        self._live = live
        self._all_live = bool(live.all())
        self._keys = np.arange(len(live)) if tie_keys is None else tie_keys
        lengths = (np.concatenate([p.lengths for p, _ in segments]) if segments
                   else np.zeros(0, np.int32)).astype(np.float32)
        self.size = int(live.sum())
        avgdl = np.float32(lengths[live].sum(dtype=np.float64) / self.size) if self.size else np.float32(1.0)
        # the length part of each row's tf saturation, computed once: k1 (1 - b + b dl / avgdl)
        self._norm = np.float32(K1) * (np.float32(1 - B) + np.float32(B) * lengths / avgdl)

    def _postings(self, hashed: int) -> tuple[np.ndarray, np.ndarray]:
        """Global live rows holding a term, and its frequency in each (float32)."""
        rows, tfs = [], []
        for postings, offset in self._segments:
            r, t = postings.lookup(hashed)
            if len(r):
                rows.append(r + offset if offset else r)
                tfs.append(t)
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        rows = rows[0] if len(rows) == 1 else np.concatenate([r.astype(np.int64) for r in rows])
        tfs = (tfs[0] if len(tfs) == 1 else np.concatenate(tfs)).astype(np.float32)
        if self._all_live:
            return rows, tfs
        keep = self._live[rows]
        return rows[keep], tfs[keep]

    def idf(self, token: str) -> float:
        """Inverse document frequency over the live rows (0 for a token no live passage has)."""
        df = len(self._postings(int(term_hashes([token])[0]))[0])
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5)) if df else 0.0

    def ceiling(self, tokens: Sequence[str]) -> float:
        """What a passage holding every token of the question many times would score (tf saturates at 1): the sum
        of their idf, a token no passage has counted at the idf of the rarest. Scores over it compare across
        questions."""
        if self.size == 0:
            return 0.0
        rarest = math.log(1 + (self.size + 0.5) / 0.5)
        return sum(self.idf(t) or rarest for t in tokens)

    def search(self, tokens: Sequence[str], n: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(global row, score) of the best n live rows with a positive score, best first; only `allowed` rows if given.

        A token repeated in the question counts as often as it appears, as in bm25s."""
        if not tokens or self.size == 0:
            return []
        unique, repeats = np.unique(term_hashes(tokens), return_counts=True)
        scores = np.zeros(len(self._live), dtype=np.float32)
        for hashed, times in zip(unique, repeats):
            rows, tfs = self._postings(int(hashed))
            if not len(rows):
                continue
            df = len(rows)
            idf = np.float32(math.log(1 + (self.size - df + 0.5) / (df + 0.5)))
            scores[rows] += np.float32(times) * idf * (tfs / (tfs + self._norm[rows]))
        if allowed is not None:
            keep = np.zeros(len(scores), dtype=bool)
            keep[allowed] = True
            scores[~keep] = 0.0
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > n:  # the n best, and everything tied with the last of them
            nth = scores[candidates[np.argpartition(-scores[candidates], n - 1)[n - 1]]]
            candidates = candidates[scores[candidates] >= nth]
        candidates = candidates[np.lexsort((self._keys[candidates], -scores[candidates]))][:n]
        return [(int(i), float(scores[i])) for i in candidates]
