"""Reranking: the blend of two score lists, the text the reranker reads, the stage in the search pipeline, and the
trained reranker's file checks."""
from __future__ import annotations

import json

import numpy as np
import pytest
from fakes import FakeReranker
from hypothesis import given
from hypothesis import strategies as st

from qa.answer import Assistant
from qa.errors import InvalidSetting, RerankerUnavailable
from qa.search.cross_encoder import TRAINED_DIR, read_record
from qa.search.rerank import DEFAULT_RERANKER, blend, passage_text, strip_number
from qa.search.rerankers import load_reranker
from qa.settings import Settings


def test_blend_weight_one_is_the_reranker_alone_and_zero_the_first_stage():
    first, reranked = [3.0, 2.0, 1.0], [0.1, 0.9, 0.5]
    assert blend(first, reranked, 1.0) == [1, 2, 0]
    assert blend(first, reranked, 0.0) == [0, 1, 2]


def test_blend_meets_the_two_scales_by_z_score():
    # the first stage barely prefers 0; the reranker strongly prefers 1: an even blend takes 1
    assert blend([1.01, 1.0, 0.0], [0.0, 10.0, 0.0], 0.5)[0] == 1


def test_blend_edge_cases():
    assert blend([], [], 0.7) == []
    assert blend([1.0], [5.0], 0.7) == [0]
    assert blend([2.0, 2.0, 2.0], [1.0, 1.0, 1.0], 0.5) == [0, 1, 2]  # all ties keep the first stage's order
    with pytest.raises(ValueError):
        blend([1.0, 2.0], [1.0], 0.5)


@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=40), st.floats(0, 1))
def test_blend_is_a_permutation(scores, weight):
    rng = np.random.default_rng(len(scores))
    order = blend(scores, rng.normal(size=len(scores)), weight)
    assert sorted(order) == list(range(len(scores)))


@pytest.mark.parametrize("heading, bare", [
    ("三、要强化组织建设，彰显组织优势", "要强化组织建设，彰显组织优势"),
    ("（一）要建强机关党委机关党支部", "要建强机关党委机关党支部"),
    ("第二部分　稳中求进", "稳中求进"), ("1. 稳就业", "稳就业"), ("（3）保民生", "保民生"), ("没有编号", "没有编号"),
])
def test_strip_number(heading, bare):
    assert strip_number(heading) == bare


def test_passage_text_names_the_document_year_and_heading_in_simplified():
    text = passage_text("政府工作報告", "2024-03-05", ("一、2023年工作回顧", "（一）穩增長"), "糧食產量創新高。")
    assert text == "政府工作报告（2024年）｜稳增长\n粮食产量创新高。"
    assert passage_text("讲话", None, (), "正文。") == "讲话\n正文。"


def test_the_retriever_reorders_the_best_candidates_by_the_reranker(tiny, fake):
    reranker = FakeReranker()
    assistant = Assistant(tiny.with_overrides(retrieve={"rerank_weight": 1.0}), fake, _built(tiny, fake),
                          reranker=reranker)
    try:
        question = "养老金按时足额发放了吗"
        hits = assistant.ask(question, k=3).hits
        assert len(reranker.calls) == 1 and reranker.calls[0][1] >= 2  # one call, every candidate at once
        # with weight 1 the order is the reranker's: most of the question's bigrams first
        scores = [reranker.score(question, [h.passage.text])[0] for h in hits]
        assert scores == sorted(scores, reverse=True) and "养老金" in hits[0].passage.text
    finally:
        assistant.close()


def test_no_reranker_and_other_modes_leave_the_order_alone(tiny, fake):
    reranker = FakeReranker()
    assistant = Assistant(tiny, fake, _built(tiny, fake), reranker=reranker)
    try:
        assistant.ask("粮食产量", k=2, mode="keyword")
        assistant.ask("粮食产量", k=2, mode="dense")
        assert reranker.calls == []
        assistant.ask("粮食产量", k=2)
        assert len(reranker.calls) == 1
    finally:
        assistant.close()


def test_reranker_names_are_checked_at_the_boundary():
    assert load_reranker("none") is None
    with pytest.raises(InvalidSetting) as err:
        load_reranker("no-such-reranker")
    assert DEFAULT_RERANKER in err.value.details["valid"] and "none" in err.value.details["valid"]
    with pytest.raises(InvalidSetting):
        Settings().with_overrides(retrieve={"rerank_weight": 1.5})
    with pytest.raises(InvalidSetting):
        Settings().with_overrides(retrieve={"rerank_candidates": -1})


def test_the_shipped_adapter_matches_its_record():
    record, weights = read_record()
    assert weights.stat().st_size == record["bytes"] < 8_000_000  # a few MB in the repository
    assert len(record["fixed_scores"]) >= 4 and record["training_seconds"] > 0


def test_a_damaged_or_missing_adapter_is_refused(tmp_path):
    for name in (f"{DEFAULT_RERANKER}.json", f"{DEFAULT_RERANKER}.safetensors"):
        (tmp_path / name).write_bytes((TRAINED_DIR / name).read_bytes())
    damaged = bytearray((tmp_path / f"{DEFAULT_RERANKER}.safetensors").read_bytes())
    damaged[-1] ^= 0xFF
    (tmp_path / f"{DEFAULT_RERANKER}.safetensors").write_bytes(bytes(damaged))
    with pytest.raises(RerankerUnavailable) as err:
        read_record(tmp_path)
    assert err.value.details["reason"] == "checksum"
    with pytest.raises(RerankerUnavailable) as err:
        read_record(tmp_path / "nowhere")
    assert err.value.details["reason"] == "missing"


def test_the_message_for_an_unusable_reranker_says_how_to_go_on_without_it():
    from qa.app.messages import error_message

    text = error_message(RerankerUnavailable(name=DEFAULT_RERANKER, reason="checksum"))
    assert "--no-rerank" in text and "校验值" in text
    assert "相差 0.900" in error_message(RerankerUnavailable(name=DEFAULT_RERANKER, reason="fixed_scores: 0.900"))


def _built(settings, fake):
    """The index of `settings` built, and opened for an Assistant made by hand."""
    from qa.index.reader import IndexReader

    assistant, _ = Assistant.open(settings, fake)
    assistant.close()
    return IndexReader.open(settings.index_dir)


@pytest.mark.model
def test_the_trained_reranker_loads_checked_and_prefers_the_answer(tmp_path):
    from qa.search.cross_encoder import FIXED_PAIRS, TrainedReranker

    reranker = TrainedReranker()
    scores = reranker.score(FIXED_PAIRS[0][0], [FIXED_PAIRS[1][1], FIXED_PAIRS[0][1]])
    assert scores[1] > scores[0]
    record, _ = read_record()
    assert json.dumps(record["fixed_scores"])  # and loading compared them with the engine's scores
    assert reranker.score("问题", []).shape == (0,)
