"""What an update changes: which files to parse, which documents to add, which to stop serving."""
from __future__ import annotations

import copy
from dataclasses import dataclass, field

from qa.errors import UnreadableFile
from qa.ingest.read import read_source
from qa.ingest.structure import parse_source
from qa.records import Staleness
from qa.records import Document


@dataclass
class Plan:
    """What one update writes: new documents, documents no longer served, and the manifest's file table."""

    new_docs: list[tuple[Document, str]] = field(default_factory=list)
    deleted: dict[str, set[str]] = field(default_factory=dict)  # segment -> doc ids
    entries: dict[str, dict] = field(default_factory=dict)
    rejected: dict[str, dict] = field(default_factory=dict)
    kept_previous: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)


def full_plan(files, old) -> Plan:
    """Every file parsed again (old: the IndexReader serving now, or None); a file that cannot be read keeps what
    was indexed from it before."""
    plan = Plan()
    owner: dict[str, str] = {}
    for f in files:
        _add_file(plan, f, owner, previous=(lambda name=f.name: old.documents_of(name)) if old is not None else None)
    return plan


def incremental_plan(files, old, stale: Staleness) -> Plan:
    """Only added and changed files are parsed; removed and changed files' documents are marked deleted."""
    before = old.manifest
    gone = set(stale.removed) | set(stale.changed)
    by_name = {f.name: f for f in files}
    # a file that duplicated one that is now gone or changed is read again: it may be the only copy left
    orphans = {n for n, e in before.documents.items() if e.get("duplicate_of") in gone and n in by_name}
    touched = (set(stale.added) | set(stale.changed) | orphans) & set(by_name)
    plan = Plan(entries=copy.deepcopy({n: e for n, e in before.documents.items() if n not in gone | orphans}),
                 rejected={n: r for n, r in before.rejected.items() if n not in gone and n not in touched})
    owner = {d["doc_id"]: n for n, e in plan.entries.items() for d in e.get("documents", [])}
    order = {f.name: i for i, f in enumerate(files)}
    for name in sorted(touched, key=order.__getitem__):
        previous = before.documents.get(name, {})
        if not _add_file(plan, by_name[name], owner, keep=previous if previous.get("documents") else None):
            continue  # unreadable now: what was indexed from it stays (its entry was kept)
        for doc in previous.get("documents", []):
            plan.deleted.setdefault(doc["segment"], set()).add(doc["doc_id"])
    for name in set(stale.removed):
        for doc in before.documents[name].get("documents", []) if name in before.documents else []:
            plan.deleted.setdefault(doc["segment"], set()).add(doc["doc_id"])
    return plan


def _add_file(plan: Plan, f, owner: dict[str, str], previous=None, keep: dict | None = None) -> bool:
    """Parse one file into the plan; False when it cannot be read (then the documents `previous()` gives, or the
    `keep` entry, stay served)."""
    try:
        if f.refused:
            raise UnreadableFile(path=f.name, reason=f.refused)
        docs = parse_source(f.name, read_source(f.path))
    except UnreadableFile as exc:
        plan.rejected[f.name] = {"sha256": f.sha256, **{k: v for k, v in exc.details.items() if k != "path"}}
        previous = previous() if previous is not None else []
        if previous:  # full rebuild: the previous documents are indexed again
            plan.new_docs.extend(previous)
            plan.entries[f.name] = _entry(previous[0][1], [doc for doc, _ in previous])
            plan.kept_previous.append(f.name)
        elif keep is not None:  # update: the previous documents were never marked deleted
            plan.entries[f.name] = keep
            plan.kept_previous.append(f.name)
        return False
    plan.rejected.pop(f.name, None)
    fresh = []
    for doc in docs:
        if doc.doc_id in owner:
            plan.duplicates.append((f.name, owner[doc.doc_id]))
            continue
        owner[doc.doc_id] = f.name
        fresh.append(doc)
    plan.new_docs.extend((doc, f.sha256) for doc in fresh)
    if fresh:
        plan.entries[f.name] = _entry(f.sha256, fresh)
    elif docs:
        plan.entries[f.name] = {"sha256": f.sha256, "documents": [], "duplicate_of": owner[docs[0].doc_id]}
    else:
        plan.entries[f.name] = {"sha256": f.sha256, "documents": []}
    return True


def _entry(sha: str, docs: list[Document]) -> dict:
    return {"sha256": sha, "documents": [{"doc_id": d.doc_id, "title": d.title, "date": d.date,
                                          "passages": len(d.paragraphs)} for d in docs]}
