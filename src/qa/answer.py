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
from qa.search.confidence import LEVELS, LOW, calibration_for, level
from qa.search.followup import FollowUp, leans_on_previous, names_source, nth_point, ordinal, rewrite
from qa.search.fusion import reciprocal_rank_fusion
from qa.search.rerank import Reranker, strip_number
from qa.search.rerankers import load_reranker
from qa.search.retrieve import Retriever, clean_question
from qa.search.tokens import tokenize
from qa.serving import Builds
from qa.settings import Settings, check_range
from qa.trace.timeline import Trace

# A follow-up reads the previous turn's answer (its best SCOPE_READ hits); the document of the first is where it stays
# (eval/dialogues_dev.jsonl: the documents of the best two did as well)
SCOPE_READ = 3
SCOPE_SECTION_WEIGHT = 1.0  # within the previous document, how strongly the previous answer's section is preferred


def _previous_turn(turns: Sequence[str]) -> str:
    """The turn before, itself read with the one before it when it leaned on that (two levels are enough)."""
    return rewrite(turns[-1], turns[-2]).text if len(turns) > 1 else turns[-1]


def _as_sure(kept: Hit, anywhere: Hit) -> bool:
    """Whether the best hit kept in the previous document is as reliable as the library's best."""
    strength = lambda hit: -LEVELS.index(hit.confidence or LOW)  # noqa: E731 - LEVELS runs from high to low
    return kept.passage.doc_id == anywhere.passage.doc_id or strength(kept) >= strength(anywhere)


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

    def __init__(self, settings: Settings, embedder: Embedder, index: IndexReader, follow: bool = True,
                 reranker: Reranker | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.builds = Builds(settings, embedder, index, follow, reranker)

    @property
    def reranker(self) -> Reranker | None:
        return self.builds.reranker

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
        reranker = load_reranker(settings.retrieve.reranker, settings.embed.cache_dir, notify)
        report = sync(settings, embedder, progress=progress, notify=notify) if update else None
        release(embedder)
        return cls(settings, embedder, IndexReader.open(settings.index_dir, settings.store), reranker=reranker), report

    def ask(self, question: str, k: int | None = None, filters: Filters | None = None,
            mode: str | None = None, as_of: int | None = None, per_document: int | None = None,
            history: Sequence[str] = (), follow_up: bool = True) -> Answer:
        """The k best passages for a question, each with its quote and citation. as_of: the year 今年 means
        (default: the newest document's); per_document: at most this many passages of one document (1: the best
        answer of each document; 0: no limit; default: the settings'); history: the questions asked before it in
        this conversation, oldest first — with follow_up, a turn like 「那要怎么加强？」 is read with the one before
        (Answer.searched says how) and kept in the previous answer's document (Answer.scope names it)."""
        question = clean_question(question)
        if k is not None:
            check_range("k", k, 1, 100)
        if per_document is None:
            per_document = self.settings.retrieve.per_document
        check_range("per_document", per_document, 0, 100)
        with self.serving() as (index, retriever):
            turns = [t.strip() for t in history or () if t and t.strip()] if follow_up else []
            return self._converse(index, retriever, question, turns, k, filters, mode, as_of, per_document)

    def _converse(self, index: IndexReader, retriever: Retriever, question: str, turns: list[str], k: int | None,
                  filters: Filters | None, mode: str | None, as_of: int | None, per_document: int,
                  depth: int = 2) -> Answer:
        """A turn of a conversation (turns: the questions before it), answered from one build."""
        if not turns:
            return self._ask(index, retriever, question, k, filters, mode, as_of, per_document)
        read = rewrite(question, _previous_turn(turns))
        # the previous turn as it was answered: read with the turn before it (two levels are enough)
        before = self._converse(index, retriever, turns[-1], turns[-2:-1] if depth > 1 else [], SCOPE_READ,
                                filters, mode, as_of, 0, depth - 1)
        prior = before.hits[0].passage if before.hits else None
        # a turn naming no source of its own stays in the previous answer's document: always when it leans on the
        # turn before (那…呢, 这方面, 第二点; a short off-topic turn then says so there), else when it answers as
        # reliably as the library does
        stays = prior is not None and not (filters and filters.active) and not names_source(question)
        point = ordinal(question) if stays else None
        heading = point and nth_point(self._find_document(index, prior.doc_id)[1], prior, point)
        if heading:  # 第二点是什么？: the second point of the section the previous answer came from
            read = FollowUp(strip_number(heading), True)
        answer = self._ask(index, retriever, read.text, k, filters, mode, as_of, per_document,
                           prior if read.used_previous else None)
        if stays:
            kept = self._ask(index, retriever, read.text, k, Filters(doc=prior.doc_id), mode, as_of, per_document,
                             prior)
            if kept.hits and (leans_on_previous(question) or (kept.confident is not False and (
                    not answer.hits or _as_sure(kept.hits[0], answer.hits[0])))):
                return replace(kept, question=question, searched=read.text, scope=Citation.of(prior).document())
        if not read.used_previous:
            return answer
        return replace(answer, question=question, searched=read.text)

    def _ask(self, index: IndexReader, retriever: Retriever, question: str, k: int | None, filters: Filters | None,
             mode: str | None, as_of: int | None, per_document: int = 0, prior: Passage | None = None) -> Answer:
        """One search, its hits with quotes, citations and confidence."""
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
        calibration = calibration.at(index.size) if calibration else None
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

    @staticmethod
    def _find_document(index: IndexReader, doc_id: str) -> tuple[dict | None, list[Passage]]:
        """A document's row of IndexReader.documents (None if unknown) and its passages in reading order."""
        found = next((d for d in index.documents() if d["doc_id"] == doc_id), None)
        return found, [p for p in index.passages_of(found["source"]) if p.doc_id == doc_id] if found else []

    def _prefer(self, candidates: list, passages: list[Passage], prior: Passage) -> tuple[list, list[Passage]]:
        """Candidates re-ranked with a second list: those of the previous answer's document, its section first."""
        order = list(range(len(candidates)))
        same = [i for i in order if passages[i].doc_id == prior.doc_id]
        same.sort(key=lambda i: passages[i].section_path[: len(prior.section_path)] != prior.section_path)
        retrieve = self.settings.retrieve
        # every candidate in the previous document (a conversation kept in it, or a one-document library): only the
        # section is left to prefer, and it is preferred as strongly as the search itself
        weight = retrieve.follow_up_prior if len(same) < len(order) else SCOPE_SECTION_WEIGHT
        fused = reciprocal_rank_fusion([order, same], k=retrieve.rrf_k, weights=[1.0, weight])
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

    def trace(self, phrase: str, kind: str | None = None, years: tuple[int, int] | None = None) -> Trace:
        """提法演变: the formulation in each document of the kind and years, in year order, from one build."""
        with self.builds.serving() as served:
            return served.tracer().trace(phrase, kind, years)

    def document(self, doc_id: str) -> tuple[dict, list[Passage]] | None:
        """A served document (its row of IndexReader.documents) and its passages in reading order; None if unknown."""
        with self.serving() as (index, _):
            found, passages = self._find_document(index, doc_id)
            return (found, passages) if found else None

    def prepare(self) -> None:
        """Load the reranker now (exported and checked on first use) rather than at the first question."""
        getattr(self.reranker, "prepare", lambda: None)()

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
