"""The data folder as a boundary: names checked to stay inside it, files placed atomically, nothing overwritten
(replaced and removed files are kept in .removed/ under names never used before)."""
from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from qa.errors import TooLarge
from qa.ingest.read import TEXT_SUFFIXES, inside, is_hidden
from qa.settings import LimitSettings

REMOVED_FOLDER = ".removed"  # hidden, so scans skip it; removed files stay recoverable here


def given_files(paths: list[Path], data_dir: Path, index_dir: Path) -> list[tuple[Path, str]]:
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


def check_name(name: str, data_dir: Path) -> str | None:
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


def free_name(name: str, taken: set[str]) -> str:
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


def check_request(given: list[tuple[Path, str]], limits: LimitSettings) -> None:
    """Refuse the whole request when it is over the number or total size limit."""
    if len(given) > limits.files:
        raise TooLarge(reason="too_many_files", count=len(given), limit=limits.files)
    total = sum(p.stat().st_size for p, _ in given if p.is_file())
    if total > limits.request_mb * 2**20:
        raise TooLarge(reason="request_too_large", size_mb=round(total / 2**20, 1), limit_mb=limits.request_mb)


def refusal(path: Path, name: str, data_dir: Path, limits: LimitSettings) -> dict | None:
    """Why a given file is refused before it is read (missing, a name leading out or hidden, too large), or None."""
    if not path.is_file():
        return {"reason": "not_found"}
    if why := check_name(name, data_dir):
        return {"reason": why}
    size = path.stat().st_size
    if size > limits.file_mb * 2**20:
        return {"reason": "file_too_large", "size_mb": round(size / 2**20, 1), "limit_mb": limits.file_mb}
    return None


def place(data_dir: Path, path: Path, name: str, replaces: bool) -> None:
    """Copy a file into the data folder under `name`, atomically; the file it replaces goes to .removed/."""
    target = data_dir / name
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".incoming-{uuid.uuid4().hex[:12]}"  # short: any name length fits
    partial.write_bytes(path.read_bytes())
    if replaces:
        keep_removed(data_dir, name)  # the file it replaces stays recoverable
    os.replace(partial, target)  # a half-copied file never appears under its real name


def shown_name(path: Path, name: str) -> str:
    """How a given file is named in messages: its name (an upload's temporary folder means nothing to a user)."""
    return name if "/" in name else path.name
