"""Where a formulation sits in one sentence: as written, as a near variant, or (for a target) by its words."""
from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from qa.check.normal import fold, original_span, trim_edges
from qa.search.tokens import tokenize

# Chosen on the dev half of eval/trace.jsonl (docs/EVALUATION.md, "Issue 21")
LIGHT = "的地之和与及、，"  # characters a near variant may leave out: they join words, they do not change them
VARIANT_SPREAD = 1.5  # a variant spans at most this many times the phrase's length (稳中求进的工作总基调)
RELATED_MIN = 0.75  # share of a target phrase's characters whose words a sentence holds, in any order
GRAM = 2  # characters shared with the phrase that anchor a variant's alignment
# A phrase ending in one of these names a quantity set each year (经济增长预期目标, 赤字率): its sentence is the one
# that gives the figure, wherever the words stand in it
TARGET_ENDINGS = ("目标", "指标", "增速", "增长率", "赤字率", "涨幅", "失业率", "规模", "比重", "预期")
# a figure: a number (or a range of two) with a unit or a qualifier; years (2024年) and ordinals are not figures
FIGURE = re.compile(
    r"(?:\d+(?:\.\d+)?\s*[%％]?\s*[－—\-~～至到]\s*)?\d+(?:\.\d+)?\s*"
    r"(?:[%％](?:\s*(?:左右|以上|以内|以下|上下))?|个百分点|万亿元|万亿|亿元|亿|万人|万吨|万个|万|倍|左右|以上|以内|以下)"
)
FIGURE_REACH = 12  # characters after a formulation its figure may stand (…预期目标定在7.5%左右)
_CLAUSE_END = "，。；：！？,;:!?"


@dataclass(frozen=True)
class Phrase:
    """A formulation as searched: the folded needle, its words, and whether it names a yearly figure."""

    text: str
    needle: str
    words: tuple[str, ...]
    target: bool

    @classmethod
    def of(cls, text: str) -> "Phrase":
        folded, _ = fold(text.strip())
        needle = folded[slice(*trim_edges(folded))]
        words = tuple(dict.fromkeys(w for w in tokenize(needle) if len(w) > 1))
        return cls(text.strip(), needle, words, needle.endswith(TARGET_ENDINGS))


@dataclass(frozen=True)
class Found:
    """The formulation in one sentence: how (exact, variant, related), [start, end) in the sentence as written,
    and how close (1.0 as written)."""

    how: str
    start: int
    end: int
    score: float


def find(phrase: Phrase, sentence: str) -> Found | None:
    """The best place of the phrase in a sentence (original characters), or None."""
    folded, where = fold(sentence)
    if not phrase.needle:
        return None
    at = folded.find(phrase.needle)
    if at >= 0:
        start, end = original_span(where, at, at + len(phrase.needle), len(sentence))
        return Found("exact", start, end, 1.0)
    variant = _variant(phrase.needle, folded)
    if variant is not None:
        a, b, score = variant
        start, end = original_span(where, a, b, len(sentence))
        return Found("variant", start, end, score)
    if phrase.target:
        related = _related(phrase, folded)
        if related is not None:
            a, b, score = related
            start, end = original_span(where, a, b, len(sentence))
            return Found("related", start, end, score)
    return None


def _variant(needle: str, text: str) -> tuple[int, int, float] | None:
    """(start, end, share of the needle found in order) of a near variant in text: the needle with characters
    added inside (稳中求进的工作总基调, 西部地区大开发) or light ones left out (积极财政政策); a content character changed
    makes another formulation (全面建成小康社会 is not 全面建设小康社会, 新的生产力 not 新质生产力)."""
    if len(needle) < 4:  # two or three characters: only as written
        return None
    best = closest(needle, text)
    if best is None:
        return None
    start, end, same, missing = best
    if missing.strip(LIGHT) or end - start > len(needle) * VARIANT_SPREAD:
        return None
    return start, end, same / len(needle)


def closest(needle: str, text: str) -> tuple[int, int, int, str] | None:
    """(start, end, characters of the needle found in order, the needle's characters not found) of the part of
    text most like the needle, aligned around each place text shares a character pair with it; the part begins
    and ends with the needle's own characters."""
    anchors = {p - q for q in range(len(needle) - GRAM + 1) for p in _all(text, needle[q : q + GRAM])}
    best = None
    for offset in sorted(anchors):  # the phrase may stand twice in a sentence
        lo = max(0, offset - len(needle) // 2)
        hi = min(len(text), offset + int(len(needle) * VARIANT_SPREAD) + 1)
        ops = list(Levenshtein.opcodes(needle, text[lo:hi]))
        while ops and ops[0].tag == "insert":
            ops.pop(0)
        while ops and ops[-1].tag == "insert":
            ops.pop()
        if not ops:
            continue
        same = sum(op.src_end - op.src_start for op in ops if op.tag == "equal")
        start, end = lo + ops[0].dest_start, lo + ops[-1].dest_end
        if best is None or (same, -(end - start)) > (best[2], -(best[1] - best[0])):
            missing = "".join(needle[op.src_start : op.src_end] for op in ops if op.tag in ("delete", "replace"))
            best = (start, end, same, missing)
    return best


def _all(text: str, part: str):
    at = text.find(part)
    while at >= 0:
        yield at
        at = text.find(part, at + 1)


def _related(phrase: Phrase, text: str) -> tuple[int, int, float] | None:
    """(start, end, share) for a target phrase whose words stand in the sentence in any order, followed by a
    figure (or the sentence announcing one with ：)."""
    covered: set[int] = set()
    places = []
    for word in phrase.words:
        if word in text:
            at = phrase.needle.find(word)
            covered.update(range(at, at + len(word)))
            places.append((text.find(word), text.find(word) + len(word)))
    share = len(covered) / len(phrase.needle)
    if share < RELATED_MIN or len(places) < 2:
        return None
    start, end = min(a for a, _ in places), max(b for _, b in places)
    if figure_near(text, end) is None and not text.rstrip().endswith("："):
        return None
    # of two sentences with the same words, the one keeping more of the phrase together (主要预期目标是：…增长) leads
    run = max(_run(phrase.needle, text), 1)
    return start, end, (share + run / len(phrase.needle)) / 2


def _run(needle: str, text: str) -> int:
    """Length of the longest piece of the needle standing whole in text."""
    for size in range(len(needle), 1, -1):
        if any(needle[i : i + size] in text for i in range(len(needle) - size + 1)):
            return size
    return 0


def figure_near(sentence: str, end: int) -> str | None:
    """The first figure at most FIGURE_REACH characters after a formulation ending at end, before the next ；:
    the figure it gives (经济增长预期目标为5%左右), not one reported before it (增长11.3%，低于…的预期目标)."""
    limit = min(len(sentence), end + FIGURE_REACH)
    stop = sentence.find("；", end)
    limit = min(limit, stop) if stop >= 0 else limit
    m = FIGURE.search(sentence, end)
    return re.sub(r"\s+", "", m.group(0)) if m and m.start() < limit else None


def clause(sentence: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) of the clause around a match: from the mark before it to the mark after it (，；。：)."""
    a = max(sentence.rfind(ch, 0, start) for ch in _CLAUSE_END) + 1
    ends = [i for i in (sentence.find(ch, end) for ch in _CLAUSE_END) if i >= 0]
    b = min(ends) if ends else len(sentence)
    while a < start and sentence[a] in " \u3000“‘「":
        a += 1
    return a, max(b, end)
