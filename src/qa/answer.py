"""Answers: the retrieved passages with the sentence to quote and the citation for each; theme quotes."""
from __future__ import annotations

from typing import Callable

from .embed import Embedder, embedder_for, release
from .indexer import BuildReport, Progress, resolve, sync
from .keyword import tokenize
from .quotes import choose_quote, group_near_duplicates, quotability, sentence_scores
from .records import Answer, Citation, Filters, Hit, Quote
from .retrieve import Retriever, clean_question
from .settings import Settings
from .store import IndexReader

class Assistant:
    """Answers questions from one loaded index with one embedder."""

    def __init__(self, settings: Settings, embedder: Embedder, index: IndexReader) -> None:
        self.settings = settings
        self.embedder = embedder
        self.index = index
        self.retriever = Retriever(index, embedder, settings.retrieve)

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
            mode: str | None = None) -> Answer:
        question = clean_question(question)
        if self.index.size == 0:
            return Answer(question=question, notice="empty_index")
        rows = self._rows(filters)
        if rows is not None and len(rows) == 0:
            return Answer(question=question, notice="no_document_matches")
        terms = tokenize(question)
        idf = {t: self.index.keyword.idf(t) for t in set(terms)}
        k = k or self.settings.retrieve.k
        # fetch extra candidates so that k remain after copies of one passage are merged
        candidates = self.retriever.search(
            question, min(3 * k, max(k, self.settings.retrieve.candidates)), rows, mode
        )
        passages = self.index.passages([c.row for c in candidates])
        hits = []
        for rank, group in enumerate(group_near_duplicates([p.text for p in passages])[:k], start=1):
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
                )
            )
        return Answer(question=question, hits=tuple(hits))

    def find_quotes(self, theme: str, k: int = 10, filters: Filters | None = None) -> Answer:
        """Quotable sentences on a theme across the documents: best first, copies merged."""
        theme = clean_question(theme)
        if self.index.size == 0:
            return Answer(question=theme, notice="empty_index")
        rows = self._rows(filters)
        if rows is not None and len(rows) == 0:
            return Answer(question=theme, notice="no_document_matches")
        terms = tokenize(theme)
        idf = {t: self.index.keyword.idf(t) for t in set(terms)}
        found = []  # (score, passage order, sentence, passage)
        candidates = self.retriever.search(theme, max(3 * k, 20), rows)
        for order, passage in enumerate(self.index.passages([c.row for c in candidates])):
            for i, score in enumerate(sentence_scores(passage, theme, terms, idf)):
                if score > 0:
                    span = passage.sentences[i]
                    found.append((score * quotability(span.end - span.start), order, i, passage))
        found.sort(key=lambda f: (-f[0], f[1], f[2]))
        texts = [p.sentence_text(i) for _, _, i, p in found]
        hits = []
        for rank, group in enumerate(group_near_duplicates(texts)[:k], start=1):
            score, _, i, passage = found[group[0]]
            span = passage.sentences[i]
            hits.append(
                Hit(
                    rank=rank,
                    score=score,
                    passage=passage,
                    quote=Quote(text=passage.text[span.start : span.end], start=span.start, end=span.end),
                    citation=Citation.of(passage),
                    also_in=tuple(Citation.of(found[j][3]) for j in group[1:]),
                )
            )
        return Answer(question=theme, hits=tuple(hits))

    def _rows(self, filters: Filters | None):
        """The passage rows a filter admits (None: no filter), looked up once per question."""
        return self.index.rows_matching(filters) if filters is not None and filters.active else None

    def reload(self) -> None:
        """Serve the index's current build (after documents were added or removed elsewhere)."""
        index = IndexReader.open(self.settings.index_dir)
        # the old reader is left to the garbage collector: a question in flight may still be using it
        self.index, self.retriever = index, Retriever(index, self.embedder, self.settings.retrieve)

    def close(self) -> None:
        self.index.close()
