"""Many hands at once: one writer per index across threads and processes, every answer from one build, the app
following builds made elsewhere, leftovers of killed writers cleaned, builds in use never pruned."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import TINY, write_corpus
from fakes import FakeEmbedder

from qa.answer import Assistant
from qa.app.messages import error_message, message
from qa.errors import IndexBusy
from qa.index import store
from qa.index.indexer import sync
from qa.index.reader import IndexReader
from qa.index.store import current_build
from qa.library import list_documents
from qa.settings import Settings

WRITER = Path(__file__).parent / "writer.py"


def test_a_write_inside_a_write_does_not_wait(tiny, fake):
    with store.writing(tiny.index_dir):
        with store.writing(tiny.index_dir):
            sync(tiny, fake)  # takes the lock a third time
    assert current_build(tiny.index_dir) is not None


def test_a_second_thread_waits_and_is_told_who_writes(tiny, fake):
    said = []
    with store.writing(tiny.index_dir):
        other = threading.Thread(target=lambda: sync(tiny, FakeEmbedder(), notify=lambda c, **d: said.append((c, d))))
        other.start()
        other.join(timeout=1.0)
        assert other.is_alive()
        (code, details), = said
        assert code == "waiting_for_writer" and details["pid"] == os.getpid()
        assert message(code, **details).startswith("另一个进程正在更新索引，等待中…")
    other.join(timeout=30)
    assert not other.is_alive() and current_build(tiny.index_dir) is not None


def test_a_writer_gives_up_after_the_wait_with_a_clear_message(tiny, fake):
    impatient = tiny.with_overrides(limits={"lock_wait_s": 1})
    errors = []

    def write():
        try:
            sync(impatient, FakeEmbedder())
        except IndexBusy as exc:
            errors.append(exc)

    with store.writing(tiny.index_dir):
        other = threading.Thread(target=write)
        other.start()
        other.join(timeout=20)
    (exc,) = errors
    text = error_message(exc)
    assert "另一个进程" in text and "等了 1 秒" in text and "现有索引不受影响" in text
    assert current_build(tiny.index_dir) is None  # nothing half-done


def test_leftovers_of_a_killed_writer_are_cleaned_at_the_next_write(tiny, fake):
    sync(tiny, fake)
    (tiny.index_dir / "builds" / ".tmp-20250101T000000-dead").mkdir()
    (tiny.index_dir / "segments" / ".tmp-20250101T000000-dead").mkdir()
    (tiny.index_dir / ".CURRENT.20250101T000000-dead").write_text("x", encoding="utf-8")
    report = sync(tiny, fake)  # nothing to do, but it holds the lock
    assert not report.built
    assert not list(tiny.index_dir.rglob(".tmp-*")) and not list(tiny.index_dir.glob(".CURRENT.*"))


def test_a_build_being_read_is_never_pruned(tiny, fake):
    sync(tiny, fake)
    first = IndexReader.open(tiny.index_dir)
    for i in range(3):  # three more builds: the first is neither serving nor the previous one
        write_corpus(tiny.data_dir, {f"新{i}.txt": f"新讲话{i}\n\n要抓落实第{i}条。"})
        sync(tiny, fake)
    assert first.folder.exists()
    assert first.passages_of("甲讲话.txt")  # still readable
    first.close()
    write_corpus(tiny.data_dir, {"新9.txt": "新讲话9\n\n要守纪律。"})
    sync(tiny, fake)
    assert not first.folder.exists()  # pruned once closed


def test_a_question_in_flight_finishes_on_its_build(tiny, fake):
    assistant, _ = Assistant.open(tiny, fake)
    with assistant.serving() as (index, retriever):
        write_corpus(tiny.data_dir, {"丙.txt": "丙讲话\n\n要抓落实。"})
        sync(tiny, fake)
        assistant.reload()  # the app switches while the question is being answered
        rows = [c.row for c in retriever.search("学习", 3)]
        passages = index.passages(rows)  # rows of the old build looked up in the old build
        assert all(p.doc_id in {d["doc_id"] for d in index.documents()} for p in passages)
        assert index.segments  # not closed under the question
    assert index.segments == []  # closed when its last question ended
    assert assistant.index is not index and assistant.ask("抓落实").hits
    assistant.close()


def test_many_threads_asking_while_another_writes_get_consistent_answers(tiny, fake):
    assistant, _ = Assistant.open(tiny, fake)
    expected = assistant.ask("粮食产量").hits[0].citation.render()
    wrong, errors = [], []

    def ask():
        for _ in range(15):
            try:
                top = assistant.ask("粮食产量").hits[0].citation.render()
                if top != expected:
                    wrong.append(top)
            except Exception as exc:  # noqa: BLE001 - any failure counts
                errors.append(repr(exc))

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for i in range(4):
        write_corpus(tiny.data_dir, {f"无关{i}.txt": f"无关讲话{i}\n\n要加强作风建设第{i}条。"})
        sync(tiny, fake)
    for t in threads:
        t.join()
    assert errors == [] and wrong == []
    assistant.ask("粮食产量")
    assert assistant.index.build == current_build(tiny.index_dir).name  # the next question follows the last build
    assistant.close()


def test_the_app_follows_a_build_made_by_another_process(tiny, fake):
    assistant, _ = Assistant.open(tiny, fake)
    first = assistant.index.build
    other = Settings(data_dir=tiny.data_dir, index_dir=tiny.index_dir)
    write_corpus(tiny.data_dir, {"丙.txt": "丙讲话\n\n植树造林，绿化祖国。"})
    sync(other, FakeEmbedder())
    answer = assistant.ask("植树造林")
    assert assistant.index.build != first and answer.hits[0].passage.text == "植树造林，绿化祖国。"
    assistant.close()


def test_a_build_of_another_model_is_not_served(tiny, fake):
    assistant, _ = Assistant.open(tiny, fake)
    first = assistant.index.build
    sync(tiny, FakeEmbedder(name="another-model"))
    assert assistant.ask("学习").hits and assistant.index.build == first
    assistant.close()


def _writers(tiny, actions: list[list[str]]) -> list[dict]:
    procs = [subprocess.Popen([sys.executable, str(WRITER), str(tiny.data_dir), str(tiny.index_dir), *a],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for a in actions]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        outs.append(json.loads(out.strip().splitlines()[-1]))
    return outs


@pytest.mark.slow
@pytest.mark.parametrize("writers", [2, 3])
def test_parallel_writers_each_reported_success_is_indexed(tiny, fake, tmp_path, writers):
    sync(tiny, fake)
    for trial in range(3):
        files = []
        for w in range(writers):
            path = tmp_path / f"in{trial}" / f"稿{trial}-{w}.txt"
            write_corpus(path.parent, {path.name: f"第{trial}轮第{w}篇\n\n要抓落实，第{trial}轮第{w}条。"})
            files.append(["add", str(path)])
        if trial:  # a removal and a forced rebuild race the adds
            files.append(["remove", f"稿{trial - 1}-0.txt"])
            files.append(["build"])
        outs = _writers(tiny, files)
        assert not any("error" in o for o in outs)
        reader = IndexReader.open(tiny.index_dir)  # CURRENT is loadable
        served = {d["source"] for d in reader.documents()}
        reader.close()
        for o in outs:
            assert set(o.get("added", [])) <= served
            assert o.get("removed") not in served
        assert {r.status for r in list_documents(tiny)} == {"indexed"}


@pytest.mark.slow
def test_a_writer_killed_mid_build_leaves_the_old_index_serving(tiny, fake, tmp_path):
    sync(tiny, fake)
    serving = current_build(tiny.index_dir)
    big = "\n\n".join(f"第{i}段，要抓落实，要守纪律，要讲规矩。" for i in range(20000))
    write_corpus(tmp_path / "in", {"大.txt": "大讲话\n\n" + big})
    proc = subprocess.Popen([sys.executable, str(WRITER), str(tiny.data_dir), str(tiny.index_dir), "add",
                             str(tmp_path / "in" / "大.txt")], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while not (tiny.data_dir / "大.txt").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert current_build(tiny.index_dir) == serving
    assert IndexReader.open(tiny.index_dir).documents()
    report = sync(tiny, fake)  # the next writer takes the lock at once and finishes the job
    assert report.built and "大.txt" in {d["source"] for d in IndexReader.open(tiny.index_dir).documents()}
    assert not list(tiny.index_dir.rglob(".tmp-*"))
    assert set(TINY) <= {r.source for r in list_documents(tiny)}
