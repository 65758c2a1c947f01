"""The embedding cache: vectors by text hash for one model, kept beside the builds so nothing is embedded twice."""
from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Iterable

import numpy as np


class EmbeddingCache:
    """Vectors by text hash for one model, committed batch by batch beside the builds.

    A build that fails or is killed half-way keeps what it embedded; the next one starts from there.
    """

    def __init__(self, index_dir: Path, model: str, dim: int) -> None:
        folder = Path(index_dir) / "embeddings"
        folder.mkdir(parents=True, exist_ok=True)
        slug = hashlib.sha256(model.encode("utf-8")).hexdigest()[:16]
        self._con = sqlite3.connect(folder / f"{slug}-{dim}.sqlite")
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("CREATE TABLE IF NOT EXISTS vectors (hash TEXT PRIMARY KEY, vector BLOB)")
        self._con.execute("CREATE TABLE IF NOT EXISTS model (name TEXT, dim INTEGER)")
        if self._con.execute("SELECT COUNT(*) FROM model").fetchone()[0] == 0:
            self._con.execute("INSERT INTO model VALUES (?, ?)", (model, dim))
        self._con.commit()
        self.dim = dim

    def get_many(self, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = list(dict.fromkeys(hashes))
        found = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = self._con.execute(
                f"SELECT hash, vector FROM vectors WHERE hash IN ({','.join('?' * len(chunk))})", chunk
            ).fetchall()
            found.update((h, np.frombuffer(blob, dtype=np.float32)) for h, blob in rows if len(blob) == 4 * self.dim)
        return found

    def has_all(self, hashes: Iterable[str]) -> bool:
        """True when every hash has a vector here."""
        wanted = set(hashes)
        return len(self.get_many(wanted)) == len(wanted)

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        self._con.executemany(
            "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
            [(h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()],
        )
        self._con.commit()

    def prune(self, keep: set[str]) -> None:
        """Forget vectors of texts that no build uses any more."""
        self._con.execute("CREATE TEMP TABLE IF NOT EXISTS keep (hash TEXT PRIMARY KEY)")
        self._con.execute("DELETE FROM keep")
        self._con.executemany("INSERT OR IGNORE INTO keep VALUES (?)", [(h,) for h in keep])
        self._con.execute("DELETE FROM vectors WHERE hash NOT IN (SELECT hash FROM keep)")
        self._con.commit()

    def close(self) -> None:
        self._con.close()
