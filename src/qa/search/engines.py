"""Embedding engines for a sentence-transformers folder: OpenVINO, ONNX Runtime (int8) or torch, on the CPU."""
from __future__ import annotations

import json
import os
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from qa.settings import ENGINES  # noqa: F401 - every engine a model folder can run on

EXPORT_VERSION = "1"  # bump when the exported graphs change: engine folders are then exported again
Notify = Callable[..., None]  # notify(code, **details), put in words at the edge (messages.py)


class Runner(Protocol):
    """A loaded engine: texts (prompt already added) to L2-normalised float32 rows."""

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def cpu_flags() -> set[str]:
    """The CPU's feature flags as the kernel reports them (empty where /proc/cpuinfo does not exist)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def unsupported(engine: str) -> str | None:
    """Why this CPU or installation cannot run `engine` (cpu_without_bf16, not_installed: <package>), or None when
    it can (asks the runtimes themselves)."""
    try:
        if engine.startswith("openvino"):
            import openvino as ov

            caps = ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
            if engine == "openvino-bf16" and "BF16" not in caps:
                return "cpu_without_bf16"
        elif engine == "onnx-int8":
            import onnxruntime  # noqa: F401
        elif engine.startswith("torch"):
            import torch

            if engine == "torch-bf16" and not _torch_bf16(torch):
                return "cpu_without_bf16"
    except ImportError as exc:
        return f"not_installed: {exc.name}"
    return None


def _torch_bf16(torch) -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # a private API: fall back to the CPU flags it checks
        return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


def fingerprint(model_folder: Path) -> str:
    """Names, sizes and times of the model folder's files: an export made from other weights is made again."""
    import hashlib

    entries = sorted((str(p.relative_to(model_folder)), p.stat().st_size, p.stat().st_mtime_ns)
                     for p in Path(model_folder).rglob("*") if p.is_file())
    return hashlib.sha256(repr(entries).encode()).hexdigest()[:16]


def _exported_from(folder: Path) -> str | None:
    try:
        return json.loads((folder / "engine.json").read_text(encoding="utf-8")).get("model_fingerprint")
    except (OSError, ValueError):
        return None


def engine_folder(root: Path, engine: str) -> Path:
    """Where an engine's exported files live: openvino-* share one graph, torch-* need none."""
    kind = engine.split("-")[0]
    return Path(root) / f"{kind}-v{EXPORT_VERSION}"


def load(engine: str, model_folder: Path, root: Path, notify: Notify | None = None) -> Runner:
    """Load an engine for the model folder, exporting its graph into `root` first if needed."""
    if engine.startswith("torch"):
        return TorchRunner(model_folder, bf16=engine == "torch-bf16")
    folder = engine_folder(root, engine)
    if _exported_from(folder) != fingerprint(model_folder):  # never exported, or the model has changed since
        shutil.rmtree(folder, ignore_errors=True)
        _export(engine, model_folder, folder, notify)
    if engine.startswith("openvino"):
        return OpenVINORunner(folder, bf16=engine == "openvino-bf16")
    return OnnxRunner(folder)


class _Tokenized:
    """Pads a batch with the model's own tokenizer (the `tokenizers` library; no transformers, no torch)."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        meta = json.loads((folder / "engine.json").read_text(encoding="utf-8"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(meta["max_length"])
        self.pad_id = meta["pad_id"]

    def batch(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        encoded = self.tokenizer.encode_batch(list(texts))
        width = max(len(e.ids) for e in encoded)
        ids = np.full((len(encoded), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(encoded), width), dtype=np.int64)
        for i, e in enumerate(encoded):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = 1
        return {"input_ids": ids, "attention_mask": mask}


def _normalised(rows) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.ascontiguousarray(rows / np.maximum(norms, 1e-12))


class OpenVINORunner:
    """The exported graph compiled by OpenVINO for this CPU, in bf16 or fp32."""

    def __init__(self, folder: Path, bf16: bool) -> None:
        import openvino as ov

        # compiling (0.3 s, without the GIL) overlaps loading the tokenizer (0.6 s); compiling is faster than
        # OpenVINO's own compiled-model cache, which would also double the disk
        with ThreadPoolExecutor(max_workers=1) as pool:
            compiled = pool.submit(ov.Core().compile_model, str(folder / "model.xml"), "CPU",
                                   {"INFERENCE_PRECISION_HINT": "bf16" if bf16 else "f32", "PERFORMANCE_HINT": "LATENCY"})
            self._tok = _Tokenized(folder)
            self._model = compiled.result()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), np.float32)
        return _normalised(self._model(self._tok.batch(texts))[0])


class OnnxRunner:
    """The exported graph with int8 weights (dynamic quantisation, per channel) in ONNX Runtime."""

    def __init__(self, folder: Path) -> None:
        import onnxruntime as ort

        self._tok = _Tokenized(folder)
        options = ort.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        options.log_severity_level = 3
        self._session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), np.float32)
        return _normalised(self._session.run(None, self._tok.batch(texts))[0])


class TorchRunner:
    """sentence-transformers itself, in fp32 or with bf16 autocast (layer norms and sums stay fp32)."""

    def __init__(self, folder: Path, bf16: bool) -> None:
        self._torch, self._model = load_sentence_transformer(folder)
        self._bf16 = bf16

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), np.float32)
        with self._torch.inference_mode(), self._torch.autocast("cpu", dtype=self._torch.bfloat16,
                                                                enabled=self._bf16):
            rows = self._model.encode(list(texts), batch_size=len(texts), convert_to_numpy=False,
                                      convert_to_tensor=True, normalize_embeddings=False, show_progress_bar=False)
        return _normalised(rows.float().numpy())


def load_sentence_transformer(folder: Path):
    """(torch, the SentenceTransformer in the folder), offline and quiet."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    return torch, SentenceTransformer(str(folder), device="cpu", local_files_only=True)


def _export(engine: str, model_folder: Path, folder: Path, notify: Notify | None) -> None:
    """Trace the whole sentence-transformers pipeline (encoder, pooling, any dense layers) into a graph."""
    if notify:
        notify("exporting_engine", engine=engine)
    torch, st = load_sentence_transformer(model_folder)
    tokenizer = st.tokenizer
    wrapped = _pipeline(st, torch)
    # a padded row, so that tracing keeps the attention mask in the graph
    example = (torch.tensor([[0, 5, 6, 7, 2], [0, 5, 2, 1, 1]]), torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]))
    tmp = folder.with_name(f".tmp-{folder.name}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        _quiet_export()
        if engine.startswith("openvino"):
            import openvino as ov

            graph = ov.convert_model(wrapped, example_input=example)
            ov.save_model(graph, str(tmp / "model.xml"), compress_to_fp16=True)  # weights stored as fp16; compiled to bf16 or fp32
        else:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            with torch.inference_mode():
                torch.onnx.export(
                    wrapped, example, str(tmp / "fp32.onnx"), input_names=["input_ids", "attention_mask"],
                    output_names=["embedding"], opset_version=17, dynamo=False,
                    dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                                  "embedding": {0: "batch"}},
                )
            # per-channel int8 matrices only: per-tensor scales or a quantised embedding table lose too much
            quantize_dynamic(str(tmp / "fp32.onnx"), str(tmp / "model.onnx"), weight_type=QuantType.QInt8,
                             per_channel=True, op_types_to_quantize=["MatMul"])
            (tmp / "fp32.onnx").unlink()
        tokenizer.backend_tokenizer.save(str(tmp / "tokenizer.json"))
        meta = {"engine_kind": engine.split("-")[0], "export_version": EXPORT_VERSION,
                "max_length": int(st.max_seq_length or 512), "pad_id": int(tokenizer.pad_token_id or 0),
                "model_folder": str(model_folder), "model_fingerprint": fingerprint(model_folder)}
        (tmp / "engine.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
        try:
            os.replace(tmp, folder)
        except OSError:  # exported meanwhile by another process
            if _exported_from(folder) != meta["model_fingerprint"]:
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _quiet_export() -> None:
    """Tracing warns about branches fixed at trace time (checked: the graph keeps the mask); keep the terminal clean."""
    import logging
    import warnings

    warnings.filterwarnings("ignore", module=r"(torch|transformers|sentence_transformers)(\..*)?")
    # torch 2.13 still has the TorchScript exporter; the newer one needs onnxscript and gives the same graph here
    warnings.filterwarnings("ignore", message=".*legacy TorchScript-based ONNX export.*")
    logging.getLogger().setLevel(logging.ERROR)  # onnxruntime's quantiser logs advice through the root logger


def _pipeline(st, torch):
    """The SentenceTransformer as a module of (input_ids, attention_mask) -> sentence embedding, for tracing."""

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, input_ids, attention_mask):
            return self.st({"input_ids": input_ids, "attention_mask": attention_mask})["sentence_embedding"]

    return Pipeline().eval()
