"""Answers: the retrieved passages with the sentence to quote and the citation for each; theme quotes; the check
of a draft's quotations."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from typing import Callable, Sequence

from qa.check.draft import checked_draft
from qa.check.findings import CheckReport
from qa.index.indexer import Progress, resolve, sync
from qa.index.reader import IndexReader
from qa.records import Answer, BuildReport, Citation, Filters, Hit, Passage, Quote
from qa.search.embed import Embedder, embedder_for, release
from qa.search.quotes import choose_quote, group_near_duplicates, quotability, quote_span, sentence_scores
from qa.search.confidence import LOW, calibration_for, level
from qa.search.followup import rewrite
from qa.search.fusion import reciprocal_rank_fusion
from qa.search.retrieve import Retriever, clean_question
from qa.search.tokens import tokenize
from qa.serving import Builds
from qa.settings import Settings, check_range

def _previous_turn(history: Sequence[str]) -> str | None:
    """The turn before, itself read with the one before it when it leaned on that (two levels are enough)."""
    turns = [t.strip() for t in history or () if t and t.strip()]
    if not turns:
        return None
    last = turns[-1]
    return rewrite(last, turns[-2]).text if len(turns) > 1 else last


def limit_per_document(groups: list[list[int]], doc_ids: list[str], limit: int) -> list[list[int]]:
    """The groups in order, with at most `limit` led by a passage of any one document."""
    shown: dict[str, int] = {}
    kept = []
    for group in groups:
        doc = doc_ids[group[0]]
        if shown.get(doc, 0) < limit:
            shown[doc] = shown.get(doc, 0) + 1
            kept.append(group)
    return kept


class Assistant:
    """Answers questions from one loaded index with one embedder.

    Each question is answered from one build from search to citations, even while another thread or process
    switches the index: a newer build (CURRENT changed by `qa add` elsewhere, or by the app's own library tab)
    is picked up at the start of the next question."""

    def __init__(self, settings: Settings, embedder: Embedder, index: IndexReader, follow: bool = True) -> None:
        self.settings = settings
        self.embedder = embedder
        self.builds = Builds(settings, embedder, index, follow)

    @property
    def index(self) -> IndexReader:
        """The build serving now (for status lines; a question takes its own reference)."""
        return self.builds.current.index

    @contextmanager
    def serving(self):
        """(index, retriever) of the serving build, held for the duration of the block."""
        with self.builds.serving() as served:
            yield served.index, served.retriever

    def refresh(self) -> bool:
        """Switch to the index's current build if it is not the one served; True when it switched."""
        return self.builds.refresh()

    @classmethod
    def open(
        cls, settings: Settings, embedder: Embedder | None = None, update: bool = True, progress: Progress | None = None,
        notify: Callable[..., None] | None = None,
    ) -> tuple["Assistant", BuildReport | None]:
        """Load the index (and, lazily, the model); with update, first re-index what changed in the data folder.

        notify receives one-off notices: a model being prepared on first use, a wait for another writer."""
        settings = resolve(settings)
        embedder = embedder or embedder_for(settings, notify)
        report = sync(settings, embedder, progress=progress, notify=notify) if update else None
        release(embedder)
        return cls(settings, embedder, IndexReader.open(settings.index_dir)), report

    def ask(self, question: str, k: int | None = None, filters: Filters | None = None,
            mode: str | None = None, as_of: int | None = None, per_document: int | None = None,
            history: Sequence[str] = (), follow_up: bool = True) -> Answer:
        """The k best passages for a question, each with its quote and citation. as_of: the year 今年 means
        (default: the newest document's); per_document: at most this many passages of one document (1: the best
        answer of each document; 0: no limit; default: the settings'); history: the questions asked before it in
        this conversation, oldest first — with follow_up, a turn like 「那要怎么加强？」 is read with the one before
        (Answer.searched says how) and the previous answer's document is preferred."""
        question = clean_question(question)
        if k is not None:
            check_range("k", k, 1, 100)
        if per_document is None:
            per_document = self.settings.retrieve.per_document
        check_range("per_document", per_document, 0, 100)
        with self.serving() as (index, retriever):
            previous = _previous_turn(history) if follow_up else None
            read = rewrite(question, previous)
            if not read.used_previous:
                return self._ask(index, retriever, question, k, filters, mode, as_of, per_document)
            prior = self._top_passage(index, retriever, previous, filters, mode, as_of)
            answer = self._ask(index, retriever, read.text, k, filters, mode, as_of, per_document, prior)
            return replace(answer, question=question, searched=read.text)

    def _ask(self, index: IndexReader, retriever: Retriever, question: str, k: int | None, filters: Filters | None,
             mode: str | None, as_of: int | None, per_document: int = 0, prior: Passage | None = None) -> Answer:
        rows, notice = self._scope(index, filters)
        if notice:
            return Answer(question=question, notice=notice)
        terms = tokenize(question)
        idf = {t: index.keyword.idf(t) for t in set(terms)}
        k = k or self.settings.retrieve.k
        # fetch extra candidates so that k remain after copies of one passage are merged
        fetch = min(self.settings.retrieve.fetch_factor * k, max(k, self.settings.retrieve.candidates))
        if per_document > 0:  # a document's further passages are skipped: look further down the fused list
            fetch = max(fetch, self.settings.retrieve.candidates)
        candidates = retriever.search(question, fetch, rows, mode, as_of)
        passages = index.passages([c.row for c in candidates])
        if prior is not None and self.settings.retrieve.follow_up_prior > 0:
            candidates, passages = self._prefer(candidates, passages, prior)
        groups = group_near_duplicates([p.text for p in passages])
        if per_document > 0:
            groups = limit_per_document(groups, [p.doc_id for p in passages], per_document)
        calibration = calibration_for(self.embedder.name)
        verdicts = [level(c.dense_score, c.keyword_share, calibration) for c in candidates]
        confident = None if calibration is None else any(v != LOW for v in verdicts)
        hits = []
        for rank, group in enumerate(groups[:k], start=1):
            cand, passage = candidates[group[0]], passages[group[0]]
            hits.append(
                Hit(
                    rank=rank,
                    score=cand.score,
                    passage=passage,
                    quote=choose_quote(passage, question, terms, idf),
                    citation=Citation.of(passage),
                    dense_rank=cand.dense_rank,
                    keyword_rank=cand.keyword_rank,
                    also_in=tuple(Citation.of(passages[i]) for i in group[1:]),
                    confidence=verdicts[group[0]],
                )
            )
        return Answer(question=question, hits=tuple(hits), confident=confident)

    def _top_passage(self, index: IndexReader, retriever: Retriever, question: str, filters: Filters | None,
                     mode: str | None, as_of: int | None) -> Passage | None:
        """The passage that would answer `question` first (the previous turn's, for a follow-up's prior)."""
        rows, notice = self._scope(index, filters)
        if notice:
            return None
        found = retriever.search(question, 1, rows, mode, as_of)
        return index.passage(found[0].row) if found else None

    def _prefer(self, candidates: list, passages: list[Passage], prior: Passage) -> tuple[list, list[Passage]]:
        """Candidates re-ranked with a second list: those of the previous answer's document, its section first."""
        order = list(range(len(candidates)))
        same = [i for i in order if passages[i].doc_id == prior.doc_id]
        same.sort(key=lambda i: passages[i].section_path[: len(prior.section_path)] != prior.section_path)
        retrieve = self.settings.retrieve
        fused = reciprocal_rank_fusion([order, same], k=retrieve.rrf_k, weights=[1.0, retrieve.follow_up_prior])
        return [replace(candidates[i], score=score) for i, score in fused], [passages[i] for i, _ in fused]

    def find_quotes(self, theme: str, k: int | None = None, filters: Filters | None = None) -> Answer:
        """Quotable sentences on a theme across the documents: best first, copies merged."""
        theme = clean_question(theme)
        if k is not None:
            check_range("k", k, 1, 100)
        with self.serving() as (index, retriever):
            return self._find_quotes(index, retriever, theme, k or self.settings.retrieve.quotes_k, filters)

    def _find_quotes(self, index: IndexReader, retriever: Retriever, theme: str, k: int,
                     filters: Filters | None) -> Answer:
        rows, notice = self._scope(index, filters)
        if notice:
            return Answer(question=theme, notice=notice)
        terms = tokenize(theme)
        idf = {t: index.keyword.idf(t) for t in set(terms)}
        found = []  # (score, passage order, sentence, passage)
        retrieve = self.settings.retrieve
        candidates = retriever.search(theme, max(retrieve.fetch_factor * k, retrieve.quote_passages), rows)
        for order, passage in enumerate(index.passages([c.row for c in candidates])):
            for i, score in enumerate(sentence_scores(passage, theme, terms, idf)):
                if score > 0:
                    span = passage.sentences[i]
                    found.append((score * quotability(span.end - span.start), order, i, passage))
        found.sort(key=lambda f: (-f[0], f[1], f[2]))
        texts = [p.sentence_text(i) for _, _, i, p in found]
        hits = []
        for rank, group in enumerate(group_near_duplicates(texts)[:k], start=1):
            score, _, i, passage = found[group[0]]
            start, end = quote_span(passage.text, passage.sentences, i, i)
            hits.append(
                Hit(
                    rank=rank,
                    score=score,
                    passage=passage,
                    quote=Quote(text=passage.text[start:end], start=start, end=end),
                    citation=Citation.of(passage),
                    also_in=tuple(Citation.of(found[j][3]) for j in group[1:]),
                )
            )
        return Answer(question=theme, hits=tuple(hits))

    def check(self, draft: str, all_sentences: bool = False) -> CheckReport:
        """引文核对: every quotation of the draft (and with all_sentences every sentence outside quotation marks)
        found in the indexed documents or not, with its verdict, edits and sources, from one build."""
        draft = checked_draft(draft, self.settings.limits.draft_chars)
        with self.builds.serving() as served:
            return served.checker().check(draft, all_sentences)

    def document(self, doc_id: str) -> tuple[dict, list[Passage]] | None:
        """A served document (its row of IndexReader.documents) and its passages in reading order; None if unknown."""
        with self.serving() as (index, _):
            found = next((d for d in index.documents() if d["doc_id"] == doc_id), None)
            if found is None:
                return None
            return found, [p for p in index.passages_of(found["source"]) if p.doc_id == doc_id]

    def after_write(self) -> None:
        """After this process changed the index: free the passage engine (a server keeps only what answering
        needs) and serve the new build."""
        release(self.embedder)
        self.reload()

    @staticmethod
    def _scope(index: IndexReader, filters: Filters | None):
        """(the passage rows a filter admits, None for all; the notice when there is nothing to search: an empty
        index, or no document the filter admits), looked up once per question."""
        if index.size == 0:
            return None, "empty_index"
        rows = index.rows_matching(filters) if filters is not None and filters.active else None
        return rows, "no_document_matches" if rows is not None and len(rows) == 0 else None

    def reload(self) -> None:
        """Serve the index's current build (after documents were added or removed, here or elsewhere)."""
        self.builds.reload()

    def close(self) -> None:
        self.builds.close()
