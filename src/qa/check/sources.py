"""The indexed passages as one folded text, searched for a quotation: exact places, and candidates by 4-grams."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from qa.check.normal import fold
from qa.records import Passage

GRAM = 4  # characters per n-gram: four Chinese characters rarely repeat by chance
COMMON = 3000  # an n-gram in more places than this says nothing about where a quotation comes from
_SEPARATOR = "\x01"  # between passages: fold never produces it, so no match runs across two passages


@dataclass(frozen=True)
class Place:
    """Where folded text was found: the passage (its index in SourceCorpus.passages) and [start, end) in its
    folded text."""

    passage: int
    start: int
    end: int


def _gram_keys(codes: np.ndarray) -> np.ndarray:
    """A 64-bit key for each GRAM-character run of code points (exact: 4 × 21 bits fit)."""
    keys = np.zeros(max(len(codes) - GRAM + 1, 0), dtype=np.uint64)
    for k in range(GRAM):
        keys = (keys << np.uint64(21)) | codes[k : len(codes) - GRAM + 1 + k].astype(np.uint64)
    return keys


def _codes(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def citable(passage: Passage) -> Passage:
    """A passage with only what a citation needs: its sentences, windows and words are the answering side's."""
    return replace(passage, sentences=(), windows=(), terms=())


class SourceCorpus:
    """Every live passage of one build, folded (Simplified, one width, no spaces) and concatenated, with a sorted
    table of its 4-grams. Built once per build (about 1 s for the 193 shared documents) and read-only after."""

    def __init__(self, passages: list[Passage]) -> None:
        self.passages = passages
        folded = [fold(p.text) for p in passages]
        self.texts = [f for f, _ in folded]
        # where each folded character was: None when nothing was dropped (the same position), else int32 positions
        self.where = [None if isinstance(w, range) else np.asarray(w, dtype=np.int32) for _, w in folded]
        self.corpus = _SEPARATOR.join(self.texts)
        lengths = np.array([len(t) for t in self.texts], dtype=np.int64)
        self.starts = np.concatenate([[0], np.cumsum(lengths + 1)[:-1]]).astype(np.int64) if passages else \
            np.zeros(0, np.int64)
        keys = _gram_keys(_codes(self.corpus))
        # n-grams running across a separator never match a folded quotation (it has no separator)
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.positions = order.astype(np.int32)

    def positions_of(self, passage: int) -> Sequence[int]:
        """Where each folded character of a passage was in its text."""
        where = self.where[passage]
        return range(len(self.texts[passage])) if where is None else where

    def passage_of(self, positions):
        """The passage (its index) each corpus position falls in: an int for an int, an array for an array."""
        return np.searchsorted(self.starts, positions, side="right") - 1

    def exact(self, needle: str, limit: int = 500) -> list[Place]:
        """Every place the folded needle occurs (at most limit)."""
        found: list[Place] = []
        if not needle:
            return found
        at = self.corpus.find(needle)
        while at >= 0 and len(found) < limit:
            i = int(self.passage_of(at))
            start = at - int(self.starts[i])
            found.append(Place(i, start, start + len(needle)))
            at = self.corpus.find(needle, at + 1)
        return found

    def candidates(self, needle: str, limit: int = 10) -> list[tuple[int, int, list[tuple[int, int]]]]:
        """Passages sharing the most distinct 4-grams with the folded needle, best first: (passage, how many,
        [(position in needle, position in the passage's folded text)] of the shared 4-grams)."""
        if len(needle) < GRAM or not len(self.keys):
            return []
        wanted = _gram_keys(_codes(needle))
        lo = np.searchsorted(self.keys, wanted, side="left")
        hi = np.searchsorted(self.keys, wanted, side="right")
        votes: dict[int, set[int]] = {}
        anchors: dict[int, list[tuple[int, int]]] = {}
        for q, (a, b) in enumerate(zip(lo, hi)):
            if a == b or b - a > COMMON:
                continue
            positions = self.positions[a:b]
            owners = self.passage_of(positions)
            for owner, position in zip(owners.tolist(), positions.tolist()):
                votes.setdefault(owner, set()).add(int(wanted[q]))
                anchors.setdefault(owner, []).append((q, position - int(self.starts[owner])))
        ranked = sorted(votes, key=lambda i: (-len(votes[i]), i))[:limit]
        return [(i, len(votes[i]), anchors[i]) for i in ranked]
