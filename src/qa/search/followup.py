"""Follow-up questions: 「那要怎么加强？」 after 「党的力量来自哪里？」 read with the turn before it, without a language model."""
from __future__ import annotations

import re
from dataclasses import dataclass

from qa.ingest.headings import numeral_value
from qa.search.tokens import tokenize

# A turn that leans on the one before: it opens with a connective or a pronoun, ends in 呢, or is very short.
_LEANS = re.compile(r"^(?:那么?|这|它|其|此|该|还有|此外|另外|而)|(?:这个|这些|这样|这项|此项|上述|它们?|其中)|呢[？?！!。\s]*$"
                    r"|^[^，,。？?]{1,6}方面(?:呢|有什么|有哪些|怎么|如何|要)")  # 股权方面有什么试点？
SHORT_CHARS = 8  # a question this short (without punctuation) carries no topic of its own
# Words that ask, or act on something unnamed: a turn of only these has no content of its own (为什么？ 具体怎么做？)
_EMPTY = frozenset("""具体 怎么办 做 办 加强 落实 推进 考虑 定 定在 水平 原因 意义 作用 目的 措施 办法 举措 要求 以后
    之后 然后 一步 下一步 进一步 怎么做 怎样做 如何做 怎么样 这是 那是 这个 那个 这样 那样 这些 那些 这项 它们 其中
    维护 实现 解决 处理 应对 提高 改进 保障 做好 抓好 完成 执行 贯彻 坚持 优化 开展 规定 体现 理解 看待""".split())
_YEAR = re.compile(r"(?:1[89]\d\d|20\d\d)年?|今年|去年|明年|前年|上年")
_QUESTION_WORD = re.compile(r"为什么|为何|怎么|怎样|如何|多少|哪些|什么")
_END = re.compile(r"呢?[？?！!。\s]*$")
_OPENER = re.compile(r"^(?:那么?|而|还有|此外|另外)[，,\s]*")
# a turn naming its own source leaves the previous answer's document: a year, a 《title》, a congress, a work report
_SOURCE = re.compile(r"《|第[一二三四五六七八九十]+[次届]|(?<![一二三四五六七八九十])[一二三四五六七八九十]{1,3}大(?!力|量|幅|规模|局|型|众)"
                     r"|政府工作报告|党代会")


@dataclass(frozen=True)
class FollowUp:
    """What to search for a turn: the text, and whether the turn before it was used."""

    text: str
    used_previous: bool


def leans_on_previous(question: str) -> bool:
    """True for an elliptical or anaphoric turn: 那…, …呢, 这些…, or a question too short to name its topic."""
    bare = re.sub(r"[\s，,。？?！!：:；;、]", "", question)
    return bool(_LEANS.search(question.strip())) or len(bare) <= SHORT_CHARS


_ORDINAL = re.compile(r"第([一二三四五六七八九十]{1,3}|\d{1,2})(?:点|条|项|个方面|方面|个要求|部分)|其([一二三四五六七八九])")


def ordinal(question: str) -> int | None:
    """The point a turn asks for by its place (第二点, 第3条, 其二): 2, 3, 2; None when it names none."""
    m = _ORDINAL.search(question)
    if not m:
        return None
    word = m.group(1) or m.group(2)
    if word.isdigit():
        return int(word) or None
    return numeral_value(word)


def nth_point(passages, prior, n: int) -> str | None:
    """The heading of the n-th point under the section a passage sits in (or under its own, when it heads one):
    「第二点」 after an answer from 三、… › （一）… is 三、… › （二）…; None when there is no such point."""
    parent = prior.section_path[:-1] if len(prior.section_path) > 1 else prior.section_path
    children: list[str] = []
    for p in passages:
        path = p.section_path
        if len(path) > len(parent) and path[: len(parent)] == parent and path[len(parent)] not in children:
            children.append(path[len(parent)])
    return children[n - 1] if 0 < n <= len(children) else None


def names_source(question: str) -> bool:
    """True when a turn names a document of its own (a year, a 《title》, 十九大, 政府工作报告): it is then not kept
    in the previous answer's document."""
    return bool(_YEAR.search(question) or _SOURCE.search(question))


def content_words(question: str) -> list[str]:
    """The question's own topic words: two characters or more, not question words, not years, not words that only
    ask or act on something unnamed."""
    return [w for w in tokenize(_YEAR.sub(" ", question))
            if len(w) > 1 and w not in _EMPTY and not w.endswith("了") and not _QUESTION_WORD.fullmatch(w)]


def rewrite(question: str, previous: str | None) -> FollowUp:
    """The text to search for `question` asked after `previous`.

    A turn with no topic of its own (为什么？ 2015年呢？ 那要怎么加强？) takes the previous question's, with its own
    years and question word in front; a turn that names a topic but leans on the previous one (那城镇新增就业目标呢？)
    keeps its words and takes the previous years when it names none. Anything else is searched as asked."""
    if not previous or not previous.strip() or not leans_on_previous(question):
        return FollowUp(question, False)
    own = _OPENER.sub("", question.strip())
    years = _YEAR.findall(own)
    earlier_years = _YEAR.findall(previous)
    if not content_words(own):
        topic = _END.sub("", _YEAR.sub("", previous).strip())
        asked = _END.sub("", _YEAR.sub("", own)).strip()
        return FollowUp("".join(years or earlier_years) + topic + (f"，{asked}？" if asked else "？"), True)
    if years or not earlier_years:
        return FollowUp(own, own != question.strip())
    return FollowUp("".join(earlier_years) + _END.sub("", own) + "？", True)
