"""The reranker trained here (scripts/train_reranker.py): its adapter file checked, merged into the bundled weights,
exported once for OpenVINO, checked against its recorded scores, then run in bf16 where the CPU has it, else fp32."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from qa.errors import RerankerUnavailable
from qa.search.cross_encoder_net import NetShape, encode_pairs, pair_tokenizer
from qa.search.rerank import DEFAULT_RERANKER, passage_text, question_text
from qa.settings import default_cache_dir

TRAINED_DIR = Path(__file__).resolve().parent / "trained"
EXPORT_VERSION = "1"
# Pairs written for this check (not from any corpus): loading scores them and compares with the training record,
# so a wrong base model, a damaged file or a broken export is refused, never used.
FIXED_PAIRS = (
    ("今年粮食产量是多少？", passage_text("政府工作报告", "2024-03-05", ("一、2023年工作回顾",),
                                     "粮食产量1.39万亿斤，再创历史新高。")),
    ("今年粮食产量是多少？", passage_text("政府工作报告", "2024-03-05", ("三、2024年政府工作任务",),
                                     "加强生态文明建设，推进绿色低碳发展。")),
    ("怎样加强基层党组织建设？", passage_text("在机关党建工作会议上的讲话", "2024-05-10", ("三、强化组织建设",),
                                        "要把党支部建设成为坚强战斗堡垒，选优配强支部书记，严格党的组织生活。")),
    ("怎样加强基层党组织建设？", passage_text("在机关党建工作会议上的讲话", "2024-05-10", ("一、提高政治站位",),
                                        "同志们，今天召开这次会议，主要任务是总结去年工作。")),
)
# bf16 rounds activations: recorded fp32 scores are met within this (logits are of order 1–10)
TOLERANCE = {"bf16": 0.35, "f32": 0.02}


def score_pairs(model, torch, tokenizer, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
    """Scores of (question, passage) pairs by the torch network in fp32 (training's record of fixed scores)."""
    out = []
    with torch.inference_mode():
        for question, passage in pairs:
            enc = encode_pairs(tokenizer, question_text(question), [passage])
            out.append(float(model(torch.from_numpy(enc["input_ids"]), torch.from_numpy(enc["attention_mask"]))[0]))
    return np.asarray(out, np.float32)


def read_record(folder: Path = TRAINED_DIR, name: str = DEFAULT_RERANKER) -> tuple[dict, Path]:
    """(the training record, the adapter file) after checking the file's sha256 against the record."""
    record_path, weights = folder / f"{name}.json", folder / f"{name}.safetensors"
    if not record_path.exists() or not weights.exists():
        raise RerankerUnavailable(name=name, reason="missing")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    if hashlib.sha256(weights.read_bytes()).hexdigest() != record["sha256"]:
        raise RerankerUnavailable(name=name, reason="checksum")
    return record, weights


class TrainedReranker:
    """Cross-encoder scores of (question, passage) pairs; exported and checked on first use, then kept loaded."""

    name = DEFAULT_RERANKER

    def __init__(self, cache_dir: Path | None = None, notify: Callable[..., None] | None = None,
                 precision: str | None = None, folder: Path = TRAINED_DIR) -> None:
        self.cache_dir = Path(cache_dir or default_cache_dir())
        self._notify = notify
        self._folder = folder
        self.precision = precision  # None: bf16 where the CPU has it, else f32
        self._model = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def prepare(self) -> None:
        with self._lock:
            if self._model is None:
                self._load()

    def score(self, question: str, passages: Sequence[str]) -> np.ndarray:
        if not passages:
            return np.zeros(0, np.float32)
        self.prepare()
        enc = encode_pairs(self._tokenizer, question_text(question), list(passages))
        with self._lock:  # one inference request at a time per compiled model
            return np.asarray(self._model(enc)[0], np.float32).reshape(-1)

    def _load(self) -> None:
        import openvino as ov

        from qa.search.engines import unsupported

        record, weights = read_record(self._folder, self.name)
        shape = NetShape.from_json(record)
        exported = self._export(record, weights, shape)
        precision = self.precision or ("f32" if unsupported("openvino-bf16") else "bf16")
        model = ov.Core().compile_model(str(exported / "model.xml"), "CPU",
                                        {"INFERENCE_PRECISION_HINT": precision, "PERFORMANCE_HINT": "LATENCY"})
        tokenizer = pair_tokenizer(exported, shape.max_length)
        got = []
        for question, passage in FIXED_PAIRS:
            got.append(float(np.asarray(model(encode_pairs(tokenizer, question_text(question), [passage]))[0])[0]))
        worst = float(np.max(np.abs(np.asarray(got) - np.asarray(record["fixed_scores"]))))
        if worst > TOLERANCE[precision]:
            raise RerankerUnavailable(name=self.name, reason=f"fixed_scores: {worst:.3f}")
        self._model, self._tokenizer, self.precision = model, tokenizer, precision

    def _export(self, record: dict, weights: Path, shape: NetShape) -> Path:
        """The merged network as an OpenVINO graph in the cache (made once per adapter file)."""
        target = self.cache_dir / "engines" / f"{self.name}-{record['sha256'][:12]}-v{EXPORT_VERSION}"
        if (target / "model.xml").exists():
            return target
        if self._notify:
            self._notify("preparing_reranker")
        from qa.search.bundled import ensure_folder

        base = ensure_folder(self.cache_dir, self._notify)
        tmp = target.with_name(f".tmp-{target.name}-{uuid.uuid4().hex[:8]}")
        tmp.mkdir(parents=True)
        try:
            _write_graph(base, weights, shape, tmp)
            try:
                os.replace(tmp, target)
            except OSError:  # exported meanwhile by another process
                if not (target / "model.xml").exists():
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return target


def _write_graph(base: Path, weights: Path, shape: NetShape, out: Path) -> None:
    import openvino as ov
    from safetensors.numpy import load_file

    from qa.search.cross_encoder_net import build, load_trained
    from qa.search.engines import _quiet_export

    _quiet_export()
    torch, model = build(base, shape)
    load_trained(model, load_file(str(weights)))
    model.merge()
    model.eval()
    example = (torch.tensor([[0, 5, 6, 7, 2], [0, 5, 2, 1, 1]]), torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]))
    with torch.inference_mode():
        graph = ov.convert_model(model, example_input=example)
    ov.save_model(graph, str(out / "model.xml"), compress_to_fp16=False)
    shutil.copy(base / "tokenizer.json", out / "tokenizer.json")
