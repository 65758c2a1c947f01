"""The index manifest: what an index was built from, and whether the data folder still matches it."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from qa.errors import IndexIncompatible
from qa.records import Staleness

SCHEMA_VERSION = 3  # 3: segments, BM25 postings per segment


@dataclass(frozen=True)
class DocEntry:
    """A document indexed from a file: where its passages are and how many."""

    doc_id: str
    title: str
    date: str | None = None
    passages: int = 0
    segment: str | None = None
    windows: int = 0


@dataclass(frozen=True)
class FileEntry:
    """A file of the data folder as the index knows it: its content hash and documents, or the file it copies."""

    name: str
    sha256: str
    documents: tuple[DocEntry, ...] = ()
    duplicate_of: str | None = None


@dataclass(frozen=True)
class SegmentEntry:
    """A segment a build serves, with the documents in it that are no longer served."""

    name: str
    deleted: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manifest:
    schema_version: int
    embedder: str
    dim: int
    chunker_version: str
    index_shape: dict
    documents: dict  # source name -> {sha256, documents: [{doc_id, title, date, passages, segment}]}
    rejected: dict = field(default_factory=dict)  # source name -> {sha256, reason}
    counts: dict = field(default_factory=dict)
    created: str = ""
    data_source: str = ""  # the data folder or file the index was built from, as given
    segments: tuple = ()  # ({"name": segment folder, "deleted": [doc ids no longer served]}, ...), oldest first
    keyword: dict = field(default_factory=dict)  # {"tokenizer": ...}: how the BM25 words were made
    backend: dict = field(default_factory=dict)  # {} : our own files; {"kind": "milvus", ...}: see milvus_writer.py

    @property
    def backend_kind(self) -> str:
        return self.backend.get("kind", "local")

    @property
    def files(self) -> dict[str, FileEntry]:
        """The file table, typed (the indexer writes it as the JSON it is stored as)."""
        known = set(DocEntry.__dataclass_fields__)
        return {name: FileEntry(name, e["sha256"],
                                tuple(DocEntry(**{k: v for k, v in d.items() if k in known}) for d in e.get("documents", [])),
                                e.get("duplicate_of"))
                for name, e in self.documents.items()}

    @property
    def segment_entries(self) -> tuple[SegmentEntry, ...]:
        return tuple(SegmentEntry(s["name"], tuple(s["deleted"])) for s in self.segments)

    @property
    def corpus_hash(self) -> str:
        return corpus_hash({name: d["sha256"] for name, d in self.documents.items()})

    def to_json(self) -> dict:
        return {
            "schema_version": self.schema_version,
            "created": self.created or datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "embedder": {"name": self.embedder, "dim": self.dim},
            "data_source": self.data_source,
            "chunker_version": self.chunker_version,
            "index_shape": self.index_shape,
            "corpus_hash": self.corpus_hash,
            "counts": self.counts,
            "keyword": self.keyword,
            **({"backend": self.backend} if self.backend else {}),
            "segments": list(self.segments),
            "documents": self.documents,
            "rejected": self.rejected,
        }

    @classmethod
    def from_json(cls, data: dict, where: Path) -> "Manifest":
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise IndexIncompatible(index_dir=str(where), reason=f"schema_version={version}, expected {SCHEMA_VERSION}")
        try:
            return cls(
                schema_version=version,
                embedder=data["embedder"]["name"],
                dim=int(data["embedder"]["dim"]),
                chunker_version=data["chunker_version"],
                index_shape=data["index_shape"],
                documents=data["documents"],
                rejected=data.get("rejected", {}),
                counts=data.get("counts", {}),
                created=data.get("created", ""),
                data_source=data.get("data_source", ""),
                segments=tuple({"name": s["name"], "deleted": list(s.get("deleted", []))} for s in data["segments"]),
                keyword=data.get("keyword", {}),
                backend=data.get("backend", {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexIncompatible(index_dir=str(where), reason=f"manifest field {exc}") from None

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), ensure_ascii=False, indent=2), encoding="utf-8")

    @classmethod
    def read(cls, path: Path) -> "Manifest":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexIncompatible(index_dir=str(path.parent), reason=f"manifest unreadable: {exc}") from None
        return cls.from_json(data, path.parent)


def corpus_hash(hashes: dict[str, str]) -> str:
    """One hash over (name, content hash) pairs, order-independent."""
    joined = "\n".join(f"{name}\t{sha}" for name, sha in sorted(hashes.items()))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def compare(manifest: Manifest, files: dict[str, str], model: str, chunker_version: str, shape: dict) -> Staleness:
    """Compare a manifest with the data folder's {name: sha256} and the wanted model and shape."""
    known = {name: d["sha256"] for name, d in manifest.documents.items()}
    known.update({name: r["sha256"] for name, r in manifest.rejected.items()})
    return Staleness(
        added=tuple(sorted(set(files) - set(known))),
        changed=tuple(sorted(n for n in files if n in known and known[n] != files[n])),
        removed=tuple(sorted(set(known) - set(files))),
        model_changed=None if manifest.embedder == model else (manifest.embedder, model),
        shape_changed=manifest.chunker_version != chunker_version or manifest.index_shape != shape,
    )
