"""What checking a draft found: for each quotation its verdict, the edits, and where the text appears."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from qa.check.attribution import NamedSource
from qa.check.quotations import Quotation
from qa.records import Citation

TERM_CHARS = 6  # shorter quoted spans (“四个意识”) are terms, not quotations: located, never judged
VERDICT_LABELS = {"exact": "原文一致", "altered": "有改动", "not_found": "未找到", "wrong_source": "出处不符",
                  "unchecked": "未核对"}
VERDICTS = tuple(VERDICT_LABELS)


@dataclass(frozen=True)
class Change:
    """One step of the diff from the source to the draft: equal, insert (the draft adds), delete (the draft
    leaves out) or replace, with the characters on each side as written."""

    op: str
    draft: str
    source: str


def describe_changes(changes: tuple[Change, ...], limit: int = 8) -> str:
    """The edits in words, source first: 「X」改为「Y」；删去「…」；增加「…」 (at most limit of them)."""
    words = []
    for c in changes:
        if c.op == "replace":
            words.append(f"「{c.source}」改为「{c.draft}」")
        elif c.op == "delete":
            words.append(f"删去「{c.source}」")
        elif c.op == "insert":
            words.append(f"增加「{c.draft}」")
    more = f"等 {len(words)} 处" if len(words) > limit else ""
    return "；".join(words[:limit]) + more


def outermost(quotations: Sequence[Quotation]) -> list[int]:
    """Indexes of the quotations inside no other one, in draft order: what a view of the draft colours (a
    quotation nested in one already coloured is shown by its card only)."""
    kept, end = [], 0
    for i in sorted(range(len(quotations)), key=lambda i: (quotations[i].start, -quotations[i].end)):
        if quotations[i].start >= end:
            kept.append(i)
            end = quotations[i].end
    return kept


@dataclass(frozen=True)
class SourceFound:
    """A place the quoted text appears: the passage, the matching part of it as written ([start, end) in the
    passage's text), how much of the quotation it holds, and the same paragraph's copies elsewhere."""

    citation: Citation
    doc_id: str
    passage_id: str
    text: str
    start: int
    end: int
    similarity: float
    also_in: tuple[Citation, ...] = ()

    def to_json(self) -> dict:
        return {"citation": self.citation.render(), "title": self.citation.title, "date": self.citation.date,
                "section_path": list(self.citation.section_path), "paragraph": self.citation.paragraph,
                "doc_id": self.doc_id, "passage_id": self.passage_id, "text": self.text, "start": self.start,
                "end": self.end, "similarity": round(self.similarity, 4),
                "also_in": [c.render() for c in self.also_in]}


@dataclass(frozen=True)
class QuoteCheck:
    """The verdict on one quotation: exact, altered (changes lists the edits), not_found, wrong_source (the
    text is found, but not in the source the lead-in names; altered says whether it also differs) or unchecked
    (a term of a few characters, not a quotation: best and others say where it appears as written, if anywhere)."""

    quotation: Quotation
    verdict: str
    similarity: float = 0.0
    changes: tuple[Change, ...] = ()
    best: SourceFound | None = None
    others: tuple[SourceFound, ...] = ()  # earliest first
    named: NamedSource = NamedSource()
    altered: bool = False

    @property
    def label(self) -> str:
        return VERDICT_LABELS[self.verdict]

    def summary(self) -> str:
        """One line in words: what is wrong, or where the quotation comes from."""
        where = self.best.citation.render() if self.best else ""
        if self.verdict == "exact":
            return f"与原文一致。出处：{where}"
        if self.verdict == "altered":
            return f"与原文有出入：{describe_changes(self.changes)}。原文：“{self.best.text}”（{where}）"
        if self.verdict == "wrong_source":
            said = self.named.describe()
            altered = f"另有改动：{describe_changes(self.changes)}。" if self.altered else ""
            return f"稿中所称出处（{said}）与原文出处不符。{altered}原文见：{where}"
        if self.verdict == "unchecked":
            seen = f"出现在：{where}" if self.best else "已索引的文档中没有原样出现。"
            return f"少于 {TERM_CHARS} 个字的短语，不作引文核对；{seen}"
        return "在已索引的文档中没有找到这段话。"

    def to_json(self) -> dict:
        q = self.quotation
        return {"span": q.text, "start": q.start, "end": q.end, "lead_in": q.lead_in, "source_note": q.note or None,
                "depth": q.depth,
                "marked": q.marked, "verdict": self.verdict, "label": self.label,
                "similarity": round(self.similarity, 4), "altered": self.altered,
                "named_source": self.named.describe() or None,
                "diff": [{"op": c.op, "draft": c.draft, "source": c.source} for c in self.changes],
                "best_source": self.best.to_json() if self.best else None,
                "other_sources": [s.to_json() for s in self.others]}


@dataclass(frozen=True)
class CheckReport:
    """Every quotation of a draft checked, in the order they appear."""

    checks: tuple[QuoteCheck, ...]
    draft: str = ""  # the text the offsets point into (line ends made \n)
    seconds: float = 0.0

    def counts(self) -> dict[str, int]:
        return {v: sum(c.verdict == v for c in self.checks) for v in VERDICTS}

    def to_json(self) -> dict:
        return {"quotations": [c.to_json() for c in self.checks], "counts": self.counts(),
                "seconds": round(self.seconds, 3), "draft": self.draft}
