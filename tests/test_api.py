"""The HTTP API through gradio_client and plain HTTP: JSON answers with optional arguments really optional."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import free_port

from qa.answer import Assistant
from qa.app import api
from qa.app.ui import build_app


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from conftest import TINY, serve_app

    yield from serve_app(tmp_path_factory.mktemp("api"), TINY)


def test_ask_through_gradio_client_returns_the_cli_objects(served):
    from gradio_client import Client

    client = Client(served, verbose=False)
    answer = client.predict("粮食产量", api_name="/ask")  # every other argument left out
    top = answer["hits"][0]
    assert top["title"] == "乙报告" and top["quote"] == "经济总量稳步增长，粮食产量创历史新高。"
    assert top["text"][top["quote_start"]:top["quote_end"]] == top["quote"]
    assert set(top) >= {"rank", "citation", "citation_line", "section_path", "paragraph", "confidence"}
    assert "confident" in answer
    one = client.predict("学习 作风 就业", 5, "", "", "", 1, api_name="/ask")
    assert len({h["title"] for h in one["hits"]}) == len(one["hits"])
    quotes = client.predict("学习", api_name="/quotes")
    assert quotes["hits"] and all("学习" in h["quote"] for h in quotes["hits"])
    documents = client.predict(api_name="/documents")
    assert sorted(d["title"] for d in documents) == ["乙报告", "甲讲话"] and documents[0]["status"] == "indexed"
    follow = client.predict("为什么？", history=["粮食产量"], api_name="/ask")
    assert follow["searched"] == "粮食产量，为什么？" and follow["hits"][0]["title"] == "乙报告"
    bad = client.predict("粮食", 0, "", "20x", api_name="/ask")
    assert bad["error"]["code"] == "invalid_setting" and "YYYY" in bad["error"]["message"]


def test_ask_over_plain_http(served):
    """What the README's curl examples do: only the question is needed; errors come back as JSON too."""
    def get(path):
        with urllib.request.urlopen(served + path, timeout=30) as response:
            return json.loads(response.read().decode("utf-8"))

    answer = get("api/ask?question=" + urllib.parse.quote("粮食产量"))
    assert answer["hits"][0]["citation"] == "《乙报告》 › 一、经济发展 · 第1段" and len(answer["hits"]) == 5
    assert len(get("api/ask?k=1&question=" + urllib.parse.quote("粮食产量"))["hits"]) == 1
    assert get("api/quotes?theme=" + urllib.parse.quote("学习"))["hits"]
    after = get("api/ask?question=" + urllib.parse.quote("为什么？") + "&after=" + urllib.parse.quote("粮食产量"))
    assert after["searched"] == "粮食产量，为什么？"
    assert {d["source"] for d in get("api/documents")} == {"甲讲话.txt", "乙报告.txt"}
    assert get("api/ask?question=%20")["error"]["code"] == "empty_question"
    assert get("api/ask?k=500&question=" + urllib.parse.quote("粮食"))["error"]["message"].find("1–100") >= 0


def test_a_citation_opens_the_whole_document_at_its_paragraph(served):
    answer = json.loads(urllib.request.urlopen(served + "api/ask?k=1&question=" + urllib.parse.quote("粮食产量"),
                                               timeout=30).read())
    top = answer["hits"][0]
    url = (f"{served}doc/{top['doc_id']}?p={top['passage_id']}&s={top['quote_start']}&e={top['quote_end']}")
    page = urllib.request.urlopen(url, timeout=30).read().decode("utf-8")
    assert "<title>《乙报告》</title>" in page and '<a href="#s1"' in page and "一、经济发展" in page
    assert f'class="para cited" id="p-{top["passage_id"]}"' in page
    assert "<mark>经济总量稳步增长，粮食产量创历史新高。</mark>" in page and "就业形势总体稳定" in page
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(served + "doc/nope", timeout=30)
    assert missing.value.code == 404


def test_behind_a_login_the_routes_need_the_session_cookie():
    from types import SimpleNamespace

    server = SimpleNamespace(auth=[("张三", "口令")], cookie_id="abc", tokens={"t1": "张三"})
    assert not api.signed_in(server, SimpleNamespace(cookies={}))
    assert not api.signed_in(server, SimpleNamespace(cookies={"access-token-abc": "forged"}))
    assert api.signed_in(server, SimpleNamespace(cookies={"access-token-abc": "t1"}))
    assert api.signed_in(server, SimpleNamespace(cookies={"access-token-unsecure-abc": "t1"}))
    assert api.signed_in(SimpleNamespace(auth=None), SimpleNamespace(cookies={}))


def test_a_real_login_opens_the_routes(tmp_path):
    import http.cookiejar

    from conftest import TINY, write_corpus
    from fakes import FakeEmbedder

    from qa.settings import Settings

    write_corpus(tmp_path / "data", TINY)
    assistant, _ = Assistant.open(Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "index"), FakeEmbedder())
    app = build_app(assistant)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, auth=("张三", "口令"))
    api.add_routes(app.app, assistant)
    url = f"http://127.0.0.1:{port}/"
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url + "api/documents", timeout=30)
        assert refused.value.code == 401 and "login_required" in refused.value.read().decode("utf-8")
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        form = urllib.parse.urlencode({"username": "张三", "password": "口令"}).encode()
        opener.open(url + "login", data=form, timeout=30)
        documents = json.loads(opener.open(url + "api/documents", timeout=30).read())
        assert len(documents) == 2
    finally:
        app.close()
        assistant.close()


@pytest.fixture
def writable(tmp_path, monkeypatch):
    """An app that may write, with its own uploads folder (Gradio keeps uploads where GRADIO_TEMP_DIR says)."""
    from conftest import TINY, write_corpus
    from fakes import FakeEmbedder

    from qa.app.library_tab import Library
    from qa.settings import Settings

    uploads = tmp_path / "uploads"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(uploads))
    write_corpus(tmp_path / "data", TINY)
    assistant, _ = Assistant.open(Settings(data_dir=tmp_path / "data", index_dir=tmp_path / "index"), FakeEmbedder())
    library = Library(assistant, uploads)
    app = build_app(assistant, uploads=uploads, library=library)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    api.add_routes(app.app, assistant, library)
    yield f"http://127.0.0.1:{port}/", library
    app.close()
    assistant.close()


def test_add_through_gradio_client_and_plain_http(writable, tmp_path):
    import httpx
    from gradio_client import Client, handle_file

    url, library = writable
    speech = tmp_path / "丙讲话.txt"
    speech.write_text("丙讲话\n\n一、抓好春耕\n\n春耕备耕要早谋划、早部署。\n", encoding="utf-8")
    added = Client(url, verbose=False).predict([handle_file(str(speech))], api_name="/add")
    assert added["added"] == ["丙讲话.txt"] and added["index"]["documents"] == 3
    assert added["messages"][0] == "已添加「丙讲话.txt」。"
    assert not list(library.uploads.rglob("丙讲话.txt"))  # the server's temporary copy is gone

    other = "丁讲话\n\n一、防汛\n\n防汛抗旱责任重大。\n".encode("utf-8")
    sent = httpx.post(url + "api/add", files=[("files", ("丁讲话.txt", other, "text/plain")),
                                              ("files", ("乱码.txt", "日本語".encode("shift_jis"), "text/plain"))],
                      timeout=60).json()
    assert sent["added"] == ["丁讲话.txt"] and sent["rejected"][0]["file"] == "乱码.txt"
    assert "乱码.txt" in sent["messages"][-2] or any("乱码.txt" in line for line in sent["messages"])
    assert {d["source"] for d in httpx.get(url + "api/documents", timeout=30).json()} >= {"丙讲话.txt", "丁讲话.txt"}


def test_add_refuses_a_path_that_was_not_uploaded(writable, tmp_path):
    _, library = writable
    own = tmp_path / "secret.txt"
    own.write_text("服务器自己的文件\n", encoding="utf-8")
    refused = api.add(library, [str(own)])
    assert refused["error"]["code"] == "not_an_upload" and "上传" in refused["error"]["message"]
    assert own.exists() and api.add(library, [])["error"]["code"] == "nothing_uploaded"


def test_check_through_gradio_client_and_plain_http(served):
    import httpx
    from gradio_client import Client

    draft = "会议强调：“经济总量稳步增长，粮食产量创历史新高。”有人说：“粮食产量创了新高。”"
    report = Client(served, verbose=False).predict(draft, api_name="/check")
    first, second = report["quotations"]
    assert first["verdict"] == "exact" and first["best_source"]["citation"] == "《乙报告》 › 一、经济发展 · 第1段"
    assert report["draft"][first["start"]:first["end"]] == first["span"]
    assert second["verdict"] in ("altered", "not_found") and report["counts"]["exact"] == 1
    got = httpx.get(served + "api/check", params={"draft": draft}, timeout=30).json()
    assert [q["verdict"] for q in got["quotations"]] == [first["verdict"], second["verdict"]]
    posted = httpx.post(served + "api/check", files={"file": ("稿子.txt", draft.encode("gbk"), "text/plain")},
                        timeout=30).json()
    assert posted["quotations"][0]["verdict"] == "exact"  # a GBK file is read as such
    raw = httpx.post(served + "api/check", content=draft.encode("utf-8"), timeout=30).json()
    assert raw["counts"] == got["counts"]
    assert httpx.get(served + "api/check", params={"draft": " "}, timeout=30).json()["error"]["code"] == "empty_draft"
    huge = httpx.post(served + "api/check", content=b"x" * (51 * 2**20), timeout=60).json()
    assert huge["error"]["code"] == "too_large" and "50 MB" in huge["error"]["message"]
