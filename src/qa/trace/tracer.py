"""提法演变 over one build: every sentence carrying a formulation, by document in year order, and what changed."""
from __future__ import annotations

import math
import re
import time

import numpy as np
from rapidfuzz import fuzz, process

from qa.check.sources import SourceCorpus
from qa.errors import BadPhrase, InvalidSetting
from qa.ingest.chunk import split_sentences
from qa.ingest.metadata import DOCUMENT_KINDS, document_kind
from qa.records import Citation, Passage
from qa.trace.match import Found, Phrase, clause, closest, figure_near, find
from qa.trace.timeline import Occurrence, Trace, TraceRow, absent_years, change_between, closest_before

MIN_PHRASE = 2  # characters: one character is in every document
MAX_PHRASE = 60  # a formulation, not a paragraph (引文核对 checks those)
PER_DOCUMENT = 20  # sentences listed for one document at most
SUGGESTIONS = 5
VARIANT_PAIRS = 0.6  # a passage holds at least this share of the phrase's character pairs to be aligned for variants
_HOW = {"exact": 0, "variant": 1, "related": 2}
_KIND_IN_PHRASE = re.compile("(" + "|".join(DOCUMENT_KINDS[:3]) + r")(?:中|里|里面|当中)?(?:的|关于|对)?")
_YEAR = re.compile(r"^(\d{4})")
_THIS_YEAR = re.compile(r"今年|本年|当年")
_REVIEW = re.compile(r"回顾|过去[一二三四五六七八九十\d]*年")


def parse_phrase(text: str | None, kind: str | None) -> tuple[str, str | None]:
    """(the formulation, the document kind): a kind named in the phrase (政府工作报告中的经济增长预期目标) becomes the
    filter when none is given. BadPhrase when empty, one character or too long; InvalidSetting for an unknown
    kind."""
    phrase = (text or "").strip()
    if kind is not None and kind not in DOCUMENT_KINDS:
        raise InvalidSetting(name="文档类别", value=kind, valid="、".join(DOCUMENT_KINDS))
    m = _KIND_IN_PHRASE.search(phrase)
    if m and phrase.replace(m.group(0), "").strip():
        kind = kind or m.group(1)
        phrase = phrase.replace(m.group(0), "").strip()
    needle = Phrase.of(phrase).needle
    if not needle:
        raise BadPhrase(phrase=phrase, reason="empty")
    if len(needle) < MIN_PHRASE:
        raise BadPhrase(phrase=phrase, reason="too_short", least=MIN_PHRASE)
    if len(needle) > MAX_PHRASE:
        raise BadPhrase(phrase=phrase[:20] + "…", reason="too_long", most=MAX_PHRASE)
    return phrase, kind


class Tracer:
    """Traces formulations through every live passage of one build, sharing the checker's folded corpus."""

    def __init__(self, source: SourceCorpus, documents: list[dict]) -> None:
        self.source = source
        self.documents = {}
        for d in documents:
            m = _YEAR.match(d.get("date") or "")
            if m:  # a document without a date has no place in a timeline
                self.documents[d["doc_id"]] = dict(d, year=int(m.group(1)), kind=document_kind(
                    d.get("title") or "", d.get("occasion"), d.get("source") or ""))
        self.of_document: dict[str, list[int]] = {}
        for i, p in enumerate(source.passages):
            self.of_document.setdefault(p.doc_id, []).append(i)
        self._clauses: tuple[list[str], list[str]] | None = None  # (every clause, its document): made on first use
        self._pairs: tuple[np.ndarray, np.ndarray] | None = None  # the corpus's character pairs, sorted: made on first use

    def trace(self, text: str, kind: str | None = None, years: tuple[int, int] | None = None) -> Trace:
        """The formulation in each document of the kind and years asked, in year order (see Trace)."""
        began = time.perf_counter()
        phrase_text, kind = parse_phrase(text, kind)
        phrase = Phrase.of(phrase_text)
        scope = {doc_id for doc_id, d in self.documents.items()
                 if (kind is None or d["kind"] == kind) and (years is None or years[0] <= d["year"] <= years[1])}
        done = dict(phrase=phrase_text, kind=kind, years=years, documents=len(scope))
        if not self.source.passages:
            return Trace(**done, notice="empty_index")
        if not scope:
            return Trace(**done, notice="trace_no_documents")
        found: dict[str, list[tuple[int, int, Occurrence]]] = {}
        for i in sorted(self._candidates(phrase, scope)):
            passage = self.source.passages[i]
            for order, occurrence in self._occurrences(phrase, i, passage):
                found.setdefault(passage.doc_id, []).append((i, order, occurrence))
        rows = self._rows(phrase, found)
        scope_years = {self.documents[d]["year"] for d in scope}
        absent = absent_years(scope_years, {r.year for r in rows})
        if not rows:
            return Trace(**done, absent=absent, notice="trace_not_found", suggestions=self.suggest(phrase, scope),
                         seconds=time.perf_counter() - began)
        return Trace(**done, rows=rows, absent=absent, seconds=time.perf_counter() - began)

    def _candidates(self, phrase: Phrase, scope: set[str]) -> set[int]:
        """Passages of documents in scope that may carry the phrase: as written, holding most of its character
        pairs, or (a target) at least two of its words."""
        in_scope = lambda i: self.source.passages[i].doc_id in scope  # noqa: E731
        out = {p.passage for p in self.source.exact(phrase.needle, limit=10**7) if in_scope(p.passage)}
        if len(phrase.needle) >= 4:  # near variants: passages holding most of the phrase's character pairs
            out |= {i for i in self._sharing_pairs(phrase.needle) if in_scope(i)}
        if phrase.target and len(phrase.words) >= 2:
            for doc_id in scope:
                for i in self.of_document.get(doc_id, ()):
                    text = self.source.texts[i]
                    if sum(w in text for w in phrase.words) >= 2:
                        out.add(i)
        return out

    def _sharing_pairs(self, needle: str) -> set[int]:
        """Passages holding at least VARIANT_PAIRS of the needle's distinct character pairs."""
        if self._pairs is None:
            codes = np.frombuffer(self.source.corpus.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
            keys = (codes[:-1] << np.uint64(21)) | codes[1:]
            order = np.argsort(keys, kind="stable")
            self._pairs = (keys[order], order)
        keys, order = self._pairs
        pairs = {needle[k : k + 2] for k in range(len(needle) - 1)}
        owners = []
        for pair in pairs:
            key = np.uint64((ord(pair[0]) << 21) | ord(pair[1]))
            lo, hi = np.searchsorted(keys, key, side="left"), np.searchsorted(keys, key, side="right")
            owners.append(np.unique(self.source.passage_of(order[lo:hi])))
        if not owners:
            return set()
        counts = np.bincount(np.concatenate(owners), minlength=len(self.source.passages))
        return set(np.flatnonzero(counts >= math.ceil(VARIANT_PAIRS * len(pairs))).tolist())

    def _occurrences(self, phrase: Phrase, i: int, passage: Passage):
        """(order in the passage, Occurrence) for each sentence of the passage carrying the phrase."""
        for order, span in enumerate(split_sentences(passage.text)):
            sentence = passage.text[span.start : span.end]
            hit: Found | None = find(phrase, sentence)
            if hit is None:
                continue
            a, b = clause(sentence, hit.start, hit.end)
            figure, follows = figure_near(sentence, hit.end), None
            if sentence.rstrip().endswith("："):
                follows = self._following(i)
                figure = figure or (figure_near(follows, 0) if follows else None)
            yield order, Occurrence(hit.how, sentence, hit.start, hit.end, sentence[a:b], figure,
                                    Citation.of(passage), passage.doc_id, passage.passage_id, hit.score, span.start,
                                    follows)

    def _following(self, i: int) -> str | None:
        """The first sentence of the next paragraph of the same document (what …主要预期目标是： announces)."""
        passages = self.source.passages
        if i + 1 < len(passages) and passages[i + 1].doc_id == passages[i].doc_id:
            spans = split_sentences(passages[i + 1].text)
            return passages[i + 1].text[spans[0].start : spans[0].end] if spans else None
        return None

    def _rows(self, phrase: Phrase, found: dict[str, list[tuple[int, int, Occurrence]]]) -> tuple[TraceRow, ...]:
        """A row per document in date order, its best sentence first, each with the change from the row before."""
        def rank(item: tuple[int, int, Occurrence]):
            i, order, o = item
            # a target's sentence is the one setting the figure: with a figure, and not under a review of past
            # years (一、过去五年工作回顾); otherwise as written first, then reading order
            past = phrase.target and any(_REVIEW.search(h) for h in o.citation.section_path)
            # …and the year's own target (今年…) before a five-year one
            later = phrase.target and not _THIS_YEAR.search(self.source.passages[i].text)
            return (phrase.target and o.figure is None, past, later, _HOW[o.how], -o.score, i, order)

        rows: list[TraceRow] = []
        before: TraceRow | None = None  # the last row of an earlier year: documents of one year follow the same
        docs = sorted(found, key=lambda d: (self.documents[d].get("date") or "", self.documents[d]["title"]))
        for doc_id in docs:
            d = self.documents[doc_id]
            occurrences = tuple(o for _, _, o in sorted(found[doc_id], key=rank)[:PER_DOCUMENT])
            if rows and rows[-1].year < d["year"]:
                before = rows[-1]
            change = None
            if before is not None:
                change = change_between(closest_before(before.occurrences, occurrences[0]), occurrences[0], before.label)
            rows.append(TraceRow(doc_id, d["title"], d.get("date"), d["year"], d["kind"], occurrences, change))
        return tuple(rows)

    def suggest(self, phrase: Phrase, scope: set[str]) -> tuple[str, ...]:
        """The closest formulations that do occur in scope: clauses most like the phrase, the part aligned with
        it, most frequent first among the closest."""
        if self._clauses is None:  # made once, then assigned whole: threads share the tracer
            clauses = [(part, p.doc_id) for p, text in zip(self.source.passages, self.source.texts)
                       for part in re.split(r"[，。；：！？、\x01]", text) if len(part) >= MIN_PHRASE]
            self._clauses = ([c for c, _ in clauses], [d for _, d in clauses])
        texts, owners = self._clauses
        found: dict[str, list[float]] = {}
        for part, _, j in process.extract(phrase.needle, texts, scorer=fuzz.partial_ratio,
                                          limit=300, score_cutoff=50):
            if owners[j] not in scope:
                continue
            near = closest(phrase.needle, part) if len(phrase.needle) >= 3 else None
            if near is not None:
                text, share = part[near[0] : near[1]], near[2] / len(phrase.needle)
            else:
                text, share = _closest_words(phrase.needle, part), 0.0
            if text and text != phrase.needle and len(text) >= max(MIN_PHRASE, len(phrase.needle) // 2):
                found.setdefault(text, []).append(share)
        ranked = sorted(found, key=lambda t: (-max(found[t]), -len(found[t]), t))
        return tuple(ranked[:SUGGESTIONS])


def _closest_words(needle: str, part: str) -> str | None:
    """The part's span of the needle's length that shares the most characters with it."""
    alignment = fuzz.partial_ratio_alignment(needle, part)
    if alignment is None or alignment.score < 50:
        return None
    return part[alignment.dest_start : alignment.dest_end]
