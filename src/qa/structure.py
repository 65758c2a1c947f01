"""Turn raw speech text into a titled document of paragraphs with their section paths."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from .errors import UnreadableFile
from .records import Document, Paragraph

NUMERAL = "一二三四五六七八九十百零〇两"
_L1 = re.compile(rf"^([{NUMERAL}]+)、")
_L2 = re.compile(rf"^[（(]([{NUMERAL}]+)[）)]")
_HEADING_END = "。！？!?"
_CLAUSE_END = "，,：:；;"
# A heading line is short; a longer numbered line is a paragraph led by its first sentence.
MAX_HEADING_CHARS = 50
# U+3000 ideographic space, NBSP, zero-width characters and BOM count as white space at line ends.
_SPACE = " \t\u3000\xa0\u200b\u200c\u200d\ufeff"

_BREADCRUMB = re.compile(r"^(首页|当前位置|您的位置|你的位置)\s*[>›»＞]|([>›»＞].*){2,}")
_META = re.compile(r"^(网友)?(发表|发布|更新|上传)时间|^(来源|作者|责任编辑|浏览次数|阅读次数|点击)[:：]")
_TRAILER = re.compile(r"^(相关推荐|热门文档|相关文章|相关阅读|猜你喜欢|推荐阅读|上一篇|下一篇)[:：]?$")
_NUMBERS_ONLY = re.compile(r"^[\d\s,./:：-]+$")
_FILE_DATE = re.compile(r"^(\d{4})(?:-(\d{2})-(\d{2}))?_")
_TEXT_DATE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")


@dataclass(frozen=True)
class Heading:
    """A heading found at the start of a line."""

    level: int  # 1 for 一、, 2 for （一）
    title: str  # display form, e.g. （一）要提高政治站位，强化责任担当
    run_in: bool  # True when the line goes on as a paragraph after the heading sentence


def parse_heading(line: str) -> Heading | None:
    """Recognise 一、… (level 1) and （一）/(一)… (level 2) headings, standalone or run-in."""
    line = line.strip(_SPACE)
    for level, pattern in ((1, _L1), (2, _L2)):
        if pattern.match(line):
            break
    else:
        return None
    end = _first_sentence_end(line)
    standalone = len(line) <= MAX_HEADING_CHARS and end in (None, len(line))
    title = line if end is None else line[:end]
    if len(title) > MAX_HEADING_CHARS:
        cut = min((i for i, ch in enumerate(title) if ch in _CLAUSE_END), default=None)
        title = title[:cut] if cut and cut > 3 else title[:MAX_HEADING_CHARS - 1] + "…"
    return Heading(level=level, title=display_heading(title), run_in=not standalone)


def _first_sentence_end(line: str) -> int | None:
    """Offset just past the first sentence-ending mark and any closing quote, or None."""
    for i, ch in enumerate(line):
        if ch in _HEADING_END:
            j = i + 1
            while j < len(line) and line[j] in "”’」』":
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
    return "".join(out).strip(_SPACE).rstrip("。.")


def is_noise(line: str) -> bool:
    """Web-page chrome that is not part of the speech: breadcrumbs, post metadata, counters."""
    return bool(_BREADCRUMB.search(line) or _META.match(line) or _NUMBERS_ONLY.match(line))


def split_noise(lines: list[str]) -> tuple[list[str], list[str]]:
    """Separate kept lines from dropped ones; a trailer such as 相关推荐 drops everything after it."""
    kept, dropped = [], []
    for i, line in enumerate(lines):
        if kept and _TRAILER.match(line):
            dropped.extend(lines[i:])
            break
        (dropped if is_noise(line) else kept).append(line)
    return kept, dropped


def _looks_like_title(line: str) -> bool:
    return (
        len(line) <= 80
        and parse_heading(line) is None
        and line[-1] not in "。！？!?；;：:，,"
    )


def title_from_name(name: str) -> str:
    """File stem without a leading date or number prefix such as 2024-03-05_ or 20_."""
    stem = PurePosixPath(name).stem
    return re.sub(r"^(\d{4}(-\d{2}-\d{2})?|\d{1,3})_", "", stem) or stem


def find_date(name: str, lines: list[str]) -> str | None:
    """YYYY-MM-DD or YYYY from the file name, else the first 'YYYY年M月D日' of a dash subtitle."""
    m = _FILE_DATE.match(PurePosixPath(name).name)
    if m:
        return "-".join(g for g in m.groups() if g)
    for line in lines[:5]:
        m = _TEXT_DATE.search(line)
        if m and line.startswith(("——", "—", "－－")):
            return f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}"
    return None


def document_id(text: str) -> str:
    """Content hash of the document's text: the same speech under another name has the same id."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def parse_document(name: str, text: str) -> Document:
    """Drop page noise, find the title, and give every paragraph its section path and ordinal."""
    lines = [ln.strip(_SPACE) for ln in text.split("\n")]
    lines = [ln for ln in lines if ln]
    kept, dropped = split_noise(lines)

    title = title_from_name(name)
    if kept and _looks_like_title(kept[0]):
        title = kept.pop(0)

    paragraphs: list[Paragraph] = []
    path: tuple[str, ...] = ()
    chapter: tuple[str, ...] = ()  # the current level-1 heading, if any
    counts: dict[tuple[str, ...], int] = {}
    for line in kept:
        heading = parse_heading(line)
        if heading is not None:
            if heading.level == 1:
                chapter = path = (heading.title,)
            else:
                path = chapter + (heading.title,)
            if not heading.run_in:
                continue
        counts[path] = counts.get(path, 0) + 1
        paragraphs.append(Paragraph(section_path=path, ordinal=counts[path], text=line))

    return Document(
        doc_id=document_id(text),
        source=name,
        title=title,
        date=find_date(name, kept),
        paragraphs=tuple(paragraphs),
        dropped=tuple(dropped),
    )


def parse_jsonl(name: str, text: str) -> list[Document]:
    """Pre-split passages, one JSON object {id, title, text} a line; one document per title."""
    by_title: dict[str, list[Paragraph]] = {}
    seen: set[str] = set()
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            key, title, body = str(row["id"]), str(row.get("title") or title_from_name(name)), row["text"].strip()
        except (ValueError, KeyError, TypeError, AttributeError):
            raise UnreadableFile(path=name, reason="bad_jsonl", line=number) from None
        if key in seen:
            raise UnreadableFile(path=name, reason="duplicate_id", line=number)
        seen.add(key)
        paragraphs = by_title.setdefault(title, [])
        paragraphs.append(Paragraph(section_path=(), ordinal=len(paragraphs) + 1, text=body, key=key))
    return [
        Document(doc_id=document_id(name + "\x1f" + title + "\x1f" + "\n".join(p.text for p in paras)),
                 source=name, title=title, date=None, paragraphs=tuple(paras))
        for title, paras in by_title.items()
    ]


def parse_source(name: str, text: str) -> list[Document]:
    """The documents in one source file: a JSONL collection, or one speech."""
    if name.lower().endswith(".jsonl"):
        return parse_jsonl(name, text)
    return [parse_document(name, text)]
