"""Keyword side: jieba search-mode tokens and a bm25s index saved beside the vectors."""
from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from pathlib import Path
from typing import Sequence

import numpy as np

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
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")


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


def _is_word(token: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" for ch in token)


def tokenize(text: str) -> list[str]:
    """Words: jieba search-mode tokens of the Simplified text, lower-cased, no punctuation or stopwords."""
    tokens = _jieba().lcut_for_search(simplified(text))
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


class KeywordIndex:
    """BM25 over pre-tokenised passages (bm25s); rows are passage rows of the index."""

    def __init__(self, bm25) -> None:
        self._bm25 = bm25
        self.size = int(bm25.scores["num_docs"]) if bm25 is not None else 0
        if bm25 is not None:
            indptr = np.asarray(bm25.scores["indptr"])
            self._df = np.diff(indptr)
            self._vocab = bm25.vocab_dict

    @classmethod
    def build(cls, token_lists: Sequence[list[str]]) -> "KeywordIndex":
        import bm25s

        if not token_lists:
            return cls(None)
        bm25 = bm25s.BM25()
        # bm25s needs one non-empty document to build a vocabulary
        safe = [tokens if tokens else [""] for tokens in token_lists]
        bm25.index(safe, show_progress=False)
        return cls(bm25)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(folder), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, size: int) -> "KeywordIndex":
        import bm25s

        if size == 0:
            return cls(None)
        return cls(bm25s.BM25.load(str(folder), allow_pickle=False, mmap=False))

    def search(self, query_tokens: list[str], n: int, rows: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(row, score) of the best n passages with a positive score, best first; only `rows` when given."""
        tokens = [t for t in query_tokens if t in getattr(self, "_vocab", {})]
        if not tokens or self.size == 0:
            return []
        scores = self._bm25.get_scores(tokens)
        if rows is not None:
            keep = np.zeros(self.size, dtype=bool)
            keep[rows] = True
            scores = np.where(keep, scores, 0.0)
        n = min(n, self.size)
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(i), float(scores[i])) for i in top if scores[i] > 0]

    def idf(self, token: str) -> float:
        """BM25 inverse document frequency of a token (0 for tokens the corpus does not have)."""
        tid = getattr(self, "_vocab", {}).get(token)
        if tid is None or tid >= len(self._df):
            return 0.0
        df = int(self._df[tid])
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))
