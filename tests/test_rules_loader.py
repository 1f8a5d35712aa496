"""rules.loader against the real knowledge store built from each manual.

The adapters fill the Service columns; where a column is not filled yet the test skips
with a message saying which reading is missing.
"""
from __future__ import annotations

from datetime import date

import pytest

from knowledge.query import KnowledgeBase
from knowledge.views import ServiceView
from rules import (ELIGIBLE, NEED_INFO, NOT_ELIGIBLE, CaseFacts, CoverageResult, PersonFacts, PolicyFacts, decide)
from rules.loader import service_rule

MANUALS = ["000", "001", "002", "003", "004"]


@pytest.fixture(scope="module")
def kb_of(kb_only):
    """kb_of("000") -> the read API over a store holding only that manual (one per module)."""
    cache: dict[str, KnowledgeBase] = {}

    def get(prefix: str) -> KnowledgeBase:
        if prefix not in cache:
            cache[prefix] = KnowledgeBase(kb_only(prefix))
        return cache[prefix]

    return get


def _service(kb: KnowledgeBase, name: str) -> ServiceView:
    svc = next((v for v in kb.services() if v.name == name), None)
    if svc is None:
        pytest.skip(f"the store has no service named {name!r} yet (adapter not filled)")
    return svc


@pytest.mark.parametrize("prefix", MANUALS)
def test_every_stored_service_loads_with_valid_sources(kb_of, prefix):
    kb = kb_of(prefix)
    services = kb.services()
    if not services:
        pytest.skip(f"manual {prefix}: no services stored yet (adapter not landed)")
    for svc in services:
        rule = service_rule(kb, svc.id)
        assert rule is not None and rule.name == svc.name and rule.manual_id == svc.manual_id
        srcs = [rule.source, rule.waiting.source, rule.beneficiary.source, rule.diagnosis.source, rule.usage.source,
                rule.age.source, rule.addon_source, rule.guardian_source, rule.coverage_source]
        srcs += [e.source for e in rule.entitlements] + [e.validity_source for e in rule.entitlements]
        for src in filter(None, srcs):
            assert src.manual_id == svc.manual_id
            assert 1 <= src.line_start <= src.line_end <= kb.manual(svc.manual_id).line_count
            assert src.quote, (svc.name, src)
        # a set column always has a source
        if svc.waiting_kind:
            assert rule.waiting.source is not None
        if svc.usage_period:
            assert rule.usage.source is not None
        # and the engine gives a clear answer on empty facts
        d = decide(rule, PolicyFacts(), PersonFacts(), CaseFacts(), date(2026, 4, 1))
        assert d.status in (ELIGIBLE, NOT_ELIGIBLE, NEED_INFO) and d.reasons


def test_unknown_service_id(kb_of):
    kb = kb_of("002")
    assert service_rule(kb, 10**9) is None
    assert service_rule(kb, "garbage") is None
    assert decide(service_rule(kb, 10**9), PolicyFacts(), PersonFacts(), CaseFacts(), date(2026, 4, 1)).status == NEED_INFO


def test_000_escort_waiting_transfer_pool_guardian(kb_of):
    kb = kb_of("000")
    rule = service_rule(kb, _service(kb, "就医陪诊").id)
    if rule.waiting.kind != "days":
        pytest.skip("000 adapter has not set waiting_kind=days for 就医陪诊")
    assert rule.waiting.days == 30 and "transfer" in rule.waiting.waivers
    # the 30 days are stated on lines 27-29, not on the "same as the policy" clause (lines 13-15)
    assert (rule.waiting.source.line_start, rule.waiting.source.line_end) == (27, 29)
    assert rule.usage.limit == 1 and rule.usage.period == "policy_year"
    pol = PolicyFacts(effective_date=date(2026, 3, 1), is_transfer=False, is_family_policy=True)
    case = CaseFacts(uses_this_period=0, city="温州")
    cov = CoverageResult("covered", rule.coverage_source, "温州市")
    d30 = decide(rule, pol, PersonFacts(), case, date(2026, 3, 30), coverage=cov)
    assert d30.status == NOT_ELIGIBLE and "2026年3月31日起可以使用" in d30.text_zh()
    assert decide(rule, pol, PersonFacts(), case, date(2026, 3, 31), coverage=cov).status == ELIGIBLE
    spouse = PersonFacts("w", "spouse", is_insured=True)
    if rule.beneficiary.kind == "family_pool":
        d = decide(rule, pol, spouse, CaseFacts(uses_this_period=1), date(2026, 4, 1), coverage=cov)
        assert d.status == NOT_ELIGIBLE and "共享" in d.text_zh()
    if rule.guardian_source:
        child = PersonFacts(birth_date=date(2016, 1, 1))
        d = decide(rule, pol, child, case, date(2026, 4, 1), coverage=cov)
        assert "person.applicant_is_guardian" in d.missing


def test_001_escort_needs_the_addon(kb_of):
    kb = kb_of("001")
    rule = service_rule(kb, _service(kb, "门诊陪诊服务").id)
    if not rule.addon_required:
        pytest.skip("001 adapter has not set addon_required for 门诊陪诊服务")
    assert "加油包" in rule.addon_required and rule.addon_source is not None
    base = dict(effective_date=date(2025, 1, 1), waiting_days=30, is_renewal=False)
    case = CaseFacts(uses_this_period=0)
    assert decide(rule, PolicyFacts(**base, addons=()), PersonFacts(), case, date(2026, 4, 1)).status == NOT_ELIGIBLE
    ok = decide(rule, PolicyFacts(**base, addons=("门急诊加油包",)), PersonFacts(), case, date(2026, 4, 1))
    assert ok.status != NOT_ELIGIBLE, ok.text_zh()


def test_002_cooling_off_and_90_days(kb_of):
    kb = kb_of("002")
    coc = service_rule(kb, _service(kb, "COC 肿瘤随访服务").id)
    green = service_rule(kb, _service(kb, "门诊绿通").id)
    if coc.waiting.kind != "after_cooling_off" or green.waiting.days != 90:
        pytest.skip("002 adapter has not set the waiting readings")
    pol = PolicyFacts(effective_date=date(2026, 3, 1), cooling_off_days=15)
    assert decide(coc, pol, PersonFacts(), CaseFacts(), date(2026, 3, 15)).status == NOT_ELIGIBLE
    assert decide(coc, pol, PersonFacts(), CaseFacts(), date(2026, 3, 16)).status == ELIGIBLE
    pol = PolicyFacts(effective_date=date(2026, 1, 1))
    case = CaseFacts(diagnosis="confirmed", disease="宫颈癌复发", uses_this_period=0, city="上海")
    cov = CoverageResult("covered", green.coverage_source, "上海市")
    d = decide(green, pol, PersonFacts(), case, date(2026, 3, 31), coverage=cov)
    assert d.status == NOT_ELIGIBLE and "2026年4月1日起可以使用" in d.text_zh()
    assert decide(green, pol, PersonFacts(), case, date(2026, 4, 1), coverage=cov).status == ELIGIBLE
    assert decide(green, pol, PersonFacts("m", "parent"), case, date(2026, 4, 1), coverage=cov).status == NOT_ELIGIBLE


def test_003_advance_payment_accident_waiver(kb_of):
    kb = kb_of("003")
    rule = service_rule(kb, _service(kb, "医疗垫付").id)
    if "accident" not in rule.waiting.waivers:
        pytest.skip("003 adapter has not recorded the accident waiver of 医疗垫付")
    pol = PolicyFacts(effective_date=date(2026, 3, 1), waiting_days=30)
    assert decide(rule, pol, PersonFacts(), CaseFacts(accident=True), date(2026, 3, 2)).status != NOT_ELIGIBLE
    d = decide(rule, pol, PersonFacts(), CaseFacts(accident=False), date(2026, 3, 2))
    assert d.status == NOT_ELIGIBLE and "等待期" in d.text_zh()


def test_004_tiers_family_and_windows(kb_of):
    kb = kb_of("004")
    escort = service_rule(kb, _service(kb, "重疾陪诊服务").id)
    ward = service_rule(kb, _service(kb, "重疾三甲专家病房").id)
    hui = service_rule(kb, _service(kb, "重疾专家预约").id)
    if not escort.entitlements:
        pytest.skip("004 adapter has not stored entitlements yet")
    pol = PolicyFacts(effective_date=date(2026, 1, 1), edition="2023版", tier="尊享版2档", payment_term_years=10,
                      cooling_off_days=15)
    dx = CaseFacts(diagnosis="confirmed", disease="恶性肿瘤", diagnosis_hospital_public=True,
                   diagnosis_hospital_grade="三级甲等", uses_this_period=0)
    spouse = PersonFacts("w", "spouse", designated_since=date(2026, 2, 1))
    assert decide(escort, pol, PersonFacts(), dx, date(2026, 1, 10)).status == NOT_ELIGIBLE  # in the cooling-off
    assert decide(escort, pol, PersonFacts(), dx, date(2026, 3, 1)).status == ELIGIBLE
    fam = decide(escort, pol, spouse, dx, date(2026, 3, 1))
    assert fam.status == ELIGIBLE and "家人共 1 次" in fam.text_zh(), fam.text_zh()
    assert decide(escort, pol, spouse, dx, date(2029, 2, 1)).status == NOT_ELIGIBLE  # family window: 3 years
    assert decide(ward, pol, spouse, dx, date(2026, 3, 1)).status == NOT_ELIGIBLE    # 注 1: not for family
    pro = decide(escort, PolicyFacts(**{**pol.__dict__, "tier": "专业版"}), spouse, dx, date(2026, 3, 1))
    assert pro.status == NOT_ELIGIBLE and "仅限被保险人本人" in pro.text_zh()
    care = decide(escort, PolicyFacts(**{**pol.__dict__, "edition": "2022版", "tier": "关爱版"}), PersonFacts(), dx,
                  date(2026, 3, 1))
    assert care.status == NOT_ELIGIBLE and "不包含" in care.text_zh()  # 关爱版: "-" in the table
    # 普惠版: from the day after joining until 31 Dec of that year
    hp = PolicyFacts(edition="普惠版", join_date=date(2023, 6, 10))
    sus = CaseFacts(diagnosis="suspected", uses_this_period=0)
    assert decide(hui, hp, PersonFacts(), sus, date(2023, 12, 31)).status == ELIGIBLE
    late = decide(hui, hp, PersonFacts(), sus, date(2024, 1, 1))
    assert late.status == NOT_ELIGIBLE and "2023年12月31日" in late.text_zh()


def test_an_edition_whose_tables_do_not_list_the_service_does_not_include_it():
    kb = KnowledgeBase()
    svc = next(s for s in kb.services() if s.name == "陪诊服务" and s.manual_id.startswith("004"))
    rule = service_rule(kb, svc.id, "太保蓝本普惠版（2023版）")
    d = decide(rule, PolicyFacts(edition="太保蓝本普惠版（2023版）"), PersonFacts("p", "self", is_insured=True), None,
               today=date(2026, 6, 1))
    assert d.status == "not_eligible" and any(r.code == "entitlement" and r.passed is False for r in d.reasons)
