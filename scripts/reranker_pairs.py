"""Training groups for the reranker (one question, its positive passage, hard negatives), mined through the product's
own index and retriever: CMRC2018 dev and DRCD dev questions, and, from the speeches without hand labels, headings →
the paragraphs under them and sentences with words dropped → their paragraph.

Only tuning splits and public documents are read: CMRC2018 trial, DRCD test, xi_speeches and the seed never are."""
from __future__ import annotations

import json
import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from qa.answer import Assistant
from qa.search.rerank import passage_text, question_text, strip_number
from qa.search.tokens import tokenize
from qa.settings import Settings

SPEECH_COLLECTIONS = ("gov_work_reports", "npc_resolutions", "cpc_congress_reports")  # never xi_speeches
CANDIDATES = 30  # negatives come from the first stage's top 30, as the reranker will see them


@dataclass(frozen=True)
class Group:
    question: str
    positive: str
    negatives: tuple[str, ...]
    source: str  # cmrc, drcd, heading, sentence


def open_index(data: Path, index: Path) -> Assistant:
    """The product's index of `data` (a folder or a JSONL of passages), built if missing."""
    settings = Settings(data_dir=data, index_dir=index)
    assistant, _ = Assistant.open(settings, update=True)
    return assistant


def rendered(p) -> str:
    return passage_text(p.title, p.date, p.section_path, p.text)


def _grams(text: str, n: int = 4) -> set[str]:
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def near_copy(a: str, b: str) -> bool:
    """Reprints of one paragraph in several reports are not negatives of each other."""
    ga, gb = _grams(a), _grams(b)
    return bool(ga and gb) and len(ga & gb) / min(len(ga), len(gb)) > 0.5


def hard_negatives(assistant: Assistant, query: str, is_positive, count: int, rng: random.Random) -> list[str]:
    """`count` passages of the first stage's top 30 that are not positive: half from its top 10, the rest below."""
    with assistant.serving() as (index, retriever):
        found = retriever.search(query, CANDIDATES)
        passages = index.passages([c.row for c in found])
    pool = [p for p in passages if not is_positive(p)]
    top, rest = pool[:10], pool[10:]
    picked = rng.sample(top, min(len(top), count // 2 + count % 2))
    picked += rng.sample(rest, min(len(rest), count - len(picked)))
    return [rendered(p) for p in picked]


def qa_groups(data_dir: Path, work: Path, name: str, negatives: int, rng: random.Random) -> list[Group]:
    """CMRC2018 / DRCD dev: each question with its gold passage and the retriever's wrong ones."""
    assistant = open_index(data_dir / "dev_passages.jsonl", work / f"{name}-dev")
    with assistant.serving() as (index, _):
        by_id = {}
        for doc in index.documents():
            for p in index.passages_of(doc["source"]):
                by_id[p.passage_id] = p
    groups = []
    for line in (data_dir / "dev_queries.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        gold = [by_id[g] for g in row["gold_passage_ids"] if g in by_id]
        if not gold or not row["question"].strip():
            continue
        ids = {g.passage_id for g in gold}
        negs = hard_negatives(assistant, row["question"], lambda p: p.passage_id in ids, negatives, rng)
        groups.append(Group(question_text(row["question"]), rendered(gold[0]), tuple(negs), name))
    assistant.close()
    return groups


def speech_library(speeches: Path, work: Path) -> Path:
    """The public speech collections copied into one data folder (xi_speeches left out)."""
    folder = work / "speech-data"
    if not folder.exists():
        tmp = work / "speech-data.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        for name in SPEECH_COLLECTIONS:
            shutil.copytree(speeches / name, tmp / name)
        tmp.rename(folder)
    return folder


_SENTENCE_END = re.compile(r"(?<=[。！？；])")


def _year(p) -> str:
    return f"{p.date[:4]}年" if p.date and p.date[:4].isdigit() else ""


def speech_groups(speeches: Path, work: Path, negatives: int, rng: random.Random, headings: int,
                  sentences: int) -> list[Group]:
    """Without hand labels: a section heading (with its document's year half the time) → a paragraph under it;
    a sentence with a third of its words dropped → its paragraph (without that sentence half the time)."""
    assistant = open_index(speech_library(speeches, work), work / "speech-index")
    with assistant.serving() as (index, _):
        passages = [p for doc in index.documents() for p in index.passages_of(doc["source"])]
    sections: dict[tuple, list] = {}
    for p in passages:
        if p.section_path:
            sections.setdefault((p.doc_id, p.section_path), []).append(p)
    groups: list[Group] = []
    keys = sorted(sections, key=lambda k: (k[0], k[1]))
    rng.shuffle(keys)
    for key in keys:
        if len([g for g in groups if g.source == "heading"]) >= headings:
            break
        heading = strip_number(key[1][-1])
        if len(heading) < 6:
            continue
        positive = rng.choice(sections[key][:3])
        query = (_year(positive) + heading) if rng.random() < 0.5 else heading
        same = {p.passage_id for p in sections[key]}
        negs = hard_negatives(assistant, query, lambda p: p.passage_id in same or near_copy(p.text, positive.text),
                              negatives, rng)
        if negs:
            groups.append(Group(question_text(query), rendered(positive), tuple(negs), "heading"))
    order = list(range(len(passages)))
    rng.shuffle(order)
    for i in order:
        if len(groups) >= headings + sentences:
            break
        p = passages[i]
        parts = [s for s in _SENTENCE_END.split(p.text) if s]
        choices = [j for j, s in enumerate(parts) if 15 <= len(s) <= 120]
        if len(parts) < 2 or not choices:
            continue
        j = rng.choice(choices)
        words = tokenize(parts[j])
        kept = [w for w in words if rng.random() > 0.33]
        query = "".join(kept).strip("，。；！？")
        if len(query) < 8:
            continue
        rest = "".join(parts[:j] + parts[j + 1 :]) if rng.random() < 0.5 else p.text
        positive = passage_text(p.title, p.date, p.section_path, rest)
        negs = hard_negatives(assistant, query,
                              lambda c: c.passage_id == p.passage_id or near_copy(c.text, p.text), negatives, rng)
        if negs:
            groups.append(Group(question_text(query), positive, tuple(negs), "sentence"))
    assistant.close()
    return groups


def save(groups: list[Group], path: Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for g in groups:
            f.write(json.dumps({"question": g.question, "positive": g.positive, "negatives": list(g.negatives),
                                "source": g.source}, ensure_ascii=False) + "\n")


def load(path: Path) -> list[Group]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [Group(r["question"], r["positive"], tuple(r["negatives"]), r["source"]) for r in rows]
