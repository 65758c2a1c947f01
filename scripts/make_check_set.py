"""Write eval/quote_check.jsonl: quotations made from real sentences of the shared speeches (never xi_speeches:
that text is not redistributed) and the seed, in five classes, half dev and half test by sentence.

    python scripts/make_check_set.py --index /tmp/speech-index [--shared ../shared/data] [--out eval/quote_check.jsonl]
    python scripts/make_check_set.py --index /tmp/speech-index --xi-only --out /tmp/quote_check_xi.jsonl  (internal)

Classes and the verdict each expects:
  exact        the sentence as written, with no source named, or with its own source named      → exact
  traditional  the sentence in Traditional characters                                           → exact
  edited       one to three characters substituted, deleted or inserted                         → altered
  clauses      two clauses swapped, or a middle clause dropped                                  → altered
  wrong_source its year, congress or title named wrongly in the lead-in                         → wrong_source
  invented     a sentence that appears nowhere: CMRC2018 dev (Wikipedia), or stock phrases of the
               speeches joined in a new order                                                   → not_found
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from qa.check.normal import fold, trim_edges  # noqa: E402
from qa.check.sources import SourceCorpus  # noqa: E402
from qa.index.reader import IndexReader  # noqa: E402
from qa.search.tokens import tokenize  # noqa: E402

SENTENCES = 320
CONGRESS = {1997: "十五", 2002: "十六", 2007: "十七", 2012: "十八", 2017: "十九", 2022: "二十"}
NEUTRAL = ["有关文件指出：", "正如文件所强调的，", "我们常说，", "会议强调：", "文件明确提出：", "讲话指出："]
VERBS = ["坚持", "推动", "加强", "深化", "完善", "健全", "提升", "强化", "促进", "落实", "统筹", "巩固"]
# characters a writer's slip puts in place of another (common, so the edit reads naturally)
SLIPS = "的了和是在有不为与要把对以更大新好发展建设改革全面工作进一步加强提高推进"


def cjk(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff"


def split_of(text: str) -> str:
    return "dev" if int(hashlib.sha1(text.encode()).hexdigest(), 16) % 2 == 0 else "test"


def pick_sentences(index, source: SourceCorpus, rng: random.Random, xi: bool = False) -> list[dict]:
    docs = {d["doc_id"]: d for d in index.documents()}
    pool = []
    for i, passage in enumerate(source.passages):
        doc = docs[passage.doc_id]
        if doc["source"].startswith("xi_speeches/") != xi:
            continue
        for k in range(len(passage.sentences)):
            text = passage.sentence_text(k).strip()
            if not 18 <= len(text) <= 90 or text.count("，") + text.count("；") < 1 or "“" in text or "”" in text:
                continue
            if not text.endswith(("。", "；", "！")) or sum(map(cjk, text)) < 0.8 * len(text):
                continue
            pool.append((i, k, text, doc))
    rng.shuffle(pool)
    chosen, seen_docs, seen = [], {}, set()
    for i, k, text, doc in pool:
        folded = fold(text)[0]
        if folded in seen or seen_docs.get(doc["doc_id"], 0) >= 5:
            continue
        places = source.exact(folded[slice(*trim_edges(folded))])
        if len(places) > 3:  # a stock sentence in many documents says little about finding the source
            continue
        seen.add(folded)
        seen_docs[doc["doc_id"]] = seen_docs.get(doc["doc_id"], 0) + 1
        gold = sorted({source.passages[p.passage].passage_id for p in places})
        years = sorted({int(docs[source.passages[p.passage].doc_id]["date"][:4]) for p in places
                        if docs[source.passages[p.passage].doc_id].get("date")})
        chosen.append({"text": text, "source": doc["source"], "title": doc["title"], "date": doc.get("date"),
                       "occasion": doc.get("occasion"), "gold": gold, "years": years,
                       "titles": sorted({docs[source.passages[p.passage].doc_id]["title"] for p in places})})
        if len(chosen) == SENTENCES:
            break
    return chosen


def edited(text: str, rng: random.Random, source: SourceCorpus) -> tuple[str, int]:
    for _ in range(20):
        chars = list(text)
        n = rng.randint(1, 3)
        for _ in range(n):
            spots = [j for j, ch in enumerate(chars) if cjk(ch)]
            j = rng.choice(spots)
            kind = rng.choice(["sub", "del", "ins"])
            if kind == "sub":
                chars[j] = rng.choice([c for c in SLIPS if c != chars[j]])
            elif kind == "del":
                del chars[j]
            else:
                chars.insert(j, rng.choice(SLIPS))
        out = "".join(chars)
        folded = fold(out)[0]
        if out != text and not source.exact(folded[slice(*trim_edges(folded))]):
            return out, n
    return "", 0


def reordered(text: str, rng: random.Random) -> tuple[str, str]:
    end = text[-1]
    clauses = [c for c in re.split(r"[，；]", text[:-1]) if c]
    if len(clauses) >= 3 and rng.random() < 0.5:
        j = rng.randrange(1, len(clauses) - 1)
        return "，".join(clauses[:j] + clauses[j + 1 :]) + end, "dropped"
    if len(clauses) >= 2:
        a, b = rng.sample(range(len(clauses)), 2)
        clauses[a], clauses[b] = clauses[b], clauses[a]
        return "，".join(clauses) + end, "swapped"
    return "", ""


def own_source(s: dict) -> str | None:
    year = int(s["date"][:4]) if s.get("date") else None
    if "政府工作报告" in s["title"] and year:
        return f"{year}年政府工作报告指出："
    if year in CONGRESS and "全国代表大会" in (s.get("occasion") or ""):
        return f"党的{CONGRESS[year]}大报告指出："
    return f"《{s['title']}》指出："


def wrong_source(s: dict, titles: list[str], rng: random.Random) -> str | None:
    year = int(s["date"][:4]) if s.get("date") else None
    if "政府工作报告" in s["title"] and year:
        other = rng.choice([y for y in range(1990, 2025) if y not in s["years"]])
        return f"{other}年政府工作报告指出："
    if year in CONGRESS and "全国代表大会" in (s.get("occasion") or ""):
        other = rng.choice([y for y in CONGRESS if y not in s["years"]])
        return f"党的{CONGRESS[other]}大报告指出："
    if year:
        other = rng.choice([y for y in range(1990, 2025) if abs(y - year) > 1 and y not in s["years"]])
        return f"{other}年的有关文件指出："
    title = rng.choice([t for t in titles if t not in s["titles"] and len(t) > 6])
    return f"《{title}》指出："


def stock_sentences(source: SourceCorpus, rng: random.Random, n: int) -> list[str]:
    counts: dict[str, int] = {}
    for passage in source.passages[::3]:
        for word in tokenize(passage.text):
            if len(word) == 4 and all(map(cjk, word)):
                counts[word] = counts.get(word, 0) + 1
    phrases = sorted(w for w, c in counts.items() if c >= 15)
    out = []
    while len(out) < n:
        parts = [rng.choice(VERBS) + rng.choice(phrases) for _ in range(rng.randint(3, 4))]
        text = "，".join(parts) + "。"
        if not source.exact(fold(text)[0][:-1]):
            out.append(text)
    return out


def wiki_sentences(shared: Path, rng: random.Random, n: int) -> list[str]:
    sentences = []
    with open(shared / "cmrc2018" / "dev_passages.jsonl", encoding="utf-8") as f:
        for line in f:
            for s in re.findall(r"[^。！？]{18,80}[。！？]", json.loads(line)["text"]):
                if "“" not in s and "”" not in s and sum(map(cjk, s)) >= 0.8 * len(s):
                    sentences.append(s.strip())
    rng.shuffle(sentences)
    return sentences[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--shared", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("eval/quote_check.jsonl"))
    parser.add_argument("--xi-only", action="store_true",
                        help="sentences of xi_speeches only, for internal evaluation: written outside the repository")
    args = parser.parse_args()
    repository = Path(__file__).resolve().parents[1]
    if args.xi_only and args.out.resolve().is_relative_to(repository):
        parser.error("xi_speeches text is never written into the repository: give --out outside it")
    rng = random.Random(13)
    index = IndexReader.open(args.index)
    rows = [r for r in range(int(index.offsets[-1])) if index.live[r]]
    source = SourceCorpus(index.passages(rows))
    titles = sorted({d["title"] for d in index.documents() if not d["source"].startswith("xi_speeches/")})
    import opencc

    to_traditional = opencc.OpenCC("s2t")
    items = []
    for n, s in enumerate(pick_sentences(index, source, rng, args.xi_only)):
        split = split_of(s["text"])
        base = {"split": split, "source": s["source"], "gold": s["gold"]}
        items.append({**base, "class": "exact", "lead_in": rng.choice(NEUTRAL), "quote": s["text"], "expect": "exact"})
        if n % 2 == 0:
            items.append({**base, "class": "exact", "lead_in": own_source(s), "quote": s["text"], "expect": "exact",
                          "note": "own source named"})
        if n % 4 == 1:
            items.append({**base, "class": "traditional", "lead_in": rng.choice(NEUTRAL),
                          "quote": to_traditional.convert(s["text"]), "expect": "exact"})
        text, edits = edited(s["text"], rng, source)
        if text:
            items.append({**base, "class": "edited", "lead_in": rng.choice(NEUTRAL), "quote": text,
                          "expect": "altered", "note": f"{edits} edit(s)"})
        text, how = reordered(s["text"], rng)
        if text:
            items.append({**base, "class": "clauses", "lead_in": rng.choice(NEUTRAL), "quote": text,
                          "expect": "altered", "note": how})
        lead = wrong_source(s, titles, rng)
        if lead:
            items.append({**base, "class": "wrong_source", "lead_in": lead, "quote": s["text"],
                          "expect": "wrong_source"})
    invented = [] if args.xi_only else wiki_sentences(args.shared, rng, 160) + stock_sentences(source, rng, 160)
    for k, text in enumerate(invented):
        items.append({"split": split_of(text), "source": None, "gold": [], "class": "invented",
                      "lead_in": rng.choice(NEUTRAL), "quote": text, "expect": "not_found",
                      "note": "CMRC2018 dev" if k < 160 else "stock phrases"})
    with open(args.out, "w", encoding="utf-8") as out:
        for item in items:
            out.write(json.dumps(item, ensure_ascii=False) + "\n")
    counts = {}
    for item in items:
        counts[item["class"]] = counts.get(item["class"], 0) + 1
    print(len(items), counts, file=sys.stderr)


if __name__ == "__main__":
    main()
