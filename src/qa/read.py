"""Find the texts in the data folder and read each as Unicode text, whatever its format and encoding."""
from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import DataMissing, UnreadableFile

PLAIN_SUFFIXES = (".txt", ".md")
DOCUMENT_SUFFIXES = (".docx", ".html", ".htm", ".pdf")
COLLECTION_SUFFIXES = (".jsonl",)  # pre-split passages, one {id, title, text} a line
TEXT_SUFFIXES = PLAIN_SUFFIXES + DOCUMENT_SUFFIXES + COLLECTION_SUFFIXES

# Encodings a Chinese text file really comes in; anything else is refused rather than guessed.
_CANDIDATES = ["gb18030", "big5", "utf_16_le", "utf_16_be"]


@dataclass(frozen=True)
class SourceFile:
    """A file found in the data folder, identified by its relative path and content hash."""

    path: Path
    name: str  # relative to the data folder, POSIX style
    sha256: str
    refused: str | None = None  # a reason code when the file must not be read (a symlink out of the folder)


@dataclass(frozen=True)
class SourceText:
    """What was read from one file: plain text plus what its format says about titles and headings."""

    text: str
    format: str  # txt, md, docx, html, pdf or jsonl
    encoding: str | None = None  # for text files: the encoding found
    title: str | None = None  # the file's own title (docx Title style, html h1), if any
    headings: tuple[tuple[str, int], ...] = ()  # (line, level) marked as headings by styles or tags


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def is_hidden(name: str) -> bool:
    """Hidden files and folders, and Word's ~$ lock files: never indexed."""
    return any(part.startswith((".", "~$")) for part in Path(name).parts)


def scan(data_dir: Path) -> list[SourceFile]:
    """All readable-looking texts below data_dir (or data_dir itself, if it is one file), sorted by name.

    Symlinked folders are not entered; a symlinked file that leads outside data_dir is listed as refused, and
    never read (its hash is that of the link, not of what it points to)."""
    data_dir = Path(data_dir)
    if data_dir.is_file():
        return [SourceFile(path=data_dir, name=data_dir.name, sha256=file_digest(data_dir))]
    if not data_dir.is_dir():
        raise DataMissing(data_dir=str(data_dir))
    root = data_dir.resolve()
    found = []
    for folder, dirs, files in os.walk(data_dir, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith((".", "~$"))]
        for file in files:
            path = Path(folder) / file
            name = path.relative_to(data_dir).as_posix()
            if is_hidden(name) or path.suffix.lower() not in TEXT_SUFFIXES:
                continue
            if path.is_symlink() and not inside(path.resolve(), root):
                link = hashlib.sha256(os.readlink(path).encode("utf-8", "surrogateescape")).hexdigest()
                found.append(SourceFile(path=path, name=name, sha256=f"symlink-{link}", refused="symlink"))
            elif path.is_file():
                found.append(SourceFile(path=path, name=name, sha256=file_digest(path)))
    return sorted(found, key=lambda f: f.name)


def inside(path: Path, root: Path) -> bool:
    """Whether a resolved path is root or below it."""
    return path == root or root in path.parents


def read_source(path: Path) -> SourceText:
    """Read any supported file; UnreadableFile (naming the file and why) for anything else."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in DOCUMENT_SUFFIXES:
        from .extract import extract_document  # python-docx, pypdf and bs4 load only when needed

        return extract_document(path)
    if suffix not in PLAIN_SUFFIXES + COLLECTION_SUFFIXES:
        raise UnreadableFile(path=str(path), reason="unsupported_format", suffix=suffix or "（无）")
    text, encoding = decode(path.read_bytes(), str(path))
    return SourceText(text=text, format=suffix.lstrip("."), encoding=encoding)


def read_text(path: Path) -> str:
    """The text of a plain file, decoded (see decode)."""
    return decode(Path(path).read_bytes(), str(path))[0]


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
