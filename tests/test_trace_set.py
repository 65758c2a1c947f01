"""eval/trace.jsonl holds against the text: every gold fragment stands in its year's document of its kind."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SHARED

from qa.check.normal import fold

SET = ROOT / "eval" / "trace.jsonl"


def _items() -> list[dict]:
    return [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_set_is_split_and_large_enough():
    items = _items()
    assert len(items) >= 30 and {i["split"] for i in items} == {"dev", "test"}
    assert len({(i["phrase"], i["kind"]) for i in items}) == len(items)
    assert all(i["gold"] and i["kind"] in ("政府工作报告", "党代会报告") for i in items)


def test_gold_fragments_stand_in_their_years_documents():
    if not (SHARED / "speeches").is_dir():
        pytest.skip("../shared/data is not here")
    sys.path.insert(0, str(ROOT / "scripts"))
    from trace_candidates import documents

    texts: dict[tuple[str, int], str] = {}
    for kind in ("政府工作报告", "党代会报告"):
        for year, _, doc in documents(SHARED, kind):
            folded = fold("\n".join(p.text for p in doc.paragraphs))[0]
            texts[(kind, year)] = texts.get((kind, year), "") + folded
    for item in _items():
        for year, fragments in item["gold"].items():
            text = texts[(item["kind"], int(year))]
            assert all(fold(f)[0] in text for f in fragments), (item["phrase"], year, fragments)
