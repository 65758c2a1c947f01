"""Evaluation through the product's own path: JSONL passages in, recall and quote@1 out."""
from __future__ import annotations

import json

import pytest

from qa.answer import Assistant
from qa.errors import BadQuestionFile
from qa.evaluate import evaluate, load_questions, normalise
from qa.index.indexer import sync
from qa.index.reader import IndexReader
from qa.settings import Settings

PASSAGES = [
    {"id": "A_0", "title": "长江", "text": "长江是中国第一长河。全长约六千三百公里。"},
    {"id": "A_1", "title": "长江", "text": "长江流域人口众多，经济发达。"},
    {"id": "B_0", "title": "黄河", "text": "黄河是中华民族的母亲河。全长约五千四百公里。"},
]


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def jsonl_index(tmp_path, fake):
    settings = Settings(data_dir=write_jsonl(tmp_path / "passages.jsonl", PASSAGES), index_dir=tmp_path / "index")
    sync(settings, fake)
    return settings


def test_jsonl_passages_keep_their_ids_and_titles(jsonl_index):
    reader = IndexReader.open(jsonl_index.index_dir)
    passages = reader.passages_of("passages.jsonl")
    assert [(p.passage_id, p.title, p.paragraph) for p in passages] == [("A_0", "长江", 1), ("A_1", "长江", 2), ("B_0", "黄河", 1)]
    assert reader.manifest.data_source.endswith("passages.jsonl")
    assert [d["title"] for d in reader.manifest.documents["passages.jsonl"]["documents"]] == ["长江", "黄河"]


def test_metrics_by_passage_ids_and_by_phrases(jsonl_index, fake, tmp_path):
    questions = write_jsonl(tmp_path / "q.jsonl", [
        {"question": "黄河全长多少公里", "gold_passage_ids": ["B_0"], "answers": ["五千四百公里"]},
        {"question": "长江流域的经济", "gold": ["经济发达"]},
        {"question": "长江流域的经济", "gold": ["经济发达"], "doc": "黄河"},  # wrong document: never relevant
    ])
    assistant, _ = Assistant.open(jsonl_index, embedder=fake, update=False)
    report = evaluate(assistant, load_questions(questions), k=3)
    ranks = [o.rank for o in report.outcomes]
    assert ranks[0] == 1 and ranks[1] == 1 and ranks[2] is None
    assert report.recall[1] == pytest.approx(2 / 3) and set(report.recall) == {1, 3}
    assert report.mrr == pytest.approx(2 / 3)
    assert [o.quote_ok for o in report.outcomes] == [True, True, False]
    assert report.failures[0].question.doc == "黄河"


def test_a_blank_question_counts_as_a_miss_and_the_rest_still_run(jsonl_index, fake, tmp_path):
    questions = write_jsonl(tmp_path / "q.jsonl", [
        {"question": "", "gold_passage_ids": ["B_0"], "answers": ["五千四百公里"]},
        {"question": "黄河全长多少公里", "gold_passage_ids": ["B_0"]},
    ])
    assistant, _ = Assistant.open(jsonl_index, embedder=fake, update=False)
    report = evaluate(assistant, load_questions(questions), k=3, mode="keyword")
    assert [o.rank for o in report.outcomes] == [None, 1] and report.outcomes[0].quote_ok is False


def test_bad_question_files(tmp_path):
    with pytest.raises(BadQuestionFile) as info:
        load_questions(write_jsonl(tmp_path / "a.jsonl", [{"question": "只有问题"}]))
    assert info.value.details == {"path": str(tmp_path / "a.jsonl"), "line": 1, "reason": "no_gold"}
    (tmp_path / "b.jsonl").write_text('{"question": "好", "gold": ["好"]}\nnot json\n', encoding="utf-8")
    with pytest.raises(BadQuestionFile) as info:
        load_questions(tmp_path / "b.jsonl")
    assert info.value.details["line"] == 2


def test_bad_jsonl_passages_are_rejected_with_the_line(tmp_path, fake):
    path = tmp_path / "p.jsonl"
    path.write_text('{"id": "1", "title": "t", "text": "甲。"}\n{"id": "1", "title": "t", "text": "乙。"}\n', encoding="utf-8")
    report = sync(Settings(data_dir=path, index_dir=tmp_path / "index"), fake)
    assert report.rejected == (("p.jsonl", {"reason": "duplicate_id", "line": 2}),)


def test_normalise_folds_widths_and_spaces():
    assert normalise("ＧＤＰ 增长，５％") == normalise("GDP增长,5%")


def test_figures_per_kind_of_question(tiny, fake, tmp_path):
    from qa.answer import Assistant
    from qa.evaluate import evaluate, load_questions

    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "粮食产量", "gold": ["粮食产量创历史新高"], "category": "outcome"}\n'
                    '{"question": "作风建设", "gold": ["作风建设永远在路上"], "category": "definition", '
                    '"as_of": "2024-03-05"}\n'
                    '{"question": "不存在的问题", "gold": ["没有这句话"], "category": "definition"}\n', encoding="utf-8")
    questions = load_questions(path)
    assert questions[1].as_of == "2024-03-05" and questions[0].category == "outcome"
    assistant, _ = Assistant.open(tiny, fake)
    kinds = evaluate(assistant, questions, k=3).summary(mode="hybrid", model="fake")["by_category"]
    assistant.close()
    assert kinds["outcome"] == {"questions": 1, "R@1": 1.0, "R@3": 1.0, "quote@1": 1.0}
    assert kinds["definition"]["questions"] == 2 and kinds["definition"]["R@1"] == 0.5
