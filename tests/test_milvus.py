"""The Milvus backend on Milvus Lite in a temporary folder: the same answers as our own files, updates, and faults
(the server gone mid-add, a collection of another model, a killed writer's half-built version)."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import write_corpus
from fakes import FakeEmbedder

pytest.importorskip("pymilvus")

from qa.answer import Assistant  # noqa: E402
from qa.app.cli import main  # noqa: E402
from qa.errors import BackendMismatch, BackendUnavailable, IndexIncompatible  # noqa: E402
from qa.index import indexer, milvus_writer  # noqa: E402
from qa.index.milvus_client import PROPERTY, Connection, collection_record, connect, resolve_uri  # noqa: E402
from qa.index.reader import IndexReader  # noqa: E402
from qa.index.store import current_build  # noqa: E402
from qa.records import Filters  # noqa: E402
from qa.settings import Settings, StoreSettings  # noqa: E402

DOCS = {
    "2019/甲.txt": "甲讲话\n2019年3月5日\n\n一、加强学习\n\n学习是进步的阶梯，读原著要精读。\n\n二、改进作风\n\n作风建设永远在路上。",
    "2020/乙.txt": "乙报告\n2020年5月22日\n\n一、经济发展\n\n经济总量稳步增长，粮食产量创历史新高。\n\n二、民生\n\n就业形势总体稳定。",
    "2021/丙.txt": "丙讲话\n2021年3月5日\n\n一、安全生产\n\n安全生产责任重于泰山，隐患排查要到位。\n\n二、应急\n\n应急预案每年演练两次。",
}
MORE = "丁通知\n2022年1月4日\n\n粮食收购价格保持稳定，农民种粮收益有保障。\n\n学习培训每季度组织一次，原著精读。"
QUESTIONS = ["粮食产量", "学习原著", "安全生产责任", "就业形势怎么样", "应急演练", "作风建设", "粮"]


def _settings(root, backend: str, files=DOCS) -> Settings:
    return Settings(data_dir=write_corpus(root / "data", files), index_dir=root / "index",
                    store=StoreSettings(backend=backend))


def _answers(settings, filters=None, mode=None) -> list:
    assistant, _ = Assistant.open(settings, embedder=FakeEmbedder(), update=False)
    try:
        return [[(h.passage.passage_id, round(h.score, 4), h.quote.text, h.dense_rank, h.keyword_rank)
                 for h in assistant.ask(q, k=20, filters=filters, mode=mode).hits] for q in QUESTIONS]
    finally:
        assistant.close()


def _pair(root):
    """The same corpus built on both backends: (local settings, Milvus settings)."""
    local, milvus = _settings(root / "local", "local"), _settings(root / "milvus", "milvus")
    for settings in (local, milvus):
        indexer.sync(settings, FakeEmbedder())
    return local, milvus


@pytest.fixture
def pair(tmp_path):
    return _pair(tmp_path)


@pytest.fixture(scope="module")
def read_only_pair(tmp_path_factory):
    """One pair for the tests that only read it."""
    return _pair(tmp_path_factory.mktemp("pair"))


@pytest.mark.parametrize("filters,mode", [(None, None), (None, "dense"), (None, "keyword"),
                                          (Filters(doc="乙"), None), (Filters(years=(2019, 2020)), None)])
def test_milvus_answers_as_our_own_files(read_only_pair, filters, mode):
    local, milvus = read_only_pair
    assert _answers(milvus, filters, mode) == _answers(local, filters, mode)


def test_the_reader_matches_our_own_reader(read_only_pair):
    a, b = (IndexReader.open(s.index_dir, s.store) for s in read_only_pair)
    assert type(b).__name__ == "MilvusReader" and a.size == b.size > 0
    assert a.documents() == b.documents()
    assert [p.passage_id for p in a.passages_of("2020/乙.txt")] == [p.passage_id for p in b.passages_of("2020/乙.txt")]
    assert a.documents_of("2021/丙.txt") == b.documents_of("2021/丙.txt")
    for token in ("粮食", "学习", "没有的词"):
        assert b.keyword.idf(token) == pytest.approx(a.keyword.idf(token))
    assert b.keyword.ceiling(["粮食", "没有的词"]) == pytest.approx(a.keyword.ceiling(["粮食", "没有的词"]))
    assert b.keyword.search([], 5) == [] and b.dense_search(np.zeros(64, np.float32), 0) == []


def test_updates_keep_the_collection_and_answer_as_a_rebuild(pair, tmp_path, monkeypatch):
    local, milvus = pair
    monkeypatch.setattr(milvus_writer, "MAX_AVGDL_DRIFT", 10.0)  # tiny corpora move the mean length a lot
    first = IndexReader.open(milvus.index_dir, milvus.store).collection
    for settings in pair:
        write_corpus(settings.data_dir, {"2022/丁.txt": MORE})
        (settings.data_dir / "2019/甲.txt").unlink()
        report = indexer.sync(settings, FakeEmbedder())
        assert report.documents == 3 and not report.full
    reader = IndexReader.open(milvus.index_dir, milvus.store)
    assert reader.collection == first and {d["source"] for d in reader.documents()} == {"2020/乙.txt", "2021/丙.txt",
                                                                                       "2022/丁.txt"}
    # df and N are exact after updates; only BM25's length normalisation keeps the first build's mean
    assert _answers(milvus, mode="dense") == _answers(local, mode="dense")
    assert [[h[0] for h in a] for a in _answers(milvus, mode="keyword")] == \
        [[h[0] for h in a] for a in _answers(local, mode="keyword")]
    # the removed document's rows stay while the previous build may still be read, and go with it
    assert len(conn_rows(milvus, reader.collection)) == sum(reader.tables.windows)
    write_corpus(milvus.data_dir, {"2023/戊.txt": MORE.replace("丁通知", "戊通知")})
    indexer.sync(milvus, FakeEmbedder())
    reader = IndexReader.open(milvus.index_dir, milvus.store)
    assert len(conn_rows(milvus, reader.collection)) == sum(reader.tables.windows[reader.live])


def conn_rows(settings, collection) -> list:
    conn = connect(settings.store, resolve_uri(settings.store, settings.index_dir))
    return conn.call("query", collection, filter="id >= 0", output_fields=["row"], limit=10_000)


def test_a_mean_length_that_drifted_makes_the_update_a_full_build(pair):
    _, milvus = pair
    first = IndexReader.open(milvus.index_dir, milvus.store).collection
    write_corpus(milvus.data_dir, {"2022/丁.txt": MORE * 5})
    fake = FakeEmbedder()
    report = indexer.sync(milvus, fake)
    reader = IndexReader.open(milvus.index_dir, milvus.store)
    assert report.full and reader.collection != first and reader.size > 9
    assert fake.embedded and not any(t in "".join(DOCS.values()) for t in fake.embedded)  # the rest: from the cache
    conn = connect(milvus.store, resolve_uri(milvus.store, milvus.index_dir))
    assert first in conn.call("list_collections")  # the previous build still serves readers that hold it
    assert conn.call("list_aliases")["aliases"] == ["speech_qa"]


def test_a_reader_keeps_its_build_while_a_writer_adds_and_removes(pair, monkeypatch):
    _, milvus = pair
    monkeypatch.setattr(milvus_writer, "MAX_AVGDL_DRIFT", 10.0)
    before = _answers(milvus)
    assistant = Assistant(milvus, FakeEmbedder(), IndexReader.open(milvus.index_dir, milvus.store), follow=False)
    write_corpus(milvus.data_dir, {"2022/丁.txt": MORE})
    (milvus.data_dir / "2020/乙.txt").unlink()
    indexer.sync(milvus, FakeEmbedder())
    try:
        held = [[(h.passage.passage_id, round(h.score, 4), h.quote.text, h.dense_rank, h.keyword_rank)
                 for h in assistant.ask(q, k=20).hits] for q in QUESTIONS]
    finally:
        assistant.close()
    assert held == before  # the old build still sees 乙 and not 丁
    assert "粮食产量创历史新高" not in json.dumps(_answers(milvus), ensure_ascii=False)


def test_the_server_gone_mid_add_leaves_the_served_build(pair, monkeypatch, tmp_path):
    _, milvus = pair
    monkeypatch.setattr(milvus_writer, "MAX_AVGDL_DRIFT", 10.0)
    serving, before = current_build(milvus.index_dir), _answers(milvus)
    milvus = replace(milvus, store=replace(milvus.store, milvus_batch=2))
    write_corpus(milvus.data_dir, {"2022/丁.txt": MORE})
    calls = {"insert": 0}
    real = Connection.call

    def failing(self, method, *args, **kwargs):
        if method == "insert":
            calls["insert"] += 1
            if calls["insert"] == 2:
                raise BackendUnavailable(backend="milvus", uri=self.uri, reason="connection reset")
        return real(self, method, *args, **kwargs)

    monkeypatch.setattr(Connection, "call", failing)
    with pytest.raises(BackendUnavailable):
        indexer.sync(milvus, FakeEmbedder())
    monkeypatch.setattr(Connection, "call", real)
    assert current_build(milvus.index_dir) == serving and _answers(milvus) == before  # half an add is invisible
    report = indexer.sync(milvus, FakeEmbedder())
    assert report.documents == 4 and not report.full
    reader = IndexReader.open(milvus.index_dir, milvus.store)
    assert len(conn_rows(milvus, reader.collection)) == sum(reader.tables.windows)  # the half-added rows are gone
    full = _settings(tmp_path / "again", "milvus", {**DOCS, "2022/丁.txt": MORE})
    indexer.sync(full, FakeEmbedder())
    assert [[h[0] for h in a] for a in _answers(milvus)] == [[h[0] for h in a] for a in _answers(full)]


def test_a_collection_of_another_model_is_refused_and_rebuilt(pair):
    _, milvus = pair
    reader = IndexReader.open(milvus.index_dir, milvus.store)
    conn = connect(milvus.store, resolve_uri(milvus.store, milvus.index_dir))
    record = collection_record(conn, reader.collection)
    conn.call("alter_collection_properties", reader.collection,
              properties={PROPERTY: json.dumps({**record, "model": "another-model"})})
    with pytest.raises(IndexIncompatible) as refused:
        IndexReader.open(milvus.index_dir, milvus.store)
    assert "model=another-model≠fake-bigram" in refused.value.details["reason"]
    write_corpus(milvus.data_dir, {"2022/丁.txt": MORE})
    report = indexer.sync(milvus, FakeEmbedder())  # the writer starts a collection it can trust
    assert report.full and "another-model" in report.replaced_index
    assert IndexReader.open(milvus.index_dir, milvus.store).size == 12


class Killed(BaseException):
    """What a killed writer leaves: nothing after the point it was stopped."""


def test_a_killed_writers_half_built_version_is_ignored_then_dropped(pair, monkeypatch):
    _, milvus = pair
    serving, before = current_build(milvus.index_dir), _answers(milvus)
    real = milvus_writer._insert

    def insert_then_die(*args, **kwargs):
        real(*args, **kwargs)
        raise Killed  # as a kill would: after inserting, before publishing

    monkeypatch.setattr(milvus_writer, "_insert", insert_then_die)
    with pytest.raises(Killed):
        indexer.sync(milvus, FakeEmbedder(), force=True)
    monkeypatch.undo()
    conn = connect(milvus.store, resolve_uri(milvus.store, milvus.index_dir))
    assert len(conn.call("list_collections")) == 2  # the half-built one is on the server
    assert current_build(milvus.index_dir) == serving and _answers(milvus) == before
    indexer.sync(milvus, FakeEmbedder(), force=True)
    reader = IndexReader.open(milvus.index_dir, milvus.store)
    assert sorted(conn.call("list_collections")) == sorted({reader.collection, _previous_collection(milvus)})


def _previous_collection(settings) -> str:
    from qa.index.manifest import Manifest

    builds = sorted((settings.index_dir / "builds").iterdir())
    return Manifest.read(builds[-2] / "manifest.json").backend["collection"]


def test_another_backend_is_named_not_guessed(read_only_pair):
    local, milvus = read_only_pair
    with pytest.raises(BackendMismatch):
        IndexReader.open(local.index_dir, replace(local.store, backend="milvus"))
    with pytest.raises(BackendMismatch):
        IndexReader.open(milvus.index_dir, replace(milvus.store, backend="local"))


def test_cli_builds_asks_and_lists_on_milvus(tmp_path, capsys):
    write_corpus(tmp_path / "data", DOCS)
    where = ["--data", str(tmp_path / "data"), "--index", str(tmp_path / "index")]
    assert main(["build", "--model", "fake-bigram", "--backend", "milvus", *where]) == 0
    capsys.readouterr()
    assert main(["ask", "粮食产量", "--json", "-k", "1", *where]) == 0  # the index's backend is found by itself
    assert json.loads(capsys.readouterr().out)["hits"][0]["title"] == "乙报告"
    assert main(["list", "--json", *where]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    assert main(["status", "--json", *where]) == 0
    assert json.loads(capsys.readouterr().out)["backend"]["kind"] == "milvus"
    assert main(["ask", "粮食", "--no-update", "--backend", "local", *where]) == 1
    assert "不是 local" in capsys.readouterr().err


def test_cli_says_when_the_server_cannot_be_reached(tmp_path, capsys):
    write_corpus(tmp_path / "data", DOCS)
    where = ["--data", str(tmp_path / "data"), "--index", str(tmp_path / "index")]
    assert main(["build", "--model", "fake-bigram", *where]) == 0
    capsys.readouterr()
    code = main(["build", "--model", "fake-bigram", "--backend", "milvus", "--milvus-uri", "http://127.0.0.1:9",
                 *where])
    err = capsys.readouterr().err
    assert code == 1 and "无法使用 Milvus「http://127.0.0.1:9」" in err and "没有改动" in err
    assert main(["ask", "粮食产量", "--json", "--no-update", *where]) == 0  # the local index still serves


def test_cli_checks_a_drafts_quotations_against_milvus(tmp_path, capsys):
    write_corpus(tmp_path / "data", DOCS)
    where = ["--data", str(tmp_path / "data"), "--index", str(tmp_path / "index")]
    assert main(["build", "--model", "fake-bigram", "--backend", "milvus", *where]) == 0
    draft = tmp_path / "稿子.txt"
    draft.write_text("报告指出：“经济总量稳步增长，粮食产量创历史新高。”他还说：“明天一起去公园散步。”", encoding="utf-8")
    capsys.readouterr()
    assert main(["check", str(draft), "--no-update", *where]) == 0
    out = capsys.readouterr().out
    assert out.startswith("核对 2 处引文：原文一致 1，未找到 1") and "《乙报告》" in out


def test_a_trace_on_milvus_is_the_trace_on_our_own_files(tmp_path):
    """提法演变 reads every passage through the reader: both backends give the same timeline."""
    from conftest import TRACE_CORPUS

    traces = []
    for backend in ("local", "milvus"):
        settings = _settings(tmp_path / backend, backend, TRACE_CORPUS)
        indexer.sync(settings, FakeEmbedder())
        assistant, _ = Assistant.open(settings, embedder=FakeEmbedder(), update=False)
        try:
            traces.append([assistant.trace(p).to_json() for p in ("稳中求进工作总基调", "经济增长预期目标")])
        finally:
            assistant.close()
    for trace in traces:
        for t in trace:
            t.pop("seconds")
    assert traces[0] == traces[1]
    assert [r["year"] for r in traces[1][1]["rows"]] == [2022, 2023, 2024]
