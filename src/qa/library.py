"""Manage the documents in the data folder: add files, remove a document, list them with their status."""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from qa.data_folder import (check_request, fit_name, free_name, given_files, keep_removed, place, refusal,
                            shown_name)
from qa.errors import AmbiguousDocument, DocumentNotFound, UnreadableFile
from qa.index.indexer import Progress, resolve, sync  # noqa: F401  (resolve: for the app)
from qa.index.manifest import Manifest
from qa.index.store import current_build, read_documents, writing
from qa.ingest.read import file_digest, read_source, scan
from qa.ingest.structure import outline, parse_source
from qa.records import BuildReport, DocumentStatus
from qa.settings import Settings


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


def _unreadable(path: Path, name: str) -> dict | None:
    """Why a file cannot be indexed (its format, encoding or content), or None when it can."""
    try:
        parse_source(name, read_source(path))
    except UnreadableFile as exc:
        return {k: v for k, v in exc.details.items() if k != "path"}
    return None


def add_files(settings: Settings, paths: list[Path], embedder, progress: Progress | None = None,
              notify=None) -> AddReport:
    """Copy readable files into the data folder (atomically, one by one) and update the index.

    A file whose content is already there under another name, and a file that cannot be read, are not copied.
    A different file under a name already used replaces it, and the old file is kept in data/.removed/. The
    whole add holds the index's write lock: files and index change together, one writer at a time."""
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    given = given_files(paths, data_dir, settings.index_dir)
    check_request(given, settings.limits)
    with writing(settings.index_dir, notify, timeout=settings.limits.lock_wait_s):
        existing = {f.name: f.sha256 for f in scan(data_dir)}
        by_hash = {digest: name for name, digest in existing.items()}
        added, replaced, unchanged, duplicates, rejected = [], [], [], [], []
        taken: set[str] = set()  # names given to files of this request
        for path, name in given:
            shown = shown_name(path, name)
            if refused := refusal(path, name, data_dir, settings.limits):
                rejected.append((shown, refused))
                continue
            digest = file_digest(path)
            if existing.get(name) == digest:
                unchanged.append(name)
                continue
            if digest in by_hash and by_hash[digest] != name:
                duplicates.append((shown, by_hash[digest]))
                continue
            if unreadable := _unreadable(path, name):
                rejected.append((shown, unreadable))
                continue
            name = free_name(fit_name(name, settings.limits.name_bytes), taken)
            taken.add(name)
            place(data_dir, path, name, replaces=name in existing)
            (replaced if name in existing else added).append(name)
            by_hash[digest], existing[name] = name, digest
        build = sync(settings, embedder, progress=progress, notify=notify)
    return AddReport(tuple(added), tuple(replaced), tuple(unchanged), tuple(duplicates), tuple(rejected), build)


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
