"""WeChat official account channel, driven like WeChat's servers drive it: signed plain XML and
AES-encrypted XML built with wechatpy's crypto, retries of the same MsgId, a slow assistant whose
answer goes out through the customer-service API (a local fake of the WeChat API on 127.0.0.1)."""
from __future__ import annotations

import hashlib
import threading
import time
import uuid
from dataclasses import replace

import pytest
import xmltodict
from fastapi.testclient import TestClient
from wechatpy.crypto import WeChatCrypto

from channels import config
from channels.render import WECHAT_LIMIT, utf8_len
from channels.testing import FakeRasa, FakeWeChatAPI, gateway

TOKEN, APP_ID, SECRET = "test-token", "wx1234567890abcdef", "test-secret"
AES_KEY = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
OPENID = "oUser-0001"


def sign(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def text_xml(content: str, msg_id: str, openid: str = OPENID) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId></xml>")


def event_xml(event: str, openid: str = OPENID) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event></xml>")


def voice_xml(recognition: str, msg_id: str) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[voice]]></MsgType>"
            f"<MediaId><![CDATA[media1]]></MediaId><Format><![CDATA[amr]]></Format>"
            f"<Recognition><![CDATA[{recognition}]]></Recognition><MsgId>{msg_id}</MsgId></xml>")


def image_xml(msg_id: str) -> str:
    return (f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
            f"<PicUrl><![CDATA[http://example.invalid/a.jpg]]></PicUrl><MediaId><![CDATA[m]]></MediaId>"
            f"<MsgId>{msg_id}</MsgId></xml>")


def new_id() -> str:
    return str(uuid.uuid4().int)[:19]


def post_plain(client, xml: str, token: str = TOKEN, path: str = "/wechat"):
    ts, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    params = {"signature": sign(token, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": OPENID}
    return client.post(path, params=params, content=xml.encode("utf-8"), headers={"Content-Type": "text/xml"})


def post_safe(client, xml: str, crypto: WeChatCrypto):
    """Exactly what WeChat sends in safe mode: the encrypted envelope, plain signature + msg_signature."""
    ts, nonce = str(int(time.time())), uuid.uuid4().hex[:10]
    envelope = xmltodict.parse(crypto.encrypt_message(xml, nonce, ts))["xml"]
    body = (f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName>"
            f"<Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>")
    params = {"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "openid": OPENID,
              "encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}
    return client.post("/wechat", params=params, content=body.encode(), headers={"Content-Type": "text/xml"}), ts, nonce


def reply_content(resp) -> str:
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("application/xml")
    return xmltodict.parse(resp.text)["xml"]["Content"]


def echo_script(calls_seen: list | None = None):
    """A scripted assistant: echoes the message; '选项' answers with two buttons; '长' answers very long."""
    def script(sender, message, metadata):
        if message == "选项":
            return [{"text": "您想了解哪项服务？", "buttons": [
                {"title": "就医陪诊", "payload": "/ask_service_info{\"service\":\"就医陪诊\"}"},
                {"title": "住院垫付", "payload": "/ask_service_info{\"service\":\"住院垫付\"}"}]}]
        if message == "长":
            para = "这是一段很长的说明文字，用来检查按句子切分。" * 30
            return [{"text": "\n".join([para] * 6)}]
        return [{"text": f"收到：{message}（{metadata.get('insurer', '-')}）"}]
    return script


def settings(rasa_url: str, **kw) -> config.Settings:
    acc = config.WeChatAccount(app_id=APP_ID, token=TOKEN, aes_key=AES_KEY, app_secret=SECRET, insurer="平安健康",
                               mode=kw.pop("mode", "compat"))
    base = config.load()
    return replace(base, rasa_url=rasa_url, wechat_accounts={APP_ID: acc}, wechat_default=APP_ID, hotline=None, **kw)


@pytest.fixture
def rasa():
    with FakeRasa(echo_script()) as fake:
        yield fake


@pytest.fixture
def wx_api():
    with FakeWeChatAPI(APP_ID, SECRET) as fake:
        yield fake


@pytest.fixture
def client(rasa, wx_api):
    app = gateway(settings(rasa.url, wechat_api_base=wx_api.url))
    with TestClient(app) as c:
        yield c


# ------------------------------------------------------------------ verification and signatures

def test_server_verification_echoes_echostr(client):
    ts, nonce = "1700000000", "abc123"
    r = client.get("/wechat", params={"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce,
                                      "echostr": "8374629183"})
    assert r.status_code == 200 and r.text == "8374629183"


def test_server_verification_with_wrong_signature_is_403(client):
    r = client.get("/wechat", params={"signature": "0" * 40, "timestamp": "1", "nonce": "n", "echostr": "x"})
    assert r.status_code == 403
    assert client.get("/wechat").status_code == 403  # no parameters at all


def test_wrong_signature_is_403_and_nothing_processed(client, rasa):
    r = post_plain(client, text_xml("北京能用陪诊吗", new_id()), token="not-the-token")
    assert r.status_code == 403
    assert rasa.calls == []


def test_safe_mode_wrong_msg_signature_is_403(client, rasa):
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    ts, nonce = str(int(time.time())), "nonce1"
    envelope = xmltodict.parse(crypto.encrypt_message(text_xml("你好", new_id()), nonce, ts))["xml"]
    body = f"<xml><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    params = {"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "encrypt_type": "aes",
              "msg_signature": "f" * 40}
    assert client.post("/wechat", params=params, content=body).status_code == 403
    assert rasa.calls == []


def test_message_encrypted_for_another_app_id_is_refused(client, rasa):
    other = WeChatCrypto(TOKEN, AES_KEY, "wx_other_account")
    r, _, _ = post_safe(client, text_xml("你好", new_id()), other)
    assert r.status_code == 400 and r.json()["error"]["code"] == "wechat_appid_mismatch"
    assert rasa.calls == []


# ------------------------------------------------------------------ XML safety

XXE = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       '<xml><ToUserName>gh</ToUserName><FromUserName>u</FromUserName><CreateTime>1</CreateTime>'
       '<MsgType>text</MsgType><Content>&xxe;</Content><MsgId>1</MsgId></xml>')
BILLION_LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
                  '<xml><MsgType>text</MsgType><Content>&lol2;</Content></xml>')


@pytest.mark.parametrize("body,code", [
    (XXE, "xml_forbidden"),
    (BILLION_LAUGHS, "xml_forbidden"),
    ("<xml><MsgType>text</MsgType><Content>未闭合", "xml_malformed"),
    ("not xml at all", "xml_malformed"),
    ("<html><body/></html>", "xml_malformed"),
    ("", "xml_empty"),
    ("<xml><Content>no type</Content></xml>", "xml_malformed"),
])
def test_bad_xml_is_400_and_nothing_processed(client, rasa, body, code):
    r = post_plain(client, body)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code
    assert rasa.calls == []


def test_xxe_inside_the_encrypted_payload_is_refused(client, rasa):
    r, _, _ = post_safe(client, XXE, WeChatCrypto(TOKEN, AES_KEY, APP_ID))
    assert r.status_code == 400 and r.json()["error"]["code"] == "xml_forbidden"
    assert rasa.calls == []


def test_huge_body_is_413(client, rasa):
    r = post_plain(client, text_xml("大" * 40_000, new_id()))
    assert r.status_code == 413
    assert rasa.calls == []


# ------------------------------------------------------------------ messages

def test_plain_text_goes_to_the_assistant_with_openid_and_insurer(client, rasa):
    r = post_plain(client, text_xml("北京能用陪诊吗", new_id()))
    assert reply_content(r) == "收到：北京能用陪诊吗（平安健康）"
    call = rasa.calls[-1]
    assert call["sender"] == f"wx:{APP_ID}:{OPENID}" and call["metadata"] == {"insurer": "平安健康"}
    reply = xmltodict.parse(r.text)["xml"]
    assert reply["ToUserName"] == OPENID and reply["FromUserName"] == "gh_account"


def test_safe_mode_round_trip(client, rasa):
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    r, ts, nonce = post_safe(client, text_xml("上海覆盖吗", new_id()), crypto)
    assert r.status_code == 200
    envelope = xmltodict.parse(r.text)["xml"]
    assert "Content" not in envelope  # the reply itself is encrypted
    plain = crypto.decrypt_message(r.text, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
    assert xmltodict.parse(plain)["xml"]["Content"] == "收到：上海覆盖吗（平安健康）"


def test_safe_only_account_refuses_plain_messages(rasa, wx_api):
    app = gateway(settings(rasa.url, mode="safe", wechat_api_base=wx_api.url))
    with TestClient(app) as c:
        r = post_plain(c, text_xml("你好", new_id()))
        assert r.status_code == 400 and r.json()["error"]["code"] == "wechat_mode_mismatch"
        r, _, _ = post_safe(c, text_xml("你好", new_id()), WeChatCrypto(TOKEN, AES_KEY, APP_ID))
        assert r.status_code == 200
    assert len(rasa.calls) == 1


def test_subscribe_gets_a_welcome_listing_what_the_assistant_does(client, rasa):
    content = reply_content(post_plain(client, event_xml("subscribe")))
    assert "平安健康" in content
    for capability in ("服务", "城市", "医院", "申请条件", "材料", "转人工"):
        assert capability in content
    assert rasa.calls == []
    assert post_plain(client, event_xml("unsubscribe")).text == "success"


def test_voice_recognition_is_treated_as_text(client, rasa):
    assert reply_content(post_plain(client, voice_xml("杭州有没有陪诊", new_id()))) == "收到：杭州有没有陪诊（平安健康）"
    assert rasa.calls[-1]["message"] == "杭州有没有陪诊"


def test_voice_without_recognition_and_other_types_get_a_polite_message(client, rasa):
    assert "没有听清" in reply_content(post_plain(client, voice_xml("", new_id())))
    assert "文字和语音" in reply_content(post_plain(client, image_xml(new_id())))
    assert rasa.calls == []


def test_buttons_become_numbered_options_and_a_digit_sends_the_payload(client, rasa):
    content = reply_content(post_plain(client, text_xml("选项", new_id())))
    assert "1. 就医陪诊" in content and "2. 住院垫付" in content
    reply_content(post_plain(client, text_xml("２", new_id())))  # full-width digit from a Chinese keyboard
    assert rasa.calls[-1]["message"] == "/ask_service_info{\"service\":\"住院垫付\"}"
    # options are per user: another user's "1" is just text
    post_plain(client, text_xml("1", new_id(), openid="oOther"))
    assert rasa.calls[-1]["message"] == "1"
    # a digit out of range is passed on as text
    post_plain(client, text_xml("7", new_id()))
    assert rasa.calls[-1]["message"] == "7"


def test_long_reply_is_split_first_part_passive_rest_through_the_api(client, rasa, wx_api):
    content = reply_content(post_plain(client, text_xml("长", new_id())))
    assert utf8_len(content) <= WECHAT_LIMIT
    assert content.endswith("。")  # cut at a sentence boundary
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "".join(m["text"]["content"] for m in wx_api.sent).count("说明文字") < 150:
        time.sleep(0.05)
    sent = wx_api.sent
    assert len(sent) >= 5 and all(m["touser"] == OPENID and m["msgtype"] == "text" for m in sent)
    assert all(utf8_len(m["text"]["content"]) <= WECHAT_LIMIT for m in sent)
    total = content + "".join(m["text"]["content"] for m in sent)
    assert total.replace("\n", "").count("这是一段很长的说明文字") == 180


# ------------------------------------------------------------------ retries, slow answers, Rasa down

def test_duplicate_msgid_is_processed_once_and_gets_the_same_reply(client, rasa):
    xml = text_xml("重复的消息", new_id())
    first = reply_content(post_plain(client, xml))
    second = reply_content(post_plain(client, xml))
    assert first == second
    assert len(rasa.calls) == 1


def test_concurrent_retry_waits_for_the_first_answer(wx_api):
    with FakeRasa(echo_script(), delay=1.5) as slow:
        app = gateway(settings(slow.url, wechat_api_base=wx_api.url))
        with TestClient(app) as c:
            xml = text_xml("并发重试", new_id())
            results = []

            def send():
                results.append(reply_content(post_plain(c, xml)))

            threads = [threading.Thread(target=send) for _ in range(3)]
            for t in threads:
                t.start()
                time.sleep(0.2)
            for t in threads:
                t.join()
        assert results == ["收到：并发重试（平安健康）"] * 3
        assert len(slow.calls) == 1


def test_slow_answer_replies_success_then_delivers_through_the_api(wx_api):
    with FakeRasa(echo_script(), delay=5.0) as slow:
        app = gateway(settings(slow.url, wechat_api_base=wx_api.url))
        with TestClient(app) as c:
            xml = text_xml("慢一点的问题", new_id())
            t0 = time.monotonic()
            r = post_plain(c, xml)
            elapsed = time.monotonic() - t0
            assert r.status_code == 200 and r.text == "success"
            assert elapsed < 5.0  # inside WeChat's window
            assert wx_api.sent == []
            # WeChat's retry of the same MsgId: still one call to the assistant, nothing new shown
            assert post_plain(c, xml).text == "success"
            sent = wx_api.wait_for(1, timeout=10)
        assert [m["text"]["content"] for m in sent] == ["收到：慢一点的问题（平安健康）"]
        assert sent[0]["touser"] == OPENID
        assert wx_api.token_requests == 1
        assert len(slow.calls) == 1


def test_rasa_down_gives_an_apology_with_the_insurers_hotline(wx_api, kb_only):
    from knowledge.query import KnowledgeBase

    kb = KnowledgeBase(kb_only("000"))
    phone = next(c.value for c in kb.contacts("平安健康") if c.kind == "phone")
    app = gateway(settings("http://127.0.0.1:9", wechat_api_base=wx_api.url), kb=kb)  # nothing listens on port 9
    with TestClient(app) as c:
        content = reply_content(post_plain(c, text_xml("你好", new_id())))
    assert "抱歉" in content and phone in content and "稍后再试" in content


def test_rasa_answering_500_is_an_apology_not_an_error(wx_api):
    with FakeRasa(lambda s, m, md: 1 / 0) as broken:  # the fake answers HTTP 500
        app = gateway(settings(broken.url, wechat_api_base=wx_api.url))
        with TestClient(app) as c:
            content = reply_content(post_plain(c, text_xml("你好", new_id())))
    assert "抱歉" in content and "稍后再试" in content


def test_unknown_account_path_is_404(client):
    assert post_plain(client, text_xml("你好", new_id()), path="/wechat/wx_unknown").status_code == 404
    assert post_plain(client, text_xml("你好", new_id()), path=f"/wechat/{APP_ID}").status_code == 200
