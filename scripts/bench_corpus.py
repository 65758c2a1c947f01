"""Benchmark on a real corpus: all shared speeches plus the seed. Every step runs the real `qa` command or app.

Builds the index from scratch (empty embedding cache) without one report, then `qa add`s that report (its text
never embedded before), `qa remove`s it and adds it again, rebuilds everything with `--force`, and times whole
`qa ask` commands, `qa list`, and the app's start and memory on this index.

    .venv/bin/python scripts/bench_corpus.py                       # ../shared/data/speeches + data/, from scratch
    .venv/bin/python scripts/bench_corpus.py --work /tmp/bench     # keep the folder afterwards
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
sys.path.insert(0, str(ROOT / "scripts"))
from bench import app_figures  # noqa: E402
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
    shutil.rmtree(work / "index", ignore_errors=True)  # from scratch, embedding cache included
    shutil.rmtree(work / "data", ignore_errors=True)
    data, index, later = work / "data", work / "index", work / "later"
    for sub in sorted(p for p in corpus.iterdir() if p.is_dir() and p.name != "original"):
        shutil.copytree(sub, data / sub.name)
    for seed in (ROOT / "data").glob("*.txt"):
        shutil.copy(seed, data / seed.name)
    later.mkdir(parents=True, exist_ok=True)
    held = later / Path(args.hold_out).name
    shutil.move(data / args.hold_out, held)
    where = ["--data", data, "--index", index]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")

    seconds, out = run("build", *where)
    print(f"qa build, {sum(1 for _ in data.rglob('*.txt'))} files, from scratch: {seconds:.0f} s — {out.strip()}")
    status = json.loads(run("status", "--json", *where)[1])
    print(f"engine: {status['engine']['passages']} ({status['engine']['windows_per_s']} windows/s measured)")
    print(f"index size: segments {size_mb(index / 'segments'):.1f} MB, embedding cache "
          f"{size_mb(index / 'embeddings'):.1f} MB")

    chars = len(held.read_text(encoding="utf-8"))
    seconds, out = run("add", held, *where)
    print(f"qa add {held.name} ({chars:,} characters, never embedded before): {seconds:.2f} s — {' '.join(out.split())}")
    seconds, out = run("remove", held.name, *where)
    print(f"qa remove {held.name}: {seconds:.2f} s — {' '.join(out.split())}")
    seconds, out = run("add", data / ".removed" / next((data / ".removed").iterdir()).name, *where)
    print(f"qa add again (vectors cached): {seconds:.2f} s")

    run("ask", "预热", "--no-update", "--json", *where)
    times = []
    for q in QUESTIONS:
        seconds, _ = run("ask", q, "--json", *where)  # with the check of data/ a plain qa ask does
        times.append(seconds)
    print(f"qa ask, whole command on this index: median {statistics.median(times):.2f} s, max {max(times):.2f} s")
    _, out = run("ask", "-", "--no-update", *where, stdin="\n".join(QUESTIONS * 2))
    assert all(json.loads(line)["hits"] for line in out.splitlines())
    seconds, _ = run("list", *where)
    print(f"qa list: {seconds:.2f} s")
    seconds, out = run("build", "--force", *where)
    print(f"qa build --force (every vector cached): {seconds:.1f} s — {out.strip()}")
    start, rss = app_figures(where)
    print(f"app start until the page answers: {start:.2f} s; resident memory then: {rss:.0f} MB")
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
