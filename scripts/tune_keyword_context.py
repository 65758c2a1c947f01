"""Does BM25 do better when it also sees each paragraph's title and section path? Both variants are built through
the product's own indexer (vectors come from the given index's embedding cache, so nothing is re-embedded) and
evaluated with `qa eval`'s metrics, keyword-only and hybrid. Dev sets and our own speech set only.

    .venv/bin/python scripts/tune_keyword_context.py --data ../shared/data/cmrc2018/dev_passages.jsonl \\
        --questions ../shared/data/cmrc2018/dev_queries.jsonl --from-index /tmp/eval/cmrc-dev
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from qa.answer import Assistant  # noqa: E402
from qa.evaluate import evaluate, load_questions  # noqa: E402
from qa.search.embed import load_embedder  # noqa: E402
from qa.settings import ChunkSettings, RetrieveSettings, Settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="data folder or JSONL passages file")
    ap.add_argument("--questions", required=True)
    ap.add_argument("--from-index", required=True, help="an index built from --data: its embedding cache is reused")
    ap.add_argument("-k", type=int, default=10)
    args = ap.parse_args()

    questions = load_questions(Path(args.questions))
    embedder = load_embedder(None)
    work = Path(tempfile.mkdtemp(prefix="qa-kwctx-"))
    try:
        for context in (False, True):
            index = work / f"context-{context}"
            shutil.copytree(Path(args.from_index) / "embeddings", index / "embeddings")
            settings = Settings(data_dir=Path(args.data), index_dir=index, chunk=ChunkSettings(keyword_context=context))
            for mode in ("keyword", "hybrid"):
                settings = replace(settings, retrieve=RetrieveSettings(mode=mode))
                assistant, report = Assistant.open(settings, embedder=embedder, update=mode == "keyword")
                if report is not None and report.embedded:
                    print(f"(embedded {report.embedded} windows the cache did not have)")
                r = evaluate(assistant, questions, k=args.k)
                recall = "  ".join(f"R@{c} {v:.4f}" for c, v in r.recall.items())
                quote = f"  quote@1 {r.quote_at_1:.4f}" if r.quote_at_1 is not None else ""
                print(f"title+path {'yes' if context else 'no '}  {mode:7s}  {recall}  MRR@10 {r.mrr:.4f}{quote}",
                      flush=True)
                assistant.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
