"""Dialogues at library scale (eval/dialogues_{dev,test}.jsonl, two and three turns): R@1 and R@3 of every turn after
the first, read with the turns before it, against the same turn asked alone.

    .venv/bin/python scripts/dialogues.py eval/dialogues_dev.jsonl --index /tmp/speech-index [--rerank] [--show]

Each line is {"turns": [{"q", "gold": [phrases], "doc"}, ...]}; a hit is right when it holds a gold phrase and
belongs to the named document (title, date or id)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from qa.answer import Assistant
from qa.evaluate import Question, is_relevant
from qa.settings import TRAINED_RERANKER, Settings


def rank(answer, gold: Question) -> int | None:
    return next((h.rank for h in answer.hits if is_relevant(h, gold)), None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dialogues", type=Path, nargs="+")
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--rerank", action="store_true", help="with the trained reranker (off by default)")
    ap.add_argument("--show", action="store_true", help="list the turns that miss the top 3")
    args = ap.parse_args()
    settings = Settings(index_dir=args.index).with_overrides(
        retrieve={"reranker": TRAINED_RERANKER if args.rerank else None})
    assistant, _ = Assistant.open(settings, update=False)
    for path in args.dialogues:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        got: dict[str, list] = {}
        for row in rows:
            turns = row["turns"]
            for i in range(1, len(turns)):
                turn = turns[i]
                gold = Question(turn["q"], gold=tuple(turn["gold"]), doc=turn.get("doc"))
                answer = assistant.ask(turn["q"], 10, history=[t["q"] for t in turns[:i]])
                alone = assistant.ask(turn["q"], 10, follow_up=False)
                name = "second turn" if i == 1 else "third turn"
                got.setdefault(name, []).append(rank(answer, gold))
                got.setdefault(name + " alone", []).append(rank(alone, gold))
                if args.show and not (got[name][-1] or 99) <= 3:
                    print(f"  missed: {' → '.join(t['q'] for t in turns[: i + 1])}（按上文理解为：{answer.searched}；"
                          f"范围：{getattr(answer, 'scope', None)}）")
        print(f"{path.name}: {len(rows)} dialogues")
        for name, ranks in got.items():
            n = len(ranks)
            print(f"  {name:18s} {n:3d} turns  R@1 {sum(r == 1 for r in ranks) / n:.4f}  "
                  f"R@3 {sum(1 for r in ranks if r and r <= 3) / n:.4f}")
    assistant.close()


if __name__ == "__main__":
    main()
