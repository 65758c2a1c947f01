"""Reliability under many hands, with the real `qa` command, the real model and the running app.

    python scripts/reliability.py [--trials 10] [--clients 32] [--work DIR]

1. Parallel writers: for 2 and 3 writers, `trials` times, that many `qa add` (and, with 3, a `qa remove`) start
   at once on one index. Checked after each trial: every success a writer reported is indexed, every reported
   removal is gone, CURRENT loads, no document is left pending.
2. Concurrent clients: the app serves the seed speech; `clients` API clients (gradio_client, endpoint /ask) ask
   questions all through a `qa add` of real reports in a terminal and an upload through /add_documents (a short
   speech and 60 KB of text without a full stop).
   Each answer's first citation must be the one the index gave before or after the adds (a row of one build
   looked up in another gives neither), and no call may fail.
Prints the figures recorded in docs/RELIABILITY.md.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "在2024年机关党建工作质量提升推进会上的讲话稿.txt"
SHARED = ROOT.parent / "shared" / "data"  # ../shared/data beside the project (--shared elsewhere)
QA = str(Path(sys.executable).parent / "qa")
QUESTIONS = ["党的力量来自哪里？", "如何培养和关爱机关党务干部？", "党组织标准化规范化建设有哪些要求？",
             "机关党务干部队伍目前有哪些不足？", "怎样让党建工作和业务工作不再两张皮", "学习理论的意义体现在什么地方？",
             "为什么要推进党组织标准化规范化建设", "机关党建工作质量怎么提升"]


def qa(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run([QA, *args], capture_output=True, text=True, timeout=900)
    if check and done.returncode != 0:
        raise SystemExit(f"qa {' '.join(args)} failed:\n{done.stderr}")
    return done


def served_sources(index: Path) -> set[str]:
    sys.path.insert(0, str(ROOT / "src"))
    from qa.index.reader import IndexReader

    reader = IndexReader.open(index)
    try:
        return {d["source"] for d in reader.documents()}
    finally:
        reader.close()


def writers(work: Path, trials: int) -> dict:
    data, index = work / "w-data", work / "w-index"
    data.mkdir(parents=True)
    shutil.copy(SEED, data / SEED.name)
    qa("build", "--data", str(data), "--index", str(index))
    results = {}
    for count in (2, 3):
        failures, seconds, waits = [], [], 0
        for trial in range(trials):
            incoming = work / f"in-{count}-{trial}"
            incoming.mkdir()
            actions = []
            for w in range(count - (count == 3 and trial > 0)):
                name = f"稿{count}-{trial}-{w}.txt"
                (incoming / name).write_text(f"第{trial}轮第{w}篇讲话\n\n一、要求\n\n要抓落实，第{count}组第{trial}轮第{w}条。\n",
                                             encoding="utf-8")
                actions.append(["add", str(incoming / name)])
            if count == 3 and trial > 0:
                actions.append(["remove", f"稿3-{trial - 1}-0.txt"])
            started = time.perf_counter()
            procs = [subprocess.Popen([QA, *a, "--data", str(data), "--index", str(index)], stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for a in actions]
            outs = [(a, *p.communicate(timeout=900), p.returncode) for a, p in zip(actions, procs)]
            seconds.append(time.perf_counter() - started)
            try:
                served = served_sources(index)
            except Exception as exc:  # noqa: BLE001 - CURRENT not loadable is the failure being measured
                failures.append(f"trial {trial}: index not loadable: {exc}")
                continue
            for action, out, err, code in outs:
                waits += "另一个进程正在更新索引" in err
                if code != 0:
                    failures.append(f"trial {trial}: {action[0]} exit {code}: {err.strip()[-200:]}")
                for name in re.findall(r"已添加「([^」]+)」", out):
                    if name not in served:
                        failures.append(f"trial {trial}: {name} reported added, not indexed")
                if action[0] == "remove" and code == 0 and action[1] in served:
                    failures.append(f"trial {trial}: {action[1]} reported removed, still indexed")
            listed = json.loads(qa("list", "--json", "--data", str(data), "--index", str(index)).stdout)
            pending = [r["source"] for r in listed if r["status"] not in ("indexed",)]
            if pending:
                failures.append(f"trial {trial}: not indexed after the writers: {pending}")
        results[f"{count} writers"] = {"trials": trials, "failures": failures, "waited": waits,
                                       "median_s": round(sorted(seconds)[len(seconds) // 2], 2)}
    return results


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _first_citation(history) -> str:
    reply = history[-1]["content"] if isinstance(history[-1], dict) else history[-1][1]
    if isinstance(reply, list):  # Gradio 6 messages: a list of content parts
        reply = "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in reply)
    found = re.search(r'class="qa-cite">\[1\] (.*?)<span', reply)
    return found.group(1) if found else "(no citation) " + reply[:80]


def clients(work: Path, count: int, reports: list[Path]) -> dict:
    from gradio_client import Client, handle_file

    data, index = work / "c-data", work / "c-index"
    data.mkdir(parents=True)
    shutil.copy(SEED, data / SEED.name)
    qa("build", "--data", str(data), "--index", str(index))
    port = _free_port()
    log = open(work / "app.log", "w")
    app = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--data", str(data), "--index", str(index),
                            "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, cwd=work)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + 300
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if time.time() > deadline or app.poll() is not None:
                    raise SystemExit("app did not start:\n" + (work / "app.log").read_text())
                time.sleep(0.5)

        def ask(client, question):
            _, history = client.predict(question, [], 5, "全部文档", "", "", False, api_name="/chat")
            return _first_citation(history)

        probe = Client(url, verbose=False)
        before = {q: ask(probe, q) for q in QUESTIONS}
        calls, errors, wrong, latencies = [0], [], [], []
        lock = threading.Lock()
        seen: dict[str, set[str]] = {q: set() for q in QUESTIONS}

        def client_loop(i: int):
            rng = random.Random(i)
            try:
                client = Client(url, verbose=False)
            except Exception as exc:  # noqa: BLE001
                with lock:
                    errors.append(f"client {i}: {exc!r}")
                return
            asked = 0
            while asked < 3 or not stop.is_set():  # ask all through the adds
                asked += 1
                q = rng.choice(QUESTIONS)
                started = time.perf_counter()
                try:
                    cite = ask(client, q)
                except Exception as exc:  # noqa: BLE001 - every failure is counted
                    with lock:
                        errors.append(f"client {i}: {exc!r}")
                    continue
                with lock:
                    calls[0] += 1
                    latencies.append(time.perf_counter() - started)
                    seen[q].add(cite)

        stop = threading.Event()
        threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(count)]
        for t in threads:
            t.start()
        adder = subprocess.Popen([QA, "add", *map(str, reports), "--data", str(data), "--index", str(index)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        upload = work / "上传的讲话.txt"
        upload.write_text("上传的讲话\n\n一、绿化\n\n植树造林，绿化祖国。\n", encoding="utf-8")
        # 60 KB without 。！？；: once a single unbounded window that made questions wait a minute
        unbroken = work / "没有句号的长文.txt"
        unbroken.write_text("没有句号的长文\n\n" + "，".join(["坚持稳中求进工作总基调"] * 5000), encoding="utf-8")
        upload_started = time.perf_counter()
        uploaded = Client(url, verbose=False).predict([handle_file(str(upload)), handle_file(str(unbroken))],
                                                      api_name="/add_documents")
        upload_s = time.perf_counter() - upload_started
        adder.communicate(timeout=900)
        stop.set()
        for t in threads:
            t.join()
        after = {q: ask(probe, q) for q in QUESTIONS}
        for q, cites in seen.items():
            for cite in cites - {before[q], after[q]}:
                wrong.append(f"{q}: {cite}")
        follow = "已索引 " in str(uploaded[1]) if isinstance(uploaded, (list, tuple)) else True
        latencies.sort()
        return {"clients": count, "calls": calls[0], "errors": errors, "wrong_citations": wrong,
                "changed_by_the_adds": sum(before[q] != after[q] for q in QUESTIONS),
                "p50_s": round(latencies[len(latencies) // 2], 2) if latencies else None,
                "p95_s": round(latencies[int(len(latencies) * 0.95)], 2) if latencies else None,
                "upload_result_shown": follow, "upload_s": round(upload_s, 1),
                "max_s": round(latencies[-1], 2) if latencies else None,
                "documents_after": len(served_sources(index))}
    finally:
        app.terminate()
        app.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--work", type=Path)
    parser.add_argument("--shared", type=Path, default=SHARED, help="the shared data folder (its reports are added)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-reliability-"))
    if work.exists() and any(work.iterdir()):
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    folder = args.shared / "speeches" / "gov_work_reports"
    reports = sorted(folder.glob("20*_政府工作报告.txt"))[:3] if folder.is_dir() else []
    started = time.perf_counter()
    result = {"writers": writers(work, args.trials), "clients": clients(work, args.clients, reports),
              "reports_added_meanwhile": [p.name for p in reports], "seconds": round(time.perf_counter() - started)}
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    main()
