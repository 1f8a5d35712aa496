"""The help widget in a real headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

Setup: scripts/install_browser.sh. The gateway runs on 127.0.0.1 with a scripted fake Rasa whose
answers come from the knowledge store; the `rasa` variant uses the real Rasa server at RASA_URL.
"""
from __future__ import annotations

import os
import re
import socket
import threading
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from channels import config
from channels.testing import FakeRasa, gateway
from knowledge.query import KnowledgeBase

pytestmark = pytest.mark.browser
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOT = Path(__file__).resolve().parent.parent / "docs" / "widget.png"
INSURER = "平安健康"

if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (run scripts/install_browser.sh)", allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gateway:
    """The channel routers served by uvicorn in a thread (a real HTTP server the browser can reach)."""

    def __init__(self, app):
        import uvicorn

        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.started
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(5)


def store_script(kb: KnowledgeBase):
    """Coverage and how-to-apply answers computed from the store, shaped like the actions' answers."""
    def sources(srcs):
        return [{"cite": s.cite(), "manual_id": s.manual_id, "line_start": s.line_start, "line_end": s.line_end}
                for s in srcs]

    def script(sender, message, metadata):
        svc = kb.resolve_service("就医陪诊", insurer=metadata.get("insurer"))[0]
        if message.startswith("/ask_how_to_apply"):
            text = f"{svc.name}的申请流程：\n{svc.how_to_apply}"
            return [{"text": text}, {"custom": {"answer": {"kind": "how_to_apply", "text": text,
                                                           "sources": sources([svc.source])}}}]
        city = next((c for c in ("北京", "上海", "杭州") if c in message), None)
        if city and "陪诊" in message:
            cov = kb.coverage(svc.id, city)
            verdict = {"covered": "在服务范围内", "not_covered": "不在服务范围内"}.get(cov.status, "暂时无法确认")
            text = f"{city}{verdict}（{svc.name}）。"
            options = [{"title": "怎么申请", "payload": '/ask_how_to_apply{"service":"%s","topic":"流程"}' % svc.name},
                       {"title": "换个城市", "payload": "/ask_coverage"}]
            return [{"text": text, "buttons": options},
                    {"custom": {"answer": {"kind": "coverage", "text": text, "sources": sources(cov.evidence),
                                           "options": options}}}]
        return [{"text": "抱歉，我没太明白。"}, {"custom": {"answer": {"kind": "fallback", "text": "抱歉，我没太明白。"}}}]
    return script


def launch(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)


def test_widget_coverage_question_and_quick_reply(kb_only):
    kb = KnowledgeBase(kb_only("000"))
    svc = kb.resolve_service("就医陪诊", insurer=INSURER)[0]
    cov = kb.coverage(svc.id, "北京")
    assert cov.status == "covered" and cov.evidence
    first_step = svc.how_to_apply.splitlines()[0]
    with FakeRasa(store_script(kb)) as rasa:
        settings = replace(config.load(), rasa_url=rasa.url, hotline=None)
        with Gateway(gateway(settings, kb=kb)) as gw, playwright_api.sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 390, "height": 780}, device_scale_factor=2,
                                    is_mobile=True, has_touch=True)
            page.goto(f"{gw.url}/widget?insurer=平安")
            assert "平安健康 在线客服" in page.title()
            page.fill("#input", "北京能用就医陪诊吗")
            page.click("#send")
            bot = page.locator(".msg.bot").nth(1)
            bot.wait_for(timeout=10_000)
            assert "北京在服务范围内" in bot.inner_text()
            cites = bot.locator(".cite").all_inner_texts()
            assert cites == [f"来源：{s.cite()}" for s in cov.evidence]
            quick = page.locator(".quick button")
            assert quick.all_inner_texts() == ["怎么申请", "换个城市"]
            quick.first.click()
            answer = page.locator(".msg.bot").nth(2)
            answer.wait_for(timeout=10_000)
            assert first_step in answer.inner_text()
            assert answer.locator(".cite").inner_text() == f"来源：{svc.source.cite()}"
            assert page.locator(".msg.user").all_inner_texts() == ["北京能用就医陪诊吗", "怎么申请"]
            assert rasa.calls[-1]["message"].startswith("/ask_how_to_apply")
            assert rasa.calls[-1]["metadata"] == {"insurer": INSURER}
            # phone-sized: nothing wider than the screen
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            SCREENSHOT.parent.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
            browser.close()


def test_widget_retries_with_backoff_when_the_network_fails(kb_only):
    kb = KnowledgeBase(kb_only("000"))
    with FakeRasa(store_script(kb)) as rasa:
        settings = replace(config.load(), rasa_url=rasa.url)
        with Gateway(gateway(settings, kb=kb)) as gw, playwright_api.sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 390, "height": 780})
            page.goto(f"{gw.url}/widget?insurer=平安")
            failures = {"n": 0}

            def flaky(route):
                if failures["n"] < 2:  # the first two attempts never reach the gateway
                    failures["n"] += 1
                    return route.abort("connectionreset")
                return route.continue_()

            page.route("**/widget/api/message", flaky)
            page.fill("#input", "上海能用就医陪诊吗")
            page.click("#send")
            page.locator("#status", has_text="正在重新连接").wait_for(timeout=5_000)
            page.locator(".msg.bot").nth(1).wait_for(timeout=15_000)
            assert "上海" in page.locator(".msg.bot").nth(1).inner_text()
            assert failures["n"] == 2 and len(rasa.calls) == 1
            assert page.locator("#status").is_hidden()
            browser.close()


def test_widget_refuses_a_bad_token_in_the_browser():
    settings = replace(config.load(), rasa_url="http://127.0.0.1:9", widget_secret="s3cret")
    with Gateway(gateway(settings)) as gw, playwright_api.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        resp = page.goto(f"{gw.url}/widget?insurer=平安&token=v1.forged.sig")
        assert resp.status == 403
        assert "身份凭证无效" in page.locator("#refused-message").inner_text()
        browser.close()


def _rasa_url() -> str | None:
    url = os.environ.get("RASA_URL", "http://127.0.0.1:5005").rstrip("/")
    try:
        httpx.get(url + "/", timeout=1.0)
        return url
    except httpx.HTTPError:
        return None


@pytest.mark.rasa
def test_widget_against_the_real_rasa(kb_only):
    url = _rasa_url()
    if url is None:
        pytest.skip("no Rasa server at RASA_URL")
    settings = replace(config.load(), rasa_url=url)
    with Gateway(gateway(settings, kb=KnowledgeBase(kb_only()))) as gw, playwright_api.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 390, "height": 780})
        page.goto(f"{gw.url}/widget?insurer=平安")
        page.fill("#input", "北京能用就医陪诊吗")
        page.click("#send")
        bot = page.locator(".msg.bot").nth(1)
        bot.wait_for(timeout=30_000)
        text = bot.inner_text()
        assert "暂时无法回答" not in text, text         # the assistant answered
        assert re.search(r"北京|陪诊", text), text
        if page.locator(".quick button").count():
            n = page.locator(".msg.bot").count()
            page.locator(".quick button").first.click()
            page.locator(".msg.bot").nth(n).wait_for(timeout=30_000)
        browser.close()
