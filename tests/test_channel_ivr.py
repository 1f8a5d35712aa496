"""Hotline IVR text fallback: turns with recognised speech and DTMF against a scripted assistant whose
answers come from the real knowledge store (manual 000), list summaries with SMS, transfer rules."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from channels import config
from channels.render import speak_digits
from channels.sms import LoggingSms
from channels.testing import FakeRasa, gateway
from knowledge.query import KnowledgeBase

INSURER = "平安健康"


@pytest.fixture(scope="module")
def kb(kb_only):
    return KnowledgeBase(kb_only("000"))


def script_for(kb):
    """Answers built from the store, shaped like the actions' channel-neutral answers."""
    def answer(kind, text, items=(), sources=(), options=()):
        return [{"text": text}, {"custom": {"answer": {
            "kind": kind, "text": text, "items": list(items), "options": list(options),
            "sources": [{"cite": s.cite(), "manual_id": s.manual_id, "line_start": s.line_start} for s in sources]}}}]

    def script(sender, message, metadata):
        insurer = metadata.get("insurer")
        if "有哪些服务" in message:
            services = kb.services(insurer)
            return answer("services", f"{insurer}为您提供以下健康管理服务：", [s.name for s in services],
                          list({s.source.cite(): s.source for s in services}.values())[:2])
        if "电话" in message:
            phone = next(c for c in kb.contacts(insurer) if c.kind == "phone")
            return answer("contact", f"客服热线：{phone.value}。", sources=[phone.source])
        if message.startswith("/ask_how_to_apply"):
            svc = kb.resolve_service("就医陪诊", insurer=insurer)[0]
            return answer("how_to_apply", svc.how_to_apply, sources=[svc.source])
        if "陪诊" in message:
            svc = kb.resolve_service("就医陪诊", insurer=insurer)[0]
            return [{"text": svc.description, "buttons": [
                {"title": "怎么申请", "payload": '/ask_how_to_apply{"service":"就医陪诊","topic":"流程"}'},
                {"title": "覆盖哪些城市", "payload": '/ask_coverage{"service":"就医陪诊"}'}]}]
        if "转人工" in message:
            return answer("handoff", "好的，马上为您转接人工客服。")
        if "再见" in message:
            return answer("goodbye", "感谢您的来电，祝您健康，再见！")
        return answer("fallback", "抱歉，我没太明白您的意思。")
    return script


@pytest.fixture
def ivr(kb):
    sms = LoggingSms()
    with FakeRasa(script_for(kb)) as rasa:
        settings = replace(config.load(), rasa_url=rasa.url, ivr_insurer=INSURER, hotline=None)
        with TestClient(gateway(settings, sms=sms, kb=kb)) as client:
            client.rasa, client.sms = rasa, sms
            yield client


def turn(client, call_id="call-1", **kw):
    r = client.post("/ivr/turn", json={"call_id": call_id, **kw})
    assert r.status_code == 200, r.text
    return r.json()


def assert_speakable(speak: str):
    assert speak
    assert not re.search(r"https?://|www\.|[*#`|\[\]【】]|[\U0001F300-\U0001FAFF]", speak), speak
    for sentence in re.split(r"[。？]", speak):
        assert len(sentence) <= 60, sentence


def test_long_list_is_summarised_with_an_sms_offer(ivr, kb):
    names = [s.name for s in kb.services(INSURER)]
    out = turn(ivr, text="你们有哪些服务")
    assert out["action"] == "continue"
    assert f"共 {len(names)} 项，例如{names[0]}、{names[1]}、{names[2]}等" in out["speak"]
    assert names[5] not in out["speak"]
    assert "请按八" in out["speak"] and "转人工请按零" in out["speak"]
    assert {"digit": "8", "label": "短信发送完整名单"} in out["options"]
    assert {"digit": "0", "label": "人工客服"} in out["options"]
    assert_speakable(out["speak"])
    assert ivr.rasa.calls[-1]["metadata"] == {"insurer": INSURER}
    assert ivr.rasa.calls[-1]["sender"] == "ivr:call-1"

    sent = turn(ivr, dtmf="8", caller="13800000000")
    assert "短信" in sent["speak"] and sent["action"] == "continue"
    to, text = ivr.sms.sent[-1]
    assert to == "13800000000"
    assert all(name in text for name in names)


def test_sms_without_a_caller_number_says_so(ivr):
    turn(ivr, call_id="call-nosms", text="有哪些服务")
    out = turn(ivr, call_id="call-nosms", dtmf="8")
    assert "没有获取到您的手机号码" in out["speak"]
    assert ivr.sms.sent == []


def test_hotline_is_read_digit_by_digit(ivr, kb):
    phone = next(c.value for c in kb.contacts(INSURER) if c.kind == "phone")
    out = turn(ivr, text="客服电话是多少")
    assert speak_digits(phone) in out["speak"]
    assert not re.search(r"\d", out["speak"].replace("转人工请按零", ""))
    assert_speakable(out["speak"])


def test_dtmf_picks_the_option_just_read_out(ivr, kb):
    out = turn(ivr, call_id="call-2", text="介绍一下陪诊")
    assert out["options"][:2] == [{"digit": "1", "label": "怎么申请"}, {"digit": "2", "label": "覆盖哪些城市"}]
    assert "怎么申请请按一" in out["speak"]
    assert_speakable(out["speak"])
    out = turn(ivr, call_id="call-2", dtmf="1")
    assert ivr.rasa.calls[-1]["message"].startswith("/ask_how_to_apply")
    svc = kb.resolve_service("就医陪诊", insurer=INSURER)[0]
    first_step = re.sub(r"^1\)", "", svc.how_to_apply.splitlines()[0])[:8]  # "登录平安健康保险"
    assert first_step.replace(" ", "") in out["speak"].replace(" ", "")
    assert "→" not in out["speak"] and "1)" not in out["speak"]
    assert_speakable(out["speak"])
    assert turn(ivr, call_id="call-2", dtmf="9") == out  # 9 repeats


def test_two_misunderstandings_in_a_row_transfer(ivr):
    first = turn(ivr, call_id="call-3", text="呜啦啦啦")
    assert first["action"] == "continue" and "没太明白" in first["speak"] and "按零转人工" in first["speak"]
    second = turn(ivr, call_id="call-3", dtmf="5")  # no option 5 was offered
    assert second["action"] == "transfer" and "人工" in second["speak"] and second["options"] == []


def test_an_understood_turn_resets_the_count(ivr):
    assert turn(ivr, call_id="call-4", text="呜啦啦")["action"] == "continue"
    assert turn(ivr, call_id="call-4", text="客服电话是多少")["action"] == "continue"
    assert turn(ivr, call_id="call-4", text="")["action"] == "continue"      # empty: first miss again
    assert turn(ivr, call_id="call-4")["action"] == "transfer"               # nothing at all: second miss


def test_zero_handoff_and_goodbye(ivr):
    assert turn(ivr, call_id="c5", dtmf="0")["action"] == "transfer"
    out = turn(ivr, call_id="c6", text="转人工")
    assert out["action"] == "transfer" and out["options"] == []
    out = turn(ivr, call_id="c7", text="好的再见")
    assert out["action"] == "hangup" and "再见" in out["speak"]
    assert "！" not in out["speak"]


def test_assistant_down_transfers_with_an_apology(kb):
    settings = replace(config.load(), rasa_url="http://127.0.0.1:9", ivr_insurer=INSURER)
    with TestClient(gateway(settings, kb=kb)) as client:
        out = turn(client, text="你好")
    assert out["action"] == "transfer" and "抱歉" in out["speak"]


def test_slow_assistant_transfers_instead_of_hanging(kb):
    with FakeRasa(lambda s, m, md: [{"text": "太慢了"}], delay=2.0) as slow:
        settings = replace(config.load(), rasa_url=slow.url, ivr_timeout=0.5)
        with TestClient(gateway(settings, kb=kb)) as client:
            out = turn(client, text="你好")
    assert out["action"] == "transfer"


@pytest.mark.parametrize("body", [
    {"text": "你好"},                                   # no call id
    {"call_id": "", "text": "你好"},
    {"call_id": "a b", "text": "你好"},                 # not an id
    {"call_id": "c", "dtmf": "12a"},                    # not DTMF
    {"call_id": "c", "text": "长" * 501},               # too long
])
def test_bad_requests_are_422(ivr, body):
    r = ivr.post("/ivr/turn", json=body)
    assert r.status_code == 422
