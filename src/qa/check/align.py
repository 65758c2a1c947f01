"""Character alignment of a quotation with the passage it comes from: the source's matching part and the edits."""
from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

# Shared 4-grams this far (in quotation lengths) from where most of them point still belong to the quotation:
# two swapped clauses point one clause apart; 发展 again at the paragraph's other end does not count
REACH = 1.5
# rapidfuzz names edits from the quotation to the source; a reader wants them from the source to the draft: what
# the source has and the draft lacks is a deletion, what the draft adds an insertion
_FROM_SOURCE = {"insert": "delete", "delete": "insert"}


@dataclass(frozen=True)
class Edit:
    """One step from the source to the draft: equal, insert (only in the draft), delete (only in the source) or
    replace; positions are in the folded quotation and the folded passage."""

    op: str
    draft_start: int
    draft_end: int
    source_start: int
    source_end: int


@dataclass(frozen=True)
class Alignment:
    """The part [start, end) of the passage's folded text a quotation matches, how many of the quotation's
    characters it shares in order (same) and in any order (covered: inside 4-grams the part also has), and the
    edits."""

    start: int
    end: int
    same: int
    edits: tuple[Edit, ...]
    covered: int

    def coverage(self, length: int) -> float:
        """Share of the quotation's characters inside 4-grams the source part has, in whatever order: clauses
        swapped keep it high, a sentence made of stock phrases from all over the corpus does not."""
        return self.covered / length if length else 0.0

    def similarity(self, length: int) -> float:
        """Share of the quotation's characters found, in order, in the source part."""
        return self.same / length if length else 0.0


def align(quote: str, text: str, anchors: list[tuple[int, int]], gram: int = 4) -> Alignment | None:
    """The best part of text for the folded quote: around the shared 4-grams (anchors: positions in quote and
    text), then aligned character by character; None without anchors."""
    if not anchors or not quote:
        return None
    middle = sorted(p - q for q, p in anchors)[len(anchors) // 2]
    near = [(q, p) for q, p in anchors if abs((p - q) - middle) <= REACH * len(quote)]
    lo = max(0, min(p - q for q, p in near))
    hi = min(len(text), max(p - q for q, p in near) + len(quote))
    part = text[lo:hi]
    ops = list(Levenshtein.opcodes(quote, part))
    # source characters before the first and after the last shared one are not part of what was quoted
    while ops and ops[0][0] == "insert":
        ops.pop(0)
    while ops and ops[-1][0] == "insert":
        ops.pop()
    if not ops:
        return None
    steps = [Edit(_FROM_SOURCE.get(tag, tag), a0, a1, lo + b0, lo + b1) for tag, a0, a1, b0, b1 in ops]
    start, end = steps[0].source_start, steps[-1].source_end
    same = sum(s.draft_end - s.draft_start for s in steps if s.op == "equal")
    covered = len({q + k for q, _ in near for k in range(gram)})
    return Alignment(start, end, same, tuple(steps), covered)
