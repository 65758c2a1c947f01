"""The records of a trace (a row per document, the change from the row before) and the pure rules that fill them."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from qa.check.normal import fold
from qa.records import YEARS_OPEN, Citation
from qa.trace.match import FIGURE

# Below this share of characters in common, two years' clauses are different sentences: listed as rewritten,
# not as a pile of character edits
REWRITTEN_BELOW = 0.5
# how a sentence carries the formulation, in words (as written needs no word)
HOW_LABELS = {"exact": "原样", "variant": "相近提法", "related": "相关表述"}
_NUMBERING = re.compile(r"^(?:[（(][一二三四五六七八九十\d]+[)）]|[一二三四五六七八九十]+是|第[一二三四五六七八九十]+[，、]?)")
_IGNORED = set("，。；：、！？“”‘’（）《》")


@dataclass(frozen=True)
class Occurrence:
    """One sentence carrying the formulation: how it was found (exact, variant, related), the sentence as
    written with the formulation at [start, end), the clause around it, the figure it gives, and where."""

    how: str
    sentence: str
    start: int
    end: int
    clause: str
    figure: str | None
    citation: Citation
    doc_id: str
    passage_id: str
    score: float
    offset: int = 0  # where the sentence starts in its passage's text
    follows: str | None = None  # the next paragraph's first sentence, for a sentence announcing it with ：

    @property
    def found(self) -> str:
        return self.sentence[self.start : self.end]

    @property
    def how_note(self) -> str:
        """（相近提法） or （相关表述） after a title; nothing for a sentence that has it as written."""
        return "" if self.how == "exact" else f"（{HOW_LABELS[self.how]}）"

    def to_json(self) -> dict:
        return {"how": self.how, "sentence": self.sentence, "start": self.start, "end": self.end,
                "found": self.found, "clause": self.clause, "figure": self.figure, "follows": self.follows, "doc_id": self.doc_id,
                "passage_id": self.passage_id, "passage_start": self.offset + self.start,
                "passage_end": self.offset + self.end, "citation": self.citation.render(),
                "citation_line": self.citation.quote_line(self.sentence), "score": round(self.score, 4)}


@dataclass(frozen=True)
class Change:
    """What changed from the previous document carrying the formulation: characters added and removed in its
    clause (or rewritten when little is shared), and the figure before and after when it changed."""

    since: str  # the previous row's label (its year, or date)
    same: bool
    rewritten: bool = False
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    figure_before: str | None = None
    figure_after: str | None = None

    @property
    def figure_changed(self) -> bool:
        return _figure(self.figure_before) != _figure(self.figure_after)

    def parts(self) -> list[tuple[str, tuple[str, ...]]]:
        """What to say, in order: ("same" | "rewritten", ()), ("added", texts), ("removed", texts),
        ("figure", (before, after)) or ("figure_kept", (figure,))."""
        parts: list[tuple[str, tuple[str, ...]]] = []
        if self.same or self.rewritten:
            parts.append(("same" if self.same else "rewritten", ()))
        parts += [(name, texts) for name, texts in (("added", self.added), ("removed", self.removed)) if texts]
        if self.figure_changed:
            parts.append(("figure", (self.figure_before or "无", self.figure_after or "无")))
        elif self.figure_after and self.same:
            parts.append(("figure_kept", (self.figure_after,)))
        return parts

    def summary(self) -> str:
        """The change in words: 较2023年：增加“…”；删去“…”；数字 5%左右 → 4.5%-5%."""
        words = {"same": lambda _: "提法相同", "rewritten": lambda _: "表述改写",
                 "added": lambda t: "增加" + "、".join(f"“{a}”" for a in t),
                 "removed": lambda t: "删去" + "、".join(f"“{r}”" for r in t),
                 "figure": lambda t: f"数字 {t[0]} → {t[1]}", "figure_kept": lambda t: f"（{t[0]}）"}
        said = "；".join(words[name](texts) for name, texts in self.parts())
        return f"较{self.since}：" + said.replace("；（", "（")

    def to_json(self) -> dict:
        return {"summary": self.summary(), "since": self.since, "same": self.same, "rewritten": self.rewritten, "added": list(self.added),
                "removed": list(self.removed), "figure_before": self.figure_before,
                "figure_after": self.figure_after, "figure_changed": self.figure_changed}


@dataclass(frozen=True)
class TraceRow:
    """One document in year order: its sentences carrying the formulation (the best first) and the change
    from the previous row."""

    doc_id: str
    title: str
    date: str | None
    year: int
    kind: str
    occurrences: tuple[Occurrence, ...]
    change: Change | None = None

    @property
    def label(self) -> str:
        return f"{self.year}年"

    @property
    def main(self) -> Occurrence:
        return self.occurrences[0]

    def to_json(self) -> dict:
        return {"doc_id": self.doc_id, "title": self.title, "date": self.date, "year": self.year,
                "kind": self.kind, "occurrences": [o.to_json() for o in self.occurrences],
                "change": self.change.to_json() if self.change else None}


@dataclass(frozen=True)
class Trace:
    """A formulation through the documents in scope: rows in year order, the years with documents in scope but
    without it, its first and last year, and a notice (with suggestions) when there is nothing to show."""

    phrase: str
    rows: tuple[TraceRow, ...] = ()
    absent: tuple[int, ...] = ()
    documents: int = 0  # documents in scope
    kind: str | None = None
    years: tuple[int, int] | None = None
    notice: str | None = None  # trace_not_found, trace_no_documents, empty_index
    suggestions: tuple[str, ...] = field(default_factory=tuple)
    seconds: float = 0.0

    @property
    def first(self) -> int | None:
        return self.rows[0].year if self.rows else None

    def scope(self) -> str:
        """The documents looked at, in words: 2015—2025年的政府工作报告, 2015年以来的文档, 已索引的文档."""
        years, kind = self.years, self.kind
        if not years:
            return kind or "已索引的文档"
        if years[0] == years[1]:
            span = f"{years[0]}年"
        elif years[0] <= YEARS_OPEN[0]:
            span = f"{years[1]}年以前"
        elif years[1] >= YEARS_OPEN[1]:
            span = f"{years[0]}年以来"
        else:
            span = f"{years[0]}—{years[1]}年"
        return f"{span}的{kind or '文档'}"

    def summary(self) -> list[str]:
        """The span in words: where and how often it appears, first and last year, then the years without it."""
        years = len({r.year for r in self.rows})
        lines = [f"“{self.phrase}”在{self.scope()}中：{len(self.rows)} 篇文档、{years} 个年份出现，"
                 f"最早 {self.first} 年，最近 {self.last} 年。"]
        if self.absent:
            lines.append(f"没有出现的年份：{'、'.join(str(y) for y in self.absent)}。")
        return lines

    @property
    def last(self) -> int | None:
        return self.rows[-1].year if self.rows else None

    def to_json(self) -> dict:
        years = [None if y in YEARS_OPEN else y for y in self.years] if self.years else None  # open ends
        return {"phrase": self.phrase, "kind": self.kind, "years": years,
                "documents": self.documents, "first": self.first, "last": self.last, "absent": list(self.absent),
                "rows": [r.to_json() for r in self.rows], "notice": self.notice,
                "suggestions": list(self.suggestions), "seconds": round(self.seconds, 4)}


def closest_before(before: tuple[Occurrence, ...], after: Occurrence) -> Occurrence:
    """Of the previous year's sentences, the one put most like this year's: what the year's wording is compared
    with (a report that names it in its review and in its plan is compared plan to plan)."""
    target = _compared(after.clause)
    return max(before, key=lambda o: Levenshtein.normalized_similarity(_compared(o.clause), target))


def change_between(before: Occurrence, after: Occurrence, since: str) -> Change:
    """The change from one year's formulation to the next: the clauses compared character by character
    (folded, punctuation aside), and the figures."""
    a, b = _compared(before.clause), _compared(after.clause)
    figures = dict(figure_before=before.figure, figure_after=after.figure)
    if a == b:
        return Change(since, same=True, **figures)
    similarity = Levenshtein.normalized_similarity(a, b)
    if similarity < REWRITTEN_BELOW:
        return Change(since, same=False, rewritten=True, **figures)
    added, removed = [], []
    for op in Levenshtein.opcodes(a, b):
        if op.tag in ("delete", "replace"):
            removed.append(a[op.src_start : op.src_end])
        if op.tag in ("insert", "replace"):
            added.append(b[op.dest_start : op.dest_end])
    return Change(since, same=False, added=tuple(added), removed=tuple(removed), **figures)


def _compared(clause: str) -> str:
    """A clause as compared between years: folded, without punctuation, a leading number ((一), 一是) or figures."""
    # figures are compared on their own (数字 6%以上 → 5.5%左右), not as characters added and removed
    folded = FIGURE.sub("#", _NUMBERING.sub("", fold(clause)[0]))
    return "".join(ch for ch in folded if ch not in _IGNORED)


def _figure(text: str | None) -> str | None:
    return fold(text)[0].replace("－", "-").replace("—", "-") if text else None


def absent_years(scope_years: set[int], found_years: set[int]) -> tuple[int, ...]:
    """Years with a document in scope and none carrying the formulation."""
    return tuple(sorted(scope_years - found_years))
