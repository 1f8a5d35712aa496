"""Widget page and JSON API: signed customer tokens, insurer resolution from the store, Rasa down."""
from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from channels import config
from channels.testing import FakeRasa, gateway
from channels.widget import TokenError, sign_token, verify_token
from knowledge.query import KnowledgeBase

SECRET = "widget-test-secret"
SESSION = "abcdef0123456789"


@pytest.fixture(scope="module")
def kb(kb_only):
    return KnowledgeBase(kb_only("000", "001"))


@pytest.fixture
def client(kb):
    with FakeRasa(lambda s, m, md: [{"text": f"{md.get('insurer')}:{m}", "buttons": [
            {"title": "怎么申请", "payload": "/ask_how_to_apply"}]}]) as rasa:
        settings = replace(config.load(), rasa_url=rasa.url, widget_secret=SECRET, hotline=None)
        with TestClient(gateway(settings, kb=kb)) as c:
            c.rasa = rasa
            yield c


def test_token_round_trip_and_failures():
    tok = sign_token(SECRET, "cust-42", insurer="平安健康", ttl=60)
    assert verify_token(SECRET, tok)["sub"] == "cust-42"
    with pytest.raises(TokenError) as e:
        verify_token("other-secret", tok)
    assert e.value.code == "widget_token_invalid"
    with pytest.raises(TokenError) as e:
        verify_token(SECRET, sign_token(SECRET, "c", ttl=-10))
    assert e.value.code == "widget_token_expired"
    body, sig = tok.split(".")[1:]
    forged = sign_token(SECRET, "someone-else").split(".")[1]
    for bad in ("", "garbage", "v1.a.b", f"v1.{forged}.{sig}", "v2." + body + "." + sig, "x" * 5000):
        with pytest.raises(TokenError):
            verify_token(SECRET, bad)


def test_page_is_served_with_the_insurer_name_and_no_external_resources(client, kb):
    r = client.get("/widget", params={"insurer": "平安"})
    assert r.status_code == 200
    assert "平安健康 在线客服" in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "http://" not in r.text and "https://" not in r.text   # no CDN
    for asset in ("/widget/static/widget.js", "/widget/static/widget.css"):
        a = client.get(asset)
        assert a.status_code == 200
        assert "http://" not in a.text and "https://" not in a.text and "cdn" not in a.text.lower()


def test_page_refuses_a_bad_token_clearly(client):
    r = client.get("/widget", params={"insurer": "平安", "token": "v1.bad.token"})
    assert r.status_code == 403
    assert "身份凭证无效" in r.text and "重新打开" in r.text
    r = client.get("/widget", params={"token": sign_token(SECRET, "c", ttl=-5)})
    assert r.status_code == 403 and "已过期" in r.text


def test_page_refuses_an_unknown_insurer(client, kb):
    r = client.get("/widget", params={"insurer": "不存在保险"})
    assert r.status_code == 400
    assert "没有找到保险公司" in r.text
    assert all(i.short_name in r.text for i in kb.insurers())


def test_message_anonymous_and_signed(client):
    r = client.post("/widget/api/message", json={"text": "北京能用陪诊吗", "insurer": "平安", "session": SESSION})
    assert r.status_code == 200
    assert r.json()["messages"][0]["text"] == "平安健康:北京能用陪诊吗"   # alias resolved to the store's short name
    assert r.json()["options"] == [{"title": "怎么申请", "payload": "/ask_how_to_apply"}]
    assert client.rasa.calls[-1]["sender"] == f"widget-anon:{SESSION}"
    tok = sign_token(SECRET, "cust-7", insurer="众安")
    r = client.post("/widget/api/message", json={"payload": "/ask_how_to_apply", "text": "怎么申请", "token": tok,
                                                 "insurer": "平安"})
    assert r.status_code == 200
    call = client.rasa.calls[-1]
    assert call["sender"] == "widget:cust-7" and call["message"] == "/ask_how_to_apply"
    assert call["metadata"] == {"insurer": "众安"}   # the signed claim wins over the query parameter


@pytest.mark.parametrize("body,status,code", [
    ({"text": "你好", "token": "v1.x.y"}, 403, "widget_token_invalid"),
    ({"text": "你好", "session": "short"}, 400, "widget_session_invalid"),
    ({"text": "你好", "session": SESSION, "insurer": "火星保险"}, 400, "unknown_insurer"),
    ({"text": "   ", "session": SESSION}, 422, "message_empty"),
])
def test_message_errors_are_clear(client, body, status, code):
    r = client.post("/widget/api/message", json=body)
    assert r.status_code == status
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]
    assert client.rasa.calls == []


def test_assistant_down_is_an_apology_with_a_retry_option(kb):
    phone = next(c.value for c in kb.contacts("平安健康") if c.kind == "phone")
    settings = replace(config.load(), rasa_url="http://127.0.0.1:9", widget_secret=SECRET, hotline=None)
    with TestClient(gateway(settings, kb=kb)) as c:
        r = c.post("/widget/api/message", json={"text": "你好", "insurer": "平安", "session": SESSION})
    assert r.status_code == 200
    body = r.json()
    assert body["error"] == "assistant_unavailable"
    assert phone in body["messages"][0]["text"] and "稍后再试" in body["messages"][0]["text"]
    assert body["options"] == [{"title": "重试", "payload": "你好"}]


def test_token_required_mode(kb):
    settings = replace(config.load(), rasa_url="http://127.0.0.1:9", widget_secret=SECRET, widget_token_required=True)
    with TestClient(gateway(settings, kb=kb)) as c:
        assert c.get("/widget").status_code == 403
        r = c.post("/widget/api/message", json={"text": "你好", "session": SESSION})
        assert r.status_code == 403 and r.json()["error"]["code"] == "widget_token_required"
        assert c.get("/widget", params={"token": sign_token(SECRET, "c1", ttl=60)}).status_code == 200


def test_the_service_api_app_serves_the_channels(kb_only, monkeypatch):
    """api.app.create_app() includes the channel routers on the same app (port 8000)."""
    from api.app import create_app

    engine = kb_only("000", "001")
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:9")
    app = create_app(engine.url.render_as_string(hide_password=False), build_if_empty=False)
    with TestClient(app) as c:
        assert c.get("/widget", params={"insurer": "众安"}).status_code == 200
        assert c.get("/wechat", params={"signature": "x", "timestamp": "1", "nonce": "n"}).status_code == 403
        r = c.post("/ivr/turn", json={"call_id": "api-1", "text": "你好"})
        assert r.status_code == 200 and r.json()["action"] == "transfer"
