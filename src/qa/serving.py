"""Which build answers: the serving build and its users, switching to a newer one without cutting a request off."""
from __future__ import annotations

import threading
from contextlib import contextmanager

from qa.check.checker import Checker, corpus_of
from qa.check.sources import SourceCorpus
from qa.errors import IndexIncompatible, QAError
from qa.index.reader import IndexReader
from qa.index.store import current_build
from qa.search.embed import Embedder
from qa.search.rerank import Reranker
from qa.search.retrieve import Retriever
from qa.settings import Settings
from qa.trace.tracer import Tracer


class Served:
    """One loaded build and its retriever, with the number of requests using it: it is closed when it has been
    replaced and its last request has ended, never under a request."""

    def __init__(self, index: IndexReader, retriever: Retriever) -> None:
        self.index, self.retriever = index, retriever
        self.users = 0
        self.retired = False
        self._source: SourceCorpus | None = None
        self._checker: Checker | None = None
        self._tracer: Tracer | None = None
        self._building = threading.Lock()

    def _folded(self) -> SourceCorpus:
        # every passage folded once per build (about 1 s for the 193 shared documents), for checks and traces
        if self._source is None:
            self._source = corpus_of(self.index)
        return self._source

    def checker(self) -> Checker:
        """The build's quotation checker, made on first use and kept with it."""
        with self._building:
            if self._checker is None:
                self._checker = Checker(self.index, self._folded())
            return self._checker

    def tracer(self) -> Tracer:
        """The build's 提法演变 tracer, made on first use and kept with it."""
        with self._building:
            if self._tracer is None:
                self._tracer = Tracer(self._folded(), self.index.documents())
            return self._tracer


class Builds:
    """The build that answers, for every thread of one process.

    Each request is answered from one build from search to citations, even while another thread or process
    switches the index: a newer build (CURRENT changed by `qa add` elsewhere, or by the app's own library tab)
    is picked up at the start of the next request (with follow) or at reload()."""

    def __init__(self, settings: Settings, embedder: Embedder, index: IndexReader, follow: bool = True,
                 reranker: Reranker | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.reranker = reranker
        self.follow = follow  # check CURRENT at each request and switch to a newer build
        self._lock = threading.Lock()
        self._loading = threading.Lock()
        self.current = Served(index, Retriever(index, embedder, settings.retrieve, reranker))
        self._refused: str | None = None  # a build that could not be served (not tried again)

    @contextmanager
    def serving(self):
        """The serving build (a Served), held for the duration of the block."""
        if self.follow:
            self.refresh()
        with self._lock:
            served = self.current
            served.users += 1
        try:
            yield served
        finally:
            with self._lock:
                served.users -= 1
                done = served.retired and served.users == 0
            if done:
                served.index.close()

    def refresh(self) -> bool:
        """Switch to the index's current build if it is not the one served; True when it switched."""
        folder = current_build(self.settings.index_dir)
        if folder is None or folder.name in (self.current.index.build, self._refused):
            return False
        with self._loading:  # requests arriving together load the new build once
            if folder.name == self.current.index.build:
                return False
            try:
                self.reload()
            except QAError:  # another model's build, or pruned or damaged: keep serving what we have
                self._refused = folder.name
                return False
        return True

    def reload(self) -> None:
        """Serve the index's current build. Requests in flight finish on the build they started with; it is
        closed when the last one ends."""
        index = IndexReader.open(self.settings.index_dir, self.settings.store)
        if index.manifest.embedder != self.embedder.name:  # its vectors are not comparable with our questions
            index.close()
            raise IndexIncompatible(index_dir=str(self.settings.index_dir),
                                    reason=f"model {index.manifest.embedder} ≠ {self.embedder.name}")
        new = Served(index, Retriever(index, self.embedder, self.settings.retrieve, self.reranker))
        with self._lock:
            if self.current.index.build == index.build:  # another thread switched first
                old, new = new, None
            else:
                old, self.current = self.current, new
            old.retired = True
            done = old.users == 0
        if done:
            old.index.close()

    def close(self) -> None:
        with self._lock:
            self.current.retired = True
            done = self.current.users == 0
        if done:
            self.current.index.close()
