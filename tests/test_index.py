"""The index on disk: round trip, incremental rebuilds, atomic switch, mismatches, edge cases."""
from __future__ import annotations

import json
import os

import pytest
from conftest import TINY, write_corpus
from fakes import FakeEmbedder

from qa.answer import Assistant, limit_per_document
from qa.errors import EmptyQuestion, IndexIncompatible, IndexMissing, InvalidSetting
from qa.index import segment, store
from qa.index.indexer import staleness, sync
from qa.index.manifest import SCHEMA_VERSION
from qa.index.reader import IndexReader
from qa.index.store import current_build
from qa.ingest.chunk import make_passages
from qa.ingest.structure import parse_document
from qa.settings import Settings


def test_round_trip(tiny, fake):
    report = sync(tiny, fake)
    assert report.built and report.documents == 2 and report.embedded == report.windows
    reader = IndexReader.open(tiny.index_dir)
    m = reader.manifest
    assert (m.embedder, m.dim, m.schema_version) == ("fake-bigram", 64, SCHEMA_VERSION)
    assert set(m.documents) == set(TINY) and m.counts["passages"] == reader.size
    first = reader.passage(0)
    assert first.title in ("甲讲话", "乙报告") and first.sentences
    expected = make_passages(parse_document("乙报告.txt", TINY["乙报告.txt"]), tiny.chunk)
    assert reader.passages_of("乙报告.txt") == expected  # text, path, sentences and windows survive the trip
    folder = current_build(tiny.index_dir)
    assert {p.name for p in folder.iterdir()} == {"manifest.json"}
    (segment,) = (tiny.index_dir / "segments").iterdir()
    assert {p.name for p in segment.iterdir()} == {"meta.json", "vectors.faiss", "passages.sqlite", "postings",
                                                   "window_passage.npy", "passage_year.npy", "passage_key.npy"}
    assert not any(p.suffix in (".pkl", ".pickle") for p in tiny.index_dir.rglob("*"))


def test_unchanged_data_is_a_no_op(tiny, fake):
    sync(tiny, fake)
    before = current_build(tiny.index_dir)
    fake.embedded.clear()
    report = sync(tiny, fake)
    assert not report.built and fake.embedded == [] and current_build(tiny.index_dir) == before


def test_editing_one_file_re_embeds_only_its_changed_text(tiny, fake):
    sync(tiny, fake)
    fake.embedded.clear()
    path = tiny.data_dir / "乙报告.txt"
    path.write_text(TINY["乙报告.txt"] + "\n三、新增部分\n\n这是新加的一段话。\n", encoding="utf-8")
    assert staleness(tiny, fake.name).changed == ("乙报告.txt",)
    report = sync(tiny, fake)
    assert report.built and not report.full and fake.embedded == ["这是新加的一段话。"]
    assert report.embedded == 1 and report.reused == 2  # the file's other windows come from the cache
    assert staleness(tiny, fake.name).is_stale is False


def test_added_and_removed_files(tiny, fake):
    sync(tiny, fake)
    (tiny.data_dir / "甲讲话.txt").unlink()
    write_corpus(tiny.data_dir, {"sub/丙.md": "丙文\n\n新的内容在这里。"})
    stale = staleness(tiny, fake.name)
    assert stale.added == ("sub/丙.md",) and stale.removed == ("甲讲话.txt",)
    sync(tiny, fake)
    assert set(IndexReader.open(tiny.index_dir).manifest.documents) == {"乙报告.txt", "sub/丙.md"}


def test_same_content_under_two_names_is_indexed_once(tiny, fake):
    write_corpus(tiny.data_dir, {"副本.txt": TINY["甲讲话.txt"]})
    report = sync(tiny, fake)
    assert report.duplicates == (("甲讲话.txt", "副本.txt"),) or report.duplicates == (("副本.txt", "甲讲话.txt"),)
    assert report.documents == 2


def test_another_model_rebuilds_and_never_mixes_vectors(tiny, fake):
    sync(tiny, fake)
    other = FakeEmbedder(dim=32, name="other-model")
    report = sync(tiny, other)
    assert report.built and report.staleness.model_changed == ("fake-bigram", "other-model")
    assert report.embedded == report.windows  # nothing reused across models
    reader = IndexReader.open(tiny.index_dir)
    assert (reader.manifest.embedder, reader.segments[0].vectors.d) == ("other-model", 32)


def test_crash_before_switch_leaves_old_index_serving(tiny, fake, monkeypatch):
    sync(tiny, fake)
    serving = current_build(tiny.index_dir)
    (tiny.data_dir / "乙报告.txt").write_text("乙报告\n\n完全不同的内容。", encoding="utf-8")

    real_replace = os.replace

    def crash_on_pointer(src, dst):
        if str(dst).endswith(store.CURRENT):
            raise OSError("simulated crash")
        return real_replace(src, dst)

    monkeypatch.setattr(store.os, "replace", crash_on_pointer)
    with pytest.raises(OSError):
        sync(tiny, fake)
    monkeypatch.undo()
    assert current_build(tiny.index_dir) == serving
    reader = IndexReader.open(tiny.index_dir)
    assert "就业形势总体稳定。养老金按时足额发放。" in {p.text for p in reader.passages_of("乙报告.txt")}
    assert sync(tiny, fake).built  # the next run completes the update


def test_crash_while_writing_leaves_old_index_serving(tiny, fake, monkeypatch):
    sync(tiny, fake)
    serving = current_build(tiny.index_dir)
    (tiny.data_dir / "甲讲话.txt").write_text("甲讲话\n\n改过的内容。", encoding="utf-8")
    monkeypatch.setattr(segment, "_write_sqlite", lambda *a: (_ for _ in ()).throw(RuntimeError("disk full")))
    with pytest.raises(RuntimeError):
        sync(tiny, fake)
    assert current_build(tiny.index_dir) == serving
    assert IndexReader.open(tiny.index_dir).manifest.documents["甲讲话.txt"]["documents"][0]["passages"] == 5


def test_old_schema_is_replaced_with_a_reason(tiny, fake):
    sync(tiny, fake)
    path = current_build(tiny.index_dir) / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["schema_version"] = 0
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(IndexIncompatible):
        IndexReader.open(tiny.index_dir)
    report = sync(tiny, fake)
    assert report.built and "schema_version=0" in report.replaced_index


def test_missing_index(tmp_path):
    with pytest.raises(IndexMissing):
        IndexReader.open(tmp_path / "nothing")


def test_unreadable_file_is_rejected_and_previous_passages_kept(tiny, fake):
    sync(tiny, fake)
    (tiny.data_dir / "甲讲话.txt").write_bytes("これは日本語のテキストです。".encode("shift_jis"))
    (tiny.data_dir / "新.txt").write_bytes(b"\x00\x01binary")
    report = sync(tiny, fake)
    assert {name: d["reason"] for name, d in report.rejected} == {"甲讲话.txt": "unknown_encoding", "新.txt": "binary"}
    assert report.kept_previous == ("甲讲话.txt",)
    reader = IndexReader.open(tiny.index_dir)
    assert "学习是进步的阶梯。我们要多读书。" in {p.text for p in reader.passages_of("甲讲话.txt")}
    assert not staleness(tiny, fake.name).is_stale  # a rejected file is not retried until it changes


def test_empty_corpus(tmp_path, fake):
    from qa.settings import Settings

    (tmp_path / "data").mkdir()
    settings = Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "index")
    assistant, report = Assistant.open(settings, embedder=fake)
    assert report.built and report.passages == 0
    assert assistant.ask("党的力量来自哪里？").notice == "empty_index"


def test_k_larger_than_corpus_and_stopword_only_question(tiny, fake):
    assistant, _ = Assistant.open(tiny, embedder=fake)
    answer = assistant.ask("经济发展怎么样", k=100)
    assert len(answer.hits) == assistant.index.size
    assert [h.rank for h in answer.hits] == list(range(1, assistant.index.size + 1))
    stop = assistant.ask("是什么？哪些呢", k=3)
    assert len(stop.hits) == 3 and all(h.keyword_rank is None for h in stop.hits)
    with pytest.raises(EmptyQuestion):
        assistant.ask("  \n ")


def test_hits_cite_paragraphs_with_verbatim_quotes(tiny, fake):
    assistant, _ = Assistant.open(tiny, embedder=fake)
    hit = assistant.ask("粮食产量", k=1).hits[0]
    assert hit.citation.render() == "《乙报告》 › 一、经济发展 · 第1段"
    assert hit.quote.text == "经济总量稳步增长，粮食产量创历史新高。"
    data = hit.to_json()
    assert data["text"][data["quote_start"] : data["quote_end"]] == data["quote"]
    assert set(data) >= {"rank", "score", "doc_id", "title", "date", "section_path", "paragraph", "text",
                         "quote", "quote_start", "quote_end"}


def test_reprinted_paragraph_is_one_hit_that_says_where_else(tmp_path, fake):
    from conftest import write_corpus
    from qa.settings import Settings

    same = "坚持稳中求进工作总基调，完整、准确、全面贯彻新发展理念，加快构建新发展格局。"
    write_corpus(tmp_path / "data", {
        "原文.txt": f"原文\n\n一、总体要求\n\n{same}\n\n二、其他\n\n别的内容。",
        "转载.txt": f"转载\n\n{same.replace('，', ',')}\n\n转载网站的话。",
    })
    assistant, _ = Assistant.open(Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "index"), embedder=fake)
    answer = assistant.ask("稳中求进工作总基调", k=3)
    top = answer.hits[0]
    assert len(top.also_in) == 1 and {top.citation.title, top.also_in[0].title} == {"原文", "转载"}
    assert sum(1 for h in answer.hits if "稳中求进" in h.passage.text) == 1
    assert top.to_json()["also_in"] == [top.also_in[0].render()]


def test_find_quotes_ranks_sentences_and_merges_copies(tmp_path, fake):
    from conftest import write_corpus
    from qa.settings import Settings

    write_corpus(tmp_path / "data", {
        "甲.txt": "甲\n\n要推进标准化建设。标准化是质量的基础。今天天气不错。",
        "乙.txt": "乙\n\n要推进标准化建设!别的内容也很多。",
    })
    assistant, _ = Assistant.open(Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "index"), embedder=fake)
    answer = assistant.find_quotes("标准化建设", k=5)
    texts = [h.quote.text for h in answer.hits]
    assert texts[0] in ("要推进标准化建设。", "要推进标准化建设!") and len(answer.hits[0].also_in) == 1
    assert "标准化是质量的基础。" in texts and "今天天气不错。" not in texts
    for h in answer.hits:
        assert h.passage.text[h.quote.start : h.quote.end] == h.quote.text
    assert assistant.find_quotes("是什么").hits == ()


def test_two_speeches_with_one_title_and_shared_paragraphs(tmp_path, fake):
    from conftest import write_corpus
    from qa.settings import Settings

    write_corpus(tmp_path / "data", {
        "2023-01-01_在新年茶话会上的讲话.txt": "同志们：\n\n二〇二三年的工作很好。\n\n谢谢大家。",
        "2024-01-01_在新年茶话会上的讲话.txt": "同志们：\n\n二〇二四年的工作更好。\n\n谢谢大家。",
    })
    settings = Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "index")
    report = sync(settings, fake)
    assert report.passages == 6
    reader = IndexReader.open(settings.index_dir)
    ids = [p.passage_id for source in report_sources(reader) for p in reader.passages_of(source)]
    assert len(set(ids)) == 6


def report_sources(reader):
    return sorted(reader.manifest.documents)


def test_embeddings_survive_a_build_that_dies_half_way(tiny, fake):
    class Dying(FakeEmbedder):
        def embed_passages(self, texts):
            if self.embedded:
                raise KeyboardInterrupt  # as if killed after the first batch
            return super().embed_passages(texts)

    dying = Dying()
    settings = tiny.with_overrides(embed={"batch_size": 2})
    with pytest.raises(KeyboardInterrupt):
        sync(settings, dying)
    assert current_build(tiny.index_dir) is None and len(dying.embedded) == 2
    report = sync(settings, fake)
    assert report.built and report.embedded == report.windows - 2 and report.reused == 2


def test_per_document_limits_passages_of_one_document(tmp_path, fake):
    assert limit_per_document([[0], [1, 3], [2], [4]], ["a", "a", "b", "a", "c"], 1) == [[0], [2], [4]]
    assert limit_per_document([[0], [1], [2]], ["a", "a", "a"], 2) == [[0], [1]]
    data = tmp_path / "data"
    data.mkdir()
    (data / "甲.txt").write_text("甲讲话\n粮食生产稳定增长。\n粮食安全责任落实。\n粮食储备充足。\n", encoding="utf-8")
    (data / "乙.txt").write_text("乙讲话\n粮食产量再创新高。\n", encoding="utf-8")
    settings = Settings(data_dir=data, index_dir=tmp_path / "index")
    assistant, _ = Assistant.open(settings, fake)
    every = assistant.ask("粮食", 5)
    assert [h.passage.title for h in every.hits].count("甲讲话") == 3
    best = assistant.ask("粮食", 5, per_document=1)
    assert sorted(h.passage.title for h in best.hits) == ["乙讲话", "甲讲话"]
    assert [h.rank for h in best.hits] == [1, 2]
    with pytest.raises(InvalidSetting):
        assistant.ask("粮食", 5, per_document=-1)
