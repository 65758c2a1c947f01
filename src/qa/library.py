"""Manage the documents in the data folder: add files, remove a document, list them with their status."""
from __future__ import annotations

import os
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from qa.errors import AmbiguousDocument, DocumentNotFound, TooLarge, UnreadableFile
from qa.index.indexer import Progress, resolve, sync  # noqa: F401  (resolve: for the app)
from qa.index.manifest import Manifest
from qa.index.store import current_build, read_documents, writing
from qa.ingest.read import TEXT_SUFFIXES, file_digest, inside, is_hidden, read_source, scan
from qa.ingest.structure import outline, parse_source
from qa.records import BuildReport, DocumentStatus
from qa.settings import LimitSettings, Settings

REMOVED_FOLDER = ".removed"  # hidden, so scans skip it; removed files stay recoverable here


@dataclass(frozen=True)
class AddReport:
    """What adding files did, file by file, and the index update that followed."""

    added: tuple[str, ...] = ()  # names in the data folder
    replaced: tuple[str, ...] = ()  # same name, new content: its old passages are replaced
    unchanged: tuple[str, ...] = ()  # same name, same content
    duplicates: tuple[tuple[str, str], ...] = ()  # (given file, data file with the same content)
    rejected: tuple[tuple[str, dict], ...] = ()  # (given file, {reason, ...}): not copied
    build: BuildReport | None = None


@dataclass(frozen=True)
class DocumentRow:
    """One line of the document list."""

    source: str
    status: DocumentStatus
    title: str | None = None
    date: str | None = None
    speaker: str | None = None
    passages: int = 0
    doc_id: str | None = None
    details: dict = field(default_factory=dict)  # reason of a rejection, or the file it duplicates


def _given_files(paths: list[Path], data_dir: Path, index_dir: Path) -> list[tuple[Path, str]]:
    """(file, name in the data folder): a folder's supported files keep their place under the folder's name.

    Inside a folder, hidden files and symlinks are passed over, and so are the data and index folders
    themselves (`qa add .` in the project folder adds nothing twice)."""
    out = []
    skip = [Path(data_dir).resolve(), Path(index_dir).resolve()]
    for path in map(Path, paths):
        if path.is_dir():
            top = path.resolve()
            base = top.name or "root"  # `qa add .` names the folder by its real name, never "" or ".."
            for folder, dirs, files in os.walk(path, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith((".", "~$"))
                                 and Path(folder, d).resolve() not in skip)
                for file in sorted(files):
                    sub = Path(folder) / file
                    rel = sub.relative_to(path)
                    if is_hidden(rel.as_posix()) or sub.suffix.lower() not in TEXT_SUFFIXES or sub.is_symlink():
                        continue
                    out.append((sub, f"{base}/{rel.as_posix()}"))
        else:
            out.append((path, path.name))
    return out


def _check_name(name: str, data_dir: Path) -> str | None:
    """Why a name cannot be used in the data folder (a reason code), or None when it can."""
    parts = name.split("/")
    if any(part in ("", ".", "..") for part in parts) or "\\" in name or any(ord(ch) < 32 for ch in name):
        return "outside_data"
    if is_hidden(name):
        return "hidden_name"
    root = Path(data_dir).resolve()
    if not inside((root / name).resolve(), root):  # a symlinked folder inside data/ leading out of it
        return "outside_data"
    return None


def fit_name(name: str, limit: int) -> str:
    """The name with each part shortened (keeping its suffix) to at most `limit` bytes of UTF-8: file systems
    stop at 255, and a time stamp or counter may still be added."""
    parts = []
    for part in name.split("/"):
        stem, suffix = (part[: -len(Path(part).suffix)], Path(part).suffix) if Path(part).suffix else (part, "")
        while len((stem + suffix).encode("utf-8")) > limit and stem:
            stem = stem[:-1]
        parts.append(stem + suffix)
    return "/".join(parts)


def _free_name(name: str, taken: set[str]) -> str:
    """`name`, or `stem (2).suffix`, … when another file of this request already took it."""
    path = Path(name)
    n = 1
    while name in taken:
        n += 1
        name = (path.parent / f"{path.stem} ({n}){path.suffix}").as_posix()
    return name


def keep_removed(data_dir: Path, name: str) -> Path:
    """Move a data file into data/.removed/ under a name never used before (time stamp, then a counter)."""
    folder = Path(data_dir) / REMOVED_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    base = Path(name).name
    stamp = time.strftime("%Y%m%dT%H%M%S")
    # stay within the file system's 255 bytes whatever the name's length
    while len(f"{stamp}-99_{base}".encode("utf-8")) > 250:
        base = base[:-(len(Path(base).suffix) + 1)] + Path(base).suffix
    n = 1
    while True:
        keep = folder / (f"{stamp}_{base}" if n == 1 else f"{stamp}-{n}_{base}")
        try:  # O_EXCL: two removals in one second never take the same name
            os.close(os.open(keep, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            break
        except FileExistsError:
            n += 1
    os.replace(Path(data_dir) / name, keep)
    return keep


def _size_limits(given: list[tuple[Path, str]], limits: LimitSettings) -> None:
    """Refuse the whole request when it is over the number or total size limit."""
    if len(given) > limits.files:
        raise TooLarge(reason="too_many_files", count=len(given), limit=limits.files)
    total = sum(p.stat().st_size for p, _ in given if p.is_file())
    if total > limits.request_mb * 2**20:
        raise TooLarge(reason="request_too_large", size_mb=round(total / 2**20, 1), limit_mb=limits.request_mb)


def add_files(settings: Settings, paths: list[Path], embedder, progress: Progress | None = None,
              notify=None) -> AddReport:
    """Copy readable files into the data folder (atomically, one by one) and update the index.

    A file whose content is already there under another name, and a file that cannot be read, are not copied.
    A different file under a name already used replaces it, and the old file is kept in data/.removed/. The
    whole add holds the index's write lock: files and index change together, one writer at a time."""
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    given = _given_files(paths, data_dir, settings.index_dir)
    _size_limits(given, settings.limits)
    with writing(settings.index_dir, notify, timeout=settings.limits.lock_wait_s):
        existing = {f.name: f.sha256 for f in scan(data_dir)}
        by_hash = {digest: name for name, digest in existing.items()}
        added, replaced, unchanged, duplicates, rejected = [], [], [], [], []
        taken: set[str] = set()  # names given to files of this request
        for path, name in given:
            shown = _shown(path, name)
            if not path.is_file():
                rejected.append((shown, {"reason": "not_found"}))
                continue
            if why := _check_name(name, data_dir):
                rejected.append((shown, {"reason": why}))
                continue
            size = path.stat().st_size
            if size > settings.limits.file_mb * 2**20:
                rejected.append((shown, {"reason": "file_too_large", "size_mb": round(size / 2**20, 1),
                                         "limit_mb": settings.limits.file_mb}))
                continue
            digest = file_digest(path)
            if existing.get(name) == digest:
                unchanged.append(name)
                continue
            if digest in by_hash and by_hash[digest] != name:
                duplicates.append((shown, by_hash[digest]))
                continue
            try:
                parse_source(name, read_source(path))
            except UnreadableFile as exc:
                rejected.append((shown, {k: v for k, v in exc.details.items() if k != "path"}))
                continue
            name = _free_name(fit_name(name, settings.limits.name_bytes), taken)
            taken.add(name)
            target = data_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.parent / f".incoming-{uuid.uuid4().hex[:12]}"  # short: any name length fits
            partial.write_bytes(path.read_bytes())
            if name in existing:
                keep_removed(data_dir, name)  # the file it replaces stays recoverable
            os.replace(partial, target)  # a half-copied file never appears under its real name
            (replaced if name in existing else added).append(name)
            by_hash[digest], existing[name] = name, digest
        build = sync(settings, embedder, progress=progress, notify=notify)
    return AddReport(tuple(added), tuple(replaced), tuple(unchanged), tuple(duplicates), tuple(rejected), build)


def _shown(path: Path, name: str) -> str:
    """How a given file is named in messages: its name (an upload's temporary folder means nothing to a user)."""
    return name if "/" in name else path.name


def rebuild(settings: Settings, embedder, force: bool = False, progress: Progress | None = None,
            notify=None) -> BuildReport:
    """Bring the index in line with the data folder (everything again with force)."""
    return sync(settings, embedder, force=force, progress=progress, notify=notify)


def parse_file(path: Path) -> list[dict]:
    """What ingestion makes of one file, without indexing it: each document's outline (head, sections, what was
    dropped as noise), its format and encoding. UnreadableFile if it cannot be read."""
    source = read_source(path)
    return [dict(outline(doc), format=source.format, encoding=source.encoding)
            for doc in parse_source(Path(path).name, source)]


def find_document(settings: Settings, key: str) -> DocumentRow:
    """The one document named by its file name, id (or id prefix) or a fragment of its title."""
    # files already gone from the data folder but still indexed (a removal that was interrupted) can be named too
    rows = sorted(list_documents(settings), key=lambda r: r.status == DocumentStatus.REMOVED)
    key = key.strip()
    exact = [r for r in rows if key in (r.source, r.doc_id)]
    matches = exact or [r for r in rows if (r.doc_id or "").startswith(key) and len(key) >= 6] or [
        r for r in rows if key and key in (r.title or "")
    ]
    if not matches:
        raise DocumentNotFound(key=key, choices=[_label(r) for r in rows[:20]])
    if len({r.source for r in matches if r.status != DocumentStatus.REMOVED}) > 1:
        raise AmbiguousDocument(key=key, choices=[_label(r) for r in matches[:20]])
    return matches[0]


def remove_document(settings: Settings, key: str, embedder, progress: Progress | None = None,
                    notify=None) -> tuple[DocumentRow, BuildReport]:
    """Move the document's file out of the data folder (into data/.removed/) and update the index."""
    with writing(settings.index_dir, notify, timeout=settings.limits.lock_wait_s):
        row = find_document(settings, key)
        if row.status != DocumentStatus.REMOVED:  # else the file was moved by a removal that did not get to update the index
            keep_removed(Path(settings.data_dir), row.source)
        return row, sync(settings, embedder, progress=progress, notify=notify)


def list_documents(settings: Settings) -> list[DocumentRow]:
    """Every file of the data folder with what the index knows of it, plus indexed files no longer there."""
    manifest = None
    folder = current_build(settings.index_dir)
    if folder is not None:
        try:
            manifest = Manifest.read(folder / "manifest.json")
        except Exception:  # an unusable index: everything is pending
            manifest = None
    entries = manifest.files if manifest else {}
    rejected = manifest.rejected if manifest else {}
    details = _document_details(settings)
    rows: list[DocumentRow] = []
    files = {f.name: f.sha256 for f in scan(settings.data_dir)} if Path(settings.data_dir).exists() else {}
    for name, digest in files.items():
        entry = entries.get(name)
        if entry is not None and entry.sha256 == digest:
            if entry.duplicate_of:
                rows.append(DocumentRow(name, DocumentStatus.DUPLICATE, details={"duplicate_of": entry.duplicate_of}))
            for doc in entry.documents:
                rows.append(DocumentRow(name, DocumentStatus.INDEXED, doc.title, doc.date,
                                        details.get(doc.doc_id, {}).get("speaker"), doc.passages, doc.doc_id))
        elif name in rejected and rejected[name]["sha256"] == digest:
            reason = {k: v for k, v in rejected[name].items() if k != "sha256"}
            rows.append(DocumentRow(name, DocumentStatus.REJECTED, details=reason))
        else:
            rows.append(DocumentRow(name, DocumentStatus.PENDING))
    for name in sorted(set(entries) - set(files)):
        for doc in entries[name].documents:
            rows.append(DocumentRow(name, DocumentStatus.REMOVED, doc.title, doc.date, None, doc.passages, doc.doc_id))
    return rows


def _document_details(settings: Settings) -> dict[str, dict]:
    folder = current_build(settings.index_dir)
    try:
        return {d["doc_id"]: d for d in read_documents(folder)} if folder is not None else {}
    except sqlite3.Error:  # a damaged build: the list still shows the files
        return {}


def _label(row: DocumentRow) -> str:
    return f"{row.source}（《{row.title}》）" if row.title else row.source
