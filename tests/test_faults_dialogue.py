"""Faults on the conversation path, with the real processes: action server -> (proxy) -> Rasa -> gateway.

- Action server down: Rasa 3.6 logs the failed action and answers [] (checked here); the gateway turns
  that into an apology with the hotline and a retry option (widget) or a transfer (IVR). The customer's
  turn is still in the tracker; after the action server is back the next turn works.
- Action server slower than the gateway's timeout (a delaying proxy): the customer gets the apology; the
  turn finishes in the background; retrying the confirmation does not book twice.
- Rasa killed mid-form (SIGKILL) and restarted on the same SQL tracker store: the form resumes at the
  same question with the slots filled so far; while it is down the gateway apologises.
The action server, proxy and Rasa are the ones test_e2e_dialogue.py uses too (conftest.py `dialogue_stack`);
every conversation has its own sender id. Marked rasa.
"""
from __future__ import annotations

import time
import uuid

import httpx
import pytest
from sqlalchemy import text

from tests import servers as S

pytestmark = [pytest.mark.rasa, pytest.mark.skipif(bool(S.rasa_missing()), reason=S.rasa_missing() or "")]
INS = "平安健康"
GATEWAY_TIMEOUT = 4.0


class Stack:
    """The shared action server, proxy and Rasa (conftest.py `dialogue_stack`, tests/servers.py DialogueStack)
    plus this module's gateway."""

    def __init__(self, shared: S.DialogueStack):
        self.shared = shared
        self.url, self.engine, self.creds, self.env = shared.url, shared.engine, shared.creds, shared.env
        self.action_port, self.rasa_port, self.gw_port = shared.action_port, shared.rasa_port, S.free_port()
        self.proxy, self.rasa = shared.proxy, shared.rasa
        self.gw_proc = None

    @property
    def actions_proc(self):
        return self.shared.actions_proc

    @property
    def rasa_proc(self):
        return self.shared.rasa_proc

    def start_actions(self, wait=True):
        self.shared.start_actions(wait=wait)

    def start_rasa(self, wait=True):
        self.shared.start_rasa(wait=wait)

    def start_gateway(self):
        env = {**self.env, "RASA_URL": f"http://127.0.0.1:{self.rasa_port}", "RASA_TIMEOUT": str(GATEWAY_TIMEOUT),
               "IVR_RASA_TIMEOUT": str(GATEWAY_TIMEOUT), "SUPPORT_HOTLINE": "", "CHANNELS_REDIS_URL": ""}
        self.gw_proc = S.start_gateway(env, self.gw_port, "faults_gateway")

    def widget(self, session: str, msg: str) -> dict:
        r = httpx.post(f"http://127.0.0.1:{self.gw_port}/widget/api/message",
                       json={"text": msg, "session": session, "insurer": INS}, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()

    def ivr(self, call_id: str, msg: str) -> dict:
        r = httpx.post(f"http://127.0.0.1:{self.gw_port}/ivr/turn", json={"call_id": call_id, "text": msg}, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()

    def tickets(self, conversation_id: str) -> list[str]:
        with self.engine.connect() as c:
            return list(c.execute(text("SELECT number FROM tkt_tickets WHERE conversation_id = :c"),
                                  {"c": conversation_id}).scalars())


@pytest.fixture(scope="module")
def stack(dialogue_stack):
    s = Stack(dialogue_stack)
    try:
        s.start_gateway()
        dialogue_stack.wait()
        yield s
    finally:
        S.stop(s.gw_proc)
        s.proxy.delay, s.proxy.down = 0.0, False


def session() -> str:
    return f"faults{uuid.uuid4().hex[:10]}"


def hotline(stack) -> str:
    from knowledge.query import KnowledgeBase

    phones = [c.value for c in KnowledgeBase(stack.engine).contacts(INS) if c.kind == "phone"]
    assert phones
    return phones[0]


def fill_ticket_form(stack, sender: str, cred: dict, upto: str = "confirm") -> None:
    """Through Rasa directly: the ticket form up to the summary (upto=confirm) or to the hospital question."""
    say = lambda m: stack.rasa.say(sender, m, insurer=INS)[0]  # noqa: E731
    say("我想预约就医陪诊")
    say(cred["number"])
    say(cred["mobile"])
    say("本人")
    assert "医院" in say("上海")
    if upto == "hospital":
        return
    say("不指定")
    say("下周三上午")
    assert "请核对预约信息" in say("13912345678")


def test_action_server_down_apology_turn_recorded_then_recovers(stack):
    phone = hotline(stack)
    S.stop(stack.actions_proc)
    try:
        # Rasa itself: no crash, an empty answer, the turn is in the tracker
        c = f"faults-direct-{uuid.uuid4().hex[:6]}"
        assert stack.rasa.raw(c, "就医陪诊在上海能用吗", insurer=INS) == []
        assert S.user_texts(stack.rasa.tracker(c)) == ["就医陪诊在上海能用吗"]
        # widget: apology with the insurer's hotline from the store, and a retry option
        sid = session()
        out = stack.widget(sid, "就医陪诊在上海能用吗")
        assert out["error"] == "assistant_empty" and out["messages"][0]["kind"] == "unavailable"
        assert "抱歉" in out["messages"][0]["text"] and phone in out["messages"][0]["text"]
        assert out["options"] == [{"title": "重试", "payload": "就医陪诊在上海能用吗"}]
        assert S.user_texts(stack.rasa.tracker(f"widget-anon:{sid}")) == ["就医陪诊在上海能用吗"]
        # IVR: apologise and transfer to an agent (never "I did not understand")
        call = f"call{uuid.uuid4().hex[:8]}"
        spoken = stack.ivr(call, "就医陪诊在上海能用吗")
        assert spoken["action"] == "transfer" and "抱歉" in spoken["speak"] and "没有听明白" not in spoken["speak"]
        assert S.user_texts(stack.rasa.tracker(f"ivr:{call}")) == ["就医陪诊在上海能用吗"]
    finally:
        stack.start_actions()
    out = stack.widget(sid, "就医陪诊在上海能用吗")  # the customer's retry
    assert "error" not in out and "上海在就医陪诊的服务范围内" in out["messages"][0]["text"]
    assert out["messages"][0]["sources"]
    assert S.user_texts(stack.rasa.tracker(f"widget-anon:{sid}")) == ["就医陪诊在上海能用吗"] * 2
    assert stack.ivr(call, "客服电话多少")["action"] == "continue"


def test_slow_action_server_apology_and_no_double_booking_on_retry(stack):
    sid, cred = session(), stack.creds["PAH2025000104"]
    sender = f"widget-anon:{sid}"
    fill_ticket_form(stack, sender, cred)
    stack.proxy.delay = GATEWAY_TIMEOUT + 3  # every action call now takes longer than the gateway waits
    t0 = time.monotonic()
    try:
        out = stack.widget(sid, "确认")
    finally:
        stack.proxy.delay = 0.0
    assert time.monotonic() - t0 < GATEWAY_TIMEOUT + 2  # the customer was not kept waiting
    assert out["error"] == "assistant_unavailable" and "抱歉" in out["messages"][0]["text"]
    assert out["options"] == [{"title": "重试", "payload": "确认"}]
    deadline = time.time() + 30  # the first "确认" is still being processed by Rasa in the background
    while time.time() < deadline and not stack.tickets(sender):
        time.sleep(0.5)
    retry = stack.widget(sid, out["options"][0]["payload"])  # the customer taps 重试
    assert "error" not in retry, retry
    tickets = stack.tickets(sender)
    assert len(tickets) == 1, tickets  # booked once, although "确认" arrived twice
    tracker = stack.rasa.tracker(sender)
    assert S.user_texts(tracker).count("确认") == 2  # both messages recorded, each once
    assert tracker["slots"]["ticket_number"] == tickets[0]
    bots = [e.get("text") or "" for e in tracker["events"] if e.get("event") == "bot"]
    assert sum("预约已提交" in b for b in bots) == 1


def test_rasa_killed_mid_form_resumes_at_the_same_question(stack):
    sid, cred = session(), stack.creds["PAH2025000103"]
    sender = f"widget-anon:{sid}"
    fill_ticket_form(stack, sender, cred, upto="hospital")
    before = stack.rasa.tracker(sender)
    assert before["active_loop"]["name"] == "ticket_form" and before["slots"]["requested_slot"] == "hospital"
    S.stop(stack.rasa_proc, kill=True)  # a crash, not a clean shutdown
    try:
        down = stack.widget(sid, "不指定")
        assert down["error"] == "assistant_unavailable" and hotline(stack) in down["messages"][0]["text"]
    finally:
        stack.start_rasa()
    after = stack.rasa.tracker(sender)
    assert after["active_loop"]["name"] == "ticket_form" and after["slots"]["requested_slot"] == "hospital"
    for slot in ("service", "policy_number", "person", "city"):
        assert after["slots"][slot] == before["slots"][slot] and after["slots"][slot]
    out = stack.widget(sid, "不指定")  # the customer answers the same question again
    assert "error" not in out and "时间" in out["messages"][0]["text"]
    assert stack.rasa.slots(sender)["requested_slot"] == "date"
