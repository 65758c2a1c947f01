"""Measure retrieval on a question set: recall at 1/3/5/10, MRR@10, and how often the top quote holds the answer."""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from qa.answer import Assistant
from qa.errors import BadQuestionFile, EmptyQuestion, InvalidSetting
from qa.records import Hit, Passage
from qa.search.quotes import question_kind
from qa.search.when import as_of_year

CUTOFFS = (1, 3, 5, 10)


@dataclass(frozen=True)
class Question:
    """A question with its gold: phrases the answering paragraph contains, or the ids of gold passages."""

    question: str
    gold: tuple[str, ...] = ()
    gold_passage_ids: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()  # QA sets' answer strings: used for quote@1 only
    doc: str | None = None  # must occur in the hit's title, date or doc id
    category: str | None = None  # the kind of question (plan, outcome, how, why, …): figures are also given per kind
    as_of: str | None = None  # the moment a 今年/去年 question is asked (YYYY-MM-DD)


@dataclass(frozen=True)
class Outcome:
    question: Question
    rank: int | None  # 1-based rank of the first relevant hit, None if not in the top k
    quote_ok: bool | None  # None where the question has no phrases to check a quote against
    top: Hit | None


@dataclass(frozen=True)
class Report:
    outcomes: tuple[Outcome, ...]
    k: int

    @property
    def recall(self) -> dict[int, float]:
        n = len(self.outcomes) or 1
        return {c: sum(1 for o in self.outcomes if o.rank and o.rank <= c) / n for c in CUTOFFS if c <= self.k}

    @property
    def mrr(self) -> float:
        n = len(self.outcomes) or 1
        return sum(1 / o.rank for o in self.outcomes if o.rank and o.rank <= 10) / n

    @property
    def quote_at_1(self) -> float | None:
        checked = [o.quote_ok for o in self.outcomes if o.quote_ok is not None]
        return sum(checked) / len(checked) if checked else None

    def by_category(self) -> dict[str, dict]:
        """R@1, R@3 and quote@1 for each category of question (empty when the questions have no category)."""
        return self._by(lambda q: q.category)

    def by_kind(self) -> dict[str, dict]:
        """The same for each kind of answer asked for (quotes.question_kind: number, list, reason, means, other)."""
        return self._by(lambda q: question_kind(q.question))

    def _by(self, key: Callable[[Question], str | None]) -> dict[str, dict]:
        kinds: dict[str, list[Outcome]] = {}
        for o in self.outcomes:
            if key(o.question):
                kinds.setdefault(key(o.question), []).append(o)
        out = {}
        for kind, outcomes in sorted(kinds.items()):
            part = Report(outcomes=tuple(outcomes), k=self.k)
            out[kind] = {"questions": len(outcomes), **{f"R@{c}": round(v, 4) for c, v in part.recall.items()
                                                       if c in (1, 3)},
                         "quote@1": None if part.quote_at_1 is None else round(part.quote_at_1, 4)}
        return out

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.rank is None]

    def summary(self, mode: str, model: str) -> dict:
        """The figures as `qa eval --json` prints them."""
        return {
            "questions": len(self.outcomes),
            "mode": mode,
            "k": self.k,
            "model": model,
            "recall": {f"R@{c}": round(v, 4) for c, v in self.recall.items()},
            "mrr@10": round(self.mrr, 4),
            "quote@1": None if self.quote_at_1 is None else round(self.quote_at_1, 4),
            "by_category": self.by_category(),
            "by_kind": self.by_kind(),
            "failures": [
                {"question": o.question.question, "gold": list(o.question.gold or o.question.gold_passage_ids),
                 "top": o.top.citation.render() if o.top else None}
                for o in self.failures
            ],
        }


def normalise(text: str) -> str:
    """For matching gold phrases: full-width forms folded (NFKC), white space removed."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def load_questions(path: Path) -> list[Question]:
    """JSONL: {"question", "gold": [...]} or {"question", "gold_passage_ids": [...]}, optional "doc", "answers"."""
    questions = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            q = Question(
                question=str(row["question"]),
                gold=tuple(row.get("gold") or ()),
                gold_passage_ids=tuple(str(g) for g in row.get("gold_passage_ids") or ()),
                answers=tuple(row.get("answers") or ()),
                doc=row.get("doc"),
                category=row.get("category"),
                as_of=row.get("as_of"),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise BadQuestionFile(path=str(path), line=number, reason="not_a_question") from None
        try:
            as_of_year(q.as_of)
        except InvalidSetting:
            raise BadQuestionFile(path=str(path), line=number, reason="bad_as_of") from None
        if not q.gold and not q.gold_passage_ids:
            raise BadQuestionFile(path=str(path), line=number, reason="no_gold")
        questions.append(q)
    return questions


def is_relevant(hit: Hit, q: Question) -> bool:
    return answers(hit.passage, q)


def answers(passage: Passage, q: Question) -> bool:
    """Whether a passage answers the question: in its named document, and the gold passage or holding a gold phrase."""
    if q.doc and not any(q.doc in (field or "") for field in (passage.title, passage.date, passage.doc_id)):
        return False
    if q.gold_passage_ids:
        return passage.passage_id in q.gold_passage_ids
    text = normalise(passage.text)
    return any(normalise(g) in text for g in q.gold)


def quote_holds(hit: Hit | None, q: Question) -> bool | None:
    phrases = q.gold or q.answers
    if not phrases:
        return None
    if hit is None or not is_relevant(hit, q):
        return False
    quote = normalise(hit.quote.text)
    return any(normalise(p) in quote for p in phrases)


def evaluate(
    assistant: Assistant, questions: list[Question], k: int = 10, progress: Callable[[int, int], None] | None = None,
    mode: str | None = None,
) -> Report:
    """Ask every question (in `mode`, else the settings' mode) and score the hits against the gold."""
    outcomes = []
    for i, q in enumerate(questions, start=1):
        try:
            hits = assistant.ask(q.question, k, mode=mode, as_of=as_of_year(q.as_of)).hits
        except EmptyQuestion:  # a blank question in a QA set (CMRC2018 trial has two) counts as a miss
            hits = ()
        rank = next((h.rank for h in hits if is_relevant(h, q)), None)
        top = hits[0] if hits else None
        outcomes.append(Outcome(question=q, rank=rank, quote_ok=quote_holds(top, q), top=top))
        if progress:
            progress(i, len(questions))
    return Report(outcomes=tuple(outcomes), k=k)
