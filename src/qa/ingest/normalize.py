"""Clean decoded text before parsing: invisible characters, spaced-out names, footnote markers."""
from __future__ import annotations

import re

# Zero-width space/joiners, word joiner, soft hyphen and a stray BOM: invisible, and they break search and quotes.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\u00ad\ufeff]")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
# 李　强, 习　近　平: single characters spaced out (a typesetting habit for names), not 珍爱湿地　守护未来.
_SPACED_NAME = re.compile(rf"(?<![{_CJK}])[{_CJK}](?:[\u3000 ]{{1,2}}[{_CJK}])+(?![{_CJK}])")
# Wikisource-style footnote markers such as [1] or [注2]; the notes themselves are the lines led by ↑.
_FOOTNOTE_MARK = re.compile(r"\[(?:注)?\d{1,3}\]")
FOOTNOTE_LINE = re.compile(r"^\s*↑")
# Control characters (terminal escape codes among them) have no place in a speech: printed raw they could
# rewrite a terminal. Tab and newline stay.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def strip_invisible(text: str) -> str:
    """Remove zero-width characters: 74.4\u200b万亿元 -> 74.4万亿元."""
    return _INVISIBLE.sub("", text)


def join_spaced_name(text: str) -> str:
    """Close up a name written with spaces between single characters: 李　强 -> 李强."""
    return _SPACED_NAME.sub(lambda m: re.sub(r"[\u3000 ]", "", m.group(0)), text)


def strip_footnote_marks(line: str) -> str:
    """Drop [1]-style footnote markers so they never end up inside a quote."""
    return _FOOTNOTE_MARK.sub("", line)


def normalize_text(text: str) -> str:
    """Newlines unified, invisible and control characters removed; everything else is kept verbatim."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return CONTROL.sub("", strip_invisible(text))
