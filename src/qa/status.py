"""What the index and the embedding engine are now: the service behind `qa status` (and the app's status line)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field

from qa.errors import IndexMissing, QAError
from qa.index.indexer import resolve, staleness
from qa.index.manifest import FileEntry, Manifest
from qa.index.store import current_build
from qa.records import Staleness
from qa.settings import Settings


@dataclass(frozen=True)
class EngineStatus:
    """The passage engine: chosen how, measured how fast; and the question engine."""

    passages: str | None
    chosen: str  # override, measured, not_yet or unavailable
    queries: str | None = None
    windows_per_s: float | None = None
    measured: str | None = None
    trials: tuple[dict, ...] = ()
    error: str | None = None  # QAError code when unavailable
    error_details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class IndexStatus:
    index: str
    data: str
    model: str
    dim: int
    engine: EngineStatus
    segments: int
    documents: int
    passages: int
    windows: int
    built: str
    stale: Staleness | None  # None: the data folder was not found, so nothing was compared
    rejected: tuple[str, ...] = ()
    files: tuple[FileEntry, ...] = field(default=())
    reranker: str = "none"  # the reranker answers use (settings; "none": --no-rerank or QA_RERANK=0)
    backend: dict = field(default_factory=lambda: {"kind": "local"})  # where passages live: kind, uri, collection

    def to_json(self) -> dict:
        """The JSON of `qa status --json` (field names kept from the first version)."""
        out = {k: v for k, v in asdict(self).items() if k not in ("stale", "files")}
        out["engine"] = {**asdict(self.engine), "trials": list(self.engine.trials)}
        out["stale"] = None if self.stale is None else self.stale.is_stale
        for key in ("added", "changed", "removed"):
            out[key] = list(getattr(self.stale, key)) if self.stale else []
        out["rejected"] = list(self.rejected)
        return out


def index_status(settings: Settings) -> IndexStatus:
    """The serving build, what it holds, whether data/ changed since, and the engine; IndexMissing if none."""
    settings = resolve(settings)
    folder = current_build(settings.index_dir)
    if folder is None:
        raise IndexMissing(index_dir=str(settings.index_dir))
    manifest = Manifest.read(folder / "manifest.json")
    stale = staleness(settings, settings.embed.model) if settings.data_dir.exists() else None
    files = tuple(entry for _, entry in sorted(manifest.files.items()))
    counts = manifest.counts
    return IndexStatus(
        index=str(folder), data=str(settings.data_dir), model=manifest.embedder, dim=manifest.dim,
        engine=engine_status(settings), segments=len(manifest.segments), documents=counts.get("documents", 0),
        passages=counts.get("passages", 0), windows=counts.get("windows", 0), built=manifest.created, stale=stale,
        rejected=tuple(sorted(manifest.rejected)), files=files, reranker=settings.retrieve.reranker,
        backend=_backend(manifest, settings),
    )


def _backend(manifest: Manifest, settings: Settings) -> dict:
    """Where the build's passages live: our own files, or a Milvus collection and its address (never a token)."""
    if manifest.backend_kind != "milvus":
        return {"kind": "local"}
    uri = settings.store.milvus_uri or manifest.backend.get("uri") or str(settings.index_dir / "milvus.db")
    return {"kind": "milvus", "uri": uri, "collection": manifest.backend["collection"],
            "alias": manifest.backend.get("alias")}


def engine_status(settings: Settings) -> EngineStatus:
    """The engines this settings' model embeds with. Loads nothing, probes nothing."""
    from qa.search.embed import embedder_for
    from qa.search.probe import remembered

    try:
        embedder = embedder_for(settings)
    except QAError as exc:
        return EngineStatus(passages=None, chosen="unavailable", error=exc.code, error_details=exc.details)
    engine = embedder.engine_name() if hasattr(embedder, "engine_name") else None
    root = getattr(embedder, "engine_root", None)
    choice = remembered(root) if root is not None else None
    trial = choice.trial(engine) if choice and engine else None
    return EngineStatus(
        passages=engine,
        chosen="override" if settings.embed.engine != "auto" else ("measured" if choice else "not_yet"),
        queries=getattr(embedder, "query_engine", engine),
        windows_per_s=trial.windows_per_s if trial else None,
        measured=choice.measured if choice else None,
        trials=tuple(t.__dict__ for t in choice.trials) if choice else (),
    )
