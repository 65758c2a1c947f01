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

from qa.answer import Assistant  # noqa: E402
from qa.evaluate import is_relevant, load_questions  # noqa: E402
from qa.index.reader import IndexReader  # noqa: E402
from qa.library import resolve  # noqa: E402
from qa.search.embed import embedder_for  # noqa: E402
from qa.search.when import as_of_year  # noqa: E402
from qa.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    args = parser.parse_args()
    settings = resolve(Settings(index_dir=args.index))
    assistant = Assistant(settings, embedder_for(settings), IndexReader.open(args.index), follow=False)
    for path in args.files:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if rows and "gold" not in rows[0] and "gold_passage_ids" not in rows[0]:
            for split in sorted({r.get("split", "all") for r in rows}):
                part = [r for r in rows if r.get("split", "all") == split]
                refused = [r["question"] for r in part if assistant.ask(r["question"], 5).confident is False]
                print(f"{path.name} [{split}]: {len(refused)}/{len(part)} refused ({len(refused) / len(part):.3f})")
                kept = [r["question"] for r in part if r["question"] not in refused]
                if kept:
                    print("   answered anyway: " + "；".join(kept))
            continue
        found = refused = 0
        wrongly = []
        for q in load_questions(path):
            answer = assistant.ask(q.question, 5, as_of=as_of_year(q.as_of))
            if any(is_relevant(h, q) for h in answer.hits[:3]):
                found += 1
                if answer.confident is False:
                    refused += 1
                    wrongly.append(q.question)
        print(f"{path.name}: {refused}/{found} with the gold in the top 3 refused ({refused / max(found, 1):.3f})")
        if wrongly:
            print("   refused: " + "；".join(wrongly))


if __name__ == "__main__":
    main()
