"""Turn raw speech text into a titled document of paragraphs with their section paths and points."""
from __future__ import annotations

import hashlib
import json
import re

from qa.errors import UnreadableFile
from qa.ingest.headings import (  # noqa: F401  (display_heading and parse_heading are re-exported for callers)
    SPACE, Heading, display_heading, first_sentence_end, parse_heading, point_marker,
)
from qa.ingest.metadata import (CONGRESS_OPENED, best_date, best_title, chinese_number, congress_of, cut_news_lead,
                                cut_photo_credits, read_head)
from qa.ingest.normalize import FOOTNOTE_LINE, join_spaced_name, normalize_text, strip_footnote_marks
from qa.records import Document, Paragraph, SourceText

_BREADCRUMB_HEAD = re.compile(r"^(?:(?:当前位置|您的位置|你的位置|所在位置)\s*[:：]|首页\s*[>›»＞])")
_BREADCRUMB_SEP = re.compile(r"\s*[>›»＞]\s*")
# A breadcrumb is short names between separators: 首页 > 新闻 > 讲话. A sentence that compares (比例＞80%，浓度＞35微克)
# has sentence punctuation or long parts, and is kept.
MAX_CRUMB_CHARS = 16
_META = re.compile(r"^(网友)?(发表|发布|更新|上传)时间|^(来源|作者|责任编辑|浏览次数|阅读次数|点击)[:：]")
_TRAILER = re.compile(r"^(相关推荐|热门文档|相关文章|相关阅读|猜你喜欢|推荐阅读|上一篇|下一篇)[:：]?$")
_NUMBERS_ONLY = re.compile(r"^[\d\s,./:：-]+$")
# A —— item is named in citations by its lead sentence when it is at most this long, else by its number.
MAX_POINT_CHARS = 20
# 各位代表！ on a line of its own: the speaker turns back to the audience, and the running text of the chapter resumes.
# In all 52 government work reports every such line inside a numbered sub-section (（十）…) comes after that
# sub-section's last paragraph (民族、宗教、国防、港澳台、外交 and the closing words follow), so it closes the
# sub-sections (rank 2 and deeper) and leaves the chapter (一、, 第一部分) open.
SALUTATION = re.compile(r"^(?:各位代表|代表们|各位委员|同志们|同志们、朋友们|女士们、先生们)[！!：:]$")
CHAPTER_RANK = 1


def is_noise(line: str) -> bool:
    """Web-page chrome that is not part of the speech: breadcrumbs, post metadata, counters."""
    return bool(is_breadcrumb(line) or _META.match(line) or _NUMBERS_ONLY.match(line))


def is_breadcrumb(line: str) -> bool:
    """首页 > 新闻 > 讲话 (site navigation), not a sentence that happens to contain two ＞."""
    if _BREADCRUMB_HEAD.match(line) and len(line) <= 80:
        return True
    parts = _BREADCRUMB_SEP.split(line.strip())
    return (len(parts) >= 3 and all(0 < len(p) <= MAX_CRUMB_CHARS for p in parts)
            and not re.search(r"[。，；！？、%％\d]", line))


def split_noise(lines: list[str]) -> tuple[list[str], list[str]]:
    """Separate kept lines from dropped ones; a trailer such as 相关推荐 drops everything after it."""
    kept, dropped = [], []
    for i, line in enumerate(lines):
        if kept and _TRAILER.match(line):
            dropped.extend(lines[i:])
            break
        (dropped if is_noise(line) else kept).append(line)
    return kept, dropped


def document_id(text: str) -> str:
    """Content hash of the document's text: the same speech under another name has the same id."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def parse_document(name: str, text: str, title: str | None = None,
                   headings: tuple[tuple[str, int], ...] = ()) -> Document:
    """Drop page noise, read the head (title, date, speaker, occasion), and place every paragraph.

    title and headings come from a format's own markup (Word styles, HTML tags) and win over guesses."""
    lines = [ln.strip(SPACE) for ln in normalize_text(text).split("\n")]
    kept, dropped = split_noise([ln for ln in lines if ln])
    body: list[str] = []
    for line in kept:
        if FOOTNOTE_LINE.match(line):
            dropped.append(line)
            continue
        pieces, captions = cut_photo_credits(strip_footnote_marks(line))
        body.extend(pieces)
        dropped.extend(captions)
    if body:
        body[0], lead = cut_news_lead(body[0])
        dropped.extend([lead] if lead else [])
        body = [line for line in body if line]

    head, body = read_head(body)
    styled = {join_spaced_name(line.strip(SPACE)): level for line, level in headings}
    paragraphs, sections = place_paragraphs((join_spaced_name(line) for line in body), styled)
    title, date, occasion = best_title(title, head.title, name), best_date(head.date, name), head.occasion
    congress = congress_of(title, body) if date is None else None
    if congress in CONGRESS_OPENED:  # a congress report without a date of its own
        date = CONGRESS_OPENED[congress]
        occasion = occasion or f"中国共产党第{chinese_number(congress)}次全国代表大会"
    return Document(
        doc_id=document_id(text),
        source=name,
        title=title,
        date=date,
        paragraphs=tuple(paragraphs),
        dropped=tuple(dropped),
        speaker=head.speaker,
        occasion=occasion,
        sections=tuple(sections),
    )


def place_paragraphs(
    lines, styled: dict[str, int] | None = None
) -> tuple[list[Paragraph], list[tuple[int, tuple[str, ...]]]]:
    """Give each line its section path (from the headings above it), ordinal and point label.

    Also returns every heading as (level, path), so sections without paragraphs of their own are not lost."""
    paragraphs: list[Paragraph] = []
    sections: list[tuple[int, tuple[str, ...]]] = []
    open_headings: list[tuple[int, str]] = []  # (level, title), outermost first
    counts: dict[tuple[str, ...], int] = {}
    dashes: dict[tuple[str, ...], int] = {}
    for line in lines:
        heading = parse_heading(line)
        if heading is None and styled and line in styled:
            heading = Heading(level=styled[line], title=display_heading(line), run_in=False)
        if heading is not None:
            while open_headings and open_headings[-1][0] >= heading.level:
                open_headings.pop()
            open_headings.append((heading.level, heading.title))
            sections.append((heading.level, tuple(title for _, title in open_headings)))
            if not heading.run_in:
                continue
        elif SALUTATION.match(line.strip(SPACE)):
            while open_headings and open_headings[-1][0] > CHAPTER_RANK:
                open_headings.pop()
        path = tuple(title for _, title in open_headings)
        counts[path] = counts.get(path, 0) + 1
        point = None if heading is not None else point_marker(line)
        if point == "——":  # a dash item is named by its lead sentence when that is short, else by its number
            dashes[path] = dashes.get(path, 0) + 1
            lead = line[: first_sentence_end(line) or len(line)].rstrip("。！？!?")
            point = lead if len(lead) <= MAX_POINT_CHARS else f"第{dashes[path]}项"
        paragraphs.append(Paragraph(section_path=path, ordinal=counts[path], text=line, point=point))
    return paragraphs, sections


def outline(doc: Document) -> dict:
    """What ingestion understood, for a person to check: head, section tree with paragraph counts, dropped lines."""
    counts: dict[tuple[str, ...], int] = {}
    for para in doc.paragraphs:
        counts[para.section_path] = counts.get(para.section_path, 0) + 1
    root: dict = {"children": []}
    nodes: dict[tuple[str, ...], dict] = {(): root}
    for level, path in doc.sections:
        if path in nodes:  # the same heading twice under one parent: one node
            continue
        node = {"heading": path[-1], "level": level, "paragraphs": counts.get(path, 0), "children": []}
        nodes[path] = node
        nodes.get(path[:-1], root)["children"].append(node)
    return {
        "title": doc.title,
        "date": doc.date,
        "speaker": doc.speaker,
        "occasion": doc.occasion,
        "paragraphs": len(doc.paragraphs),
        "preamble": counts.get((), 0),
        "points": sum(p.point is not None for p in doc.paragraphs),
        "sections": root["children"],
        "dropped": list(doc.dropped),
    }


def parse_jsonl(name: str, text: str) -> list[Document]:
    """Pre-split passages, one JSON object {id, title, text} a line; one document per title."""
    by_title: dict[str, list[Paragraph]] = {}
    seen: set[str] = set()
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            key, title, body = str(row["id"]), best_title(row.get("title") and str(row["title"]), None, name), row["text"].strip()
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


def parse_source(name: str, source: SourceText) -> list[Document]:
    """The documents in one source file: a JSONL collection, or one speech. A file without text, or without a
    paragraph to index, is refused (UnreadableFile) rather than indexed empty."""
    if not source.text.strip():
        raise UnreadableFile(path=name, reason="empty_file")
    if source.format == "jsonl":
        docs = parse_jsonl(name, source.text)
    else:
        docs = [parse_document(name, source.text, title=source.title, headings=source.headings)]
    if not any(doc.paragraphs for doc in docs):
        raise UnreadableFile(path=name, reason="no_paragraphs")
    return docs
