"""Two-turn dialogues (eval/followups.jsonl): R@1 and R@3 of the second turn asked alone, read with the first turn,
and asked in full, through Assistant.ask.

    python scripts/followups.py eval/followups.jsonl --index /tmp/speech-index [--prior 0 0.5 1]"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from qa.answer import Assistant  # noqa: E402
from qa.evaluate import Question, is_relevant  # noqa: E402
from qa.index.reader import IndexReader  # noqa: E402
from qa.library import resolve  # noqa: E402
from qa.search.embed import embedder_for  # noqa: E402
from qa.settings import Settings  # noqa: E402


def rank(answer, gold: Question) -> int | None:
    return next((h.rank for h in answer.hits if is_relevant(h, gold)), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dialogues", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--prior", type=float, nargs="*", default=None, help="weights of the previous document")
    parser.add_argument("--show", action="store_true", help="list the dialogues whose second turn misses the top 3")
    args = parser.parse_args()
    settings = resolve(Settings(index_dir=args.index))
    embedder = embedder_for(settings)
    index = IndexReader.open(args.index)
    rows = [json.loads(line) for line in args.dialogues.read_text(encoding="utf-8").splitlines() if line.strip()]
    for weight in args.prior if args.prior is not None else [settings.retrieve.follow_up_prior]:
        tuned = replace(settings, retrieve=replace(settings.retrieve, follow_up_prior=weight))
        assistant = Assistant(tuned, embedder, index, follow=False)
        ranks = {"full": [], "alone": [], "read with the first turn": []}
        missed = []
        for row in rows:
            gold = Question(row["full"], gold=tuple(row["gold"]), doc=row.get("doc"))
            ranks["full"].append(rank(assistant.ask(row["full"], 10), gold))
            ranks["alone"].append(rank(assistant.ask(row["second"], 10), gold))
            answer = assistant.ask(row["second"], 10, history=[row["first"]])
            ranks["read with the first turn"].append(rank(answer, gold))
            if not (ranks["read with the first turn"][-1] or 99) <= 3:
                missed.append(f"{row['first']} → {row['second']}（按上文理解为：{answer.searched}）")
        n = len(rows)
        print(f"follow-up prior {weight}: " + "  |  ".join(
            f"{name}: R@1 {sum(1 for r in got if r == 1) / n:.4f} R@3 {sum(1 for r in got if r and r <= 3) / n:.4f}"
            for name, got in ranks.items()))
        if args.show:
            print("   second turn not in the top 3: " + "；".join(missed))


if __name__ == "__main__":
    main()
