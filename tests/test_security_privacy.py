"""Attack 6 of issue 15: handoff transcripts kept holder mobiles, contact phones and full ID numbers in clear,
answers to the identity questions were stored, and the operator audit actor came from the request body."""
from __future__ import annotations

import asyncio
import json
import logging
import re

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import text

from tests.api_fixtures import api_client, copy_sqlite

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID18 = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


@pytest.fixture
def engine(kb_engine, tmp_path):
    import actions.common as common
    from core.db import make_engine
    from migrations import upgrade_head
    from policies.seed import seed

    engine = make_engine(copy_sqlite(kb_engine, tmp_path / "app.db"))
    upgrade_head(engine)
    seed(engine)
    common.configure(engine=engine)
    yield engine
    common.configure()


def test_handoff_stores_no_mobile_no_id_and_no_proof_answer(engine):
    from actions.dialogue import ActionHandoff

    def user(t):
        return {"event": "user", "text": t, "parse_data": {"intent": {"name": "inform"}}}

    def bot(t, asks=None):
        return {"event": "bot", "text": t, **({"metadata": {"asks": asks}} if asks else {})}

    events = [user("我想预约陪诊，保单号PAH2025000101"),
              bot("请提供投保人的 11 位手机号，或者身份证号码后四位。", "verifier"), user("4321"),
              bot("请问被服务人是谁？"), user("我老婆，身份证110101199003071234，电话139 1234 5678"),
              bot("为了保护您的信息，请提供预约时留的手机号。", "phone"), user("13800001111"),
              user("转人工")]
    latest = {"intent": {"name": "human_handoff", "confidence": 0.9}, "entities": [], "text": "转人工"}
    t = Tracker.from_dict({"sender_id": "widget:alice", "events": events, "latest_message": latest,
                           "slots": {"policy_number": "PAH2025000101", "verifier": "4321", "phone": "13912345678",
                                     "person": "李娜"}, "paused": False, "followup_action": None,
                           "active_loop": {}, "latest_action_name": "action_listen"})
    asyncio.run(ActionHandoff().run(CollectingDispatcher(), t, {}))
    with engine.connect() as c:
        rows = c.execute(text("SELECT transcript, slots, summary FROM hof_handoffs")).all()
    assert len(rows) == 1
    stored = " ".join(json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else v for v in rows[0] if v)
    assert not MOBILE.search(stored) and not ID18.search(stored), stored
    assert "4321" not in stored and "13800001111" not in stored and "0000" not in stored
    assert "1101**********1234" in stored and "139****5678" in stored and "［身份核实信息，未保存］" in stored
    assert "PAH2025000101" in stored  # what an agent needs to help stays


def test_log_lines_are_masked(caplog):
    from core import logsafe

    logsafe.install()
    log = logging.getLogger("tests.privacy")
    with caplog.at_level(logging.INFO, logger="tests.privacy"):
        log.info("contact %s id %s", "13912345678", "110101199003071234")
    assert caplog.records[-1].getMessage() == "contact 139****5678 id 1101**********1234"


def test_operator_audit_actor_comes_from_the_key(kb_engine, tmp_path, monkeypatch):
    monkeypatch.setenv("OPERATOR_API_KEYS", "wangmin:" + "k" * 24 + ",lilei:" + "j" * 24)
    with api_client(copy_sqlite(kb_engine, tmp_path / "op.db")) as api:
        c = api.creds["PAH2025000101"]
        from datetime import datetime, timedelta, timezone

        when = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=3)).replace(hour=10, minute=0, second=0,
                                                                                        microsecond=0).isoformat()
        r = api.post("/api/tickets", json={"insurer": "平安", "service": "陪诊", "person_name": "刘芳", "city": "苏州",
                                           "preferred_time": when, "contact_phone": "13912345678"},
                     headers={"X-Policy-Number": c["number"], "X-Verifier": c["mobile"]})
        number = r.json()["ticket"]["number"]
        r = api.post(f"/api/operator/tickets/{number}/transition", headers={"X-API-Key": "k" * 24},
                     json={"to_status": "accepted", "operator": "lilei", "note": "已联系"})
        assert r.status_code == 200, r.text
        assert r.json()["events"][-1]["actor"] == "operator:wangmin"  # the key's owner, not the body's claim
        assert api.get("/api/operator/tickets", headers={"X-API-Key": "dev-operator-key"}).status_code == 401


def test_handoffs_stored_before_masking_are_redacted(engine):
    from handoff.models import Handoff
    from handoff.service import ensure_schema, redact_stored
    from sqlalchemy.orm import Session

    ensure_schema(engine)
    with Session(engine) as s, s.begin():
        s.add(Handoff(number="H20261101-OLD001", conversation_id="old", reason="customer_request", status="open",
                      summary="电话13912345678",
                      transcript=[{"who": "user", "text": "我要预约"},
                                  {"who": "bot", "text": "请提供投保人手机号或身份证号后四位。"},
                                  {"who": "user", "text": "110101199003071234"}],
                      slots={"phone": "13912345678", "verifier": "1234"}))
    assert redact_stored(engine) == 1 and redact_stored(engine) == 0
    with engine.connect() as c:
        row = c.execute(text("SELECT transcript, slots, summary FROM hof_handoffs")).one()
    stored = " ".join(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for v in row)
    assert not MOBILE.search(stored) and not ID18.search(stored) and "1234\"" not in stored


def test_ticket_views_mask_numbers_typed_into_notes(kb_engine, tmp_path):
    from datetime import datetime, timedelta, timezone

    with api_client(copy_sqlite(kb_engine, tmp_path / "notes.db")) as api:
        c = api.creds["PAH2025000101"]
        when = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=3)).replace(
            hour=10, minute=0, second=0, microsecond=0).isoformat()
        r = api.post("/api/tickets", json={"insurer": "平安", "service": "陪诊", "person_name": "刘芳", "city": "苏州",
                                           "preferred_time": when, "contact_phone": "13912345678",
                                           "notes": "家属电话13800001111，身份证110101199003071234"},
                     headers={"X-Policy-Number": c["number"], "X-Verifier": c["mobile"]})
        assert r.status_code == 201, r.text
        number = r.json()["ticket"]["number"]
        view = api.get(f"/api/operator/tickets/{number}", headers={"X-API-Key": "dev-operator-key"}).text
        assert not MOBILE.search(view) and not ID18.search(view)
        assert "138****1111" in view and "1101**********1234" in view
