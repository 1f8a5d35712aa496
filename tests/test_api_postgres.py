"""Ticket endpoints on PostgreSQL: start-up migrates and builds the knowledge store in a fresh database."""
from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from policies.seed import credentials, seed
from tickets.testing import postgres_reachable, temp_database
from core.clock import now_china

pytestmark = pytest.mark.postgres
_PG_SKIP = postgres_reachable()


@pytest.fixture(scope="module")
def pg_api(tmp_path_factory):
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    with temp_database("postgres", migrate=False) as engine:
        url = engine.url.render_as_string(hide_password=False)
        old = os.environ.get("DATABASE_URL")
        os.environ["DATABASE_URL"] = url
        try:
            from api.app import create_app

            app = create_app()  # start-up: Alembic upgrade + knowledge build (the database is empty)
            with TestClient(app) as client:
                seed(app.state.engine)
                client.creds = {c["number"]: c for c in credentials(app.state.engine)}
                yield client
            app.state.engine.dispose()
        finally:
            if old is None:
                os.environ.pop("DATABASE_URL", None)
            else:
                os.environ["DATABASE_URL"] = old


def test_postgres_ticket_flow(pg_api):
    api = pg_api
    health = api.get("/healthz").json()
    assert health["database"] == "postgresql" and health["knowledge"]["services"] > 50
    c = api.creds["PAH2025000101"]
    hdr = {"X-Policy-Number": c["number"], "X-Verifier": c["mobile"], "Idempotency-Key": "pg-1"}
    when = (now_china() + timedelta(days=3)).replace(microsecond=0).isoformat()
    body = {"insurer": "平安", "service": "陪诊", "person_name": "刘芳", "city": "苏州", "preferred_time": when,
            "contact_phone": "13912345678"}
    r = api.post("/api/tickets", json=body, headers=hdr)
    assert r.status_code == 201, r.text
    number = r.json()["ticket"]["number"]
    assert re.fullmatch(r"T\d{8}-\d{6}", number) and r.json()["ticket"]["coverage"] == "covered"
    again = api.post("/api/tickets", json=body, headers=hdr)
    assert again.status_code == 200 and again.json()["ticket"]["number"] == number
    conflict = api.post("/api/tickets", json={**body, "city": "杭州"}, headers=hdr)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "idempotency_conflict"
    bad = api.post("/api/tickets", json={**body, "contact_phone": "123"}, headers={**hdr, "Idempotency-Key": "pg-2"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "mobile_invalid"

    other = {"X-Verifier": api.creds["PAH2025000102"]["mobile"]}
    assert api.get(f"/api/tickets/{number}", headers=other).status_code == 404
    assert api.get(f"/api/tickets/{number}", headers={"X-Verifier": c["id_last4"]}).json()["status"] == "submitted"

    key = {"X-API-Key": "dev-operator-key"}
    listed = api.get("/api/operator/tickets", params={"policy_number": c["number"]}, headers=key).json()
    assert listed["total"] == 1  # the rejected request stored nothing
    t = api.post(f"/api/operator/tickets/{number}/transition", json={"to_status": "accepted"}, headers=key)
    assert t.status_code == 200 and t.json()["status"] == "accepted"
    cancel = api.post(f"/api/tickets/{number}/cancel", json={"reason": "行程有变"}, headers=hdr)
    assert cancel.status_code == 200 and cancel.json()["status"] == "cancelled"
    assert [e["to_status"] for e in cancel.json()["events"]] == ["submitted", "accepted", "cancelled"]
    assert api.post(f"/api/tickets/{number}/cancel", headers=hdr).status_code == 409
