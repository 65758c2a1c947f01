"""BM25's k1 and b on a question file (tune on dev splits only): R@1/3/5/10 and quote@1 for each pair.

    python scripts/tune_bm25.py eval/speech_dev.jsonl --index /tmp/speech-index 1.5,0.75 1.0,0.3 1.2,0.5

k1 and b apply when an index is opened, so each pair re-opens the index; question vectors are computed once."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import qa.search.bm25 as bm25  # noqa: E402
from qa.answer import Assistant  # noqa: E402
from qa.evaluate import evaluate, load_questions  # noqa: E402
from qa.index.reader import IndexReader  # noqa: E402
from qa.library import resolve  # noqa: E402
from qa.search.embed import embedder_for  # noqa: E402
from qa.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("pairs", nargs="+", metavar="K1,B")
    args = parser.parse_args()
    settings = resolve(Settings(index_dir=args.index))
    embedder = embedder_for(settings)
    vectors = {}
    embed = embedder.embed_queries

    def once(texts):  # one vector per question for the whole grid
        key = tuple(texts)
        if key not in vectors:
            vectors[key] = embed(texts)
        return vectors[key]

    embedder.embed_queries = once
    questions = load_questions(args.questions)
    for pair in args.pairs:
        bm25.K1, bm25.B = (float(x) for x in pair.split(","))
        index = IndexReader.open(args.index)
        summary = evaluate(Assistant(settings, embedder, index, follow=False), questions).summary("hybrid",
                                                                                                 embedder.name)
        recall = "  ".join(f"{name} {value:.4f}" for name, value in summary["recall"].items())
        print(f"k1 {bm25.K1} b {bm25.B}: {recall}  quote@1 {summary['quote@1']:.4f}", flush=True)
        index.close()


if __name__ == "__main__":
    main()
