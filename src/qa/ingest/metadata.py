"""Find a speech's title, date, speaker and occasion where they really sit, and cut news leads and photo credits."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from qa.ingest.headings import SPACE, numeral_value, parse_heading
from qa.ingest.normalize import join_spaced_name

_FILE_DATE = re.compile(r"^(\d{4})(?:-(\d{2})-(\d{2}))?_")
_CN_DATE = r"(\d{4})年(\d{1,2})月(\d{1,2})日"
_TEXT_DATE = re.compile(_CN_DATE)
_DATE_LINE = re.compile(rf"^[（(]{_CN_DATE}[，,、\s]*[^）)]{{0,20}}[）)]$")  # （2024年10月24日，北京）
# ——2024年3月5日在第十四届全国人民代表大会第二次会议上 / ——在…上的报告
_DASH_LINE = re.compile(rf"^(?:——|－－|--)\s*(?:{_CN_DATE})?\s*(.*)$")
# 标题——在…上的讲话（2022年10月16日）习近平: the whole head glued into one line by a news site
_GLUED_HEAD = re.compile(rf"^(.{{2,80}}?)(?:——(在.{{2,80}}?))?[（(]{_CN_DATE}[，,、\s]*[^）)]{{0,20}}[）)](.*)$")
# Where the speech itself starts when a glued head runs straight into it
_SALUTATION = re.compile(r"尊敬的|同志们|各位|女士们|先生们|朋友们|亲爱的|大家好")
# 新华社北京10月25日电 (news lead), glued onto the first line
_NEWS_LEAD = re.compile(r"^(新华社|人民网|中新社)[^\s，。：]{0,14}?\d{1,2}月\d{1,2}日电[\s　]*")
# [11月4日晚，国家主席习近平……。]新华社记者 李学仁 摄 / 新华社发（王壮飞 摄）
_PHOTO_CREDIT = re.compile(
    r"(?:(?:当地时间)?(?<!\d)\d{1,2}月\d{1,2}日(?:[上中下]午|晚上?|凌晨|早上)?，[^。！？\n]{0,200}?。)?[\s　]*"
    r"新华社(?:记者[\s　]*[^\s　/。，]{2,12}(?:[\s　、]+[^\s　/。，]{2,12})*?[\s　]*/?[\s　]*摄"
    r"|发[（(][^）)\n]{1,30}?摄[）)]?)"
)
_ROLE = ("主席", "总理", "总书记", "委员长", "书记", "部长", "主任", "省长", "市长", "区长", "县长",
         "局长", "院长", "厅长", "校长", "会长", "理事长", "董事长")
_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,4}$")
_TITLE_END_PUNCT = "。！？!?；;：:，,"
MAX_TITLE_CHARS = 80


@dataclass(frozen=True)
class Head:
    """What the opening lines of a speech say about it."""

    title: str | None = None
    date: str | None = None  # YYYY-MM-DD, YYYY-MM or YYYY
    speaker: str | None = None
    occasion: str | None = None


def iso_date(year: str, month: str | None = None, day: str | None = None) -> str:
    return "-".join([year] + [f"{int(x):02d}" for x in (month, day) if x])


def date_from_name(name: str) -> str | None:
    """YYYY-MM-DD or YYYY from a file name such as 2024-03-05_标题.txt or 2024_标题.txt."""
    m = _FILE_DATE.match(PurePosixPath(name).name)
    return iso_date(*[g for g in m.groups() if g]) if m else None


def title_from_name(name: str) -> str:
    """File stem without a leading date or number prefix such as 2024-03-05_ or 20_."""
    stem = PurePosixPath(name).stem
    return re.sub(r"^(\d{4}(-\d{2}-\d{2})?|\d{1,3})_", "", stem) or stem


def cut_news_lead(line: str) -> tuple[str, str | None]:
    """(line without a leading '新华社北京…电', the lead) — the lead is not part of the speech."""
    m = _NEWS_LEAD.match(line)
    return (line[m.end():], m.group(0).strip(SPACE)) if m else (line, None)


def cut_photo_credits(line: str) -> tuple[list[str], list[str]]:
    """Split a line at photo captions and credits (新华社记者 … 摄), which run into the next sentence.

    Returns the pieces of text around them and the captions themselves."""
    pieces, captions, at = [], [], 0
    for m in _PHOTO_CREDIT.finditer(line):
        pieces.append(line[at : m.start()])
        captions.append(m.group(0).strip(SPACE))
        at = m.end()
    pieces.append(line[at:])
    return [p.strip(SPACE) for p in pieces if p.strip(SPACE)], captions


def speaker_of(line: str, bare_name: bool = False) -> str | None:
    """'国务院总理　李强' or '习近平' when the line is a speaker line, else None.

    A name alone counts when it is spaced out (习　近　平) or where a head expects the speaker (bare_name)."""
    compact = re.sub(f"[{SPACE}]", "", line)
    if _NAME.match(compact) and (len(line) > len(compact) or bare_name):
        return compact
    for role in _ROLE:
        before, sep, name = compact.rpartition(role)
        if sep and _NAME.match(name) and len(before) <= 16 and "，" not in before:
            return join_spaced_name(line.strip(SPACE))
    return None


def looks_like_title(line: str) -> bool:
    return (
        0 < len(line) <= MAX_TITLE_CHARS
        and parse_heading(line) is None
        and line[-1] not in _TITLE_END_PUNCT
        and not line.startswith(("——", "－－", "（", "("))
    )


def read_head(lines: list[str]) -> tuple[Head, list[str]]:
    """Title, date, speaker and occasion from the opening lines; returns them and the remaining lines."""
    title_lines: list[str] = []
    date = speaker = occasion = None
    i = 0
    glued = _GLUED_HEAD.match(lines[0]) if lines else None
    if glued:
        rest = glued.group(6)
        start = _SALUTATION.search(rest)
        who, rest = (rest[: start.start()], rest[start.start():]) if start else (rest, "")
        speaker = speaker_of(who, bare_name=True) if who else None
        if speaker is None and who:  # not a speaker after all: keep it as text
            rest = who + rest
        if not (glued.group(2) or speaker):  # a line with a date in brackets, not a head
            glued, speaker = None, None
    if glued:
        title_lines.append(glued.group(1).strip(SPACE))
        occasion, date = glued.group(2), iso_date(glued.group(3), glued.group(4), glued.group(5))
        lines = ([rest] if rest.strip(SPACE) else []) + lines[1:]
        i = 0
    else:
        # up to two title lines, but only when a dash/date/speaker line confirms them or it is the first line
        while i < len(lines) and i < 2 and looks_like_title(lines[i]) and speaker_of(lines[i]) is None:
            title_lines.append(lines[i])
            i += 1
        if len(title_lines) == 2 and not (i < len(lines) and _DASH_LINE.match(lines[i])):
            i -= 1
            title_lines.pop()
    # then, in any order: the dash line, a （date） line, the speaker line
    while i < len(lines) and i < len(title_lines) + 4:
        line = lines[i]
        if (m := _DASH_LINE.match(line)) and len(line) <= 120 and (m.group(4) or m.group(1)):
            if m.group(1):
                date = iso_date(m.group(1), m.group(2), m.group(3))
            occasion = m.group(4).strip(SPACE) or occasion
        elif m := _DATE_LINE.match(line):
            date = iso_date(m.group(1), m.group(2), m.group(3))
        elif speaker is None and (who := speaker_of(line, bare_name=i > len(title_lines))) is not None:
            speaker = who
        else:
            break
        i += 1
    title = "\u3000".join(title_lines) if title_lines else None
    if title and "※" in title:  # 标题※习近平: the speaker written after the title
        title, _, who = title.rpartition("※")
        speaker = speaker or speaker_of(who, bare_name=True)
    if title and "——在" in title and not occasion:  # 标题——在…上的讲话, with no date to glue it to
        title, _, rest = title.partition("——")
        occasion = rest
    return Head(title=title, date=date, speaker=speaker, occasion=occasion), lines[i:]


def best_title(marked: str | None, from_head: str | None, name: str) -> str:
    """The title: the format's own markup (Word Title style, HTML h1), else the speech's head, else the file name."""
    return marked or from_head or title_from_name(name)


def best_date(from_text: str | None, name: str) -> str | None:
    """The date: the more precise of the text's and the file name's when they agree on the year; the text's own
    date otherwise, else the file name's."""
    from_name = date_from_name(name)
    if from_text and from_name and from_name.startswith(from_text[:4]) and len(from_name) > len(from_text):
        return from_name
    return from_text or from_name


# What a document is, for filtering a trace: the names a user picks from (and may write inside a phrase)
DOCUMENT_KINDS = ("政府工作报告", "党代会报告", "决议", "讲话", "其他")
_CONGRESS = re.compile(r"(共产党|党的)?第?[一二三四五六七八九十]+次全国代表大会|[一二三四五六七八九十]+大报告")


def document_kind(title: str, occasion: str | None = None, source: str = "") -> str:
    """One of DOCUMENT_KINDS, from the title, the occasion and the file's name."""
    said = " ".join(x for x in (title, occasion or "", PurePosixPath(source).stem) if x)
    if "决议" in title:
        return "决议"
    if "政府工作报告" in title:
        return "政府工作报告"
    if _CONGRESS.search(said) and "人民代表大会" not in said and ("报告" in said or _CONGRESS.search(occasion or "")):
        return "党代会报告"
    if "讲话" in said or "致辞" in said:
        return "讲话"
    return "其他"


# The opening day of each National Congress of the CPC: a report to one that carries no date of its own is dated
# by the congress it names (在中国共产党第九次全国代表大会上的报告; 我代表第十四届中央委员会向大会作报告)
CONGRESS_OPENED = {1: "1921-07-23", 2: "1922-07-16", 3: "1923-06-12", 4: "1925-01-11", 5: "1927-04-27",
                   6: "1928-06-18", 7: "1945-04-23", 8: "1956-09-15", 9: "1969-04-01", 10: "1973-08-24",
                   11: "1977-08-12", 12: "1982-09-01", 13: "1987-10-25", 14: "1992-10-12", 15: "1997-09-12",
                   16: "2002-11-08", 17: "2007-10-15", 18: "2012-11-08", 19: "2017-10-18", 20: "2022-10-16"}
_NUMERAL = r"([一二三四五六七八九十]{1,3})"
_NAMED_CONGRESS = re.compile(rf"(?:中国共产党|党的)第{_NUMERAL}次全国代表大会")
_OUTGOING = re.compile(rf"(?:我代表|受)(?:中国共产党)?第?{_NUMERAL}届中央委员会(?:委托)?[，,]?向(?:党的第{_NUMERAL}次全国代表)?大会")


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals: 9 -> 九, 12 -> 十二, 20 -> 二十."""
    digits = "零一二三四五六七八九"
    tens, ones = divmod(n, 10)
    return (digits[tens] if tens > 1 else "") + ("十" if tens else "") + (digits[ones] if ones or not tens else "")


def congress_of(title: str, opening: list[str]) -> int | None:
    """The National Congress a report is made to: named in its title, or the outgoing Central Committee's
    number plus one in its opening lines (我代表第十五届中央委员会向大会作报告)."""
    if "报告" in title and (m := _NAMED_CONGRESS.search(title)):
        return numeral_value(m.group(1))
    for line in opening[:3]:
        if m := _OUTGOING.search(line):
            outgoing = numeral_value(m.group(1))
            return numeral_value(m.group(2)) if m.group(2) else outgoing + 1 if outgoing else None
    return None
