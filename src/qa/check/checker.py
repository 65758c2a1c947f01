"""Check a draft's quotations against one build: exact places first, else 4-gram candidates aligned by character."""
from __future__ import annotations

import re
import time
from dataclasses import replace

import numpy as np

from qa.check.align import Alignment, align
from qa.check.attribution import NamedSource, agrees, named_source
from qa.check.findings import TERM_CHARS, Change, CheckReport, QuoteCheck, SourceFound
from qa.check.normal import fold, original_span, trim_edges
from qa.check.quotations import Quotation, draft_sentences, find_quotations
from qa.check.sources import GRAM, Place, SourceCorpus, citable
from qa.records import Citation, Passage
from qa.search.quotes import group_near_duplicates

# Chosen on the dev half of eval/quote_check.jsonl (docs/EVALUATION.md, "Issue 13")
ALTERED_MIN = 0.7  # a passage whose 4-grams cover this share of the quotation: its source, altered
CANDIDATES = 8  # passages aligned character by character for a quotation not found as written
COPIES = 0.02  # sources this close to the best one hold the same text: listed as other places it appears
BATCH = 1000  # passages read at a time when the checker is built
_ELLIPSIS = re.compile(r"……|…|\.\.\.|。。。")


def _date_key(source: SourceFound) -> tuple:
    return (source.citation.date is None, source.citation.date or "", source.citation.title)


class Checker:
    """Checks quotations against every live passage of one build (an IndexReader); built once per build."""

    def __init__(self, index, source: SourceCorpus | None = None) -> None:
        self.source = source if source is not None else corpus_of(index)
        self.occasions = {d["doc_id"]: d.get("occasion") for d in index.documents()}

    def check(self, draft: str, all_sentences: bool = False) -> CheckReport:
        """Every quotation of the draft (and, with all_sentences, every sentence outside quotation marks)."""
        began = time.perf_counter()
        quotations = find_quotations(draft)
        checks: list[QuoteCheck] = []
        found_outer: list[tuple[int, int]] = []
        for q in quotations:
            # a quotation inside one already found is part of it: checked on its own only when the outer is not
            if q.depth and any(s <= q.start and q.end <= e for s, e in found_outer):
                continue
            result = self.check_one(q)
            if result.verdict in ("exact", "altered", "wrong_source"):
                found_outer.append((q.start, q.end))
            checks.append(result)
        if all_sentences:
            checks += [self.check_one(s) for s in draft_sentences(draft, quotations)]
            checks.sort(key=lambda c: c.quotation.start)
        return CheckReport(tuple(checks), draft, time.perf_counter() - began)

    def check_one(self, quotation: Quotation) -> QuoteCheck:
        folded, where = fold(quotation.text)
        s, e = trim_edges(folded)
        needle, needle_where = folded[s:e], where[s:e]
        said = "；".join(x for x in (quotation.lead_in, quotation.note) if x)
        named = named_source(said) if quotation.marked else NamedSource()
        places = self.source.exact(needle) if needle else []
        if not places and _ELLIPSIS.search(quotation.text):
            places = self._with_omissions(needle)
        if len(needle) < TERM_CHARS:
            # a term in quotation marks (“两个确立”, “放水”) is not a quotation: where it appears is only shown
            if not places:
                return QuoteCheck(quotation, "unchecked", named=named)
            return self._verdict(quotation, "unchecked", 1.0, (), [(p, 1.0) for p in places], NamedSource())
        if places:
            return self._verdict(quotation, "exact", 1.0, (), [(p, 1.0) for p in places], named)
        aligned: list[tuple[float, int, Alignment]] = []
        for passage, _, anchors in self.source.candidates(needle, CANDIDATES):
            alignment = align(needle, self.source.texts[passage], anchors, GRAM)
            if alignment is not None:
                aligned.append((alignment.coverage(len(needle)), passage, alignment))
        if not aligned:
            return QuoteCheck(quotation, "not_found", named=named)
        # the source: most of the quotation in any order and in order (a copy with one clause more loses)
        aligned.sort(key=lambda a: (-(a[0] + a[2].similarity(len(needle))), a[1]))
        coverage, passage, alignment = aligned[0]
        best_similarity = alignment.similarity(len(needle))
        if coverage < ALTERED_MIN:
            return QuoteCheck(quotation, "not_found", best_similarity, named=named)
        changes = self._changes(quotation.text, needle_where, passage, alignment)
        found = [(Place(i, a.start, a.end), a.similarity(len(needle))) for cover, i, a in aligned
                 if cover >= coverage - COPIES and a.same >= alignment.same * (1 - COPIES)]
        return self._verdict(quotation, "altered", best_similarity, changes, found, named)

    def _with_omissions(self, needle: str) -> list[Place]:
        """Places where the parts of a quotation cut with …… appear, in order, in one passage."""
        parts = [x[slice(*trim_edges(x))] for x in _ELLIPSIS.split(needle)]
        parts = [p for p in parts if p]
        if len(parts) < 2:
            return []
        out = []
        for place in self.source.exact(max(parts, key=len)):
            text = self.source.texts[place.passage]
            at, start = 0, None
            for part in parts:
                at = text.find(part, at)
                if at < 0:
                    break
                start = at if start is None else start
                at += len(part)
            else:
                out.append(Place(place.passage, start, at))
        return list({(p.passage, p.start): p for p in out}.values())

    def _found(self, place: Place, similarity: float) -> SourceFound:
        passage: Passage = self.source.passages[place.passage]
        start, end = original_span(self.source.positions_of(place.passage), place.start, place.end, len(passage.text))
        return SourceFound(Citation.of(passage), passage.doc_id, passage.passage_id, passage.text[start:end],
                           start, end, similarity)

    def _changes(self, text: str, where: list[int], passage: int, alignment: Alignment) -> tuple[Change, ...]:
        source_text, source_where = self.source.passages[passage].text, self.source.positions_of(passage)
        out = []
        for edit in alignment.edits:
            a, b = original_span(where, edit.draft_start, edit.draft_end, len(text))
            c, d = original_span(source_where, edit.source_start, edit.source_end, len(source_text))
            out.append(Change(edit.op, text[a:b], source_text[c:d]))
        return tuple(out)

    def _verdict(self, quotation: Quotation, verdict: str, similarity: float, changes: tuple[Change, ...],
                 places: list[tuple[Place, float]], named: NamedSource) -> QuoteCheck:
        """Copies merged, the source the lead-in names preferred, the others earliest first; wrong_source when
        the lead-in names a source none of the places agrees with."""
        found = [self._found(place, similarity) for place, similarity in places]
        # the closest and earliest copy of a paragraph heads its group
        order = sorted(range(len(found)), key=lambda j: (-found[j].similarity, *_date_key(found[j])))
        found, places = [found[j] for j in order], [places[j] for j in order]
        groups = group_near_duplicates([self.source.passages[place.passage].text for place, _ in places])
        merged = [_merge(found[g[0]], [found[j] for j in g[1:]]) for g in groups]
        altered = verdict == "altered"
        best = min(merged, key=lambda m: (-m.similarity, *_date_key(m)))
        if named:
            # the place the lead-in names leads, even as a copy of an earlier paragraph
            agreeing = [(found[j], i) for i, g in enumerate(groups) for j in g if self._agrees(named, found[j])]
            if not agreeing:
                verdict = "wrong_source"
            else:
                place, i = min(agreeing, key=lambda a: (-a[0].similarity, *_date_key(a[0])))
                rest = [found[j] for j in groups[i] if found[j] is not place]
                merged[i] = best = _merge(place, rest)
        others = sorted((m for m in merged if m is not best), key=_date_key)
        return QuoteCheck(quotation, verdict, similarity, changes, best, tuple(others), named, altered)

    def _agrees(self, named: NamedSource, found: SourceFound) -> bool:
        return agrees(named, found.citation.title, found.citation.date, self.occasions.get(found.doc_id))


def corpus_of(index) -> SourceCorpus:
    """Every live passage of a build (an IndexReader) folded into one SourceCorpus, in row order."""
    rows = np.flatnonzero(index.live).tolist()
    # read in batches: a passage's words are dropped at once, so reading never holds them all
    return SourceCorpus([citable(p) for i in range(0, len(rows), BATCH) for p in index.passages(rows[i : i + BATCH])])


def _merge(first: SourceFound, copies: list[SourceFound]) -> SourceFound:
    return replace(first, also_in=tuple(c.citation for c in copies)) if copies else first
