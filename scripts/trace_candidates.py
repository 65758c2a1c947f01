"""Candidate gold for eval/trace.jsonl: per year, the sentences of the shared documents a hand-written pattern finds.

The pattern is the reviewer's own definition of the formulation (its variants spelled out), independent of the
tracer's rules; what it prints is read and checked before it goes into the set. Usage:
    python scripts/trace_candidates.py 'PATTERN' [--kind 政府工作报告|党代会报告] [--shared ../shared/data]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from qa.check.normal import fold  # noqa: E402
from qa.ingest.read import read_source  # noqa: E402
from qa.ingest.structure import parse_source  # noqa: E402

FOLDERS = {"政府工作报告": "gov_work_reports", "党代会报告": "cpc_congress_reports"}


def documents(shared: Path, kind: str):
    """(year, file name, document) of each dated document of the kind, in year order."""
    folder = shared / "speeches" / FOLDERS[kind]
    docs = []
    for path in sorted(folder.glob("*.txt")):
        doc = parse_source(path.name, read_source(path))[0]
        if doc.date:
            docs.append((int(doc.date[:4]), path.name, doc))
    return sorted(docs, key=lambda d: (d[0], d[1]))


def sentences(doc):
    for paragraph in doc.paragraphs:
        for sentence in re.split(r"(?<=[。！？；])", paragraph.text):
            if sentence.strip():
                yield sentence


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("pattern")
    parser.add_argument("--kind", default="政府工作报告", choices=FOLDERS)
    parser.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--json", action="store_true", help="print {year: [matched text]} only")
    args = parser.parse_args()
    pattern = re.compile(args.pattern)
    gold: dict[str, list[str]] = {}
    for year, name, doc in documents(Path(args.shared), args.kind):
        for sentence in sentences(doc):
            folded = fold(sentence)[0]
            m = pattern.search(folded)
            if m:
                gold.setdefault(str(year), [])
                if m.group(0) not in gold[str(year)]:
                    gold[str(year)].append(m.group(0))
                if not args.json:
                    print(year, name[:12], "|", sentence[:160])
    if args.json:
        print(json.dumps(gold, ensure_ascii=False))
    else:
        print("years:", " ".join(gold))


if __name__ == "__main__":
    main()
