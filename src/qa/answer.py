"""Answers: the retrieved passages with the sentence to quote and the citation for each."""
from __future__ import annotations

from typing import Mapping, Sequence

from .embed import Embedder, load_embedder
from .indexer import BuildReport, Progress, model_for, sync
from .keyword import tokenize
from .records import Answer, Citation, Hit, Passage, Quote
from .retrieve import Retriever, clean_question
from .settings import Settings
from .store import IndexReader

_K1, _B = 1.2, 0.75


def best_sentence(
    question_terms: Sequence[str], sentence_terms: Sequence[Sequence[str]], idf: Mapping[str, float]
) -> int | None:
    """Index of the sentence that best matches the question by BM25 over its terms, or None.

    None means no sentence shares a term with the question (or there are no sentences).
    Ties go to the earlier sentence.
    """
    if not sentence_terms:
        return None
    wanted = set(question_terms)
    avg = sum(len(t) for t in sentence_terms) / len(sentence_terms) or 1.0
    best, best_score = None, 0.0
    for i, terms in enumerate(sentence_terms):
        norm = _K1 * (1 - _B + _B * len(terms) / avg)
        score = 0.0
        for term in wanted:
            tf = terms.count(term)
            if tf:
                score += idf.get(term, 0.0) * tf * (_K1 + 1) / (tf + norm)
        if score > best_score:
            best, best_score = i, score
    return best


def bigram_overlap(question: str, sentences: Sequence[str]) -> int | None:
    """Index of the sentence sharing the most character bigrams with the question, or None."""
    grams = {question[i : i + 2] for i in range(len(question) - 1)}
    best, best_count = None, 0
    for i, text in enumerate(sentences):
        count = len(grams & {text[j : j + 2] for j in range(len(text) - 1)})
        if count > best_count:
            best, best_count = i, count
    return best


def choose_quote(passage: Passage, question: str, question_terms: Sequence[str], idf: Mapping[str, float]) -> Quote:
    """The verbatim sentence of the passage to quote for this question (the first when none matches)."""
    if not passage.sentences:
        return Quote(text=passage.text, start=0, end=len(passage.text))
    texts = [passage.sentence_text(i) for i in range(len(passage.sentences))]
    pick = best_sentence(question_terms, [tokenize(t) for t in texts], idf)
    if pick is None:
        pick = bigram_overlap(question, texts) or 0
    span = passage.sentences[pick]
    quote = Quote(text=passage.text[span.start : span.end], start=span.start, end=span.end)
    assert passage.text[quote.start : quote.end] == quote.text  # quotes are verbatim, always
    return quote


def citation_for(passage: Passage) -> Citation:
    return Citation(title=passage.title, date=passage.date, section_path=passage.section_path, paragraph=passage.paragraph)


class Assistant:
    """Answers questions from one loaded index with one embedder."""

    def __init__(self, settings: Settings, embedder: Embedder, index: IndexReader) -> None:
        self.settings = settings
        self.embedder = embedder
        self.index = index
        self.retriever = Retriever(index, embedder, settings.retrieve)

    @classmethod
    def open(
        cls, settings: Settings, embedder: Embedder | None = None, update: bool = True, progress: Progress | None = None
    ) -> tuple["Assistant", BuildReport | None]:
        """Load the model and the index; with update, first re-index what changed in the data folder."""
        embedder = embedder or load_embedder(model_for(settings), settings.embed.batch_size)
        report = sync(settings, embedder, progress=progress) if update else None
        return cls(settings, embedder, IndexReader.open(settings.index_dir)), report

    def ask(self, question: str, k: int | None = None) -> Answer:
        question = clean_question(question)
        if self.index.size == 0:
            return Answer(question=question, notice="empty_index")
        terms = tokenize(question)
        idf = {t: self.index.keyword.idf(t) for t in set(terms)}
        hits = []
        for rank, cand in enumerate(self.retriever.search(question, k, terms=terms), start=1):
            passage = self.index.passage(cand.row)
            hits.append(
                Hit(
                    rank=rank,
                    score=cand.score,
                    passage=passage,
                    quote=choose_quote(passage, question, terms, idf),
                    citation=citation_for(passage),
                    dense_rank=cand.dense_rank,
                    keyword_rank=cand.keyword_rank,
                )
            )
        return Answer(question=question, hits=tuple(hits))

    def close(self) -> None:
        self.index.close()
