"""Plain text out of Word documents, web pages and PDFs, with the headings their markup declares."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from qa.errors import UnreadableFile
from qa.ingest.encoding import decode
from qa.ingest.headings import parse_heading
from qa.records import SourceText

_DOCX_HEADING = re.compile(r"^(?:heading|标题)\s*(\d)$", re.IGNORECASE)
_DOCX_TITLE = ("title", "标题")
_HTML_DROP = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "iframe", "button",
              "select", "svg", "template")
_HTML_BLOCK = {"p", "div", "section", "article", "main", "li", "ul", "ol", "table", "tr", "td", "th", "blockquote",
               "h1", "h2", "h3", "h4", "h5", "h6", "pre", "dd", "dt", "dl", "center", "font"}
_SENTENCE_END = "。！？!?；;：:”」』）)…"
_PAGE_NUMBER = re.compile(r"^[\s\-—－]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*/\s*\d{1,4})?[\s\-—－]*$")
# A PDF page with fewer characters than this has no usable text layer (a scan).
MIN_PDF_CHARS_PER_PAGE = 20
# Bounded work per file: longer PDFs are refused with a message (a speech or report is far shorter).
MAX_PDF_PAGES = 2000


def extract_document(path: Path) -> SourceText:
    suffix = path.suffix.lower()
    try:
        if suffix == ".docx":
            return extract_docx(path)
        if suffix in (".html", ".htm"):
            return extract_html(path.read_bytes(), str(path))
        return extract_pdf(path)
    except UnreadableFile:
        raise
    except Exception as exc:  # zip, XML and PDF libraries each fail their own way on a damaged file
        raise UnreadableFile(path=str(path), reason="damaged", format=suffix.lstrip("."),
                             detail=f"{type(exc).__name__}") from None


def extract_docx(path: Path) -> SourceText:
    """Paragraph texts in order; Title and Heading N styles become the title and heading levels."""
    import docx

    document = docx.Document(str(path))
    lines, headings, title = [], [], None
    for para in document.paragraphs:
        text = _docx_text(para).strip()
        if not text:
            continue
        style = (para.style.name if para.style is not None else "").strip()
        if style.lower() in _DOCX_TITLE and title is None:
            title = text
        elif m := _DOCX_HEADING.match(style):
            headings.append((text, int(m.group(1))))
        lines.append(text)
    return SourceText(text="\n".join(lines), format="docx", title=title, headings=tuple(headings))


def _docx_text(para) -> str:
    """A Word paragraph's text. python-docx stops a run's text at an entity reference (a hand-edited or hostile
    file can carry one); the text after it is kept here, the unresolved reference itself is not."""
    from docx.oxml.ns import qn

    texts = list(para._p.iter(qn("w:t")))
    if not any(len(t) for t in texts):  # no children inside w:t: python-docx reads it whole
        return para.text
    out = []
    for node in para._p.iter(qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr")):
        if node.tag == qn("w:t"):
            out.append((node.text or "") + "".join(child.tail or "" for child in node))
        else:
            out.append("\t" if node.tag == qn("w:tab") else "\n")
    return "".join(out)


def extract_html(raw: bytes, name: str) -> SourceText:
    """The page's main text block, one line per paragraph; site navigation, scripts and ads left out."""
    from bs4 import BeautifulSoup

    declared = re.search(rb"<meta[^>]+charset=[\"']?([\w-]+)", raw[:4096], re.IGNORECASE)
    html = _decode_html(raw, declared.group(1).decode("ascii", "replace") if declared else None, name)
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(_HTML_DROP):
        tag.decompose()
    body = soup.body or soup
    main = max(body.find_all(["article", "main", "div", "section", "td"]), key=_paragraph_weight, default=body)
    if _paragraph_weight(main) == 0:
        main = body
    lines = [ln.strip() for ln in _block_text(main).split("\n")]
    lines = [ln for ln in lines if ln]
    headings = tuple(
        (h.get_text(" ", strip=True), int(h.name[1]) - 1)  # h1 is the title, h2 the first heading level
        for h in main.find_all(["h2", "h3", "h4", "h5", "h6"])
        if h.get_text(strip=True)
    )
    h1 = main.find("h1") or body.find("h1")
    title = h1.get_text(" ", strip=True) if h1 else None
    if title and title not in lines:
        lines.insert(0, title)
    return SourceText(text="\n".join(lines), format="html", title=title, headings=headings)


def _decode_html(raw: bytes, declared: str | None, name: str) -> str:
    if declared and declared.lower().replace("_", "-") not in ("utf-8", "utf8"):
        try:
            return raw.decode({"gb2312": "gb18030", "gbk": "gb18030"}.get(declared.lower(), declared))
        except (LookupError, UnicodeDecodeError):
            pass
    return decode(raw, name)[0]


def _paragraph_weight(tag) -> int:
    """Characters of text in the tag's own paragraphs: the main text has the most."""
    own = tag.find_all(["p", "br"], recursive=False)
    return sum(len(p.get_text(strip=True)) for p in own if p.name == "p") + 40 * sum(p.name == "br" for p in own)


def _block_text(tag) -> str:
    """Text with a line break at every block element and <br>, inline markup kept inside its line."""
    from bs4 import NavigableString
    from bs4.element import PreformattedString

    out: list[str] = []
    for node in tag.descendants:
        name = getattr(node, "name", None)
        if name is None:
            if isinstance(node, NavigableString) and not isinstance(node, PreformattedString):  # no comments
                out.append(re.sub(r"[ \t\r\n]+", " ", str(node)))
        elif name == "br" or name in _HTML_BLOCK:
            out.append("\n")
    return "".join(out)


def extract_pdf(path: Path) -> SourceText:
    """The text layer, with the hard line wraps of justified text rejoined; a scan is refused."""
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    if reader.is_encrypted:
        try:  # many PDFs are encrypted only against editing: the empty password opens them
            opened = reader.decrypt("")
        except Exception:  # an algorithm pypdf cannot run here counts as locked too
            opened = 0
        if not opened:
            raise UnreadableFile(path=str(path), reason="pdf_encrypted")
    if len(reader.pages) > MAX_PDF_PAGES:
        raise UnreadableFile(path=str(path), reason="too_many_pages", pages=len(reader.pages), limit=MAX_PDF_PAGES)
    pages = [page.extract_text() or "" for page in reader.pages]
    visible = sum(len(re.sub(r"\s", "", p)) for p in pages)
    if not pages or visible < MIN_PDF_CHARS_PER_PAGE * len(pages):
        raise UnreadableFile(path=str(path), reason="pdf_no_text", pages=len(pages))
    lines = [line for page in pages for line in page.rstrip("\n").split("\n") if not _PAGE_NUMBER.match(line)]
    return SourceText(text=rejoin_wrapped_lines(lines), format="pdf")


def rejoin_wrapped_lines(lines: list[str]) -> str:
    """Join a line to the next when it was cut by the page width, not by the author.

    Chinese print indents each paragraph's first line by two characters: where the text shows such indents, an
    indented line (or one after a short line) starts a paragraph. Without indents, a line about as long as the
    page's usual full line that does not end a sentence goes on in the next."""
    raw = [ln.rstrip() for ln in lines]
    indented = [bool(ln) and ln[0] in " \u3000\xa0" for ln in raw]
    stripped = [ln.strip() for ln in raw]
    lengths = Counter(len(ln) for ln in stripped if len(ln) >= 10)
    if not lengths:
        return "\n".join(ln for ln in stripped if ln)
    # the usual full line: the longest length that recurs (a stray long line does not set the width)
    recurring = [length for length, n in lengths.items() if n >= max(2, lengths.most_common(1)[0][1] // 4)]
    full = max(recurring or lengths)
    uses_indents = sum(indented) >= 0.1 * sum(1 for ln in stripped if ln)
    out: list[str] = []
    previous_full = False
    for line, indent in zip(stripped, indented):
        if not line:
            previous_full = False
            continue
        if uses_indents:
            starts = indent or not previous_full or parse_heading(line) is not None
        else:
            starts = not previous_full or out[-1][-1] in _SENTENCE_END
        if starts or not out:
            out.append(line)
        else:
            out[-1] += line
        previous_full = len(line) >= full - 2 - (2 if indent else 0)
    return "\n".join(out)
