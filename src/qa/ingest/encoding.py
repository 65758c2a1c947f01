"""Bytes to text: the encodings Chinese files really come in, detected and checked, never guessed into mojibake."""
from __future__ import annotations

import functools
import re

from qa.errors import UnreadableFile

# Encodings a Chinese text file really comes in; anything else is refused rather than guessed.
_CANDIDATES = ["gb18030", "big5", "utf_16_le", "utf_16_be"]


def decode(raw: bytes, name: str) -> tuple[str, str]:
    """(text, encoding): UTF-8 (with or without BOM), UTF-16 (BOM or not), GB18030/GBK or Big5.

    The legacy encodings are detected with charset-normalizer and accepted only when the result reads as Chinese
    text; otherwise the file is refused, never decoded into mojibake."""
    if raw.startswith(b"\xef\xbb\xbf"):
        text, encoding = _strict(raw[3:], "utf-8", name), "utf-8-sig"
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text, encoding = _strict(raw, "utf-16", name), "utf-16"
    else:
        try:
            text, encoding = raw.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text, encoding = _detect(raw, name)
    if "\x00" in text:
        raise UnreadableFile(path=name, reason="binary")
    return text.replace("\r\n", "\n").replace("\r", "\n"), encoding


def _strict(raw: bytes, encoding: str, name: str) -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise UnreadableFile(path=name, reason="bad_bytes", encoding=encoding, position=exc.start) from None


def _detect(raw: bytes, name: str) -> tuple[str, str]:
    """The candidate decoding that reads most like everyday Chinese; refused when none reads well enough."""
    from charset_normalizer import from_bytes

    proposed = [m.encoding for m in from_bytes(raw, cp_isolation=_CANDIDATES)]
    best: tuple[float, str, str] | None = None
    for encoding in dict.fromkeys(proposed + _CANDIDATES):
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        score = chinese_score(text)
        if best is None or score > best[0]:
            best = (score, text, encoding)
    if best is None or best[0] < MIN_CHINESE_SCORE:
        raise UnreadableFile(path=name, reason="unknown_encoding")
    return best[1], best[2]


# Share of non-ASCII characters that are everyday Chinese characters or punctuation: mojibake scores far lower.
MIN_CHINESE_SCORE = 0.85
_PUNCT = re.compile(r"[\u2000-\u206f\u3000-\u303f\uff00-\uffef\u00b7\u00d7]")


def chinese_score(text: str) -> float:
    """How much the text reads as Chinese: 1.0 for plain ASCII or everyday characters, near 0 for mojibake."""
    beyond_ascii = [ch for ch in text if ord(ch) > 127 and not ch.isspace()]
    if any(ord(ch) < 32 and ch not in "\n\r\t\f" for ch in text):
        return 0.0
    if not beyond_ascii:
        return 1.0
    return sum(_is_common(ch) or bool(_PUNCT.match(ch)) for ch in beyond_ascii) / len(beyond_ascii)


@functools.lru_cache(maxsize=None)
def _is_common(ch: str) -> bool:
    """One of the ~3,750 everyday Simplified (GB2312 level 1) or ~5,400 everyday Traditional (Big5) characters."""
    try:
        if 0xB0 <= ch.encode("gb2312")[0] <= 0xD7:
            return True
    except UnicodeEncodeError:
        pass
    try:
        return 0xA440 <= int.from_bytes(ch.encode("big5"), "big") <= 0xC67E
    except UnicodeEncodeError:
        return False
