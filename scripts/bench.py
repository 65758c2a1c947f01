"""Benchmarks for the core path: seed index build, question latency, CLI and app start-up.

Prints figures; record them in docs/BENCHMARKS.md with the machine and date. Run: make bench
"""
from __future__ import annotations

import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "党的力量来自哪里？",
    "如何培养和关爱机关党务干部？",
    "党组织标准化规范化建设有哪些要求？",
    "怎样推动党建与业务深度融合？",
    "学习的价值在于什么？",
    "机关党建存在哪些问题？",
    "政治站位",
    "党务干部专业化水平",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def app_figures(where: list) -> tuple[float, float]:
    """Seconds from starting the app until its page answers, and its resident memory then (MB)."""
    port = free_port()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(ROOT / "app.py"), *map(str, where), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except OSError:
                if proc.poll() is not None:
                    raise SystemExit("app exited")
                time.sleep(0.05)
        seconds = time.perf_counter() - started
        status = Path(f"/proc/{proc.pid}/status").read_text().splitlines()
        rss = int(next(line for line in status if line.startswith("VmRSS")).split()[1]) / 1024
    finally:
        proc.terminate()
        proc.wait()
    return seconds, rss


def main() -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from qa.answer import Assistant
    from qa.search.embed import load_embedder
    from qa.app.messages import message
    from qa.index.indexer import sync
    from qa.settings import Settings

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    work = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    shutil.copytree(ROOT / "data", work / "data")
    settings = Settings(data_dir=work / "data", index_dir=work / "index")

    embedder = load_embedder(notify=lambda code, **d: print(message(code, **d)))
    report = sync(settings, embedder)
    print(f"seed index build, from scratch (engine {embedder.engine_name()} loaded in it): {report.seconds:.1f} s "
          f"({report.documents} docs, {report.passages} passages, {report.windows} windows)")
    again = sync(settings, embedder, force=True)
    print(f"seed rebuild, all vectors reused: {again.seconds:.2f} s (embedded {again.embedded})")

    assistant, _ = Assistant.open(settings, embedder=embedder, update=False)
    assistant.ask("预热")
    times = []
    for q in QUESTIONS * 3:
        t = time.perf_counter()
        assistant.ask(q)
        times.append((time.perf_counter() - t) * 1000)
    print(f"ask latency in process: median {statistics.median(times):.0f} ms, "
          f"max {max(times):.0f} ms over {len(times)} questions")

    print(f"peak memory of this process (model, index, {len(times)} questions): "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")

    qa = Path(sys.executable).parent / "qa"
    where = ["--data", str(settings.data_dir), "--index", str(settings.index_dir)]
    t = time.perf_counter()
    subprocess.run([str(qa), "ask", QUESTIONS[0], "--json", *where], check=True, capture_output=True)
    print(f"qa ask, whole command (start, load model and index, answer): {time.perf_counter() - t:.2f} s")

    start, rss = app_figures(where)
    print(f"app start until the page answers (index up to date): {start:.2f} s")
    print(f"app resident memory after start: {rss:.0f} MB")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
