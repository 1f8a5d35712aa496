"""Property-based robustness of the read side: knowledge.query, knowledge.geo and rules.engine.decide.

Any text (Unicode, 100k characters, emoji, control characters, NUL, lone surrogates, injection strings)
and odd dates get a clear result of the documented type, never an exception.
"""
from __future__ import annotations

import os
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge import geo
from knowledge import models as m
from knowledge.query import CoverageAnswer, KnowledgeBase

FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 60)), deadline=None,
                suppress_health_check=list(HealthCheck))

NASTY = [
    "", " ", "\u3000", "'", "' OR '1'='1", "1; DROP TABLE kb_services; --", "%", "_", "\\", "*", "?", "(", ")",
    "[", "]", "^$", ".*", "(a+)+$", "\\d{99999}", "<script>alert(1)</script>", "{{7*7}}", "${7*7}", "%s%n",
    "../../etc/passwd", "\x00", "a\x00b", "\x1b[2J", "\r\n\t", "\ufeff", "\u200b\u200d", "\u202e苏州", "😀",
    "👨‍👩‍👧‍👦", "ｓｕｚｈｏｕ", "ＳＺ", "𝟙𝟛𝟡", "İ", "ß", "\ud800", "苏州\udfff", "null", "NaN", "9" * 400,
    "苏州", "苏州市", "江苏省苏州市", "SZ", "suzhou", "Su Zhou", "吉林", "吉林吉林", "海南", "朝阳", "鼓楼区",
    "陪诊", "二诊", "绿通", "MDT", "华西", "协和", "温医二院", "平安", "众安", "太保", "等待期", "全国",
]
LONG = st.sampled_from(["a", "苏", "😀", "\x00", "陪诊", "苏州北京", "\ud800", " "]).map(lambda c: c * (100_000 // len(c)))
ANY_TEXT = st.one_of(st.sampled_from(NASTY), st.text(max_size=60), LONG,
                     st.tuples(st.sampled_from(NASTY), st.text(max_size=20), st.sampled_from(NASTY)).map("".join))
ODD_INSURER = st.one_of(st.none(), ANY_TEXT, st.integers(), st.sampled_from([0, -1, 10 ** 30, "平安", "众安"]))


@pytest.fixture(scope="module")
def kb(kb_engine):
    return KnowledgeBase(kb_engine)


@pytest.fixture(scope="module")
def service_ids(kb_engine):
    with Session(kb_engine) as s:
        return sorted(s.scalars(select(m.Service.id)))


def _real_service(service_ids, i: int) -> int:
    return service_ids[i % len(service_ids)]


@FUZZ
@given(text=ANY_TEXT, insurer=ODD_INSURER)
def test_resolve_service_and_insurer(kb, text, insurer):
    hits = kb.resolve_service(text, insurer=insurer)
    assert isinstance(hits, list)
    for h in hits:
        assert h.source.manual_id and h.source.line_start >= 1
    ins = kb.resolve_insurer(text)
    assert ins is None or ins.short_name


@FUZZ
@given(text=ANY_TEXT, i=st.integers(min_value=0, max_value=10_000),
       bad_id=st.sampled_from([None, 0, -1, 10 ** 12, 2 ** 63, "x", 1.5e300, "\x00"]))
def test_coverage_and_hospitals(kb, service_ids, text, i, bad_id):
    sid = _real_service(service_ids, i)
    ans = kb.coverage(sid, text)
    assert isinstance(ans, CoverageAnswer) and ans.status in ("covered", "not_covered", "unknown")
    if ans.status != "unknown":
        assert ans.evidence and ans.city is not None  # a yes / no always cites the list
    assert isinstance(kb.hospitals(sid, text), list)
    # an id that is not a service: a clear "not found", not a crash deep inside
    try:
        bad = kb.coverage(bad_id, text)
        assert bad.status == "unknown"
    except LookupError:
        pass


@FUZZ
@given(text=ANY_TEXT, limit=st.sampled_from([1, 10, 0, -1, 1000]))
def test_find_hospital_disease_drug(kb, text, limit):
    for fn in (kb.find_hospital, kb.find_disease, kb.find_drug):
        out = fn(text, limit=limit)
        assert isinstance(out, list) and len(out) <= max(limit, 0) or limit <= 0


@FUZZ
@given(text=ANY_TEXT, insurer=ODD_INSURER, k=st.sampled_from([1, 5, 0, -3, 10 ** 6]),
       i=st.integers(min_value=0, max_value=10_000), with_service=st.booleans())
def test_search_and_faq(kb, service_ids, text, insurer, k, i, with_service):
    hits = kb.search(text, insurer=insurer, k=k)
    assert isinstance(hits, list) and len(hits) <= max(k, 0)
    for h in hits:
        assert h.source.line_start >= 1 and h.text
    faqs = kb.faq(text, insurer=insurer, service_id=_real_service(service_ids, i) if with_service else None, k=k)
    assert isinstance(faqs, list) and len(faqs) <= max(k, 0)


@FUZZ
@given(text=ANY_TEXT, hint=st.none() | ANY_TEXT)
def test_geo_resolve_city(text, hint):
    res = geo.resolve_city(text, province_hint=hint)
    assert res.status in ("ok", "ambiguous", "unknown", "not_prefecture") or isinstance(res.status, str)
    if res.status == "ok":
        assert res.city is not None and res.city.code
    for start, end, r in geo.find_cities(text):  # ambiguous mentions come back too, unknown never
        assert 0 <= start < end <= len(text) and r.query == text[start:end]
        assert (r.status == "ok" and r.city is not None) or (r.status == "ambiguous" and len(r.candidates) > 1)


def test_geo_known_answers_survive_decoration():
    """The real resolution still works with hostile padding around the name (not just "no crash")."""
    base = geo.resolve_city("苏州")
    assert base.status == "ok" and base.city.code == "320500"
    for text in ("\ufeff苏州", " 苏州\u3000", "苏州\x00", "<b>苏州</b>", "苏州市'; --"):
        found = [r.city.code for _, _, r in geo.find_cities(text)]
        assert "320500" in found, (text, found)
    # invisible characters pasted with the name (zero-width space, BOM, joiner, direction mark, NUL) were
    # "unknown city" before; they are dropped now
    for text in ("\u200b苏州", "苏州\ufeff", "苏\u200d州", "\u202e苏州", "苏州\x00"):
        r = geo.resolve_city(text)
        assert r.status == "ok" and r.city.code == "320500", (text, r)
    assert geo.resolve_city("\u200b\x00").status == "unknown"


# -- rules.engine.decide with odd dates --------------------------------------------------------
ODD_DATE = st.one_of(st.none(), st.dates(), st.sampled_from([date.min, date.max, date(1900, 1, 1), date(2024, 2, 29),
                                                             date.max - timedelta(days=1), date(1, 1, 2)]),
                     st.sampled_from(["2026-02-30", "9999-12-31", "0001-01-01", "昨天", "", "2026/13/01", 20260101]))


@pytest.fixture(scope="module")
def rules_(kb, service_ids):
    from rules.loader import service_rule

    out = []
    for sid in service_ids:
        try:
            out.append(service_rule(kb, sid))
        except LookupError:
            pass
    return out


@FUZZ
@given(i=st.integers(min_value=0, max_value=10_000), today=ODD_DATE, effective=ODD_DATE, end=ODD_DATE,
       received=ODD_DATE, birth=ODD_DATE, request=ODD_DATE, condition=ODD_DATE, join=ODD_DATE, since=ODD_DATE,
       cooling=st.one_of(st.none(), st.integers(), st.sampled_from(["15", "x", 10 ** 30])),
       payment=st.one_of(st.none(), st.integers(min_value=-5, max_value=10 ** 6)),
       uses=st.one_of(st.none(), st.integers()), diagnosis=st.sampled_from([None, "none", "suspected", "confirmed", "?"]),
       grade=st.sampled_from([None, 1, 2, 3, "三级甲等", "二级", "", "\x00", 10 ** 20, -1]),
       text=ANY_TEXT, flags=st.lists(st.sampled_from([None, True, False]), min_size=6, max_size=6))
def test_decide_with_odd_dates(rules_, i, today, effective, end, received, birth, request, condition, join, since,
                               cooling, payment, uses, diagnosis, grade, text, flags):
    from rules import CaseFacts, DesignatedMember, PersonFacts, PolicyFacts, decide
    from rules.engine import ask_zh

    rule = rules_[i % len(rules_)]
    policy = PolicyFacts(policy_number=text[:40], product=text[:20], edition=text[:20], effective_date=effective,
                         end_date=end, received_date=received, cooling_off_days=cooling, payment_term_years=payment,
                         is_transfer=flags[0], is_renewal=flags[1], addons=(text[:10],) if flags[2] else None,
                         is_family_policy=flags[3], family_members=("self", text[:10]),
                         designated_family=(DesignatedMember(text[:10] or "x", "spouse", since),),
                         condition_met_date=condition, join_date=join, upgraded=flags[4])
    person = PersonFacts(person_id=text[:10] or "self", relation=text[:10] if flags[5] else "self",
                         birth_date=birth, designated_since=since, applicant_is_guardian=flags[5])
    case = CaseFacts(diagnosis=diagnosis, disease=text, diagnosis_hospital_grade=grade, city=text, hospital=text,
                     request_date=request, uses_this_period=uses, pregnancy=flags[0], accident=flags[1])
    d = decide(rule, policy, person, case, today)
    assert d.status in ("eligible", "not_eligible", "need_info")
    assert all(r.message_zh for r in d.reasons)
    assert isinstance(d.text_zh(), str)
    assert isinstance(ask_zh(d), str)


def test_decide_refuses_garbage_arguments(rules_):
    from rules import decide

    assert decide(None, None, None, None, None).status == "need_info"
    assert decide(rules_[0], "policy", 3, ["case"], "not a date").status in ("eligible", "not_eligible", "need_info")


def test_decide_treats_impossible_dates_as_not_given(rules_):
    """9999-12-31 / 0001-01-01 overflowed date arithmetic (ValueError / OverflowError); now they are
    treated as unknown and the engine asks for the date instead."""
    from rules import PolicyFacts, decide

    rule = next(r for r in rules_ if r.waiting is not None and r.waiting.days)
    for day in (date.max, date.min, "9999-12-31"):
        d = decide(rule, PolicyFacts(effective_date=day, received_date=day), None, None, date(2026, 3, 1))
        assert d.status in ("need_info", "not_eligible") and "policy.effective_date" in d.missing
    assert decide(rule, PolicyFacts(effective_date=date(2025, 1, 1)), None, None, date.max).status
