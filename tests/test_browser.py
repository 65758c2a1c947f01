"""A real browser (Playwright driving Debian's Chromium) asks the running app a question."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.model]

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]


def _need_browser():
    reason = None
    if not CHROMIUM.exists():
        reason = "Debian's chromium is not installed (scripts/install-browser)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed"
    if reason:
        if os.environ.get("QA_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(seed_copy, tmp_path):
    yield from _app(seed_copy, tmp_path)


@pytest.fixture
def milvus_app_url(seed_copy, tmp_path):
    """The app on the Milvus backend (Milvus Lite in the index folder): it moves the seed index there at start."""
    yield from _app(seed_copy, tmp_path, "--backend", "milvus")


@pytest.fixture
def trace_app_url(seed_copy, tmp_path):
    """The app over the seed and three years of a city's work reports (conftest.TRACE_CORPUS)."""
    from conftest import TRACE_CORPUS, write_corpus

    write_corpus(seed_copy.data_dir, TRACE_CORPUS)
    yield from _app(seed_copy, tmp_path)


def _app(seed_copy, tmp_path, *options):
    _need_browser()
    # a copy of the seed index, plus a file in the wrong encoding that the page must tell about
    data, index = seed_copy.data_dir, seed_copy.index_dir
    (data / "乱码.txt").write_bytes("これは日本語のテキストです。".encode("shift_jis"))
    port = _free_port()
    log = open(tmp_path / "app.log", "w")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--data", str(data), "--index", str(index),
         "--port", str(port), *options],
        stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 300
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail("app exited:\n" + (tmp_path / "app.log").read_text())
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("app did not start:\n" + (tmp_path / "app.log").read_text())
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def _launch(pw):
    return pw.chromium.launch(
        executable_path=str(CHROMIUM),
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    )


def test_question_in_browser_shows_citation_and_highlighted_quote(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = _launch(pw)
        context = browser.new_context(viewport={"width": 1200, "height": 1400})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url.rstrip("/"))
        page = context.new_page()
        page.goto(app_url)
        expect(page.get_by_text("讲稿问答").first).to_be_visible(timeout=60_000)
        expect(page.locator("#qa-notices")).to_contain_text("已跳过文件「乱码.txt」：无法确定文字编码")
        box = page.locator("#qa-question textarea")
        box.fill("党的力量来自哪里？")
        box.press("Enter")
        cite = page.locator(".qa-cite").first
        expect(cite).to_contain_text("三、要强化组织建设，彰显组织优势 · 第1段", timeout=120_000)
        expect(cite).to_contain_text("《在2024年机关党建工作质量提升推进会上的讲话稿》")
        expect(cite).to_be_in_viewport(timeout=10_000)  # the best hit is what the user sees first
        expect(page.locator(".qa-card mark").first).to_contain_text("党的力量来自组织")
        copy = page.locator(".qa-copy").first
        copy.click()
        expect(copy).to_have_text("已复制")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.startswith("“习近平总书记强调:“党的力量来自组织。")
        assert copied.endswith("”（《在2024年机关党建工作质量提升推进会上的讲话稿》，三、要强化组织建设，彰显组织优势）")
        page.screenshot(path=str(tmp_path / "answer.png"), full_page=True)
        shot = os.environ.get("QA_SCREENSHOT")
        if shot:
            page.screenshot(path=shot, full_page=True)

        box.fill("那要怎么加强？")  # a follow-up, read with the question before
        box.press("Enter")
        expect(page.locator(".qa-searched").last).to_contain_text(  # kept in the speech the answer came from
            "按上文理解为：在《在2024年机关党建工作质量提升推进会上的讲话稿》中查找“党的力量来自哪里，要怎么加强？”", timeout=60_000)
        box.fill("今天天气怎么样？")  # nothing in the library answers it
        box.press("Enter")
        expect(page.locator(".qa-none").last).to_contain_text("没有找到可靠的相关原文", timeout=60_000)
        expect(page.locator(".qa-closest").last).not_to_have_attribute("open", "")
        page.screenshot(path=str(tmp_path / "follow-up-and-nothing-found.png"), full_page=True)
        page.locator("#qa-export-docx").click()
        expect(page.locator("#qa-exported a").first).to_be_visible(timeout=30_000)
        with page.expect_download() as download:
            page.locator("#qa-exported a").first.click()
        saved = tmp_path / "export.docx"
        download.value.save_as(saved)
        import docx

        assert "“习近平总书记强调" in "".join(p.text for p in docx.Document(str(saved)).paragraphs)

        page.get_by_role("tab", name="找引文").click()
        theme = page.locator("#qa-theme textarea")
        theme.fill("标准化建设")
        theme.press("Enter")
        first = page.locator("#qa-quotes .qa-card").first
        expect(first).to_contain_text("标准化", timeout=60_000)
        expect(first.locator(".qa-line")).to_contain_text("（《在2024年机关党建工作质量提升推进会上的讲话稿》")
        if shot:
            page.screenshot(path=shot.replace(".png", "-quotes.png"), full_page=True)
        browser.close()


def test_document_management_in_browser(app_url, tmp_path):
    """Upload a Word document and a scan, see the list, ask within the new document only, then delete it."""
    from playwright.sync_api import expect, sync_playwright
    from render import as_docx, as_scanned_pdf

    speech = "在全市安全生产工作会议上的讲话\n——2025年1月8日\n一、压实责任\n安全生产责任重于泰山，必须层层压实。\n"
    docx = as_docx(speech, tmp_path / "安全生产讲话.docx", title="在全市安全生产工作会议上的讲话")
    scan = as_scanned_pdf(tmp_path / "扫描件.pdf")
    with sync_playwright() as pw:
        browser = _launch(pw)
        # an English browser: Gradio's own words (Drop File Here…) must still be Chinese
        page = browser.new_page(viewport={"width": 900, "height": 1400}, locale="en-US")
        page.goto(app_url)
        page.get_by_role("tab", name="文档管理").click()
        expect(page.locator("#qa-documents")).to_contain_text("在2024年机关党建工作质量提升推进会上的讲话稿", timeout=60_000)
        expect(page.locator("#qa-upload")).to_contain_text("点击上传")
        expect(page.locator("#qa-upload")).not_to_contain_text("Upload")
        table = page.locator("#qa-documents table").first.bounding_box()
        frame = page.locator("#qa-documents").bounding_box()
        assert table["width"] <= frame["width"] + 1  # the table fits: no sideways scrolling
        page.screenshot(path=str(tmp_path / "library-en-US.png"), full_page=True)
        page.locator("#qa-upload input[type=file]").set_input_files([str(docx), str(scan)])
        page.locator("#qa-add").click()
        result = page.locator("#qa-library-result")
        expect(result).to_contain_text("已添加「安全生产讲话.docx」", timeout=120_000)
        expect(result).to_contain_text("扫描件.pdf")
        expect(result).to_contain_text("没有文字层")
        expect(page.locator("#qa-documents")).to_contain_text("在全市安全生产工作会议上的讲话")
        expect(page.locator("#qa-status")).to_contain_text("已索引 2 篇文档")

        page.get_by_role("tab", name="问答").click()
        page.get_by_text("筛选与设置").first.click()
        page.locator("#qa-ask-year input, #qa-ask-year textarea").first.fill("2025")
        box = page.locator("#qa-question textarea")
        box.fill("安全生产责任")
        box.press("Enter")
        cite = page.locator(".qa-cite").first
        expect(cite).to_contain_text("《在全市安全生产工作会议上的讲话》（2025年1月8日） › 一、压实责任", timeout=60_000)
        expect(page.locator(".qa-card")).to_have_count(1)  # the year filter keeps the seed out

        page.get_by_role("tab", name="文档管理").click()
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#qa-remove-doc input").fill("安全生产讲话.docx")
        page.get_by_role("option", name="安全生产讲话.docx").click()
        page.locator("#qa-remove").click()
        expect(result).to_contain_text("已删除「安全生产讲话.docx」", timeout=60_000)
        expect(page.locator("#qa-status")).to_contain_text("已索引 1 篇文档")
        browser.close()


def test_a_build_made_in_a_terminal_shows_and_markup_stays_inert(app_url, tmp_path, qa_command):
    """`qa add` in a terminal while the app runs: a reload shows the new counts and the next question finds the new
    document; markup in its title and text shows as text and runs nothing."""
    from playwright.sync_api import expect, sync_playwright

    payload = tmp_path / "incoming" / "植树讲话.txt"
    payload.parent.mkdir()
    payload.write_text('<img src=x onerror="window.__xss=1">植树讲话\n\n一、绿化<svg onload="window.__xss=2">\n\n'
                       '植树造林<script>window.__xss=3</script>，绿化祖国<iframe srcdoc="<script>parent.__xss=4</script>">。\n',
                       encoding="utf-8")
    with sync_playwright() as pw:
        browser = _launch(pw)
        page = browser.new_page(viewport={"width": 1200, "height": 1400})
        page.goto(app_url)
        expect(page.locator("#qa-status")).to_contain_text("已索引 1 篇文档", timeout=60_000)
        done = subprocess.run([qa_command, "add", str(payload), "--data", str(tmp_path / "data"),
                               "--index", str(tmp_path / "index")], capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        page.reload()
        expect(page.locator("#qa-status")).to_contain_text("已索引 2 篇文档", timeout=60_000)
        expect(page.locator("#qa-notices")).to_be_hidden()  # the start-up notice is about an index since replaced
        box = page.locator("#qa-question textarea")
        box.fill("植树造林，绿化祖国")
        box.press("Enter")
        cite = page.locator(".qa-cite").first
        expect(cite).to_contain_text('《<img src=x onerror="window.__xss=1">植树讲话》', timeout=60_000)
        expect(page.locator(".qa-card mark").first).to_contain_text("<script>window.__xss=3</script>")
        page.get_by_role("tab", name="文档管理").click()
        expect(page.locator("#qa-documents")).to_contain_text("<img src=x", timeout=30_000)
        time.sleep(1)
        assert page.evaluate("window.__xss") is None
        browser.close()


def test_checking_a_draft_in_browser(app_url, tmp_path):
    """引文核对: paste a draft, see each quotation coloured by its verdict, open one's card, export to Word."""
    from playwright.sync_api import expect, sync_playwright

    draft = ("习近平总书记强调：“党的力量来自组织。党的全面领导、党的全部工作要靠党的坚强组织体系去实现。”\n"
             "会议指出：“党的力量来自组织，党的全面领导要靠坚强的组织体系去实现。”\n"
             "2019年政府工作报告指出：“党的力量来自组织。”\n"
             "他说：“明天我们一起去公园散步，然后吃一顿好饭。”")
    with sync_playwright() as pw:
        browser = _launch(pw)
        page = browser.new_page(viewport={"width": 1200, "height": 1400}, locale="en-US", accept_downloads=True)
        page.goto(app_url)
        page.get_by_role("tab", name="引文核对").click()
        page.locator("#qa-draft-text textarea").fill(draft)
        page.locator("#qa-check").click()
        marks = page.locator("#qa-check-result .qa-q")
        expect(marks).to_have_count(4, timeout=60_000)
        assert [marks.nth(i).get_attribute("class").split()[-1] for i in range(4)] == [
            "qa-v-exact", "qa-v-altered", "qa-v-wrong_source", "qa-v-not_found"]
        expect(page.locator("#qa-check-result .qa-check-summary")).to_contain_text("原文一致 1")
        marks.nth(1).click()
        card = page.locator("#qa-check-2")
        expect(card).to_contain_text("有改动")
        expect(card.locator("del").nth(1)).to_contain_text("、党的全部工作")
        expect(card).to_contain_text("《在2024年机关党建工作质量提升推进会上的讲话稿》 › 三、要强化组织建设，彰显组织优势")
        assert page.evaluate("location.hash") == "#qa-check-2"
        page.screenshot(path=str(tmp_path / "check.png"), full_page=True)
        page.locator("#qa-check-docx").click()
        link = page.locator("#qa-check-exported a").first
        expect(link).to_have_attribute("download", "引文核对.docx", timeout=30_000)
        browser.close()


def test_tracing_a_formulation_in_browser_and_downloading_word(trace_app_url, tmp_path):
    """提法演变: a formulation in, one row per year with its figure and the change, then the Word file."""
    import zipfile

    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = _launch(pw)
        page = browser.new_page(viewport={"width": 1200, "height": 1400}, accept_downloads=True)
        page.goto(trace_app_url)
        page.get_by_role("tab", name="提法演变").click()
        page.locator("#qa-trace-phrase textarea").fill("经济增长预期目标")
        page.locator("#qa-trace-run").click()
        rows = page.locator("#qa-trace-rows .qa-trace-row")
        expect(rows).to_have_count(3, timeout=60_000)
        expect(page.locator("#qa-trace-result .qa-trace-summary")).to_contain_text("最早 2022 年，最近 2024 年")
        assert [rows.nth(i).locator(".qa-trace-year").inner_text() for i in range(3)] == ["2022", "2023", "2024"]
        expect(rows.nth(0).locator("mark")).to_have_text("经济增长预期目标")
        expect(rows.nth(1).locator(".qa-trace-change")).to_contain_text("数字 6%左右 → 5.5%左右")
        expect(rows.nth(2)).to_contain_text("《2024年市政府工作报告》（2024年1月15日） › 二、2024年主要目标")
        href = rows.nth(2).locator("a.qa-open").first.get_attribute("href")
        assert href.startswith("doc/") and "&s=" in href
        page.screenshot(path=str(tmp_path / "trace.png"), full_page=True)
        page.locator("#qa-trace-docx").click()
        link = page.locator("#qa-trace-exported a").first
        expect(link).to_have_attribute("download", "提法演变-经济增长预期目标.docx", timeout=30_000)
        with page.expect_download() as caught:
            link.click()
        saved = tmp_path / "trace.docx"
        caught.value.save_as(saved)
        with zipfile.ZipFile(saved) as docx:
            assert "《2022年市政府工作报告》" in docx.read("word/footnotes.xml").decode()
        # a phrase found nowhere: said so, with the closest formulations that do occur
        page.locator("#qa-trace-phrase textarea").fill("新质量生产力")
        page.locator("#qa-trace-run").click()
        expect(page.locator("#qa-trace-result")).to_contain_text("出现过的相近提法：“新质生产力”", timeout=30_000)
        browser.close()


def test_the_milvus_backend_answers_in_browser_as_the_local_one(milvus_app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = _launch(pw)
        page = browser.new_page(viewport={"width": 1200, "height": 1400})
        page.goto(milvus_app_url)
        expect(page.get_by_text("讲稿问答").first).to_be_visible(timeout=60_000)
        box = page.locator("#qa-question textarea")
        box.fill("党的力量来自哪里？")
        box.press("Enter")
        cite = page.locator(".qa-cite").first  # what the local backend shows (the test above)
        expect(cite).to_contain_text("三、要强化组织建设，彰显组织优势 · 第1段", timeout=120_000)
        expect(page.locator(".qa-card mark").first).to_contain_text("党的力量来自组织")
        page.get_by_role("tab", name="找引文").click()
        theme = page.locator("#qa-theme textarea")
        theme.fill("标准化建设")
        theme.press("Enter")
        expect(page.locator("#qa-quotes .qa-card").first).to_contain_text("标准化", timeout=60_000)
        page.screenshot(path=str(tmp_path / "milvus.png"), full_page=True)
        browser.close()
    import json

    current = (tmp_path / "index" / "CURRENT").read_text().strip()
    manifest = json.loads((tmp_path / "index" / "builds" / current / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["backend"]["kind"] == "milvus" and (tmp_path / "index" / "milvus.db").is_dir()
