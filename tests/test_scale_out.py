"""Scale-out: two Rasa servers and two action servers sharing one PostgreSQL tracker store and one Redis
lock store, with no sticky routing.

One conversation's turns alternate between Rasa A and Rasa B through the whole ticket form (a side
question and a correction included); both servers see the same slots, form state and history, every user
turn is stored exactly once and the ticket is created once. Two turns of one conversation sent to A and B
at the same time are serialised by the Redis lock store. The action servers sit behind a round-robin
proxy (what nginx does in deploy/nginx.conf), so consecutive actions run on different action servers.

Fresh PostgreSQL databases (tracker store; app store: knowledge + policies + tickets) and a unique Redis
key prefix; all dropped afterwards. The servers are started early in the session (conftest.py
`scale_cluster`) so that Rasa loads while other tests run. Marked rasa, postgres, redis.
"""
from __future__ import annotations

import re

import threading
import time
import uuid

import pytest
from sqlalchemy import text

from tests import servers as S

pytestmark = [pytest.mark.rasa, pytest.mark.postgres, pytest.mark.redis]
_SKIP = S.rasa_missing() or S.postgres_missing() or S.redis_missing()
INS = "平安健康"


@pytest.fixture(scope="module")
def cluster(scale_cluster):
    """conftest.py `scale_cluster` (tests/servers.py ScaleCluster), started early; here it is waited for."""
    if _SKIP:
        pytest.skip(_SKIP)
    scale_cluster.wait()
    return {"a": S.RasaHttp(scale_cluster.rasa_ports[0]), "b": S.RasaHttp(scale_cluster.rasa_ports[1]),
            "engine": scale_cluster.engine, "creds": scale_cluster.creds, "redis": scale_cluster.redis,
            "prefix": scale_cluster.prefix, "proxy": scale_cluster.proxy}


def conv() -> str:
    return f"scale-{uuid.uuid4().hex[:8]}"


def _tickets(engine, conversation_id: str) -> list[str]:
    with engine.connect() as c:
        return list(c.execute(text("SELECT number FROM tkt_tickets WHERE conversation_id = :c"),
                              {"c": conversation_id}).scalars())


def test_ticket_form_alternating_between_two_rasa_servers(cluster):
    a, b, c = cluster["a"], cluster["b"], conv()
    cred = cluster["creds"]["PAH2025000103"]
    servers = [a, b]
    sent: list[str] = []

    def turn(msg: str) -> str:
        srv = servers[len(sent) % 2]  # turn 1 -> A, turn 2 -> B, ...
        sent.append(msg)
        return srv.say(c, msg, insurer=INS)[0]

    turn("我想预约就医陪诊")
    turn(cred["number"])
    assert "保单已核实" in turn(cred["mobile"])
    turn("本人")
    turn("上海")                                    # A
    form = b.tracker(c)                             # B sees A's form state
    assert form["active_loop"]["name"] == "ticket_form"
    assert form["slots"]["city"] == "上海" and form["slots"]["person"] and form["slots"]["requested_slot"] == "hospital"
    assert "住院垫付" in turn("住院垫付是什么")      # B: side question, then back to the form
    after_side = a.tracker(c)
    assert after_side["active_loop"]["name"] == "ticket_form" and after_side["slots"]["requested_slot"] == "hospital"
    assert after_side["slots"]["service"] == "就医陪诊"
    turn("不指定")
    turn("下周三上午")
    summary = turn("13912345678")
    assert "请核对预约信息" in summary and "上海" in summary
    corrected = turn("改成杭州")                    # B: correction
    assert "杭州" in corrected and "请核对预约信息" in corrected
    done = turn("确认")                             # A
    assert "预约已提交" in done

    ta, tb = a.tracker(c), b.tracker(c)
    stored = S.user_texts(ta)
    assert stored == S.user_texts(tb) and len(stored) == len(sent)  # every turn once, in order, on both servers
    assert all(got == said for got, said in zip(stored, sent) if not re.search(r"\d", said))
    assert not any(re.search(r"1[3-9]\d{9}", t) for t in stored)  # numbers are kept masked (bot/tracker_store.py)
    assert ta["slots"] == tb["slots"] and len(ta["events"]) == len(tb["events"])
    number = ta["slots"]["ticket_number"]
    assert ta["slots"]["city"] == "杭州" and not (ta.get("active_loop") or {}).get("name")  # form finished
    assert _tickets(cluster["engine"], c) == [number]  # exactly one ticket, the one the customer was told
    with cluster["engine"].connect() as conn:
        city = conn.execute(text("SELECT city_name FROM tkt_tickets WHERE number = :n"), {"n": number}).scalar()
    assert city.startswith("杭州")
    status = b.say(c, f"查一下工单 {number}", insurer=INS)[0]
    assert number in status and "已提交" in status


def _listen_before_each_user_turn(events: list[dict]) -> bool:
    """Serialised turns: every user event after the first follows a completed turn (action_listen)."""
    seen_user = False
    prev = None
    for e in events:
        if e.get("event") == "user":
            if seen_user and not (prev and prev.get("event") == "action" and prev.get("name") == "action_listen"):
                return False
            seen_user = True
        if e.get("event") in ("user", "action", "bot"):
            prev = e
    return True


def test_concurrent_turns_on_two_servers_are_serialised_by_the_redis_lock(cluster):
    a, b, c = cluster["a"], cluster["b"], conv()
    red, key = cluster["redis"], f"{cluster['prefix']}:lock:{c}"
    a.say(c, "你好", insurer=INS)
    results: dict[str, tuple] = {}
    lock_seen = []

    def send(name, srv, msg):
        t0 = time.monotonic()
        results[name] = (srv.say(c, msg, insurer=INS)[0], t0, time.monotonic())

    proxy = cluster["proxy"]
    proxy.delay = 2.0  # A's turn holds the conversation lock for a few seconds
    try:
        ta = threading.Thread(target=send, args=("a", a, "就医陪诊在上海能用吗"))
        tb = threading.Thread(target=send, args=("b", b, "客服电话多少"))
        ta.start()
        time.sleep(1.0)
        tb.start()
        while ta.is_alive():
            lock_seen.append(bool(red.exists(key)))
            time.sleep(0.2)
        ta.join(120)
        tb.join(120)
    finally:
        proxy.delay = 0.0
    assert any(lock_seen), "the conversation lock was never in Redis"
    text_a, _, end_a = results["a"]
    text_b, _, end_b = results["b"]
    assert "上海在就医陪诊的服务范围内" in text_a and "95511" in text_b
    assert end_b > end_a  # B waited for A's turn to finish
    tracker = b.tracker(c)
    users = S.user_texts(tracker)
    assert users == ["你好", "就医陪诊在上海能用吗", "客服电话多少"]
    assert _listen_before_each_user_turn(tracker["events"])
    bots = [e.get("text") or "" for e in tracker["events"] if e.get("event") == "bot"]
    assert sum("上海在就医陪诊的服务范围内" in t for t in bots) == 1 and sum("95511" in t for t in bots) == 1
    assert not red.exists(key)  # the last ticket holder removed the lock
