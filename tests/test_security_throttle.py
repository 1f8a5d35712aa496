"""Attack 3 of issue 15: guessing a policy holder's ID last four (10,000 values) on the API and in chat.

Each test makes 5 wrong guesses, then sends the right answer: without the throttle the right answer
passes; with it the 6th attempt is refused (429 verification_locked) until the lock expires."""
from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.api_fixtures import api_client, copy_sqlite, err


def future(days: int) -> str:
    d = datetime.now(timezone(timedelta(hours=8))) + timedelta(days=days)
    return d.replace(hour=10, minute=0, second=0, microsecond=0).isoformat()


@pytest.fixture
def api(kb_engine, tmp_path):
    """A private app database per test: lockouts of one test never leak into another."""
    from sqlalchemy import text

    with api_client(copy_sqlite(kb_engine, tmp_path / "app.db")) as client:
        with client.app.state.engine.begin() as c:  # the shared store may hold other tests' counts
            c.execute(text("DELETE FROM sec_throttle"))
            c.execute(text("DELETE FROM sec_audit"))
        yield client


def wrong_last4(right: str) -> list[str]:
    return [f"{(int(right[:3]) + i) % 1000:03d}{right[3]}" if right[:3].isdigit() else f"{i:04d}"
            for i in range(1, 6)]


def test_eligibility_sixth_guess_locked_even_when_right(api):
    c = api.creds["PAH2025000103"]
    body = {"service": "二诊", "policy_number": c["number"]}
    for guess in wrong_last4(c["id_last4"]):
        err(api.post("/api/eligibility", json={**body, "verifier": guess}), 403, "policy_verification_failed")
    r = api.post("/api/eligibility", json={**body, "verifier": c["id_last4"]})
    e = err(r, 429, "verification_locked")
    assert "人工客服" in e["message"] and "15 分钟" in e["message"]
    assert 800 < int(r.headers["Retry-After"]) <= 901
    # another policy is not affected (the lock is per policy number)
    other = api.creds["PAH2025000101"]
    assert api.post("/api/eligibility", json={"service": "陪诊", "policy_number": other["number"],
                                              "verifier": other["mobile"]}).status_code == 200


def test_ticket_create_locked_after_five_wrong(api):
    c = api.creds["PAH2025000101"]
    body = {"insurer": "平安", "service": "陪诊", "person_name": "刘芳", "city": "苏州",
            "preferred_time": future(3), "contact_phone": "13912345678", "policy_number": c["number"]}
    for guess in wrong_last4(c["id_last4"]):
        err(api.post("/api/tickets", json={**body, "id_last4": guess}), 403, "policy_verification_failed")
    err(api.post("/api/tickets", json={**body, "id_last4": c["id_last4"]}), 429, "verification_locked")


def test_ticket_status_locked_after_five_wrong(api):
    c = api.creds["PAH2025000101"]
    body = {"insurer": "平安", "service": "陪诊", "person_name": "刘芳", "city": "苏州",
            "preferred_time": future(3), "contact_phone": "13912345678"}
    r = api.post("/api/tickets", json=body, headers={"X-Policy-Number": c["number"], "X-Verifier": c["mobile"]})
    assert r.status_code == 201, r.text
    number = r.json()["ticket"]["number"]
    for i in range(5):
        err(api.get(f"/api/tickets/{number}", headers={"X-Verifier": f"1391234{i:04d}"}), 404, "ticket_not_found")
    err(api.get(f"/api/tickets/{number}", headers={"X-Verifier": "13912345678"}), 429, "verification_locked")
    err(api.post(f"/api/tickets/{number}/cancel", json={"mobile": "13912345678"}), 429, "verification_locked")


def test_spraying_many_policies_locks_the_client(api, monkeypatch):
    """One guess on each of many policy numbers from one address: the client key locks."""
    c = api.creds["PAH2025000103"]
    limit = api.app.state.policies.throttle.client_policy.max_failures
    for i in range(limit):
        err(api.post("/api/eligibility", json={"service": "二诊", "policy_number": f"PAH20259{i:05d}",
                                                "verifier": "0000"}), 403, "policy_verification_failed")
    err(api.post("/api/eligibility", json={"service": "二诊", "policy_number": c["number"],
                                            "verifier": c["id_last4"]}), 429, "verification_locked")
    # a different address (through a trusted proxy's X-Forwarded-For is not trusted by default) ...
    r = api.post("/api/eligibility", json={"service": "二诊", "policy_number": c["number"], "verifier": c["id_last4"]},
                 headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status_code == 429  # the header alone does not change the client


def test_lockout_is_audited_without_clear_identifiers(api):
    from core.throttle import AuditRow

    c = api.creds["PAH2025000103"]
    for _ in range(5):
        api.post("/api/eligibility", json={"service": "二诊", "policy_number": c["number"], "verifier": "0000"})
    with Session(api.app.state.engine) as s:
        rows = s.scalars(select(AuditRow)).all()
    assert [r.event for r in rows] == ["lockout"]
    assert rows[0].subject == f"policy:…{c['number'][-4:]}" and c["number"] not in rows[0].detail


def _throttles(engine):
    from core.throttle import DbBackend, Policy, RedisBackend, Throttle

    quick = Policy(max_failures=5, window=60, lock=1)
    yield "db", Throttle(DbBackend(engine), quick, quick)
    try:
        import redis

        redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001
        return
    yield "redis", Throttle(RedisBackend("redis://127.0.0.1:6379/15", engine, prefix=f"t-{uuid.uuid4().hex}:"),
                            quick, quick)


def test_lock_expires_and_right_answer_passes_again(api):
    from core.identity import PolicyNotVerified
    from core.throttle import VerificationLocked, client

    for name, th in _throttles(api.app.state.engine):
        subject = f"policy:X{name}"

        def attempt(ok: bool):
            with th.check(subject):
                if not ok:
                    raise PolicyNotVerified()

        with client(f"ip:test-{name}"):
            for _ in range(5):
                with pytest.raises(PolicyNotVerified):
                    attempt(False)
            with pytest.raises(VerificationLocked):
                attempt(True)  # the right answer is refused while locked
            time.sleep(1.1)
            attempt(True)  # lock expired
            for _ in range(4):  # a success cleared the subject's count: 4 more failures do not lock
                with pytest.raises(PolicyNotVerified):
                    attempt(False)
            attempt(True)


def test_chat_verification_locks_after_five_wrong(kb_engine, tmp_path):
    import actions.common as common
    from actions.eligibility import ValidateEligibilityForm
    from migrations import upgrade_head
    from policies.seed import credentials, seed
    from core.db import make_engine
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    engine = make_engine(copy_sqlite(kb_engine, tmp_path / "chat.db"))
    upgrade_head(engine)
    seed(engine)
    common.configure(engine=engine)
    try:
        c = {x["number"]: x for x in credentials(engine)}["PAH2025000102"]
        form = ValidateEligibilityForm()

        def say(value: str, sender: str):
            t = Tracker.from_dict({"sender_id": sender, "slots": {"policy_number": c["number"], "service": "就医陪诊",
                                                                  "requested_slot": "verifier"},
                                   "latest_message": {"text": value, "intent": {"name": "inform"}}, "events": [],
                                   "paused": False, "followup_action": None, "active_loop": {},
                                   "latest_action_name": "action_listen"})
            d = CollectingDispatcher()
            out = form.validate_verifier(value, d, t, {})
            return out, " ".join(m.get("text") or "" for m in d.messages)

        for i, guess in enumerate(wrong_last4(c["id_last4"])):
            out, said = say(guess, f"widget:conv-{i}")  # a new conversation for each guess does not help
            assert out["verifier"] is None and "未能核实" in said
        out, said = say(c["id_last4"], "widget:conv-new")
        assert out["verifier"] is None and "暂停" in said and "人工" in said
    finally:
        common.configure()


def test_parallel_burst_gets_no_more_than_five_guesses(api):
    """160-275 requests a second in parallel: the attempts are counted before the check runs, so a burst
    cannot slip 30 guesses in before the first failure is recorded."""
    import threading

    from core.identity import PolicyNotVerified
    from core.throttle import VerificationLocked

    for name, th in _throttles(api.app.state.engine):
        checked, refused, lock = [], [], threading.Lock()

        def guess(i: int):
            try:
                with th.check(f"policy:BURST{name}"):
                    time.sleep(0.05)  # the policy lookup
                    with lock:
                        checked.append(i)
                    raise PolicyNotVerified()
            except VerificationLocked:
                with lock:
                    refused.append(i)
            except PolicyNotVerified:
                pass

        threads = [threading.Thread(target=guess, args=(i,)) for i in range(30)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(checked) <= 5 and len(checked) + len(refused) == 30, (name, len(checked))


def test_widget_chat_counts_against_the_callers_address():
    """Opening a new anonymous widget session per guess does not reset the client count: the gateway
    passes the (hashed) address to the actions, which count identity checks against it."""
    from actions.__main__ import client_of
    from api.app import ClientKey
    from channels import config
    from channels.testing import FakeRasa, gateway
    from dataclasses import replace
    from fastapi.testclient import TestClient

    seen = []
    with FakeRasa(lambda sender, message, md: seen.append((sender, md)) or [{"text": "好的"}]) as rasa:
        app = gateway(replace(config.load(), rasa_url=rasa.url, widget_insurer=None))
        app.add_middleware(ClientKey)
        with TestClient(app) as c:
            for session in ("s" * 16, "t" * 16):
                r = c.post("/widget/api/message", json={"text": "你好", "session": session})
                assert r.status_code == 200, r.text
    (s1, md1), (s2, md2) = seen
    assert s1 != s2 and md1["client"] == md2["client"] and md1["client"].startswith("ip#")
    assert "testclient" not in md1["client"]  # hashed, no address stored in the tracker
    call = {"sender_id": s1, "tracker": {"latest_message": {"metadata": md1}}}
    assert client_of(call) == md1["client"]
    forged = {"sender_id": s1, "tracker": {"latest_message": {"metadata": {"client": "chat:someone-else"}}}}
    assert client_of(forged) == f"chat:{s1}"
