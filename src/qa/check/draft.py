"""A draft to check, from pasted text or a file (.txt, .md, .docx, .html; any supported encoding)."""
from __future__ import annotations

from pathlib import Path

from qa.errors import DraftTooLong, EmptyDraft, UnreadableFile
from qa.ingest.read import read_source


def read_draft(path: Path) -> str:
    """The text of a draft file, paragraphs on lines of their own (UnreadableFile says why it cannot be read)."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(path=str(path), reason="not_found")
    return read_source(path).text


def checked_draft(text: str | None, limit: int) -> str:
    """The draft as given, refused when empty or longer than limit characters. Offsets in a check's results
    point into this text, so it is not cleaned: only Windows line ends become \\n."""
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise EmptyDraft()
    if len(text) > limit:
        raise DraftTooLong(chars=len(text), limit=limit)
    return text
