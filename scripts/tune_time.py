"""Measure each rule about time in questions on a question file (tune on eval/speech_dev.jsonl only).

    python scripts/tune_time.py eval/speech_dev.jsonl --index /tmp/speech-index

Rules: relative years (今年/去年/近五年 resolved against the as-of year: the question's `as_of`, else the newest
document's) and intent (a plan question prefers its year's report, an outcome question the next year's). Prints
R@1, R@3 and quote@1 overall and for the categories the rules are about, for each combination."""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from qa.answer import Assistant  # noqa: E402
from qa.evaluate import evaluate, load_questions  # noqa: E402
from qa.index.reader import IndexReader  # noqa: E402
from qa.library import resolve  # noqa: E402
from qa.search.embed import embedder_for  # noqa: E402
from qa.settings import Settings  # noqa: E402

KINDS = ("relative", "plan", "outcome", "undated")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    args = parser.parse_args()
    settings = resolve(Settings(index_dir=args.index))
    embedder = embedder_for(settings)
    index = IndexReader.open(args.index)
    questions = load_questions(args.questions)
    for relative, intent in ((False, False), (True, False), (False, True), (True, True)):
        tuned = replace(settings, retrieve=replace(settings.retrieve, relative_years=relative, year_intent=intent))
        assistant = Assistant(tuned, embedder, index, follow=False)
        summary = evaluate(assistant, questions).summary(mode="hybrid", model=embedder.name)
        kinds = "  ".join(f"{kind} {summary['by_category'][kind]['R@1']:.2f}/{summary['by_category'][kind]['R@3']:.2f}"
                          for kind in KINDS if kind in summary["by_category"])
        print(f"relative={relative!s:5} intent={intent!s:5}  R@1 {summary['recall']['R@1']:.4f}  "
              f"R@3 {summary['recall']['R@3']:.4f}  quote@1 {summary['quote@1']:.4f}  |  R@1/R@3: {kinds}")


if __name__ == "__main__":
    main()
