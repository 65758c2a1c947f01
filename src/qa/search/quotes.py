"""Quotes: which sentence (or two) of a passage to quote, and which passages are copies of each other."""
from __future__ import annotations

import re
import unicodedata
from typing import Mapping, Sequence

from qa.ingest.headings import display_heading, heading_number_end
from qa.records import Passage, Quote, Span
from qa.search.tokens import simplified, tokenize

# Quote scoring, chosen on CMRC2018 dev (docs/EVALUATION.md): coverage of the question's distinct terms
# weighted by IDF beat BM25 over sentences (quote@1 0.711 vs 0.615); allowing two consecutive sentences
# when the second adds terms raised it to 0.811.
PAIR_PENALTY = 1.0  # a two-sentence quote must add this much term weight to win over one sentence
BIGRAM_WEIGHT = 0.05  # character bigrams shared with the question: catches what segmentation splits apart
NUMBER_BONUS = 0.3  # a question asking for a number or date prefers a sentence that has one
_ASKS_NUMBER = re.compile(r"多少|几|哪一?年|何时|什么时候|多长|多大|多高|多远|多久|比例|数量|人口|面积|规模")
_HAS_NUMBER = re.compile(r"[0-9０-９一二三四五六七八九十百千万亿两％%]")
# Kinds of question whose answer runs past the sentence that matches them best (docs/EVALUATION.md, speech dev)
_ASKS_LIST = re.compile(r"哪些|有哪几|包括什么")
_ASKS_REASON = re.compile(r"为什么|为何|什么原因|原因是|为了什么|意义")
_GIVES_REASON = re.compile(r"^(?:这|因为|由于|主要是|之所以|是为了|目的是|旨在|有利于)")
_ASKS_MEANS = re.compile(r"怎么|怎样|如何|哪些措施|什么措施|什么办法")
MAX_QUOTE_CHARS = 200  # a quote grown by these rules stops before this length
TASK_CHARS = 40  # a sentence this short that matches a 怎么/如何 question names the task, not the measures
MEANS_SENTENCES, MEANS_QUOTE_CHARS = 2, 150


def question_kind(question: str) -> str:
    """The kind of answer a question asks for: number (多少/几), list (哪些), reason (为什么/意义), means (怎么/如何),
    or other. Quote choice depends on it, and evaluation reports quote@1 for each."""
    if _ASKS_LIST.search(question):
        return "list"
    if _ASKS_REASON.search(question):
        return "reason"
    if _ASKS_MEANS.search(question):
        return "means"
    if _ASKS_NUMBER.search(question):
        return "number"
    return "other"


def bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def score_span(question: str, wanted: set[str], text: str, terms: set[str], idf: Mapping[str, float]) -> float:
    """IDF of the distinct question terms in the text, plus shared bigrams and a number bonus."""
    score = sum(idf.get(t, 0.0) for t in wanted & terms)
    score += BIGRAM_WEIGHT * len(bigrams(question) & bigrams(text))
    if _ASKS_NUMBER.search(question) and _HAS_NUMBER.search(text):
        score += NUMBER_BONUS
    return score


def sentence_scores(passage: Passage, question: str, question_terms: Sequence[str], idf: Mapping[str, float]) -> list[float]:
    """score_span of every single sentence of the passage."""
    wanted = set(question_terms)
    texts = [passage.sentence_text(i) for i in range(len(passage.sentences))]
    return [score_span(question, wanted, t, set(words), idf) for t, words in zip(texts, sentence_terms(passage))]


def sentence_terms(passage: Passage) -> list[tuple[str, ...]]:
    """The words of each sentence: as the index stored them, else tokenised now."""
    if len(passage.terms) == len(passage.sentences):
        return list(passage.terms)
    return [tuple(tokenize(passage.sentence_text(i))) for i in range(len(passage.sentences))]


def best_span(
    question: str,
    question_terms: Sequence[str],
    sentence_texts: Sequence[str],
    sentence_terms: Sequence[Sequence[str]],
    idf: Mapping[str, float],
) -> tuple[int, int] | None:
    """(first, last) sentence indexes of the best quote: one sentence, or two in a row; None if nothing matches.

    Score: IDF of the distinct question terms the quote contains, plus a little for shared character
    bigrams and for numbers when the question asks for one. Ties go to the earlier, shorter quote.
    """
    wanted = set(question_terms)
    n = len(sentence_texts)
    candidates = [(i, i) for i in range(n)] + [(i, i + 1) for i in range(n - 1)]
    best, best_score = None, 0.0
    for first, last in candidates:
        terms = set().union(*(sentence_terms[i] for i in range(first, last + 1)))
        score = score_span(question, wanted, "".join(sentence_texts[first : last + 1]), terms, idf)
        if last > first:
            score -= PAIR_PENALTY
        if score > best_score:
            best, best_score = (first, last), score
    return best


def opens_with_heading(passage: Passage) -> bool:
    """True when the paragraph's first sentence is its own section heading, run in: （三）要坚持学习常态化制度化。…"""
    if not passage.section_path or not passage.sentences:
        return False
    return display_heading(passage.sentence_text(0)) == passage.section_path[-1]


def choose_quote(passage: Passage, question: str, question_terms: Sequence[str], idf: Mapping[str, float]) -> Quote:
    """The verbatim sentence (or two) of the passage to quote for this question; the first when none matches.

    A run-in heading is never quoted alone: it repeats the citation and says least, so the sentence after it joins."""
    if not passage.sentences:
        return Quote(text=passage.text, start=0, end=len(passage.text))
    texts = [passage.sentence_text(i) for i in range(len(passage.sentences))]
    first, last = best_span(question, question_terms, texts, sentence_terms(passage), idf) or (0, 0)
    if (first, last) == (0, 0) and len(texts) > 1 and opens_with_heading(passage):
        last = 1
    last = extend_for_kind(question, texts, first, last)
    start, end = quote_span(passage.text, passage.sentences, first, last)
    quote = Quote(text=passage.text[start:end], start=start, end=end)
    assert passage.text[quote.start : quote.end] == quote.text  # quotes are verbatim, always
    return quote


_PAIRS = {"“": "”", "「": "」", "『": "』", "‘": "’"}
_CLOSER_OF = {close: open_ for open_, close in _PAIRS.items()}
BALANCE_CHARS = 300  # a quote grows to close a quotation up to this length; past it, it is cut instead
_BLANK = " \t\n\u3000\xa0"


def unbalanced(text: str) -> tuple[list[int], list[int]]:
    """Offsets of the quotation marks in text left open (“ without ”) and of those closed without an opening."""
    open_at: dict[str, list[int]] = {o: [] for o in _PAIRS}
    stray = []
    for i, ch in enumerate(text):
        if ch in _PAIRS:
            open_at[ch].append(i)
        elif ch in _CLOSER_OF:
            if open_at[_CLOSER_OF[ch]]:
                open_at[_CLOSER_OF[ch]].pop()
            else:
                stray.append(i)
    return sorted(i for offsets in open_at.values() for i in offsets), stray


def quote_span(text: str, sentences: Sequence[Span], first: int, last: int) -> tuple[int, int]:
    """Character offsets of the quote made of sentences first..last, so that a writer can paste it: quotation
    marks balanced (grown by whole sentences to the closing mark in the paragraph, else started after an opening
    mark or ended before a closing one it lacks) and no heading number in front (（三）要坚持… → 要坚持…)."""
    while True:
        start, end = sentences[first].start, sentences[last].end
        opened, stray = unbalanced(text[start:end])
        if opened and last + 1 < len(sentences) and sentences[last + 1].end - start <= BALANCE_CHARS:
            last += 1
        elif stray and not opened and first > 0 and end - sentences[first - 1].start <= BALANCE_CHARS:
            first -= 1
        else:
            break
    whole = start, end
    if stray:  # the quotation the quote sits in closes inside it: keep the longer side of the closing marks
        start, end = _longer_side(start, end, stray)
    opened, _ = unbalanced(text[start:end])
    if opened:  # a quotation that never closes in this paragraph: keep the longer side of the opening marks
        start, end = _longer_side(start, end, opened)
    start += heading_number_end(text[start:end])
    while start < end and text[start] in _BLANK:
        start += 1
    while end > start and text[end - 1] in _BLANK:
        end -= 1
    return (start, end) if start < end else whole



def _longer_side(start: int, end: int, marks: list[int]) -> tuple[int, int]:
    """(start, end) cut to the text before the first mark or after the last one, whichever is longer."""
    before, after = marks[0], (end - start) - (marks[-1] + 1)
    return (start, start + before) if before >= after else (start + marks[-1] + 1, end)


def extend_for_kind(question: str, texts: Sequence[str], first: int, last: int) -> int:
    """The last sentence of the quote, grown for questions whose answer runs on: a 哪些 question takes the rest of
    an enumeration cut at ；, a 为什么 question the next sentence when it gives the reason (这…/由于…/有利于…),
    a 怎么/如何 question up to two measures after a short sentence that only names the task."""
    def fits(i: int, limit: int = MAX_QUOTE_CHARS) -> bool:
        return sum(len(t) for t in texts[first : i + 1]) <= limit

    kind = question_kind(question)
    if kind == "list":
        while last + 1 < len(texts) and texts[last].rstrip().endswith(("；", ";")) and fits(last + 1):
            last += 1
    elif kind == "reason":
        if last + 1 < len(texts) and _GIVES_REASON.match(texts[last + 1]) and fits(last + 1):
            last += 1
    elif kind == "means" and last == first and len(texts[first]) <= TASK_CHARS:
        # a short sentence naming the task (加大对企业稳岗扩岗支持力度。) is followed by its measures
        while last - first < MEANS_SENTENCES and last + 1 < len(texts) and fits(last + 1, MEANS_QUOTE_CHARS):
            last += 1
    return last


# Reprints and copies: paragraphs whose 5-character shingles (letters and digits only, Simplified, NFKC)
# overlap this much (Jaccard) are one passage that appears in several places.
NEAR_DUPLICATE = 0.7
_SHINGLE = 5


def shingles(text: str) -> frozenset[str]:
    core = "".join(ch for ch in unicodedata.normalize("NFKC", simplified(text)) if ch.isalnum())
    return frozenset(core[i : i + _SHINGLE] for i in range(max(len(core) - _SHINGLE + 1, 1 if core else 0)))


def group_near_duplicates(texts: Sequence[str], threshold: float = NEAR_DUPLICATE) -> list[list[int]]:
    """Indexes grouped by near-identical text, in order of each group's first member."""
    groups: list[list[int]] = []
    heads: list[frozenset[str]] = []
    for i, text in enumerate(texts):
        mine = shingles(text)
        for group, head in zip(groups, heads):
            union = len(mine | head)
            if union and len(mine & head) / union >= threshold:
                group.append(i)
                break
        else:
            groups.append([i])
            heads.append(mine)
    return groups


def quotability(length: int) -> float:
    """How well a sentence of this many characters serves as a quote: full weight from 8 to 100."""
    if length < 8:
        return 0.5
    return min(1.0, 100 / length)
