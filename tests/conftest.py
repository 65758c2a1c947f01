"""Shared fixtures: the seed speech, tiny Chinese corpora, a fake embedder and one real index."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fakes import FakeEmbedder, FakeReranker  # noqa: E402

from qa.search.embed import register_embedder  # noqa: E402
from qa.search.rerank import DEFAULT_RERANKER  # noqa: E402
from qa.search.rerankers import register_reranker  # noqa: E402
from qa.settings import Settings  # noqa: E402

register_embedder("fake-bigram", FakeEmbedder)  # `--model fake-bigram`: the CLI in-process without the model
register_reranker("fake-rerank", FakeReranker)  # `--reranker fake-rerank`: exact scores, no model
# In this process `--rerank` (the trained reranker's name) gives the fake too: the trained one merges and exports a
# model on first use, not for the fast layer. test_rerank.py's model test and subprocesses run the real one.
register_reranker(DEFAULT_RERANKER, FakeReranker)

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "data" / "在2024年机关党建工作质量提升推进会上的讲话稿.txt"
SHARED = ROOT.parent / "shared" / "data"

TINY = {
    "甲讲话.txt": "甲讲话\n\n同志们：\n\n今天召开会议。\n\n一、加强学习\n\n学习是进步的阶梯。我们要多读书。\n\n"
    "（一）读原著。原著要精读，要反复读。\n\n二、改进作风\n\n作风建设永远在路上。\n",
    "乙报告.txt": "乙报告\n\n一、经济发展\n\n经济总量稳步增长，粮食产量创历史新高。\n\n"
    "二、民生保障\n\n就业形势总体稳定。养老金按时足额发放。\n",
}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_app(root: Path, files: dict[str, str]):
    """The browser app and its HTTP routes over these files (the fake embedder), in this process: yields its URL."""
    from qa.answer import Assistant
    from qa.app import api
    from qa.app.ui import build_app

    write_corpus(root / "data", files)
    assistant, _ = Assistant.open(Settings(data_dir=root / "data", index_dir=root / "index"), FakeEmbedder())
    app = build_app(assistant)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    api.add_routes(app.app, assistant)
    yield f"http://127.0.0.1:{port}/"
    app.close()
    assistant.close()


@pytest.fixture
def fake():
    return FakeEmbedder()


def write_corpus(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def tiny(tmp_path) -> Settings:
    """Settings over a tiny two-document corpus in a temporary folder."""
    write_corpus(tmp_path / "data", TINY)
    return Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def bundled_folder():
    """The bundled model converted to a sentence-transformers folder (in the user's cache: made once)."""
    from qa.search.bundled import ensure_folder
    from qa.settings import default_cache_dir

    return ensure_folder(default_cache_dir())


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory):
    """The seed speech indexed once with the real bundled model: (settings, assistant)."""
    from qa.answer import Assistant

    root = tmp_path_factory.mktemp("seed")
    (root / "data").mkdir()
    shutil.copy(SEED, root / "data" / SEED.name)
    settings = Settings(data_dir=root / "data", index_dir=root / "index")
    assistant, _ = Assistant.open(settings)
    yield settings, assistant
    assistant.close()


@pytest.fixture
def seed_copy(seed_index, tmp_path) -> Settings:
    """A copy of the seed's data and real index that a test may change."""
    settings, _ = seed_index
    shutil.copytree(settings.data_dir, tmp_path / "data")
    shutil.copytree(settings.index_dir, tmp_path / "index")
    return Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "index")


@pytest.fixture(scope="session")
def qa_command() -> str:
    """The installed console script: CLI tests go through the real entry point."""
    exe = Path(sys.executable).parent / ("qa.exe" if os.name == "nt" else "qa")
    found = str(exe) if exe.exists() else shutil.which("qa")
    if not found:
        pytest.fail("the qa console script is not installed (run make install)")
    return found

# Three years of a city's work reports and a speech, written for the trace tests: a formulation that grows
# (稳中求进 → 稳中求进的工作总基调 → 稳中求进工作总基调), a growth target whose figure changes, a review of the past year
TRACE_CORPUS = {
    "2022年市政府工作报告.txt": "2022年市政府工作报告\n（2022年1月10日）\n各位代表：\n一、2021年工作回顾\n"
    "过去一年，全市经济增长8%，超过预期目标。我们坚持稳中求进，经济运行总体平稳。\n二、2022年主要目标\n"
    "今年全市经济增长预期目标为6%左右。要坚持稳中求进，推动高质量发展。\n",
    "2023年市政府工作报告.txt": "2023年市政府工作报告\n（2023年1月12日）\n各位代表：\n一、2022年工作回顾\n"
    "过去一年，全市经济增长5%，低于6%左右的预期目标。\n二、2023年主要目标\n"
    "今年经济社会发展的主要预期目标是：\n全市生产总值增长5.5%左右，城镇新增就业3万人。\n要坚持稳中求进的工作总基调，推动高质量发展。\n",
    "2024年市政府工作报告.txt": "2024年市政府工作报告\n（2024年1月15日）\n各位代表：\n一、2023年工作回顾\n"
    "过去一年，全市经济增长5.2%。\n二、2024年主要目标\n今年全市经济增长预期目标为5%左右。"
    "要坚持稳中求进工作总基调，加快发展新质生产力。\n",
    "在2023年全市干部大会上的讲话.txt": "在2023年全市干部大会上的讲话\n（2023年6月1日）\n同志们：\n"
    "今天召开全市干部大会。全市上下要坚持稳中求进工作总基调，推动高质量发展。\n",
}
