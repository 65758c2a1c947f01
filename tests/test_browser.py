"""A real browser (Playwright driving Debian's Chromium) asks the running app a question."""
from __future__ import annotations

import os
import shutil
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
def app_url(seed_index, tmp_path):
    _need_browser()
    settings, _ = seed_index
    # a copy of the seed index, plus a file in the wrong encoding that the page must tell about
    data, index = tmp_path / "data", tmp_path / "index"
    shutil.copytree(settings.data_dir, data)
    shutil.copytree(settings.index_dir, index)
    (data / "旧系统导出.txt").write_bytes("旧系统导出的讲话稿。".encode("gb18030"))
    port = _free_port()
    log = open(tmp_path / "app.log", "w")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--data", str(data), "--index", str(index),
         "--port", str(port)],
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


def test_question_in_browser_shows_citation_and_highlighted_quote(app_url, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        context = browser.new_context(viewport={"width": 1200, "height": 1400})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=app_url.rstrip("/"))
        page = context.new_page()
        page.goto(app_url)
        expect(page.get_by_text("讲稿问答").first).to_be_visible(timeout=60_000)
        expect(page.locator("#qa-notices")).to_contain_text("已跳过文件「旧系统导出.txt」：不是 UTF-8 编码")
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
