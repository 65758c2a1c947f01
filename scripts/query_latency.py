"""Time whole questions in process on an index: p50 / p95 / max of Assistant.ask over a question file.

    python scripts/query_latency.py eval/speech_dev.jsonl --index /tmp/speech-index

Each question is embedded afresh (no vector is reused between questions) and the app's check for a newer build
runs as it does when serving; the model is loaded and one question asked before timing starts."""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from qa.answer import Assistant  # noqa: E402
from qa.evaluate import load_questions  # noqa: E402
from qa.search.when import as_of_year  # noqa: E402
from qa.settings import TRAINED_RERANKER, Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--rerank", action="store_true", help="with the trained reranker (off by default)")
    args = parser.parse_args()
    settings = Settings(index_dir=args.index).with_overrides(
        retrieve={"reranker": TRAINED_RERANKER if args.rerank else None})
    assistant, _ = Assistant.open(settings, update=False)
    assistant.prepare()
    questions = load_questions(args.questions)
    assistant.ask("预热", args.k)
    times = []
    for q in questions:
        start = time.perf_counter()
        assistant.ask(q.question, args.k, as_of=as_of_year(q.as_of))
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    print(f"reranker {settings.retrieve.reranker} ({getattr(assistant.reranker, 'precision', None) or '-'}), "
          f"{len(times)} questions, k={args.k}: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms, "
          f"max {times[-1]:.1f} ms ({assistant.index.manifest.counts.get('passages', 0)} passages)")


if __name__ == "__main__":
    main()
