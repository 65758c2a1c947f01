"""Recognise numbered headings (第一部分, 一、, （一）, 1., （1）) and numbered points (一是, 第一，, ——) in a line."""
from __future__ import annotations

import re
from dataclasses import dataclass

NUMERAL = "一二三四五六七八九十百零〇两"
# Rank = nesting depth: a heading closes every open heading of the same or a deeper rank.
HEADING_KINDS = (
    (0, re.compile(rf"^第[{NUMERAL}]+部分")),
    (1, re.compile(rf"^[{NUMERAL}]+、")),
    (2, re.compile(rf"^[（(][{NUMERAL}]+[）)]")),
    (3, re.compile(r"^\d{1,2}[.．、](?!\d)")),
    (4, re.compile(r"^[（(]\d{1,2}[）)]")),
)
_POINT_SHI = re.compile(rf"^([{NUMERAL}]{{1,3}})是")
_POINT_DI = re.compile(rf"^第([{NUMERAL}]{{1,3}})[，,、：:]")
_POINT_DASH = re.compile(r"^(——|－－|--)(?=\S)")
_HEADING_END = "。！？!?"
_CLAUSE_END = "，,：:；;"
_CLOSING_QUOTES = "”’」』"
# A heading line is short; a longer numbered line is a paragraph led by its first sentence.
MAX_HEADING_CHARS = 50
SPACE = " \t\u3000\xa0"


_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九", start=1)}


def numeral_value(word: str) -> int | None:
    """一 .. 九十九 as a number (十二 -> 12, 二十 -> 20); None for anything else."""
    tens, ten, ones = word.partition("十")
    if not ten:
        return _DIGITS.get(word)
    if (tens and tens not in _DIGITS) or (ones and ones not in _DIGITS):
        return None
    return _DIGITS.get(tens, 1) * 10 + _DIGITS.get(ones, 0)


@dataclass(frozen=True)
class Heading:
    """A heading found at the start of a line."""

    level: int  # 0 第一部分, 1 一、, 2 （一）, 3 1., 4 （1）
    title: str  # display form, e.g. （一）要提高政治站位，强化责任担当
    run_in: bool  # True when the line goes on as a paragraph after the heading sentence


def parse_heading(line: str) -> Heading | None:
    """The heading at the start of line, standalone or run-in, or None."""
    line = line.strip(SPACE)
    level = next((rank for rank, pattern in HEADING_KINDS if pattern.match(line)), None)
    if level is None:
        return None
    end = first_sentence_end(line)
    # a line ending mid-sentence (；，：) is a list item whose text must stay a paragraph
    standalone = len(line) <= MAX_HEADING_CHARS and end in (None, len(line)) and line[-1] not in _CLAUSE_END
    title = line if end is None else line[:end]
    if len(title) > MAX_HEADING_CHARS:
        cut = min((i for i, ch in enumerate(title) if ch in _CLAUSE_END), default=None)
        title = title[:cut] if cut and cut > 3 else title[: MAX_HEADING_CHARS - 1] + "…"
    return Heading(level=level, title=display_heading(title), run_in=not standalone)


def heading_number_end(text: str) -> int:
    """Offset just past a heading's number at the start of text (（三）, 一、, 2., （4）) and the space after it;
    0 when text does not start with one. Points (一是, 第一，) are words of the sentence and are kept."""
    for _, pattern in HEADING_KINDS[1:]:
        if m := pattern.match(text):
            end = m.end()
            while end < len(text) and text[end] in SPACE:
                end += 1
            return end if end < len(text) else 0
    return 0


def point_marker(line: str) -> str | None:
    """'一是', '第一' or '——' when the paragraph is a numbered point of its section, else None."""
    line = line.strip(SPACE)
    if m := _POINT_SHI.match(line):
        return m.group(0)
    if m := _POINT_DI.match(line):
        return f"第{m.group(1)}"
    if _POINT_DASH.match(line):
        return "——"
    return None


def first_sentence_end(line: str) -> int | None:
    """Offset just past the first sentence-ending mark and any closing quote, or None."""
    for i, ch in enumerate(line):
        if ch in _HEADING_END:
            j = i + 1
            while j < len(line) and line[j] in _CLOSING_QUOTES:
                j += 1
            return j
    return None


_HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）"}


def display_heading(text: str) -> str:
    """Heading as shown in citations: full-width punctuation, no closing full stop."""
    out = []
    for i, ch in enumerate(text):
        between_digits = 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()
        out.append(ch if between_digits else _HALF_TO_FULL.get(ch, ch))
    return "".join(out).strip(SPACE).rstrip("。.")
