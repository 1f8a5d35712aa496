"""The database fails while a customer books a service.

The customer gets a clear 503 JSON error in Chinese (not a 500), nothing half-written stays (no ticket,
no audit row, no consumed ticket number), and repeating the same request (same Idempotency-Key) once the
database is back stores exactly one ticket. On SQLite the failure is injected at the driver (the INSERT
into tkt_tickets raises the driver's OperationalError); on PostgreSQL the server really drops the
connections (pg_terminate_backend) and refuses new ones (ALLOW_CONNECTIONS false) mid-transaction.
"""
from __future__ import annotations

import re
import sqlite3
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from tests.api_fixtures import api_client, copy_sqlite, err
from tickets.models import Ticket, TicketCounter, TicketEvent
from tickets.testing import PG_ADMIN_DSN, postgres_reachable, temp_database
from core.clock import now_china


def _booking(client, key: str, days: float = 5):
    c = client.creds["PAH2025000101"]
    body = {"insurer": "平安", "service": "陪诊", "person_name": "刘芳", "city": "苏州",
            "preferred_time": (now_china() + timedelta(days=days)).replace(microsecond=0).isoformat(),
            "contact_phone": "13912345678", "notes": "需要轮椅"}
    headers = {"X-Policy-Number": c["number"], "X-Verifier": c["mobile"], "Idempotency-Key": key}
    return body, headers


def _state(engine, key: str) -> dict:
    """What the database holds: tickets with this key, all tickets, audit rows, ticket counters."""
    with Session(engine) as s:
        return {"with_key": s.scalar(select(func.count()).where(Ticket.idempotency_key == key)),
                "tickets": s.scalar(select(func.count()).select_from(Ticket)),
                "events": s.scalar(select(func.count()).select_from(TicketEvent)),
                "counters": {c.day: c.last for c in s.scalars(select(TicketCounter))}}


def _unavailable(r) -> dict:
    e = err(r, 503, "db_unavailable")
    assert "请求编号" in e["message"] and r.headers.get("retry-after") == "5"
    return e


class Fault:
    """Makes the driver fail: on the INSERT into tkt_tickets ("insert") or on every statement ("all")."""

    def __init__(self, engine, error=lambda: sqlite3.OperationalError("disk I/O error")):
        self.mode, self.hits, self.error = None, 0, error
        event.listen(engine, "do_execute", self._hook)
        self.engine = engine

    def _hook(self, cursor, statement, parameters, context):
        if self.mode == "all" or (self.mode == "insert" and re.match(r"\s*INSERT INTO tkt_tickets\b", statement)):
            self.hits += 1
            raise self.error()  # raised where the driver would: SQLAlchemy wraps it as OperationalError
        return None  # let SQLAlchemy execute as usual

    def remove(self):
        event.remove(self.engine, "do_execute", self._hook)


@pytest.fixture
def sqlite_app(kb_engine, tmp_path):
    url = copy_sqlite(kb_engine, tmp_path / "app.db")
    with api_client(url) as client:  # server exceptions re-raise: a 500 would fail the test loudly
        fault = Fault(client.app.state.engine)
        yield client, fault
        fault.remove()


# -- SQLite -------------------------------------------------------------------------------------
def test_sqlite_insert_fails_then_retry_creates_exactly_one(sqlite_app):
    client, fault = sqlite_app
    engine = client.app.state.engine
    body, headers = _booking(client, "fault-sqlite-1")
    before = _state(engine, "fault-sqlite-1")

    fault.mode = "insert"
    _unavailable(client.post("/api/tickets", json=body, headers=headers))
    assert fault.hits == 1
    fault.mode = None
    assert _state(engine, "fault-sqlite-1") == before  # no ticket, no audit row, the number not consumed

    first = client.post("/api/tickets", json=body, headers=headers)
    assert first.status_code == 201, first.text
    t = first.json()["ticket"]
    day = t["number"][1:9]
    assert int(t["number"].split("-")[1]) == before["counters"].get(day, 0) + 1  # no gap left by the failure
    again = client.post("/api/tickets", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["ticket"]["number"] == t["number"]
    after = _state(engine, "fault-sqlite-1")
    assert after["with_key"] == 1 and after["tickets"] == before["tickets"] + 1
    assert after["events"] == before["events"] + 1
    got = client.get(f"/api/tickets/{t['number']}", headers={"X-Verifier": "13912345678"})
    assert got.status_code == 200 and got.json()["notes"] == "需要轮椅"


def test_sqlite_database_down_everywhere(sqlite_app):
    client, fault = sqlite_app
    body, headers = _booking(client, "fault-sqlite-2", days=6)
    created = client.post("/api/tickets", json=body, headers=headers)
    assert created.status_code == 201
    number = created.json()["ticket"]["number"]
    c = client.creds["PAH2025000103"]
    key = {"X-API-Key": "dev-operator-key"}

    later, later_headers = _booking(client, "fault-sqlite-3", days=8)
    fault.mode = "all"
    _unavailable(client.post("/api/tickets", json=later, headers=later_headers))
    _unavailable(client.get(f"/api/tickets/{number}", headers={"X-Verifier": "13912345678"}))
    _unavailable(client.post(f"/api/tickets/{number}/cancel", json={"reason": "改期"}, headers=headers))
    _unavailable(client.post("/api/eligibility", json={"service": "二诊", "policy_number": c["number"],
                                                       "verifier": c["mobile"]}))
    _unavailable(client.get("/api/operator/tickets", headers=key))
    _unavailable(client.post(f"/api/operator/tickets/{number}/transition", json={"to_status": "accepted"},
                             headers=key))
    err(client.get("/healthz"), 503, "db_unreachable")
    fault.mode = None

    assert client.get("/healthz").status_code == 200
    # the failed cancel changed nothing; the failed booking is stored once when repeated
    got = client.get(f"/api/tickets/{number}", headers={"X-Verifier": "13912345678"}).json()
    assert got["status"] == "submitted" and [e["to_status"] for e in got["events"]] == ["submitted"]
    assert client.post("/api/tickets", json=later, headers=later_headers).status_code == 201
    assert client.post("/api/tickets", json=later, headers=later_headers).status_code == 200
    assert _state(client.app.state.engine, "fault-sqlite-3")["with_key"] == 1


def test_healthz_when_the_database_file_cannot_be_opened(tmp_path):
    """An unreadable SQLite path: /healthz answers 503 db_unreachable (the app starts without a database)."""
    from api.app import create_app

    app = create_app(f"sqlite:///{tmp_path / 'missing-dir' / 'app.db'}", build_if_empty=False)
    client = TestClient(app)  # no lifespan: start-up migration would fail on the same missing file
    e = err(client.get("/healthz"), 503, "db_unreachable")
    assert e["details"]["error"] == "OperationalError"


# -- PostgreSQL -----------------------------------------------------------------------------------
_PG_SKIP = postgres_reachable()


@pytest.fixture(scope="module")
def pg_app():
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    import psycopg

    with temp_database("postgres", migrate=False) as engine:
        url = engine.url.render_as_string(hide_password=False)
        name = engine.url.database
        with api_client(url) as client:  # start-up migrates and builds the knowledge store
            admin = psycopg.connect(PG_ADMIN_DSN, autocommit=True)

            def outage(on: bool):
                """Refuse new connections and kill the open ones (on), or let connections in again (off)."""
                admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {"false" if on else "true"}')
                if on:
                    admin.execute("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                                  "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))

            client.outage = outage
            try:
                yield client
            finally:
                outage(False)
                admin.close()
                client.app.state.engine.dispose()


@pytest.mark.postgres
def test_postgres_connection_dropped_mid_transaction(pg_app):
    client = pg_app
    engine = client.app.state.engine
    body, headers = _booking(client, "fault-pg-1")
    assert client.post("/api/tickets", json=body, headers={**headers, "Idempotency-Key": "fault-pg-0"}).status_code \
        == 201  # a ticket today, so the counter row exists before the failure
    before = _state(engine, "fault-pg-1")

    fired = []

    def kill_before_insert(conn, cursor, statement, parameters, context, executemany):
        if not fired and re.match(r"\s*INSERT INTO tkt_tickets\b", statement):
            fired.append(statement)
            client.outage(True)  # the counter UPDATE already ran in this transaction

    event.listen(engine, "before_cursor_execute", kill_before_insert)
    try:
        _unavailable(client.post("/api/tickets", json=body, headers=headers))
        assert fired
        # still down: the retry is refused just as clearly, and so is the health check
        _unavailable(client.post("/api/tickets", json=body, headers=headers))
        err(client.get("/healthz"), 503, "db_unreachable")
    finally:
        event.remove(engine, "before_cursor_execute", kill_before_insert)
        client.outage(False)

    assert _state(engine, "fault-pg-1") == before  # the server rolled the whole transaction back
    first = client.post("/api/tickets", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = client.post("/api/tickets", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["ticket"]["number"] == first.json()["ticket"]["number"]
    after = _state(engine, "fault-pg-1")
    assert after["with_key"] == 1 and after["tickets"] == before["tickets"] + 1
    assert after["events"] == before["events"] + 1
    day = first.json()["ticket"]["number"][1:9]
    assert after["counters"][day] == before["counters"][day] + 1  # the lost attempt used no number
    assert client.get("/healthz").status_code == 200


@pytest.mark.postgres
def test_postgres_down_before_the_request(pg_app):
    client = pg_app
    body, headers = _booking(client, "fault-pg-2", days=7)
    client.outage(True)
    try:
        _unavailable(client.post("/api/tickets", json=body, headers=headers))
        c = client.creds["PAH2025000103"]
        _unavailable(client.post("/api/eligibility", json={"service": "二诊", "policy_number": c["number"],
                                                           "verifier": c["mobile"]}))
        err(client.get("/healthz"), 503, "db_unreachable")
    finally:
        client.outage(False)
    r = client.post("/api/tickets", json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert _state(client.app.state.engine, "fault-pg-2")["with_key"] == 1


@pytest.mark.postgres
def test_postgres_nul_bytes_never_reach_the_server(pg_app):
    """PostgreSQL text cannot hold NUL (the driver raises); every text field and query is cleaned or
    refused before it gets there."""
    client = pg_app
    body, headers = _booking(client, "fault-pg-nul", days=9)
    body.update({k: f"{body[k]}\x00" for k in ("person_name", "city", "notes")}, hospital="苏大附一院\x00",
                conversation_id="c\x001", channel="api\x00")
    r = client.post("/api/tickets", json=body, headers=headers)
    assert r.status_code == 201, r.text
    t = r.json()["ticket"]
    assert t["notes"] == "需要轮椅" and t["person_name"] == "刘芳" and "\x00" not in t["hospital"]
    for path, params in (("/api/services", {"q": "陪\x00诊"}), ("/api/hospitals/search", {"q": "华西\x00"}),
                         ("/api/coverage", {"service": "陪诊\x00", "city": "苏州\x00"}),
                         ("/api/operator/tickets", {"policy_number": "PAH\x002025000101"})):
        res = client.get(path, params=params, headers={"X-API-Key": "dev-operator-key"})
        assert res.status_code < 500, res.text
    assert client.post("/api/tickets", json={**body, "idempotency_key": "k\x00"}).status_code == 422
    cancel = client.post(f"/api/tickets/{t['number']}/cancel", json={"reason": "改\x00期"}, headers=headers)
    assert cancel.status_code == 200 and cancel.json()["events"][-1]["note"] == "改期"
