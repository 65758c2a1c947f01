"""Text folded for comparing a draft with its sources, with a map back to the characters it came from."""
from __future__ import annotations

import re
import unicodedata
from typing import Sequence

from qa.search.tokens import simplified

# Quotation marks are left out of the comparison: a quote nested in a draft is often top-level in its source
# (‘四个意识’ for “四个意识”), and marks a writer adds for emphasis do not change the words quoted
_QUOTES = set("“”「」『』‘’〝〞＂\"'﹁﹂﹃﹄«»")
# half-width punctuation folds to the full-width form Chinese text uses (. only between non-digits)
_PUNCT = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！", "(": "（", ")": "）", "[": "【", "]": "】"}
_DROP = set(" \t\r\n\u3000\u00a0\u200b\u200c\u200d\u2060\ufeff")
# what may stand at either end of a quotation without being part of what is quoted
EDGE = set("，。；：？！、…—-·")


def fold_char(ch: str) -> str:
    """One character folded: width (NFKC), case, half-width punctuation; '' for spaces and quotation marks."""
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) != 1:
        folded = ch  # ㈠, ½ and the like stay as written: one character in, one out, so offsets hold
    if ch in _DROP or folded in _QUOTES or folded.isspace():
        return ""
    # OpenCC keeps some Traditional characters inside phrases it knows (於 in a few): folded once more alone.
    # Both sides fold alike, so a Simplified character this changes (乾隆) changes on both and still matches.
    alone = simplified(folded)
    folded = alone if len(alone) == 1 else folded
    return _PUNCT.get(folded, folded).lower()


class _Table(dict):
    """str.translate's table for fold_char, filled on first sight of each character."""

    def __missing__(self, code: int):
        folded = fold_char(chr(code))
        self[code] = value = folded if folded else None
        return value


_TABLE = _Table()
_LONE_POINT = re.compile(r"(?<!\d)\.|\.(?!\d)")


def fold(text: str) -> tuple[str, Sequence[int]]:
    """(folded text, where each folded character was in text). Traditional characters become Simplified,
    full-width letters and digits half-width, half-width punctuation full-width; spaces and quotation marks are
    dropped."""
    converted = simplified(text)
    if len(converted) != len(text):  # a phrase conversion changed the length: fold character by character
        converted = "".join(simplified(ch) if len(simplified(ch)) == 1 else ch for ch in text)
    folded = converted.translate(_TABLE)
    if len(folded) == len(converted):
        where: Sequence[int] = range(len(text))
    else:
        where = [i for i, ch in enumerate(converted) if _TABLE[ord(ch)] is not None]
    # a point between digits is a decimal point (3.5); any other is a full stop
    return _LONE_POINT.sub("。", folded), where


def original_span(where: Sequence[int], start: int, end: int, length: int) -> tuple[int, int]:
    """The characters of the original text that folded characters [start, end) came from."""
    if start >= end:
        at = int(where[start]) if start < len(where) else length
        return at, at
    return int(where[start]), int(where[end - 1]) + 1


def trim_edges(text: str) -> tuple[int, int]:
    """(start, end) of text without the punctuation and quotation marks at its ends."""
    start, end = 0, len(text)
    while start < end and text[start] in EDGE:
        start += 1
    while end > start and text[end - 1] in EDGE:
        end -= 1
    return start, end
