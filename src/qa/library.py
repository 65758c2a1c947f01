"""Manage the documents in the data folder: add files, remove a document, list them with their status."""
from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from .errors import AmbiguousDocument, DocumentNotFound, UnreadableFile
from .indexer import BuildReport, Progress, sync
from .manifest import Manifest
from .read import TEXT_SUFFIXES, file_digest, read_source, scan
from .settings import Settings
from .store import current_build, read_documents
from .structure import parse_source

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
    status: str  # indexed, duplicate, rejected, pending, removed
    title: str | None = None
    date: str | None = None
    speaker: str | None = None
    passages: int = 0
    doc_id: str | None = None
    details: dict = field(default_factory=dict)  # reason of a rejection, or the file it duplicates


def _given_files(paths: list[Path]) -> list[tuple[Path, str]]:
    """(file, name in the data folder): a folder's supported files keep their place under the folder's name."""
    out = []
    for path in map(Path, paths):
        if path.is_dir():
            for sub in sorted(path.rglob("*")):
                rel = sub.relative_to(path)
                if sub.is_file() and sub.suffix.lower() in TEXT_SUFFIXES and not any(
                    part.startswith((".", "~$")) for part in rel.parts
                ):
                    out.append((sub, f"{path.name}/{rel.as_posix()}"))
        else:
            out.append((path, path.name))
    return out


def add_files(settings: Settings, paths: list[Path], embedder, progress: Progress | None = None,
              notify=None) -> AddReport:
    """Copy readable files into the data folder (atomically, one by one) and update the index.

    A file whose content is already there under another name, and a file that cannot be read, are not copied."""
    data_dir = Path(settings.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    existing = {f.name: f.sha256 for f in scan(data_dir)}
    by_hash = {digest: name for name, digest in existing.items()}
    added, replaced, unchanged, duplicates, rejected = [], [], [], [], []
    for path, name in _given_files(paths):
        if not path.is_file():
            rejected.append((str(path), {"reason": "not_found"}))
            continue
        digest = file_digest(path)
        if existing.get(name) == digest:
            unchanged.append(name)
            continue
        if digest in by_hash and by_hash[digest] != name:
            duplicates.append((path.name, by_hash[digest]))
            continue
        try:
            parse_source(name, read_source(path))
        except UnreadableFile as exc:
            rejected.append((path.name, {k: v for k, v in exc.details.items() if k != "path"}))
            continue
        target = data_dir / name
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".incoming-{target.name}")
        partial.write_bytes(path.read_bytes())
        os.replace(partial, target)  # a half-copied file never appears under its real name
        (replaced if name in existing else added).append(name)
        by_hash[digest] = name
    build = sync(settings, embedder, progress=progress, notify=notify)
    return AddReport(tuple(added), tuple(replaced), tuple(unchanged), tuple(duplicates), tuple(rejected), build)


def find_document(settings: Settings, key: str) -> DocumentRow:
    """The one document named by its file name, id (or id prefix) or a fragment of its title."""
    # files already gone from the data folder but still indexed (a removal that was interrupted) can be named too
    rows = sorted(list_documents(settings), key=lambda r: r.status == "removed")
    key = key.strip()
    exact = [r for r in rows if key in (r.source, r.doc_id)]
    matches = exact or [r for r in rows if (r.doc_id or "").startswith(key) and len(key) >= 6] or [
        r for r in rows if key and key in (r.title or "")
    ]
    if not matches:
        raise DocumentNotFound(key=key, choices=[_label(r) for r in rows[:20]])
    if len({r.source for r in matches if r.status != "removed"}) > 1:
        raise AmbiguousDocument(key=key, choices=[_label(r) for r in matches[:20]])
    return matches[0]


def remove_document(settings: Settings, key: str, embedder, progress: Progress | None = None,
                    notify=None) -> tuple[DocumentRow, BuildReport]:
    """Move the document's file out of the data folder (into data/.removed/) and update the index."""
    row = find_document(settings, key)
    data_dir = Path(settings.data_dir)
    if row.status != "removed":  # else the file was moved by a removal that did not get to update the index
        keep = data_dir / REMOVED_FOLDER / f"{time.strftime('%Y%m%dT%H%M%S')}_{Path(row.source).name}"
        keep.parent.mkdir(parents=True, exist_ok=True)
        os.replace(data_dir / row.source, keep)
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
    entries = manifest.documents if manifest else {}
    rejected = manifest.rejected if manifest else {}
    details = _document_details(settings)
    rows: list[DocumentRow] = []
    files = {f.name: f.sha256 for f in scan(settings.data_dir)} if Path(settings.data_dir).exists() else {}
    for name, digest in files.items():
        entry = entries.get(name)
        if entry is not None and entry["sha256"] == digest:
            if "duplicate_of" in entry:
                rows.append(DocumentRow(name, "duplicate", details={"duplicate_of": entry["duplicate_of"]}))
            for doc in entry.get("documents", []):
                extra = details.get(doc["doc_id"], {})
                rows.append(DocumentRow(name, "indexed", doc["title"], doc.get("date"), extra.get("speaker"),
                                        doc.get("passages", 0), doc["doc_id"]))
        elif name in rejected and rejected[name]["sha256"] == digest:
            reason = {k: v for k, v in rejected[name].items() if k != "sha256"}
            rows.append(DocumentRow(name, "rejected", details=reason))
        else:
            rows.append(DocumentRow(name, "pending"))
    for name in sorted(set(entries) - set(files)):
        for doc in entries[name].get("documents", []):
            rows.append(DocumentRow(name, "removed", doc["title"], doc.get("date"), None, doc.get("passages", 0),
                                    doc["doc_id"]))
    return rows


def _document_details(settings: Settings) -> dict[str, dict]:
    folder = current_build(settings.index_dir)
    try:
        return {d["doc_id"]: d for d in read_documents(folder)} if folder is not None else {}
    except sqlite3.Error:  # a damaged build: the list still shows the files
        return {}


def _label(row: DocumentRow) -> str:
    return f"{row.source}（《{row.title}》）" if row.title else row.source
