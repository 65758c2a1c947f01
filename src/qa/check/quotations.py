"""What a draft quotes: every span in quotation marks (nested ones too) with its lead-in, or every sentence."""
from __future__ import annotations

import re
from dataclasses import dataclass

PAIRS = {"“": "”", "「": "」", "『": "』", "‘": "’", "〝": "〞", "﹁": "﹂", "﹃": "﹄"}
STRAIGHT = {'"', "＂"}  # opens and closes alike: the next one closes
LEAD_CHARS = 60  # a lead-in (…强调：) is looked for this far back, within the sentence
_SENTENCE_END = "。！？!?\n"
CLOSING = set(PAIRS.values()) | STRAIGHT
_MARKS = set(PAIRS) | CLOSING
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]*[”」』’\"]?")  # a closing mark after 。 ends the sentence too
SENTENCE_MIN = 8  # shorter sentences (headings, 同志们：) are not checked in --all-sentences


@dataclass(frozen=True)
class Quotation:
    """One span of the draft to check: text == draft[start:end] (inside the marks), its lead-in, and its depth
    (0: top level; 1: inside another quotation)."""

    text: str
    start: int
    end: int
    lead_in: str = ""
    depth: int = 0
    marked: bool = True  # False: a sentence checked for unmarked borrowing
    note: str = ""  # a source given after the closing mark: “…”（《…》2023年） or (2019年政府工作报告)


def find_quotations(draft: str) -> list[Quotation]:
    """Every quotation in the draft, in order of its opening mark; a mark left open ends at the paragraph."""
    found: list[Quotation] = []
    stack: list[tuple[str, int]] = []  # (closing mark expected, where the text starts)
    for i, ch in enumerate(draft):
        if ch == "\n":
            stack.clear()  # a quotation never runs past its paragraph: an unclosed mark is a typo, not a quote
        elif stack and (ch == stack[-1][0] or (ch in STRAIGHT and stack[-1][0] in STRAIGHT)):
            _, start = stack.pop()
            if draft[start:i].strip():
                found.append(_quotation(draft, start, i, len(stack)))
        elif ch in PAIRS:
            stack.append((PAIRS[ch], i + 1))
        elif ch in STRAIGHT:
            stack.append((ch, i + 1))
        elif stack and ch in PAIRS.values():
            # a closing mark of another pair closes the innermost quotation that expects it, if any
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == ch:
                    _, start = stack[depth]
                    del stack[depth:]
                    found.append(_quotation(draft, start, i, depth))
                    break
    return sorted(found, key=lambda q: q.start)


def _quotation(draft: str, start: int, end: int, depth: int) -> Quotation:
    return Quotation(draft[start:end], start, end, lead_in(draft, start - 1), depth, note=source_note(draft, end + 1))


def lead_in(draft: str, mark: int) -> str:
    """The words before a quotation's opening mark, back to the start of its sentence or the quotation mark
    before it (习近平总书记强调：); a quotation opening a paragraph takes the end of the line before when that
    line ends in a colon (习近平总书记指出：⏎“…”)."""
    start = mark
    while start > 0 and mark - start < LEAD_CHARS and draft[start - 1] not in _SENTENCE_END \
            and draft[start - 1] not in _MARKS:
        start -= 1
    words = draft[start:mark].strip().lstrip("，,、；;：:）) ")
    if not words and start > 0 and draft[start - 1] == "\n":
        before = draft[:start - 1].rstrip()
        if before.endswith(("：", ":")):
            return lead_in(before + " ", len(before))
    return words


_NOTE = re.compile(r"[ \t]*[（(]([^（）()\n]{2,80})[）)]")


def source_note(draft: str, after: int) -> str:
    """A source in brackets right after a quotation's closing mark: “…”（《习近平谈治国理政》第四卷）."""
    found = _NOTE.match(draft, after)
    return found.group(1).strip() if found else ""


def draft_sentences(draft: str, quotations: list[Quotation]) -> list[Quotation]:
    """The draft's sentences outside its quotation marks, for unmarked borrowing: each sentence of
    SENTENCE_MIN characters or more that does not overlap a quotation."""
    taken = [(q.start, q.end) for q in quotations if q.depth == 0]
    out = []
    for match in _SENTENCE.finditer(draft):
        start, end = match.span()
        while start < end and draft[start].isspace():
            start += 1
        while end > start and draft[end - 1].isspace():
            end -= 1
        if end - start < SENTENCE_MIN or any(s < end and start < e for s, e in taken):
            continue
        out.append(Quotation(draft[start:end], start, end, marked=False))
    return out
