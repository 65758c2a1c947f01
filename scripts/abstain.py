"""How often the assistant says 没有找到可靠的相关原文: off-topic questions (should) and on-topic ones whose gold is in
the top 3 (should not), through Assistant.ask as the app calls it.

    python scripts/abstain.py --index /tmp/speech-index eval/offtopic.jsonl eval/speech_dev.jsonl eval/speech_test.jsonl

Off-topic files hold {"question", "split"}; the others are question files with gold (qa eval's format)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402

from qa.answer import Assistant  # noqa: E402
from qa.evaluate import is_relevant, load_questions  # noqa: E402
from qa.search.when import as_of_year  # noqa: E402
from qa.settings import TRAINED_RERANKER, Settings  # noqa: E402


def evidence(assistant: Assistant, question: str, as_of=None) -> tuple[float, float, float]:
    """The best dense cosine, BM25 share and reranker score among the candidates the answer reads."""
    with assistant.serving() as (_, retriever):
        found = retriever.search(question, 20, as_of=as_of)
    best = lambda values: max([v for v in values if v is not None], default=0.0)  # noqa: E731
    return (best(c.dense_score for c in found), best(c.keyword_share for c in found),
            best(c.rerank_score for c in found) if any(c.rerank_score is not None for c in found) else float("nan"))


def quantiles(name: str, rows: list[tuple[float, float, float]], qs) -> None:
    if rows:
        table = np.asarray(rows)
        print(f"   {name} evidence quantiles {qs}: " + "; ".join(
            f"{side} " + " ".join(f"{v:.3f}" for v in np.nanquantile(table[:, i], qs))
            for i, side in enumerate(("dense", "keyword", "rerank"))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--rerank", action="store_true", help="with the trained reranker (off by default)")
    parser.add_argument("--evidence", action="store_true", help="print the quantiles of each side's best evidence")
    parser.add_argument("--curve", action="store_true",
                        help="the reliability curve over all the files: by the top hit's 相关度, how often the gold is "
                             "in the top 3 (off-topic questions: never)")
    args = parser.parse_args()
    settings = Settings(index_dir=args.index).with_overrides(
        retrieve={"reranker": TRAINED_RERANKER if args.rerank else None})
    assistant, _ = Assistant.open(settings, update=False)
    if args.curve:
        return curve(assistant, args.files)
    for path in args.files:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if rows and "gold" not in rows[0] and "gold_passage_ids" not in rows[0]:
            for split in sorted({r.get("split", "all") for r in rows}):
                part = [r for r in rows if r.get("split", "all") == split]
                refused = [r["question"] for r in part if assistant.ask(r["question"], 5).confident is False]
                if args.evidence:
                    quantiles("off-topic", [evidence(assistant, r["question"]) for r in part], (0.5, 0.95, 1.0))
                print(f"{path.name} [{split}]: {len(refused)}/{len(part)} refused ({len(refused) / len(part):.3f})")
                kept = [r["question"] for r in part if r["question"] not in refused]
                if kept:
                    print("   answered anyway: " + "；".join(kept))
            continue
        found = refused = 0
        wrongly, seen = [], []
        for q in load_questions(path):
            answer = assistant.ask(q.question, 5, as_of=as_of_year(q.as_of))
            if any(is_relevant(h, q) for h in answer.hits[:3]):
                found += 1
                if args.evidence:
                    seen.append(evidence(assistant, q.question, as_of_year(q.as_of)))
                if answer.confident is False:
                    refused += 1
                    wrongly.append(q.question)
        print(f"{path.name}: {refused}/{found} with the gold in the top 3 refused ({refused / max(found, 1):.3f})")
        if args.evidence:
            quantiles("on-topic", seen, (0.02, 0.05, 0.5))
        if wrongly:
            print("   refused: " + "；".join(wrongly))


def curve(assistant: Assistant, files: list[Path]) -> None:
    seen: dict[str, list[bool]] = {}
    for path in files:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if rows and "gold" not in rows[0] and "gold_passage_ids" not in rows[0]:
            asked = [(r["question"], None) for r in rows if r.get("split", "test") == "test"]
        else:
            asked = [(q.question, q) for q in load_questions(path)]
        for question, q in asked:
            answer = assistant.ask(question, 5, as_of=as_of_year(q.as_of) if q else None)
            top = answer.hits[0].confidence if answer.hits else "low"
            seen.setdefault(top, []).append(q is not None and any(is_relevant(h, q) for h in answer.hits[:3]))
    print("| top hit's 相关度 | questions | gold in the top 3 | share |\n|---|---|---|---|")
    for label in ("high", "medium", "low"):
        got = seen.get(label, [])
        print(f"| {label} | {len(got)} | {sum(got)} | {sum(got) / max(len(got), 1):.3f} |")


if __name__ == "__main__":
    main()
