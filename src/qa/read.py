"""Find the texts in the data folder and read them as Unicode."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from .errors import DataMissing, UnreadableFile

TEXT_SUFFIXES = (".txt", ".md", ".jsonl")  # .jsonl: pre-split passages, one {id, title, text} a line


@dataclass(frozen=True)
class SourceFile:
    """A file found in the data folder, identified by its relative path and content hash."""

    path: Path
    name: str  # relative to the data folder, POSIX style
    sha256: str


def scan(data_dir: Path) -> list[SourceFile]:
    """All readable-looking texts below data_dir (or data_dir itself, if it is one file), sorted by name."""
    data_dir = Path(data_dir)
    if data_dir.is_file():
        return [SourceFile(path=data_dir, name=data_dir.name, sha256=hashlib.sha256(data_dir.read_bytes()).hexdigest())]
    if not data_dir.is_dir():
        raise DataMissing(data_dir=str(data_dir))
    found = []
    for path in sorted(data_dir.rglob("*")):
        rel = path.relative_to(data_dir)
        if any(part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and path.suffix.lower() in TEXT_SUFFIXES:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            found.append(SourceFile(path=path, name=rel.as_posix(), sha256=digest))
    return found


def read_text(path: Path) -> str:
    """Decode UTF-8 (a BOM is dropped); anything else raises UnreadableFile naming the file."""
    raw = Path(path).read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile(path=str(path), reason="utf16")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(path=str(path), reason="not_utf8", position=exc.start) from None
    if "\x00" in text:
        raise UnreadableFile(path=str(path), reason="binary")
    return text.replace("\r\n", "\n").replace("\r", "\n")
