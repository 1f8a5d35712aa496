"""Attack 5 of issue 15 (and 2 for WeChat): every replay variant of a WeChat push, and OpenIDs that pose
as another channel's sender. Each test fails on the gateway before the fix (see docs/security.md)."""
from __future__ import annotations

import time
import uuid

import pytest
import xmltodict
from fastapi.testclient import TestClient

from channels.testing import FakeRasa, FakeWeChatAPI, gateway
from tests.test_channel_wechat import (APP_ID, OPENID, SECRET, TOKEN, echo_script, new_id, reply_content, settings,
                                       sign, text_xml)


@pytest.fixture
def rasa():
    with FakeRasa(echo_script()) as fake:
        yield fake


@pytest.fixture
def client(rasa):
    with FakeWeChatAPI(APP_ID, SECRET) as wx, TestClient(gateway(settings(rasa.url, wechat_api_base=wx.url))) as c:
        yield c


def signed_query(ts: int | None = None, nonce: str | None = None) -> dict:
    ts_s, nonce = str(int(time.time()) if ts is None else ts), nonce or uuid.uuid4().hex[:10]
    return {"signature": sign(TOKEN, ts_s, nonce), "timestamp": ts_s, "nonce": nonce, "openid": OPENID}


def post(client, xml: str, params: dict):
    return client.post("/wechat", params=params, content=xml.encode(), headers={"Content-Type": "text/xml"})


def test_old_or_future_timestamp_is_refused(client, rasa):
    for ts in (int(time.time()) - 30 * 86400, int(time.time()) - 301, int(time.time()) + 301):
        r = post(client, text_xml("你好", new_id()), signed_query(ts))
        assert r.status_code == 403 and r.json()["error"]["code"] == "wechat_timestamp_stale"
    assert rasa.calls == []
    ok = post(client, text_xml("你好", new_id()), signed_query(int(time.time()) - 240))
    assert reply_content(ok).startswith("收到")


def test_signed_query_reused_with_another_body_is_refused(client, rasa):
    q = signed_query()
    assert reply_content(post(client, text_xml("第一条", new_id()), q)).startswith("收到")
    forged = text_xml("查一下工单", new_id(), openid="oVictim-0002")  # another sender, same signed query
    r = post(client, forged, q)
    assert r.status_code == 403 and r.json()["error"]["code"] == "wechat_replay"
    assert [c["message"] for c in rasa.calls] == ["第一条"]


def test_wechat_retry_with_same_query_and_body_gets_the_same_reply(client, rasa):
    q, xml = signed_query(), text_xml("重试的消息", new_id())
    first = reply_content(post(client, xml, q))
    assert reply_content(post(client, xml, q)) == first
    assert len(rasa.calls) == 1


def test_msgid_replayed_after_five_minutes_is_not_processed_again(client, rasa, monkeypatch):
    import channels.store as store

    xml = text_xml("只处理一次", new_id())
    first = reply_content(post(client, xml, signed_query()))
    real = time.monotonic
    monkeypatch.setattr(store.time, "monotonic", lambda: real() + 6 * 60)  # six minutes later
    again = post(client, xml, signed_query())  # freshly signed (as WeChat's retry or a replay would be)
    assert reply_content(again) == first
    assert len(rasa.calls) == 1


def test_same_msgid_from_another_user_never_gets_the_first_users_reply(client, rasa):
    msg_id = new_id()
    mine = reply_content(post(client, text_xml("我的保单号是PAH2025000101", msg_id), signed_query()))
    theirs = post(client, text_xml("你好", msg_id, openid="oAttacker-0009"), signed_query())
    reply = xmltodict.parse(theirs.text)["xml"]
    assert reply["ToUserName"] == "oAttacker-0009" and reply["Content"] != mine and "PAH2025000101" not in reply["Content"]
    assert [c["sender"] for c in rasa.calls] == [f"wx:{APP_ID}:{OPENID}", f"wx:{APP_ID}:oAttacker-0009"]


def test_openid_spelled_like_a_widget_sender_stays_a_wechat_sender(client, rasa):
    """Attack 2: an OpenID `widget:<sub>` used to continue that widget customer's verified conversation."""
    reply_content(post(client, text_xml("继续", new_id(), openid="widget:alice"), signed_query()))
    assert rasa.calls[-1]["sender"] == f"wx:{APP_ID}:widget:alice"
