"""The source a draft names before a quotation (「在2024年…会上」「党的二十大报告指出」) and whether a document is it."""
from __future__ import annotations

import re
from dataclasses import dataclass

from qa.check.normal import fold
from qa.search.quotes import bigrams

_YEAR = re.compile(r"((?:19|20)\d{2})\s*年(?!代|前|以来|底|末|初|起|至|到|—|-)")
_TITLE = re.compile(r"《([^》]{2,80})》")
_NUMBER = "一二三四五六七八九"
# a congress or plenum named as the source says it (党的二十大报告指出, 二十届三中全会《决定》提出), not as a time
# (党的十八大以来, 二十大召开后)
_SAYS = r"(?=(?:上的)?(?:报告|政治报告|《|指出|强调|提出|明确|要求|作出|部署|号召|决定|通过|鲜明|深刻))"
_CONGRESS = re.compile(r"(十[一二三四五六七八九]?|二十[一二三四五六七八九]?)大" + _SAYS)
_PLENUM = re.compile(r"(十[一二三四五六七八九]?|二十[一二三四五六七八九]?)届([一二三四五六七八九])中全会" + _SAYS)
_OCCASION = re.compile(r"在(.{3,50}?)(?:会议|大会|座谈会|推进会|动员会|部署会|培训班|开班式|典礼|仪式|会)(?:上|时|中)")
_KINDS = ("政府工作报告", "党代会报告", "工作报告", "决议", "决定", "公报", "建议", "纲要")
OCCASION_OVERLAP = 0.6  # share of the named occasion's character pairs a document's title and occasion must hold
# a 《title》 is named exactly or nearly so: 第十次 and 第十一次 congress reports share 0.8 of their pairs
TITLE_OVERLAP = 0.9


@dataclass(frozen=True)
class NamedSource:
    """What a lead-in says of the source: a year, a title, a party congress or plenum, a kind of document,
    an occasion. Empty when it names nothing."""

    year: int | None = None
    title: str | None = None
    congress: str | None = None  # 二十: the 20th National Congress
    plenum: tuple[str, str] | None = None  # (二十, 三): the third plenary session of the 20th Central Committee
    kind: str | None = None
    occasion: str | None = None

    def __bool__(self) -> bool:
        return any(v is not None for v in self.__dict__.values())

    def describe(self) -> str:
        parts = [f"{self.year}年" if self.year else "", f"《{self.title}》" if self.title else "",
                 f"党的{self.congress}大" if self.congress else "",
                 f"{self.plenum[0]}届{self.plenum[1]}中全会" if self.plenum else "",
                 self.occasion or "", self.kind or ""]
        return "".join(p for p in parts if p)


def named_source(lead_in: str) -> NamedSource:
    """What the words before a quotation name as its source."""
    text = lead_in.strip()
    year = _YEAR.search(text)
    title = _TITLE.search(text)
    congress = _CONGRESS.search(text)
    plenum = _PLENUM.search(text)
    occasion = _OCCASION.search(text)
    kind = next((k for k in _KINDS if k in text), None)
    if kind == "工作报告" and congress:
        kind = None  # 党的二十大报告 is the congress's report: the congress says it
    return NamedSource(
        year=int(year.group(1)) if year else None,
        title=title.group(1) if title else None,
        congress=congress.group(1) if congress and not plenum else None,
        plenum=(plenum.group(1), plenum.group(2)) if plenum else None,
        kind=kind,
        occasion=_YEAR.sub("", occasion.group(1)).strip("，、 ") or None if occasion and not title else None,
    )


def _pairs(text: str) -> set[str]:
    return bigrams(fold(text)[0])


def agrees(named: NamedSource, title: str, date: str | None, occasion: str | None = None) -> bool:
    """Whether a document (its title, date, occasion) can be the source the lead-in names. What the document
    does not say (no date) is not held against it."""
    folded_title, _ = fold(title)
    if named.year is not None:
        years = {int(date[:4])} if date and date[:4].isdigit() else set()
        years |= {int(y) for y in _YEAR.findall(title)}
        if years and named.year not in years:
            return False
    if named.title is not None:
        wanted = fold(named.title)[0]
        if wanted not in folded_title and folded_title not in wanted:
            pairs = _pairs(named.title)
            if not pairs or len(pairs & _pairs(title)) / len(pairs) < TITLE_OVERLAP:
                return False
    # a congress report's title does not name the congress; its occasion (在…第二十次全国代表大会上的报告) does
    said = title + (occasion or "")
    if named.congress is not None:
        if f"第{named.congress}次全国代表大会" not in said and f"{named.congress}大报告" not in said:
            return False
    if named.plenum is not None:
        session, number = named.plenum
        if f"{session}届{number}中全会" not in said and \
                not (f"第{session}届中央委员会" in said and f"第{number}次全体会议" in said):
            return False
    if named.kind is not None and named.kind not in title:
        return False
    if named.occasion is not None:
        pairs = _pairs(named.occasion)
        if pairs and len(pairs & _pairs(title + (occasion or ""))) / len(pairs) < OCCASION_OVERLAP:
            return False
    return True
