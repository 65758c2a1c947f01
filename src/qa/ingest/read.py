"""Find the texts in the data folder and read each as Unicode text, whatever its format and encoding."""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from qa.errors import DataMissing, UnreadableFile
from qa.ingest.encoding import decode
from qa.records import SourceText

PLAIN_SUFFIXES = (".txt", ".md")
DOCUMENT_SUFFIXES = (".docx", ".html", ".htm", ".pdf")
COLLECTION_SUFFIXES = (".jsonl",)  # pre-split passages, one {id, title, text} a line
TEXT_SUFFIXES = PLAIN_SUFFIXES + DOCUMENT_SUFFIXES + COLLECTION_SUFFIXES


@dataclass(frozen=True)
class SourceFile:
    """A file found in the data folder, identified by its relative path and content hash."""

    path: Path
    name: str  # relative to the data folder, POSIX style
    sha256: str
    refused: str | None = None  # a reason code when the file must not be read (a symlink out of the folder)


def file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def is_hidden(name: str) -> bool:
    """Hidden files and folders, and Word's ~$ lock files: never indexed."""
    return any(part.startswith((".", "~$")) for part in Path(name).parts)


def scan(data_dir: Path) -> list[SourceFile]:
    """All readable-looking texts below data_dir (or data_dir itself, if it is one file), sorted by name.

    Symlinked folders are not entered; a symlinked file that leads outside data_dir is listed as refused, and
    never read (its hash is that of the link, not of what it points to)."""
    data_dir = Path(data_dir)
    if data_dir.is_file():
        return [SourceFile(path=data_dir, name=data_dir.name, sha256=file_digest(data_dir))]
    if not data_dir.is_dir():
        raise DataMissing(data_dir=str(data_dir))
    root = data_dir.resolve()
    found = []
    for folder, dirs, files in os.walk(data_dir, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith((".", "~$"))]
        for file in files:
            path = Path(folder) / file
            name = path.relative_to(data_dir).as_posix()
            if is_hidden(name) or path.suffix.lower() not in TEXT_SUFFIXES:
                continue
            if path.is_symlink() and not inside(path.resolve(), root):
                link = hashlib.sha256(os.readlink(path).encode("utf-8", "surrogateescape")).hexdigest()
                found.append(SourceFile(path=path, name=name, sha256=f"symlink-{link}", refused="symlink"))
            elif path.is_file():
                found.append(SourceFile(path=path, name=name, sha256=file_digest(path)))
    return sorted(found, key=lambda f: f.name)


def inside(path: Path, root: Path) -> bool:
    """Whether a resolved path is root or below it."""
    return path == root or root in path.parents


def read_source(path: Path) -> SourceText:
    """Read any supported file; UnreadableFile (naming the file and why) for anything else."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in DOCUMENT_SUFFIXES:
        from qa.ingest.extract import extract_document  # python-docx, pypdf and bs4 load only when needed

        return extract_document(path)
    if suffix not in PLAIN_SUFFIXES + COLLECTION_SUFFIXES:
        raise UnreadableFile(path=str(path), reason="unsupported_format", suffix=suffix or "（无）")
    text, encoding = decode(path.read_bytes(), str(path))
    return SourceText(text=text, format=suffix.lstrip("."), encoding=encoding)


def read_text(path: Path) -> str:
    """The text of a plain file, decoded (see decode)."""
    return decode(Path(path).read_bytes(), str(path))[0]
