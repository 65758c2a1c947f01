"""Keyword side: words (jieba search mode, through rjieba where its tokens are identical) and character bigrams."""
from __future__ import annotations

import logging
import re
import threading
import unicodedata

# Function words and question words: they match everywhere and say nothing about the topic.
STOPWORDS = frozenset(
    """的 地 得 了 着 过 是 在 和 与 及 或 也 都 就 还 又 而 并 把 被 对 从 向 为 以 之 其 于 则
    这 那 这个 那个 这些 那些 这样 那样 哪 哪里 哪儿 哪些 哪个 什么 啥 怎么 怎样 怎么样 如何 为什么 为何
    吗 呢 吧 啊 呀 嘛 么 有 有没有 没有 个 些 我 你 他 她 它 我们 你们 他们 咱们 自己 要 会 能 可以 应该
    应当 需要 多少 几 谁 是否 是不是 一个 一些 有关 关于 讲 说 提到 指出 谈 谈到 方面 问题 情况 一下""".split()
)

_lock = threading.Lock()
_ready = False
_t2s = None
_rjieba = None
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")
# Where rjieba (jieba-rs, ~15x faster) and jieba cut differently, found on all shared speeches, CMRC2018 and DRCD
# (88,173 sentences): Latin letters or digits joined by - or _ (B-25, 2011-2020, zh-hk), a Latin word running into
# . _ + # & % (PM2.5), digits running into letters after a point or comma (3.2mm, 163.com), dotted dates
# (2012.03.29), and Han characters outside jieba's range U+4E00-U+9FD5. Such spans are cut as jieba would (see
# cut_for_search), loading jieba only where that needs its dictionary (3 of the 9,854 speech paragraphs); on every
# other text the two agree, but for one HMM guess in one DRCD sentence.
_BLOCK = re.compile(r"[\u4e00-\u9fd5a-zA-Z0-9+#&._%-]+")  # what jieba cuts as one block
_PLAIN = re.compile(r"[A-Za-z0-9._%-]+")  # no Han, none of + # &: jieba's dictionary has no word in such a block
_ALNUM_RUN = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")  # how jieba splits a block with no dictionary word
_RARE_HAN = re.compile(r"[\u3400-\u4dbf\u9fd6-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")
_JIEBA_ONLY = re.compile(
    r"[A-Za-z0-9][-_][A-Za-z0-9]|[A-Za-z][A-Za-z0-9]*[._+#&%]|\d[.,]\d*[A-Za-z]|\d\.\d+\.|" + _RARE_HAN.pattern
)


def simplified(text: str) -> str:
    """Traditional characters folded to Simplified (OpenCC t2s), so either script finds the other."""
    global _t2s
    if _t2s is None:
        import opencc

        _t2s = opencc.OpenCC("t2s")
    return _t2s.convert(text)


def _jieba():
    global _ready
    import jieba

    with _lock:
        if not _ready:
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
            _ready = True
    return jieba


def _fast():
    """rjieba when installed (it loads jieba's dictionary in ~0.1 s instead of ~0.5 s), else None."""
    global _rjieba
    if _rjieba is None:
        try:
            import rjieba

            _rjieba = rjieba
        except ImportError:
            _rjieba = False
    return _rjieba or None


def cut_for_search(text: str) -> list[str]:
    """jieba's search-mode cut, computed by rjieba wherever the two agree."""
    fast = _fast()
    if fast is None:
        return _jieba().lcut_for_search(text)
    if not _JIEBA_ONLY.search(text):
        return fast.cut_for_search(text)
    if _RARE_HAN.search(text):
        return _jieba().lcut_for_search(text)
    # jieba cuts each block of Han, Latin, digits and -._%+#& on its own; a block of Latin, digits and -._% alone
    # holds no word of its dictionary, so jieba's cut of it is a plain split (PM2.5, 2011 - 2020): no need to load
    # jieba for a text whose only differing blocks are such
    tokens, last = [], 0
    for block in _BLOCK.finditer(text):
        if not _JIEBA_ONLY.search(block.group()):
            continue
        if not _PLAIN.fullmatch(block.group()):
            return _jieba().lcut_for_search(text)
        tokens += fast.cut_for_search(text[last : block.start()]) if block.start() > last else []
        tokens += [t for t in _ALNUM_RUN.split(block.group()) if t]
        last = block.end()
    return tokens + (fast.cut_for_search(text[last:]) if last < len(text) else [])


def tokenizer_name() -> str:
    """Which tokenizer made the words: recorded in the index manifest."""
    from importlib.metadata import version

    name = f"jieba-{version('jieba')}"
    return f"rjieba-{version('rjieba')}+{name}" if _fast() is not None else name


def _is_word(token: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" for ch in token)


def tokenize(text: str) -> list[str]:
    """Words: jieba search-mode tokens of the Simplified text, lower-cased, no punctuation or stopwords."""
    tokens = cut_for_search(simplified(text))
    return [t for t in (tok.strip().lower() for tok in tokens) if t and _is_word(t) and t not in STOPWORDS]


def keyword_tokens(text: str) -> list[str]:
    """What BM25 indexes and matches: the words plus every Chinese character bigram (marked with §).

    Bigrams recover matches that segmentation splits differently in question and text (CMRC2018 dev
    BM25 R@1 0.966 -> 0.973, DRCD dev 0.925 -> 0.940). A question of stopwords only has no tokens.
    """
    words = tokenize(text)
    if not words:
        return []
    grams = []
    for run in _CJK_RUN.findall(simplified(text)):
        grams.extend("§" + run[i : i + 2] for i in range(len(run) - 1) if run[i : i + 2] not in STOPWORDS)
    return words + grams
