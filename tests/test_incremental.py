"""Incremental updates: adding, changing and removing documents gives the index a full rebuild would give."""
from __future__ import annotations

import threading

import pytest
from conftest import write_corpus
from fakes import FakeEmbedder

from qa.answer import Assistant
from qa.index import indexer, store
from qa.index.reader import IndexReader
from qa.index.store import current_build
from qa.settings import Settings

DOCS = {
    "甲.txt": "甲讲话\n\n一、加强学习\n\n学习是进步的阶梯，读原著要精读。\n\n二、改进作风\n\n作风建设永远在路上。",
    "乙.txt": "乙报告\n\n一、经济发展\n\n经济总量稳步增长，粮食产量创历史新高。\n\n二、民生\n\n就业形势总体稳定。",
    "丙.txt": "丙讲话\n\n一、安全生产\n\n安全生产责任重于泰山，隐患排查要到位。\n\n二、应急\n\n应急预案每年演练两次。",
    "丁.txt": "丁通知\n\n粮食收购价格保持稳定，农民种粮收益有保障。\n\n学习培训每季度组织一次。",
}
QUESTIONS = ["粮食产量", "学习原著", "安全生产责任", "就业形势怎么样", "应急演练", "作风建设"]


def _answers(settings) -> list:
    assistant, _ = Assistant.open(settings, embedder=FakeEmbedder(), update=False)
    try:
        return [[(h.passage.passage_id, h.score, h.quote.text, h.dense_rank, h.keyword_rank)
                 for h in assistant.ask(q, k=20).hits] for q in QUESTIONS]
    finally:
        assistant.close()


def _full(tmp_path, files: dict) -> list:
    settings = Settings(data_dir=write_corpus(tmp_path / "full" / "data", files), index_dir=tmp_path / "full" / "index")
    indexer.sync(settings, FakeEmbedder())
    return _answers(settings)


@pytest.fixture
def grown(tmp_path):
    """An index of 甲 and 乙, to which the tests add, change and remove documents one by one."""
    settings = Settings(data_dir=write_corpus(tmp_path / "data", {k: DOCS[k] for k in ("甲.txt", "乙.txt")}),
                        index_dir=tmp_path / "index")
    indexer.sync(settings, FakeEmbedder())
    return settings


def test_adding_a_document_equals_a_full_rebuild(grown, tmp_path):
    fake = FakeEmbedder()
    write_corpus(grown.data_dir, {"丙.txt": DOCS["丙.txt"]})
    report = indexer.sync(grown, fake)
    assert report.built and not report.full and report.documents == 3
    assert all("安全" in t or "应急" in t or "丙讲话" in t for t in fake.embedded)  # only the new document
    assert len(IndexReader.open(grown.index_dir).segments) == 2
    assert _answers(grown) == _full(tmp_path, {k: DOCS[k] for k in ("甲.txt", "乙.txt", "丙.txt")})


def test_removing_and_changing_documents_equal_a_full_rebuild(grown, tmp_path):
    write_corpus(grown.data_dir, {"丙.txt": DOCS["丙.txt"], "丁.txt": DOCS["丁.txt"]})
    indexer.sync(grown, FakeEmbedder())
    (grown.data_dir / "乙.txt").unlink()
    changed = DOCS["甲.txt"].replace("永远在路上", "永远在路上，没有休止符")
    (grown.data_dir / "甲.txt").write_text(changed, encoding="utf-8")
    fake = FakeEmbedder()
    report = indexer.sync(grown, fake)
    assert not report.full and report.documents == 3 and fake.embedded == ["作风建设永远在路上，没有休止符。"]
    reader = IndexReader.open(grown.index_dir)
    assert reader.size == report.passages and "乙.txt" not in {d["source"] for d in reader.documents()}
    assert _answers(grown) == _full(tmp_path, {"甲.txt": changed, "丙.txt": DOCS["丙.txt"], "丁.txt": DOCS["丁.txt"]})


def test_many_updates_are_merged_and_still_equal_a_full_rebuild(grown, tmp_path, monkeypatch):
    monkeypatch.setattr(indexer, "MAX_SEGMENTS", 3)
    files = {k: DOCS[k] for k in ("甲.txt", "乙.txt")}
    for i in range(6):
        name, text = f"第{i}号.txt", f"第{i}号文件\n\n第{i}项工作要抓紧落实，责任到人。\n\n农田水利第{i}期工程开工。"
        files[name] = text
        write_corpus(grown.data_dir, {name: text})
        report = indexer.sync(grown, FakeEmbedder())
        assert len(IndexReader.open(grown.index_dir).segments) <= 3
    assert report.documents == 8
    (grown.data_dir / "乙.txt").unlink()
    del files["乙.txt"]
    indexer.sync(grown, FakeEmbedder())
    assert _answers(grown) == _full(tmp_path, files)
    assert len(list((grown.index_dir / "segments").iterdir())) <= 2 * 3  # merged segments are pruned


def test_removing_every_document_of_a_segment_drops_it(grown):
    write_corpus(grown.data_dir, {"丙.txt": DOCS["丙.txt"]})
    indexer.sync(grown, FakeEmbedder())
    (grown.data_dir / "丙.txt").unlink()
    indexer.sync(grown, FakeEmbedder())
    reader = IndexReader.open(grown.index_dir)
    assert len(reader.segments) == 1 and reader.size == reader.offsets[-1]


def test_a_copy_of_a_removed_file_is_indexed_in_its_place(grown):
    write_corpus(grown.data_dir, {"副本.txt": DOCS["乙.txt"]})
    report = indexer.sync(grown, FakeEmbedder())
    assert report.duplicates == (("副本.txt", "乙.txt"),)
    (grown.data_dir / "乙.txt").unlink()
    report = indexer.sync(grown, FakeEmbedder())
    assert report.documents == 2
    assert {d["source"] for d in IndexReader.open(grown.index_dir).documents()} == {"甲.txt", "副本.txt"}


def test_a_crash_before_the_switch_leaves_the_old_index_and_is_cleaned_up(grown, monkeypatch):
    serving = current_build(grown.index_dir)
    write_corpus(grown.data_dir, {"丙.txt": DOCS["丙.txt"]})
    monkeypatch.setattr(indexer, "publish", lambda *a: (_ for _ in ()).throw(OSError("killed")))
    with pytest.raises(OSError):
        indexer.sync(grown, FakeEmbedder())
    monkeypatch.undo()
    assert current_build(grown.index_dir) == serving and IndexReader.open(grown.index_dir).size == 4
    assert len(list((grown.index_dir / "segments").iterdir())) == 2  # the orphan segment is still on disk
    fake = FakeEmbedder()
    indexer.sync(grown, fake)
    assert fake.embedded == []  # its vectors were cached before the crash
    assert len(list((grown.index_dir / "segments").iterdir())) == 2  # orphan pruned, new segment in


def test_a_second_writer_waits_for_the_first(grown):
    said = []
    with store.writing(grown.index_dir):
        write_corpus(grown.data_dir, {"丙.txt": DOCS["丙.txt"]})
        other = threading.Thread(target=lambda: indexer.sync(grown, FakeEmbedder(),
                                                             notify=lambda code, **d: said.append(code)))
        other.start()
        other.join(timeout=1.0)
        assert other.is_alive() and said == ["waiting_for_writer"]
        assert IndexReader.open(grown.index_dir).manifest.counts["documents"] == 2
    other.join(timeout=30)
    assert IndexReader.open(grown.index_dir).manifest.counts["documents"] == 3


def test_an_index_of_the_previous_layout_is_rebuilt_without_embedding_again(grown):
    """Schema 2 (one FAISS file, bm25s) had no segments: it is replaced, and the vectors come from the cache."""
    import json

    path = current_build(grown.index_dir) / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema_version"] = 2
    del data["segments"]
    path.write_text(json.dumps(data), encoding="utf-8")
    fake = FakeEmbedder()
    report = indexer.sync(grown, fake)
    assert report.built and "schema_version=2" in report.replaced_index
    assert fake.embedded == [] and report.documents == 2
