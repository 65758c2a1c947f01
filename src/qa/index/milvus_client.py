"""Milvus as a store: one client per address, the collection's schema and record, its errors turned into ours.

A collection holds one entity per embedded window: its vector, its passage row and document ordinal, and on the
first window of each passage (head) the passage itself and its BM25 sparse vector. Which rows and documents a
build serves, and the BM25 statistics, stay in the build's own files (milvus_tables.py).
"""
from __future__ import annotations

import base64
import json
import threading
import time
import zlib
from pathlib import Path
from typing import Any

from qa.errors import BackendUnavailable, IndexIncompatible
from qa.settings import StoreSettings

SCHEMA = 2  # of a collection's fields and record (2: passages keyed by row); readers refuse another, writers rebuild
PROPERTY = "speech_qa"  # the collection property holding its record: schema, model, dim, chunker, library
# Milvus stores only positive sparse weights, and only scores above zero come back: a window that is not its
# passage's first carries one weight in a dimension no question asks for.
NO_TERMS = 2**32 - 2
# A passage's first window has the passage's row as its primary key, so passages are fetched by key (an index
# lookup, where a filter on another field is a scan in Milvus Lite); the other windows are numbered from here.
OTHER_WINDOWS = 1 << 40
RECORD_BYTES = 65_535  # VARCHAR max_length counts UTF-8 bytes (a Chinese character is 3)
TOP_K_MAX = 16_384  # Milvus refuses a larger limit
LITE_FILE = "milvus.db"
RETRY_S = (0.5, 1.5, 3.0)  # waits before asking a server again (on a new channel) after a failed connection
# only reads are asked again: an insert whose answer was lost may have been stored, and would be stored twice
READS = frozenset({"search", "query", "get", "has_collection", "describe_collection", "list_collections", "list_aliases",
                   "load_collection"})

_clients: dict[tuple, "Connection"] = {}
_clients_lock = threading.Lock()


def is_lite(uri: str) -> bool:
    """A folder path (Milvus Lite in this process), as opposed to http(s)://, tcp:// or unix: addresses."""
    return "://" not in uri and not uri.startswith("unix:")


def default_uri(index_dir: Path) -> str:
    """Milvus Lite in the index folder."""
    return str((Path(index_dir) / LITE_FILE).resolve())


def resolve_uri(store: StoreSettings, index_dir: Path, recorded: str | None = None) -> str:
    """The address to use: the settings', else the one the index was built with, else Lite in the index folder."""
    uri = store.milvus_uri or recorded or default_uri(index_dir)
    return str(Path(uri).resolve()) if is_lite(uri) else uri


class Connection:
    """A MilvusClient with every call translated: failures become BackendUnavailable naming the address.

    Milvus Lite runs inside this process: its calls are serialised, as one client may be shared by threads."""

    def __init__(self, uri: str, token: str | None, db: str | None) -> None:
        self.uri = uri
        self._lock = threading.RLock() if is_lite(uri) else None
        if is_lite(uri):
            Path(uri).parent.mkdir(parents=True, exist_ok=True)
        _quiet()
        try:
            from pymilvus import MilvusClient
        except ImportError as exc:
            raise BackendUnavailable(backend="milvus", uri=uri, reason=f"not_installed: pymilvus ({exc})") from None
        self._kwargs: dict[str, Any] = {"uri": uri, "timeout": 10}
        if token:
            self._kwargs["token"] = token
        if db:
            self._kwargs["db_name"] = db
        self._new = MilvusClient
        try:
            self.client = self._guard(lambda: self._new(**self._kwargs))
        except BackendUnavailable as exc:
            if self._lock is None:
                raise
            # the usual cause: another process has the folder open (Milvus Lite allows one)
            raise BackendUnavailable(backend="milvus", uri=uri, reason=f"lite_busy: {exc.details['reason']}") from None

    def _guard(self, fn, retry: bool = False):
        for wait in (*(RETRY_S if retry else ()), None):
            try:
                if self._lock is None:
                    return fn()
                with self._lock:
                    return fn()
            except (IndexIncompatible, BackendUnavailable):
                raise
            except Exception as exc:  # pymilvus, grpc and Lite each raise their own kinds
                reason = " ".join(str(exc).split())[:300] or type(exc).__name__
                if self._lock is not None or "connect" not in reason.lower() or wait is None:
                    raise BackendUnavailable(backend="milvus", uri=self.uri, reason=reason) from None
                time.sleep(wait)  # a server that restarted answers again within a second or two
                self._reconnect()

    def _reconnect(self) -> None:
        """A new channel: the old one may wait out gRPC's growing reconnection backoff."""
        try:
            self.client.close()
        except Exception:  # a client whose server is gone may fail to close; it is dropped either way
            pass
        try:
            self.client = self._new(**self._kwargs)
        except Exception:  # still down: the next try says so
            pass

    def call(self, method: str, *args, **kwargs):
        """client.method(*args, **kwargs), with failures as BackendUnavailable."""
        return self._guard(lambda: getattr(self.client, method)(*args, **kwargs), retry=method in READS)


def _quiet() -> None:
    """pymilvus logs every failed call with its traceback, gRPC's core its transport notices (keepalive pings of a
    long build); we say what failed once, in the user's language."""
    import logging
    import os

    os.environ.setdefault("GRPC_VERBOSITY", "NONE")  # read when gRPC's core starts, so before the first channel
    try:
        import pymilvus  # noqa: F401  (it sets its loggers up when imported: levels are set after that)
    except ImportError:
        return
    for name in ("pymilvus", "grpc", "milvus_lite"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def connect(store: StoreSettings, uri: str) -> Connection:
    """The process's connection to this address (one per address: Milvus Lite allows one opener per folder)."""
    key = (uri, store.milvus_token, store.milvus_db)
    with _clients_lock:
        found = _clients.get(key)
        if found is None:
            found = _clients[key] = Connection(uri, store.milvus_token, store.milvus_db)
        return found


def create_collection(conn: Connection, name: str, dim: int, record: dict) -> None:
    """A new, empty collection with our fields, exact (FLAT) inner-product search on vectors and sparse vectors,
    strong consistency (a server's default, Bounded, would let a reader miss what was just written), and the
    record that says what its vectors are."""
    from pymilvus import DataType, MilvusClient

    schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.INT64, is_primary=True)  # the row for a passage's first window (see OTHER_WINDOWS)
    schema.add_field("row", DataType.INT64)  # its passage's row in the build's tables
    schema.add_field("doc", DataType.INT64)  # its document's ordinal in the build's tables
    schema.add_field("head", DataType.BOOL)  # the passage's first window: it carries the passage and BM25 weights
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_field("record", DataType.VARCHAR, max_length=RECORD_BYTES)
    # IVF_FLAT with a filter returned wrong hits in Milvus Lite (issue 20): exact FLAT, as our own index does
    # up to 100k windows
    index = conn.call("prepare_index_params")
    index.add_index(field_name="vector", index_type="FLAT", metric_type="IP")
    index.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    conn.call("create_collection", name, schema=schema, index_params=index, consistency_level="Strong")
    conn.call("alter_collection_properties", name, properties={PROPERTY: json.dumps(record, ensure_ascii=False)})


def collection_record(conn: Connection, name: str) -> dict | None:
    """What a collection says it holds (None: it is not ours, or has no record)."""
    described = conn.call("describe_collection", name)
    raw = (described.get("properties") or {}).get(PROPERTY)
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def pack_record(passage: dict) -> str:
    """A passage as stored: JSON; compressed when too long for the field, its words left out as a last resort
    (quotes then cut sentences into words at question time)."""
    text = json.dumps(passage, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode("utf-8")) <= RECORD_BYTES:
        return text
    packed = "z:" + base64.b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii")
    if len(packed) <= RECORD_BYTES or not passage.get("terms"):
        if len(packed) > RECORD_BYTES:
            raise ValueError(f"passage {passage.get('passage_id')} is too long for Milvus ({len(packed)} bytes)")
        return packed
    return pack_record({**passage, "terms": []})


def unpack_record(text: str) -> dict:
    if text.startswith("z:"):
        text = zlib.decompress(base64.b64decode(text[2:])).decode("utf-8")
    return json.loads(text)
