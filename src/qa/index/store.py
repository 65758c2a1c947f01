"""The index folder on disk: builds that list segments, switched atomically via CURRENT, one writer at a time
(reading a build: reader.py).

Layout::

    index/CURRENT                    name of the serving build (replaced with os.replace)
    index/.lock                      held by every process that writes (filelock)
    index/builds/<id>/manifest.json  a build: its segments, the documents each no longer serves, what files it read
    index/segments/<id>/             immutable segments (see segment.py); builds share them
    index/embeddings/<model>.sqlite  vectors by text hash, written as they are made: never embed twice

Adding a document writes one small segment and a new manifest; removing one writes only a manifest. A crash
before CURRENT is switched leaves the previous build serving; what it wrote is removed by the next writer.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import threading
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from qa.errors import IndexBusy, IndexIncompatible
from qa.index.manifest import Manifest
from qa.index.segment import SEGMENTS, fsync_dir, fsync_tree

CURRENT = "CURRENT"
BUILDS = "builds"
LOCK = ".lock"
OWNER = ".lock.owner"  # who writes now (pid, what, since): named to a writer that has to wait


def current_build(index_dir: Path) -> Path | None:
    """The folder of the serving build, or None when nothing was built yet."""
    pointer = Path(index_dir) / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    folder = Path(index_dir) / BUILDS / name
    return folder if name and folder.is_dir() else None


_held = threading.local()  # lock depth per index folder in this thread: a write inside a write does not wait


@contextmanager
def writing(index_dir: Path, notify: Callable[..., None] | None = None, timeout: float | None = None):
    """Hold the index's inter-process write lock; a second writer waits (and says so) until the first is done.

    Re-entrant within a thread (adding files and then syncing is one write). With a timeout, a writer that waited
    that many seconds gives up with IndexBusy, naming who holds the lock. Leftovers of killed writers are removed
    as soon as the lock is taken."""
    from filelock import FileLock, Timeout

    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    key = str(index_dir.resolve())
    depth = getattr(_held, "depth", {})
    _held.depth = depth
    if depth.get(key):
        depth[key] += 1
        try:
            yield
        finally:
            depth[key] -= 1
        return
    lock = FileLock(str(index_dir / LOCK), thread_local=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if notify:
            notify("waiting_for_writer", **_owner(index_dir))
        try:
            lock.acquire(timeout=-1 if timeout is None else timeout)
        except Timeout:
            raise IndexBusy(index_dir=str(index_dir), seconds=int(timeout or 0), **_owner(index_dir)) from None
    depth[key] = 1
    try:
        _write_owner(index_dir)
        clean_leftovers(index_dir)
        yield
    finally:
        depth[key] = 0
        (index_dir / OWNER).unlink(missing_ok=True)
        lock.release()


def _write_owner(index_dir: Path) -> None:
    what = " ".join(Path(a).name for a in sys.argv[:2]) or "python"  # e.g. "qa add", "app.py"
    info = {"pid": os.getpid(), "what": what, "since": datetime.now().strftime("%H:%M:%S")}
    (index_dir / OWNER).write_text(json.dumps(info), encoding="utf-8")


def _owner(index_dir: Path) -> dict:
    """Who holds the write lock (pid, what, since), as far as its owner file says."""
    try:
        info = json.loads((index_dir / OWNER).read_text(encoding="utf-8"))
        return {"pid": int(info["pid"]), "what": str(info["what"]), "since": str(info["since"])}
    except (OSError, ValueError, KeyError, TypeError):
        return {"pid": "?", "what": "?", "since": "?"}


def clean_leftovers(index_dir: Path) -> None:
    """Remove what killed writers left: half-written builds and segments, unswitched CURRENT files.

    Call while holding `writing`: no live writer can own them then."""
    index_dir = Path(index_dir)
    for parent in (index_dir / BUILDS, index_dir / SEGMENTS):
        for leftover in parent.glob(".tmp-*") if parent.is_dir() else ():
            shutil.rmtree(leftover, ignore_errors=True)
    for leftover in index_dir.glob(f".{CURRENT}.*"):
        leftover.unlink(missing_ok=True)


def publish(index_dir: Path, manifest: Manifest, files: Callable[[Path], None] | None = None) -> Path:
    """Write a build manifest beside the serving one, switch CURRENT to it, and prune what no build needs.

    Call while holding `writing`. The segments the manifest lists must already be in place; `files` writes what
    else the build folder holds (a Milvus build's tables) into it before it is switched to.
    """
    index_dir = Path(index_dir)
    builds = index_dir / BUILDS
    builds.mkdir(parents=True, exist_ok=True)
    name = f"{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
    tmp = builds / f".tmp-{name}"
    tmp.mkdir()
    if files is not None:
        files(tmp)
    manifest.write(tmp / "manifest.json")
    fsync_tree(tmp)
    os.replace(tmp, builds / name)
    pointer_tmp = index_dir / f".{CURRENT}.{name}"
    pointer_tmp.write_text(name + "\n", encoding="utf-8")
    with open(pointer_tmp, "rb") as f:
        os.fsync(f.fileno())
    previous = current_build(index_dir)
    os.replace(pointer_tmp, index_dir / CURRENT)
    fsync_dir(index_dir)
    prune(index_dir, keep={name, previous.name if previous else ""})
    return builds / name


def prune(index_dir: Path, keep: set[str]) -> None:
    """Remove builds other than `keep` (the serving one and its predecessor) and those a reader still has open
    (in any process), and segments none of the remaining builds lists. Call while holding `writing` (which has
    already removed what killed writers left)."""
    index_dir = Path(index_dir)
    used: set[str] = set()
    builds = index_dir / BUILDS
    for folder in sorted(builds.iterdir()) if builds.is_dir() else ():
        if folder.name in keep or _being_read(folder):
            try:
                used.update(s.name for s in Manifest.read(folder / "manifest.json").segment_entries)
            except IndexIncompatible:
                pass
        else:
            shutil.rmtree(folder, ignore_errors=True)
    segments = index_dir / SEGMENTS
    for folder in segments.iterdir() if segments.is_dir() else ():
        if folder.name not in used:
            shutil.rmtree(folder, ignore_errors=True)


def _being_read(folder: Path) -> bool:
    """Whether some reader (this process or another) holds the build open."""
    try:
        import fcntl
    except ImportError:
        return False
    try:
        f = open(folder / "manifest.json", "rb")
    except OSError:
        return False
    with f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(f.fileno(), fcntl.LOCK_UN)
        return False


def read_hold(folder: Path):
    """An open file holding a shared lock on a build while a reader uses it (None where flock does not exist:
    there, open files cannot be deleted anyway)."""
    try:
        import fcntl
    except ImportError:
        return None
    try:
        f = open(Path(folder) / "manifest.json", "rb")
    except OSError:
        return None
    fcntl.flock(f.fileno(), fcntl.LOCK_SH)
    return f


def read_documents(folder: Path) -> list[dict]:
    """Every served document of a build (id, file, title, date, speaker, occasion, passages), from its own files
    alone (SQLite; a Milvus build's documents.json)."""
    import sqlite3

    folder = Path(folder)
    manifest = Manifest.read(folder / "manifest.json")
    if manifest.backend_kind == "milvus":
        docs = json.loads((folder / "documents.json").read_text(encoding="utf-8"))
        keys = ("doc_id", "source", "title", "date", "speaker", "occasion")
        return sorted(({**{k: d.get(k) for k in keys}, "passages": d["paragraphs"]} for d in docs if d["live"]),
                      key=lambda d: d["source"])
    found = []
    for entry in manifest.segment_entries:
        path = folder.parent.parent / SEGMENTS / entry.name / "passages.sqlite"
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT doc_id, source, title, date, speaker, occasion, paragraphs FROM documents "
                               "ORDER BY rowid").fetchall()
        finally:
            con.close()
        keys = ("doc_id", "source", "title", "date", "speaker", "occasion", "passages")
        deleted = set(entry.deleted)
        found += [dict(zip(keys, r)) for r in rows if r[0] not in deleted]
    return sorted(found, key=lambda d: d["source"])
