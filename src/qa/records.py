"""Frozen records that cross stage boundaries: paragraphs, passages, quotes, citations, hits."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum

# Joins the parts of a rendered citation; kept here so CLI and UI print the same thing.
PATH_SEPARATOR = " › "


@dataclass(frozen=True)
class Span:
    """A half-open character range [start, end) inside a paragraph."""

    start: int
    end: int


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a document with its place in the speech's structure."""

    section_path: tuple[str, ...]
    ordinal: int  # 1-based within its section
    text: str
    key: str | None = None  # an id given with pre-split passages (JSONL); else a content hash is used
    point: str | None = None  # 一是 / 第一 / 第N项 (a —— item) when the paragraph is a numbered point


@dataclass(frozen=True)
class Document:
    """A parsed document: metadata, paragraphs in reading order, and what was dropped as noise."""

    doc_id: str
    source: str  # path relative to the data folder, POSIX style
    title: str
    date: str | None
    paragraphs: tuple[Paragraph, ...]
    dropped: tuple[str, ...] = ()
    speaker: str | None = None
    occasion: str | None = None
    sections: tuple[tuple[int, tuple[str, ...]], ...] = ()  # (level, path) of each heading, in reading order


@dataclass(frozen=True)
class Passage:
    """The unit of citation: one paragraph, its sentences and the windows that get embedded."""

    passage_id: str
    doc_id: str
    title: str
    date: str | None
    section_path: tuple[str, ...]
    paragraph: int
    text: str
    sentences: tuple[Span, ...]
    windows: tuple[Span, ...]
    point: str | None = None
    # the words of each sentence as the index stored them (keyword.tokenize), so answering never tokenises passages
    terms: tuple[tuple[str, ...], ...] = field(default=(), compare=False, repr=False)

    def sentence_text(self, i: int) -> str:
        s = self.sentences[i]
        return self.text[s.start : s.end]


@dataclass(frozen=True)
class Citation:
    """Where a passage sits: document title, date, section path and paragraph number."""

    title: str
    date: str | None
    section_path: tuple[str, ...]
    paragraph: int
    point: str | None = None

    @classmethod
    def of(cls, passage: "Passage") -> "Citation":
        return cls(passage.title, passage.date, passage.section_path, passage.paragraph, passage.point)

    def document(self) -> str:
        """《标题》（日期）"""
        return f"《{self.title}》" + (f"（{chinese_date(self.date)}）" if self.date else "")

    def render(self) -> str:
        """《标题》（日期） › 一、… › （一）… › 一是 · 第N段"""
        parts = [self.document(), *self.section_path, *([self.point] if self.point else [])]
        return PATH_SEPARATOR.join(parts) + f" · 第{self.paragraph}段"

    def quote_line(self, quote: str) -> str:
        """The quote with its source in the usual Chinese form: “引文”（《标题》，日期，章节）."""
        parts = [f"《{self.title}》", *([chinese_date(self.date)] if self.date else []), *self.section_path,
                 *([self.point] if self.point else [])]
        return f"“{quote}”（{'，'.join(parts)}）"


def chinese_date(date: str) -> str:
    """2024-03-05 -> 2024年3月5日; 2024 -> 2024年; anything else unchanged."""
    parts = date.split("-")
    if not all(p.isdigit() for p in parts) or not 1 <= len(parts) <= 3:
        return date
    return "".join(f"{int(p)}{unit}" for p, unit in zip(parts, "年月日"))


@dataclass(frozen=True)
class Quote:
    """A verbatim substring of a passage: text == passage.text[start:end]."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Hit:
    """One ranked answer passage with the sentence to quote and its citation."""

    rank: int
    score: float
    passage: Passage
    quote: Quote
    citation: Citation
    dense_rank: int | None = None
    keyword_rank: int | None = None
    also_in: tuple[Citation, ...] = ()  # near-identical passages elsewhere (reprints, copies)
    confidence: str | None = None  # high / medium / low (search.confidence); None when the model is not calibrated

    @property
    def quote_line(self) -> str:
        return self.citation.quote_line(self.quote.text)

    def to_json(self) -> dict:
        p = self.passage
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "doc_id": p.doc_id,
            "passage_id": p.passage_id,
            "title": p.title,
            "date": p.date,
            "section_path": list(p.section_path),
            "paragraph": p.paragraph,
            "point": p.point,
            "text": p.text,
            "quote": self.quote.text,
            "quote_start": self.quote.start,
            "quote_end": self.quote.end,
            "citation": self.citation.render(),
            "citation_line": self.quote_line,
            "also_in": [c.render() for c in self.also_in],
            "confidence": self.confidence,
        }


@dataclass(frozen=True)
class Answer:
    """The hits for one question, plus a notice when there is nothing to search."""

    question: str
    hits: tuple[Hit, ...] = field(default_factory=tuple)
    notice: str | None = None  # an error/notice code, translated at the edge
    # False: nothing found is reliable (the hits are only the closest passages); None: no calibration for the model
    confident: bool | None = None
    searched: str | None = None  # what was searched when a follow-up was read with the turn before it
    scope: str | None = None  # the document a follow-up was kept in (the previous answer's), as 《title》（date）


@dataclass(frozen=True)
class Filters:
    """Which documents a search may return: a title/file/id fragment and a year range, both optional."""

    doc: str | None = None
    years: tuple[int, int] | None = None  # inclusive

    @property
    def active(self) -> bool:
        return bool(self.doc) or self.years is not None

    @classmethod
    def parse(cls, doc: str | None = None, year: str | None = None) -> "Filters":
        """From what a user typed: any text for doc; YYYY or YYYY-YYYY for year (InvalidSetting otherwise)."""
        from qa.errors import InvalidSetting

        years = None
        if year and year.strip():
            parts = [p.strip() for p in re.split(r"[-—～~至到]", year.strip())]
            if not (1 <= len(parts) <= 2 and all(p.isdigit() and len(p) == 4 for p in parts)):
                raise InvalidSetting(name="年份", value=year, valid="YYYY 或 YYYY-YYYY，例如 2024 或 2019-2024")
            first, last = int(parts[0]), int(parts[-1])
            years = (min(first, last), max(first, last))
        return cls(doc=(doc or "").strip() or None, years=years)


YEARS_OPEN = (1000, 9999)  # the ends of a year range given on one side only


def trace_years(first: int | str | None, last: int | str | None) -> tuple[int, int] | None:
    """The inclusive year range of a trace from its two ends, either optional (InvalidSetting unless YYYY)."""
    from qa.errors import InvalidSetting

    ends = []
    for name, value in (("起始年份", first), ("截止年份", last)):
        text = str(value).strip() if value is not None else ""
        if text and not (text.isdigit() and len(text) == 4):
            raise InvalidSetting(name=name, value=text, valid="四位年份，例如 2015")
        ends.append(int(text) if text else None)
    if ends == [None, None]:
        return None
    low, high = ends[0] or YEARS_OPEN[0], ends[1] or YEARS_OPEN[1]
    return (min(low, high), max(low, high))


@dataclass(frozen=True)
class SourceText:
    """What was read from one file: plain text plus what its format says about titles and headings."""

    text: str
    format: str  # txt, md, docx, html, pdf or jsonl
    encoding: str | None = None  # for text files: the encoding found
    title: str | None = None  # the file's own title (docx Title style, html h1), if any
    headings: tuple[tuple[str, int], ...] = ()  # (line, level) marked as headings by styles or tags


@dataclass(frozen=True)
class Staleness:
    """How the data folder and the wanted settings differ from what an index was built from."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    model_changed: tuple[str, str] | None = None  # (index model, wanted model)
    shape_changed: bool = False

    @property
    def is_stale(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.model_changed or self.shape_changed)


@dataclass(frozen=True)
class BuildReport:
    """What a sync did: whether it built, why, and how much it embedded or reused."""

    built: bool
    staleness: Staleness | None = None  # None when there was no usable index before
    documents: int = 0
    passages: int = 0
    windows: int = 0
    embedded: int = 0
    reused: int = 0
    rejected: tuple[tuple[str, dict], ...] = ()  # (file, {reason, and line or position})
    kept_previous: tuple[str, ...] = ()  # rejected files whose previous passages stay indexed
    duplicates: tuple[tuple[str, str], ...] = ()  # (file, file with the same content)
    replaced_index: str | None = None  # reason an unusable previous index was replaced
    seconds: float = 0.0
    full: bool = True  # everything was rebuilt (else only what changed)
    merged: int = 0  # segments merged into one


class DocumentStatus(str, Enum):
    """Where a file of the data folder stands with the index."""

    INDEXED = "indexed"
    DUPLICATE = "duplicate"  # the same text as another file: indexed once, under the other name
    REJECTED = "rejected"  # cannot be read (the reason is kept)
    PENDING = "pending"  # new or changed since the last build
    REMOVED = "removed"  # gone from the folder, still served until the next build

    def __str__(self) -> str:
        return self.value
