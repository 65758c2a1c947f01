"""Time in questions: the years a question means (2024年, 1978, 今年, 去年) and whether it asks for a year's plan (targets, in that year's report) or its outcome (results, reviewed in the next year's report)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from qa.errors import InvalidSetting

_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d)(?=年|\s|$|[^\d])")
# 今年 is the as-of year; 去年/上年 the one before; 明年/下一年 the one after. 近五年/过去五年 are left alone: on the
# 64-question set they cost a question (an undated 过去五年 question about the 2018 report) and no dev question has them.
_RELATIVE = {"今年": 0, "本年": 0, "当年": 0, "去年": -1, "上年": -1, "上一年": -1, "前年": -2, "明年": 1, "下一年": 1}
_RELATIVE_RE = re.compile("|".join(sorted(_RELATIVE, key=len, reverse=True)))
# "2018年报告说过去五年…": relative words then count from the report's own year
_REPORT_YEAR = re.compile(r"(1[89]\d\d|20\d\d)年(?:的)?(?:政府工作)?报告")
_PLAN = re.compile(r"目标|预期|计划|安排|拟|打算|部署|力争|控制在|要[^，。？?]{0,6}多少")
_OUTCOME = re.compile(r"完成|实现|增长了|增加了|下降了|提高了|达到|比上年|实际|取得|成效|回顾|产量是|总额是|多少人")


@dataclass(frozen=True)
class TimeAsked:
    years: tuple[int, ...] = ()  # the years meant, in the order named
    intent: str | None = None  # "plan", "outcome", "report" (2023年报告: that document), or None when unsaid
    relative: bool = False  # a year came from 今年/去年 and the as-of year


def time_asked(question: str, as_of_year: int | None) -> TimeAsked:
    """The years a question means and its intent. Relative words resolve against the year of a report the question
    names (2018年报告), else `as_of_year` (None: they are left unresolved)."""
    years = [int(y) for y in _YEAR.findall(question)]
    relative = False
    if named := _REPORT_YEAR.search(question):
        as_of_year = int(named.group(1))
    if as_of_year:
        for word in _RELATIVE_RE.findall(question):
            years.append(as_of_year + _RELATIVE[word])
            relative = True
    intent = "report" if named else intent_of(question)
    return TimeAsked(years=tuple(dict.fromkeys(years)), intent=intent, relative=relative)


def intent_of(question: str) -> str | None:
    """plan when the question asks for targets (目标, 预期, 计划, 要压减…), outcome when it asks for results (完成,
    增长了, 达到, 去年…), None otherwise. Targets win when both are named (完成预期目标 is still about the target)."""
    if _PLAN.search(question):
        return "plan"
    if _OUTCOME.search(question) or re.search("去年|上年|前年", question):
        return "outcome"
    return None


def year_ranking(fused: list[int], row_year, asked: TimeAsked) -> list[int]:
    """The fused rows of the documents a question's years point to, in fused order: for a plan question, or one
    that names the report (2023年报告), the documents of those years (targets are set in the year's own report); for
    an outcome question the next years' (the report of Y+1 reviews Y); for a question that does not say, both."""
    own = set(asked.years)
    after = {y + 1 for y in asked.years}
    wanted = {"plan": own, "report": own, "outcome": after}.get(asked.intent, own | after)
    return [row for row in fused if int(row_year[row]) in wanted]


def as_of_year(text: str | None) -> int | None:
    """The year of an as-of date given as YYYY or YYYY-MM-DD (None for nothing given); InvalidSetting otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    if not re.fullmatch(r"(1[89]\d\d|20\d\d)(-\d\d?-\d\d?)?", text):
        raise InvalidSetting(name="as_of", value=text, valid="YYYY 或 YYYY-MM-DD，例如 2024 或 2024-03-05")
    return int(text[:4])
