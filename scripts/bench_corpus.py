"""Benchmark on a real corpus: index all shared speeches plus the seed, the index's size, then `qa add` of one more
speech, question latency on the large index, `qa list` and `qa parse`. Every step runs the real `qa` command.

    .venv/bin/python scripts/bench_corpus.py                       # ../shared/data/speeches + data/, from scratch
    .venv/bin/python scripts/bench_corpus.py --work /tmp/bench     # keep the folder (a second run reuses its vectors)

Embedding dominates: with the bundled model on 2 cores, a first run takes about an hour.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ["2024年国内生产总值增长目标是多少？", "新质生产力", "党的力量来自哪里？", "全过程人民民主",
             "粮食产量", "推进湿地保护全球行动", "中国式现代化的本质要求", "减税降费"]


def run(*args, stdin=None) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "qa"), *map(str, args)], capture_output=True, text=True,
                          input=stdin)
    if proc.returncode != 0:
        raise SystemExit(f"qa {' '.join(map(str, args))} failed:\n{proc.stdout}\n{proc.stderr}")
    return time.perf_counter() - started, proc.stdout


def size_mb(folder: Path) -> float:
    return sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "data" / "speeches"))
    ap.add_argument("--hold-out", default="gov_work_reports/2025_政府工作报告.txt",
                    help="the speech added last with qa add (left out of the first build)")
    ap.add_argument("--work", help="working folder (default: a temporary one, removed afterwards)")
    args = ap.parse_args()

    corpus = Path(args.corpus)
    work = Path(args.work or tempfile.mkdtemp(prefix="qa-corpus-"))
    data, index, later = work / "data", work / "index", work / "later"
    if not data.exists():
        for sub in sorted(p for p in corpus.iterdir() if p.is_dir() and p.name != "original"):
            shutil.copytree(sub, data / sub.name)
        for seed in (ROOT / "data").glob("*.txt"):
            shutil.copy(seed, data / seed.name)
    held = data / args.hold_out
    later.mkdir(parents=True, exist_ok=True)
    if held.exists():
        shutil.move(held, later / held.name)
    elif not (later / held.name).exists():
        shutil.copy(corpus / args.hold_out, later / held.name)
    if (data / held.name).exists():
        (data / held.name).unlink()
    where = ["--data", data, "--index", index]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")

    seconds, out = run("build", *where)
    print(f"qa build, {sum(1 for _ in data.rglob('*.txt'))} files: {seconds:.0f} s — {out.strip()}")
    builds = index / "builds"
    current = builds / (index / "CURRENT").read_text().strip()
    print(f"index size: serving build {size_mb(current):.1f} MB "
          f"(vectors {size_mb(current) - size_mb(current / 'bm25') - (current / 'passages.sqlite').stat().st_size / 1e6:.1f} MB, "
          f"SQLite {(current / 'passages.sqlite').stat().st_size / 1e6:.1f} MB, BM25 {size_mb(current / 'bm25'):.1f} MB); "
          f"whole folder with the embedding cache {size_mb(index):.1f} MB")

    seconds, out = run("add", later / held.name, *where)
    print(f"qa add {held.name}: {seconds:.1f} s — {' '.join(out.split())}")

    times = []
    run("ask", "预热", "--no-update", "--json", *where)
    _, out = run("ask", "-", "--no-update", *where, stdin="\n".join(QUESTIONS * 2))
    for line in out.splitlines():
        json.loads(line)
    for q in QUESTIONS:
        seconds, _ = run("ask", q, "--no-update", "--json", *where)
        times.append(seconds)
    print(f"qa ask, whole command on this index: median {statistics.median(times):.2f} s")
    seconds, _ = run("list", *where)
    print(f"qa list: {seconds:.2f} s")
    seconds, _ = run("parse", later / held.name, "--json")
    chars = len((later / held.name).read_text(encoding="utf-8"))
    print(f"qa parse of the added speech ({chars:,} characters): {seconds:.2f} s")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
