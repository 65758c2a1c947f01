"""The Milvus backend through a server address: a `milvus-lite server` process here (one writer process and
readers at once, the server stopped and restarted), and a real Milvus server where QA_MILVUS_URI names one."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import write_corpus
from fakes import FakeEmbedder

pytest.importorskip("pymilvus")

from qa.answer import Assistant  # noqa: E402
from qa.errors import BackendUnavailable  # noqa: E402
from qa.index.milvus_client import connect  # noqa: E402
from qa.index.reader import IndexReader  # noqa: E402
from qa.index.store import current_build  # noqa: E402
from qa.settings import Settings, StoreSettings  # noqa: E402

from test_milvus import DOCS, MORE  # noqa: E402

WRITER = Path(__file__).with_name("writer.py")
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(folder: Path, port: int) -> subprocess.Popen:
    exe = shutil.which("milvus-lite", path=str(Path(sys.executable).parent)) or "milvus-lite"
    proc = subprocess.Popen([exe, "server", "--data-dir", str(folder), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.2)
    proc.kill()
    pytest.fail("milvus-lite server did not start")


def _write(data: Path, index: Path, uri: str, name: str, *action: str) -> dict:
    env = {**os.environ, "QA_BACKEND": "milvus", "QA_MILVUS_URI": uri, "QA_MILVUS_NAME": name}
    proc = subprocess.run([sys.executable, str(WRITER), str(data), str(index), *action], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _ask(settings: Settings, question: str) -> list[str]:
    assistant = Assistant(settings, FakeEmbedder(), IndexReader.open(settings.index_dir, settings.store), follow=False)
    try:
        return [h.passage.text for h in assistant.ask(question, k=3).hits]
    finally:
        assistant.close()


def _flow(tmp_path: Path, uri: str, name: str) -> Settings:
    """Build in another process, read here while a third process adds: what a shared library does."""
    data = write_corpus(tmp_path / "data", DOCS)
    index = tmp_path / "index"
    assert _write(data, index, uri, name, "build") == {"built": True}
    settings = Settings(data_dir=data, index_dir=index, store=StoreSettings(milvus_uri=uri, milvus_name=name))
    reader_before = IndexReader.open(index, settings.store)
    assert "经济总量稳步增长，粮食产量创历史新高。" in _ask(settings, "粮食产量")[0]
    write_corpus(tmp_path / "new", {"丁.txt": MORE})
    assert _write(data, index, uri, name, "add", str(tmp_path / "new" / "丁.txt"))["added"] == ["丁.txt"]
    assert {d["source"] for d in IndexReader.open(index, settings.store).documents()} >= {"丁.txt"}
    assert "丁.txt" not in {d["source"] for d in reader_before.documents()}  # the old reader keeps its build
    assert reader_before.keyword.search(["收购"], 5) == []
    reader_before.close()
    return settings


def test_one_writer_process_and_readers_through_a_lite_server(tmp_path):
    port = _free_port()
    server = _start(tmp_path / "server", port)
    uri = f"http://127.0.0.1:{port}"
    try:
        settings = _flow(tmp_path, uri, "speech_qa")
        serving = current_build(settings.index_dir)
        server.terminate()
        server.wait(timeout=30)
        with pytest.raises(BackendUnavailable) as down:
            reader = IndexReader.open(settings.index_dir, settings.store)
            reader.keyword.search(["粮食"], 5)
        assert down.value.details["uri"] == uri
        assert current_build(settings.index_dir) == serving  # nothing of ours changed
        server = _start(tmp_path / "server", port)  # what was flushed is still there after a restart
        assert "粮食收购价格保持稳定" in _ask(settings, "粮食收购价格")[0]
    finally:
        server.kill()


def test_a_real_milvus_server(tmp_path):
    uri = os.environ.get("QA_MILVUS_URI", "")
    if "://" not in uri:
        pytest.skip("QA_MILVUS_URI 未设置为服务器地址（如 http://127.0.0.1:19530）：跳过真实 Milvus 服务器的集成测试")
    name = f"speech_qa_test_{uuid.uuid4().hex[:8]}"
    settings = _flow(tmp_path, uri, name)
    conn = connect(StoreSettings(milvus_token=os.environ.get("QA_MILVUS_TOKEN")), uri)
    for collection in conn.call("list_collections"):  # leave the server as we found it
        if collection.startswith(f"{name}_"):
            conn.call("release_collection", collection)
            if name in conn.call("list_aliases", collection_name=collection).get("aliases", []):
                conn.call("drop_alias", name)
            conn.call("drop_collection", collection)
    assert settings.index_dir.exists()


def test_a_lite_folder_another_process_holds_is_named(tmp_path):
    held = tmp_path / "milvus.db"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom pymilvus import MilvusClient\n"
                               f"MilvusClient({str(held)!r}).list_collections()\nprint('open', flush=True)\n"
                               "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(BackendUnavailable) as busy:
            connect(StoreSettings(), str(held))
        assert busy.value.details["reason"].startswith("lite_busy: ")
    finally:
        holder.kill()
