"""Split paragraphs into sentences with offsets, and long paragraphs into embedding windows."""
from __future__ import annotations

import hashlib

from qa.records import Document, Passage, Span
from qa.settings import ChunkSettings

# Bump when sentence, window or structure rules change: the manifest records it and a
# mismatch re-chunks the corpus (embeddings of unchanged window texts are still reused).
CHUNKER_VERSION = "8"  # 2: BM25 words+bigrams of Simplified text; 3: ids include the document; 4: heads, points, more heading kinds, Simplified text embedded; 5: sentences capped in length, control characters dropped; 6: lead-in paragraphs (…目标是：) give the keyword side context; 7: 各位代表！ closes numbered sub-sections; 8: congress reports without a date dated by the congress they name

SENTENCE_END = "。！？；!?;"
_CLOSERS = "”’」』）)】〕》\"'"
_SPACE = " \t\n\u3000\xa0"
# A "sentence" without 。！？； can be a whole file: pieces longer than this are cut at a comma-like mark (or
# hard), so every window stays small enough for the model (one character is at least one token) and quick
# to embed.
MAX_SENTENCE_CHARS = 400
_SOFT_BREAKS = "，、：,:）)” \u3000"


def split_sentences(text: str) -> tuple[Span, ...]:
    """Sentence spans ending at 。！？； (half-width too), closing quotes kept with their sentence.

    Spans are in order, never overlap, and together cover every non-space character.
    """
    spans = []
    start = None
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if start is None:
            if ch in _SPACE:
                i += 1
                continue
            start = i
        if ch in SENTENCE_END:
            j = i + 1
            while j < n and (text[j] in SENTENCE_END or text[j] in _CLOSERS):
                j += 1
            spans.append(Span(start, j))
            start = None
            i = j
            continue
        i += 1
    if start is not None:
        end = len(text.rstrip(_SPACE))
        if end > start:
            spans.append(Span(start, end))
    return tuple(piece for span in spans for piece in _cap(text, span))


def _cap(text: str, span: Span, limit: int = MAX_SENTENCE_CHARS):
    """The span, or consecutive pieces of at most `limit` characters cut after a comma-like mark where one
    falls in the second half of the piece."""
    start = span.start
    while span.end - start > limit:
        cut = max(text.rfind(mark, start + limit // 2, start + limit) for mark in _SOFT_BREAKS) + 1
        cut = cut if cut > start else start + limit
        yield Span(start, cut)
        start = cut
        while start < span.end and text[start] in _SPACE:
            start += 1
    if span.end > start:
        yield Span(start, span.end)


def make_windows(sentences: tuple[Span, ...], max_chars: int, overlap: int) -> tuple[Span, ...]:
    """Group consecutive sentences into windows of about max_chars, sharing `overlap` sentences."""
    if not sentences:
        return ()
    if sentences[-1].end - sentences[0].start <= max_chars:
        return (Span(sentences[0].start, sentences[-1].end),)
    windows = []
    first = 0
    while True:
        last = first
        while last + 1 < len(sentences) and sentences[last + 1].end - sentences[first].start <= max_chars:
            last += 1
        windows.append(Span(sentences[first].start, sentences[last].end))
        if last == len(sentences) - 1:
            return tuple(windows)
        nxt = max(first + 1, last + 1 - overlap)
        # overlap only when the next window can still reach a new sentence
        first = nxt if sentences[last + 1].end - sentences[nxt].start <= max_chars else last + 1


def passage_id(doc_id: str, section_path: tuple[str, ...], text: str, occurrence: int) -> str:
    """Content hash of a paragraph with its document and place; `occurrence` separates repeats in a section.

    The document's own content hash is part of it: two speeches with one title (a yearly tea party
    address, say) both open with 同志们：, and each such paragraph needs an id of its own.
    """
    key = "\x1f".join([doc_id, *section_path, text, str(occurrence)])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


# A short paragraph ending in a colon (今年经济社会发展的主要预期目标是：) introduces what follows, as a heading does:
# the keyword side reads it with the paragraph after it, and with the run of numbered points it opens.
LEAD_IN_CHARS = 60
_LEAD_IN_END = ("：", ":")


def lead_ins(passages: list[Passage]) -> list[str | None]:
    """For each passage of one document, the lead-in paragraph that introduces it, or None."""
    out: list[str | None] = []
    lead: str | None = None
    for i, p in enumerate(passages):
        prev = passages[i - 1] if i else None
        same_section = prev is not None and prev.section_path == p.section_path
        if not same_section:
            lead = None
        elif is_lead_in(prev):
            lead = prev.text.strip()
        elif lead is not None and not (p.point and prev.point):
            lead = None  # a lead-in reaches the next paragraph and the run of points that follows it
        out.append(lead)
    return out


def is_lead_in(passage: Passage) -> bool:
    text = passage.text.strip()
    return len(text) <= LEAD_IN_CHARS and text.endswith(_LEAD_IN_END)


def make_passages(doc: Document, settings: ChunkSettings) -> list[Passage]:
    """One passage per paragraph, with sentence spans and embedding windows."""
    seen: dict[tuple, int] = {}
    passages = []
    for para in doc.paragraphs:
        key = (para.section_path, para.text)
        seen[key] = seen.get(key, 0) + 1
        sentences = split_sentences(para.text)
        passages.append(
            Passage(
                passage_id=para.key or passage_id(doc.doc_id, para.section_path, para.text, seen[key]),
                doc_id=doc.doc_id,
                title=doc.title,
                date=doc.date,
                section_path=para.section_path,
                paragraph=para.ordinal,
                text=para.text,
                sentences=sentences,
                windows=make_windows(sentences, settings.window_chars, settings.window_overlap),
                point=para.point,
            )
        )
    return passages
