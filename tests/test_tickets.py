"""Ticket service on SQLite and PostgreSQL: create, idempotency, lifecycle, audit, usage, concurrency."""
from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from policies import models as pm
from policies.seed import credentials, seed
from core.ids import ServiceRef
from core.identity import PolicyNotVerified, Verifier
from policies.source import DbPolicySource, record_usage
from tickets.catalog import ServiceInfo, StaticCatalog
from tickets.models import Ticket, TicketEvent
from tickets.service import (IdempotencyConflict, TicketNotFound, TicketService, TransitionNotAllowed)
from tickets.testing import postgres_reachable, temp_database
from core.clock import now_china
from core.ids import ValidationError

_PG_SKIP = postgres_reachable()
PINGAN = "000_0cd53a263ec9ebf5"

# Test services (fixture values, not manual facts): one with a 48 h lead time whose manual says a
# cancellation after confirmation counts, one without either rule.
ESCORT = ServiceInfo(ServiceRef(PINGAN, "t-escort", "测试陪诊"), kb_id=901, lead_time_hours=48,
                     usage_rule={"cancel_after_confirm_counts": True})
PLAIN = ServiceInfo(ServiceRef(PINGAN, "t-plain", "测试咨询"), kb_id=902)


def covered_except_lhasa(service_id, city):
    return SimpleNamespace(status="not_covered" if city == "拉萨市" else "covered", evidence=[])


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def env(request, tmp_path):
    if request.param == "postgres" and _PG_SKIP:
        pytest.skip(_PG_SKIP)
    with temp_database(request.param, tmp_path) as engine:
        seed(engine)
        c = next(x for x in credentials(engine) if x["number"] == "PAH2025000101")
        insurer = DbPolicySource(engine).get(c["number"], Verifier(mobile=c["mobile"])).insurer
        catalog = StaticCatalog([ServiceInfo(**{**s.__dict__, "insurer": insurer}) for s in (ESCORT, PLAIN)])
        svc = TicketService(engine, catalog=catalog, policies=DbPolicySource(engine), coverage=covered_except_lhasa,
                            usage_writer=record_usage)
        yield SimpleNamespace(engine=engine, svc=svc, cred=c, verifier=Verifier(mobile=c["mobile"]))


def request_for(env, **over):
    base = dict(service=ESCORT.ref, policy_number=env.cred["number"], person_name="刘芳", city="苏州",
                hospital="苏州大学附属第一医院", preferred_time=now_china() + timedelta(days=3),
                contact_phone="13912345678", channel="web", conversation_id="conv-1", notes="需要轮椅",
                verifier=env.verifier)
    base.update(over)
    return base


def count(engine, model):
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_create_ticket(env):
    res = env.svc.create_ticket(**request_for(env, idempotency_key="k-1"))
    t = res.ticket
    assert res.created and re.fullmatch(r"T\d{8}-\d{6}", t.number)
    assert t.number[1:9] == now_china().strftime("%Y%m%d")
    assert (t.status, t.city_name, t.city_code, t.coverage) == ("submitted", "苏州市", "320500", "covered")
    assert t.service == ESCORT.ref and t.contact_phone_masked == "139****5678"
    assert [(e.from_status, e.to_status, e.actor) for e in t.events] == [(None, "submitted", "customer")]


def test_rejected_input_stores_nothing_and_says_what_to_fix(env):
    bad = request_for(env, contact_phone="12345", city="火星", preferred_time=now_china() - timedelta(hours=1),
                      person_id_number="110105194912310021", notes="长" * 600)
    with pytest.raises(ValidationError) as ei:
        env.svc.create_ticket(**bad)
    assert set(ei.value.codes) == {"mobile_invalid", "city_unknown", "time_in_past", "id_number_checksum",
                                   "text_too_long"}
    assert all(re.search(r"[\u4e00-\u9fff]", i.message) for i in ei.value.issues)
    assert count(env.engine, Ticket) == count(env.engine, TicketEvent) == 0


@pytest.mark.parametrize("over,code", [
    ({"preferred_time": "IN_24H"}, "time_too_soon"),
    ({"city": "拉萨"}, "city_not_covered"),
    ({"person_name": "陌生人"}, "person_not_on_policy"),
    ({"service": ServiceRef(PINGAN, "no-such-service")}, "service_unknown"),
    ({"policy_number": "@@"}, "policy_number_invalid"),
])
def test_rule_violations(env, over, code):
    if over.get("preferred_time") == "IN_24H":
        over = {"preferred_time": now_china() + timedelta(hours=24)}
    with pytest.raises(ValidationError) as ei:
        env.svc.create_ticket(**request_for(env, **over))
    assert ei.value.codes == [code]
    assert count(env.engine, Ticket) == 0


def test_service_without_lead_time_accepts_short_notice(env):
    t = env.svc.create_ticket(**request_for(env, service=PLAIN.ref, preferred_time=now_china() + timedelta(hours=2)))
    assert t.created


def test_unverified_customer_cannot_book(env):
    with pytest.raises(PolicyNotVerified):
        env.svc.create_ticket(**request_for(env, verifier=Verifier(mobile="13900009999")))
    assert count(env.engine, Ticket) == 0


def test_idempotent_replay_and_conflict(env):
    first = env.svc.create_ticket(**request_for(env, idempotency_key="dup-1"))
    again = env.svc.create_ticket(**request_for(env, idempotency_key="dup-1",
                                                preferred_time=first.ticket.preferred_time))
    assert not again.created and again.ticket.number == first.ticket.number
    with pytest.raises(IdempotencyConflict):
        env.svc.create_ticket(**request_for(env, idempotency_key="dup-1", city="杭州",
                                            preferred_time=first.ticket.preferred_time))
    # a replay is answered even when the same request would now fail validation (e.g. too late)
    late = TicketService(env.engine, catalog=env.svc.catalog, policies=env.svc.policies,
                         clock=lambda: now_china() + timedelta(days=10))
    assert late.create_ticket(**request_for(env, idempotency_key="dup-1",
                                            preferred_time=first.ticket.preferred_time)).ticket.number \
        == first.ticket.number
    assert count(env.engine, Ticket) == 1


def test_lifecycle_audit_and_usage(env):
    n = env.svc.create_ticket(**request_for(env)).ticket.number
    env.svc.transition(n, "accepted", "operator:alice", "资料齐全")
    env.svc.transition(n, "scheduled", "operator:alice", "已安排陪诊员")
    done = env.svc.transition(n, "completed", "operator:bob")
    assert [(e.from_status, e.to_status, e.actor) for e in done.events] == [
        (None, "submitted", "customer"), ("submitted", "accepted", "operator:alice"),
        ("accepted", "scheduled", "operator:alice"), ("scheduled", "completed", "operator:bob")]
    with pytest.raises(TransitionNotAllowed) as ei:
        env.svc.transition(n, "cancelled", "customer")
    assert "已完成" in ei.value.message
    with pytest.raises(TransitionNotAllowed):
        env.svc.transition(n, "flying", "operator:bob")
    view = DbPolicySource(env.engine).get(env.cred["number"], env.verifier)
    assert view.used(ESCORT.ref, "刘芳") == 1


def test_cancellation_counts_only_after_confirmation_and_when_the_rule_says_so(env):
    def booked(service, to):
        n = env.svc.create_ticket(**request_for(env, service=service)).ticket.number
        for st in to:
            env.svc.transition(n, st, "operator:alice")
        return env.svc.cancel_ticket(n, Verifier(mobile="13912345678"), "行程有变").number

    early = booked(ESCORT.ref, ["accepted"])
    late = booked(ESCORT.ref, ["accepted", "scheduled"])
    no_rule = booked(PLAIN.ref, ["accepted", "scheduled"])
    with Session(env.engine) as s:
        rows = {u.ticket_number: u for u in s.scalars(select(pm.UsageRecord))}
    assert early not in rows
    assert rows[late].counts_as_used is True and "cancel_after_confirm_counts" in rows[late].note
    assert rows[no_rule].counts_as_used is False


def test_get_ticket_needs_the_contact_phone_or_holder_proof(env):
    n = env.svc.create_ticket(**request_for(env)).ticket.number
    assert env.svc.get_ticket(n, Verifier(mobile="13912345678")).number == n
    assert env.svc.get_ticket(n.lower(), Verifier(id_last4=env.cred["id_last4"])).number == n
    refusals = set()
    for number, ver in [(n, Verifier(mobile="13900009999")), (n, None), ("T20000101-000001", env.verifier)]:
        with pytest.raises(TicketNotFound) as ei:
            env.svc.get_ticket(number, ver)
        refusals.add(ei.value.message)
    assert len(refusals) == 1
    with pytest.raises(ValidationError):
        env.svc.get_ticket("not a ticket", env.verifier)


def test_list_for_policy(env):
    a = env.svc.create_ticket(**request_for(env)).ticket.number
    b = env.svc.create_ticket(**request_for(env, service=PLAIN.ref)).ticket.number
    env.svc.transition(a, "rejected", "operator:alice", "资料不全")
    assert [t.number for t in env.svc.list_for_policy(env.cred["number"], env.verifier)] == [b, a]
    assert [t.number for t in env.svc.list_for_policy(env.cred["number"], trusted=True,
                                                      statuses={"submitted"})] == [b]
    with pytest.raises(PolicyNotVerified):
        env.svc.list_for_policy(env.cred["number"], Verifier(mobile="13900009999"))


def test_fifty_concurrent_creations_get_distinct_numbers(env):
    def one(i):
        return env.svc.create_ticket(**request_for(env, idempotency_key=f"c-{i}", notes=f"并发 {i}")).ticket.number

    with ThreadPoolExecutor(max_workers=16) as pool:
        numbers = list(pool.map(one, range(50)))
    assert len(set(numbers)) == 50
    assert count(env.engine, Ticket) == 50 and count(env.engine, TicketEvent) == 50
    seqs = sorted(int(n.split("-")[1]) for n in numbers)
    assert seqs == list(range(seqs[0], seqs[0] + 50))  # no gaps, no repeats


def test_concurrent_identical_requests_yield_one_ticket(env):
    req = request_for(env, idempotency_key="same-key")

    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda _: env.svc.create_ticket(**req), range(24)))
    assert len({r.ticket.number for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert count(env.engine, Ticket) == 1


def test_concurrent_transitions_apply_once(env):
    n = env.svc.create_ticket(**request_for(env)).ticket.number

    def accept(_):
        try:
            env.svc.transition(n, "accepted", "operator:x")
            return "ok"
        except Exception as exc:  # noqa: BLE001
            return type(exc).__name__

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(accept, range(8)))
    assert outcomes.count("ok") == 1
    assert set(outcomes) <= {"ok", "TransitionNotAllowed", "ConcurrentChange"}
    assert [e.to_status for e in env.svc.get_ticket(n, Verifier(mobile="13912345678")).events] == \
        ["submitted", "accepted"]


# -- with the real knowledge store -------------------------------------------------------------
def test_real_escort_service_from_the_store(kb_only, tmp_path):
    """平安 就医陪诊: lead time and the cancellation rule are read from the manual through the store."""
    from knowledge.query import KnowledgeBase
    from tickets.catalog import KbServiceCatalog

    kb_engine = kb_only("000")
    kb = KnowledgeBase(kb_engine)
    hits = [s for s in kb.resolve_service("就医陪诊") if s.manual_id == PINGAN]
    if not hits:
        pytest.skip("the 平安 adapter does not provide 就医陪诊 yet")
    catalog = KbServiceCatalog(kb)
    info = catalog.get(hits[0].id)
    assert info.lead_time_hours == 48  # 客户需提前 48 小时提交服务申请
    with temp_database("sqlite", tmp_path) as engine:
        seed(engine)
        c = next(x for x in credentials(engine) if x["number"] == "PAH2025000101")
        svc = TicketService(engine, catalog=catalog, policies=DbPolicySource(engine), coverage=kb.coverage,
                            usage_writer=record_usage)
        base = dict(service=info.ref, policy_number=c["number"], person_name="刘芳", contact_phone=c["mobile"],
                    verifier=Verifier(mobile=c["mobile"]))
        with pytest.raises(ValidationError) as ei:
            svc.create_ticket(**base, city="苏州", preferred_time=now_china() + timedelta(hours=24))
        assert ei.value.codes == ["time_too_soon"] and "48 小时" in ei.value.message
        with pytest.raises(ValidationError) as ei:
            svc.create_ticket(**base, city="拉萨", preferred_time=now_china() + timedelta(days=3))
        assert ei.value.codes == ["city_not_covered"]
        t = svc.create_ticket(**base, city="苏州", preferred_time=now_china() + timedelta(days=3)).ticket
        assert t.coverage == "covered" and t.service.key == info.ref.key
        for st in ("accepted", "scheduled"):
            svc.transition(t.number, st, "operator:alice")
        svc.cancel_ticket(t.number, Verifier(mobile=c["mobile"]), "不需要了")
        policy = DbPolicySource(engine).get(c["number"], Verifier(mobile=c["mobile"]))
        assert policy.used(info.ref, "刘芳") == 1  # 视同该次服务已使用


# -- migrations ----------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_migration_matches_the_models(kind, tmp_path):
    if kind == "postgres" and _PG_SKIP:
        pytest.skip(_PG_SKIP)
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from migrations import upgrade_head

    from core.db import Base

    with temp_database(kind, tmp_path) as engine:
        upgrade_head(engine)  # second run is a no-op
        owned = {n for n in Base.metadata.tables if n.startswith(("pol_", "tkt_"))}
        assert owned <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={
                "compare_type": True,
                "include_name": lambda name, type_, parents: type_ != "table" or name in owned,
                "include_object": lambda obj, name, type_, reflected, other: type_ != "table" or name in owned})
            diff = compare_metadata(ctx, Base.metadata)
        assert diff == []
