"""Rerankers by name: the one trained here, "none", and any registered beside them (a test's fake)."""
from __future__ import annotations

from typing import Callable

from qa.errors import InvalidSetting
from qa.search.rerank import DEFAULT_RERANKER, NO_RERANKER, Reranker

# Rerankers by name beside the trained one, e.g. a test's fake with exact scores (like register_embedder).
_REGISTERED: dict[str, Callable[[], Reranker]] = {}


def register_reranker(name: str, factory: Callable[[], Reranker]) -> None:
    """Make `name` load `factory()` wherever a reranker name is accepted."""
    _REGISTERED[name] = factory


def reranker_names() -> list[str]:
    return [DEFAULT_RERANKER, NO_RERANKER, *_REGISTERED]


def load_reranker(name: str, cache_dir=None, notify=None) -> Reranker | None:
    """The reranker called `name` (None for "none"); the trained one is prepared on first use, not here."""
    if name == NO_RERANKER:
        return None
    if name in _REGISTERED:
        return _REGISTERED[name]()
    if name == DEFAULT_RERANKER:
        from qa.search.cross_encoder import TrainedReranker

        return TrainedReranker(cache_dir, notify)
    raise InvalidSetting(name="reranker", value=name, valid="、".join(reranker_names()))
