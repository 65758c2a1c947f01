"""Late interaction measured against the reranker (issue 19): token-level MaxSim with the bundled encoder itself —
the question's token states against each candidate's, each question token taking its best match, averaged — as a
replay over the first stage's candidates, like scripts/tune_rerank.py.

    .venv/bin/python scripts/late_interaction.py --index /tmp/speech-index eval/speech_dev.jsonl [--layers 12]

Measurement only: nothing of it is in the product (it would need every passage's token vectors at index time, or
a full encoder pass over the candidates per question, timed here)."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tune_rerank import figures  # noqa: E402

from qa.answer import Assistant  # noqa: E402
from qa.evaluate import answers, load_questions  # noqa: E402
from qa.search.bundled import ensure_folder  # noqa: E402
from qa.search.tokens import simplified  # noqa: E402
from qa.search.when import as_of_year  # noqa: E402
from qa.settings import Settings, default_cache_dir  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("questions", nargs="+", type=Path)
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--candidates", type=int, default=20)
    args = ap.parse_args()
    import torch
    from tokenizers import Tokenizer
    from transformers import XLMRobertaModel

    folder = ensure_folder(default_cache_dir())
    model = XLMRobertaModel.from_pretrained(str(folder), add_pooling_layer=False, local_files_only=True).eval()
    model.encoder.layer = model.encoder.layer[: args.layers]
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(160)

    def states(texts: list[str]) -> list[np.ndarray]:
        encoded = tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encoded)
        ids = torch.ones((len(texts), width), dtype=torch.long)
        mask = torch.zeros((len(texts), width), dtype=torch.long)
        for i, e in enumerate(encoded):
            ids[i, : len(e.ids)] = torch.tensor(e.ids)
            mask[i, : len(e.ids)] = 1
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
            out = model(input_ids=ids, attention_mask=mask).last_hidden_state.float()
        out = torch.nn.functional.normalize(out, dim=-1).numpy()
        return [out[i, 1 : int(mask[i].sum()) - 1] for i in range(len(texts))]  # without <s> and </s>

    assistant, _ = Assistant.open(Settings(index_dir=args.index).with_overrides(retrieve={"reranker": "none"}),
                                  update=False)
    for path in args.questions:
        rows, spent = [], []
        with assistant.serving() as (index, retriever):
            for q in load_questions(path):
                found = retriever.search(q.question, args.candidates, as_of=as_of_year(q.as_of), rerank=False)
                passages = index.passages([c.row for c in found])
                t = time.perf_counter()
                query = states(["query: " + simplified(q.question)])[0]
                docs = states(["passage: " + simplified(p.text) for p in passages])
                scores = [float((query @ d.T).max(axis=1).mean()) for d in docs]
                spent.append(time.perf_counter() - t)
                rows.append(([answers(p, q) for p in passages], [c.score for c in found], scores))
        print(f"{path.name}: {len(rows)} questions; MaxSim over {args.candidates} candidates, {args.layers} layers: "
              f"{1000 * float(np.median(spent)):.0f} ms median")
        for w in (0.0, 0.3, 0.5, 0.7, 1.0):
            r1, r3, mrr = figures(rows, args.candidates, w)
            print(f"  weight {w:.2f}: R@1 {r1:.4f} R@3 {r3:.4f} MRR@10 {mrr:.4f}")
    assistant.close()


if __name__ == "__main__":
    main()
