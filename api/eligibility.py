"""POST /api/eligibility: verified policy + stated facts -> rules.decide(), with every reason sourced.

The engine is pure; this module gathers its inputs: the ServiceRule (rules.loader), the
policy through the PolicySource (identity verified), the person on the policy, the
coverage answer of the knowledge base, and uses already recorded in the current period.
"""
from __future__ import annotations

import weakref
from datetime import date
from typing import Optional

from sqlalchemy.orm import Session

from api.deps import parse_verifier, resolve_insurer, resolve_service
from api.errors import ApiError
from api.views import coverage_reason_zh, policy_out, service_summary, source_out
from rules import CaseFacts, CoverageResult, DesignatedMember, PersonFacts, PolicyFacts, decide
from rules import Source as RuleSource
from rules.dates import calendar_year_bounds, policy_year_bounds
from rules.engine import FACT_ZH, ask_zh
from rules.loader import service_rule
from core.clock import today_china

RELATIONS = {"本人": "self", "自己": "self", "被保险人": "self", "self": "self", "insured": "self",
             "配偶": "spouse", "妻子": "spouse", "丈夫": "spouse", "老婆": "spouse", "老公": "spouse", "spouse": "spouse",
             "子女": "child", "儿子": "child", "女儿": "child", "孩子": "child", "child": "child",
             "父母": "parent", "父亲": "parent", "母亲": "parent", "爸爸": "parent", "妈妈": "parent", "parent": "parent",
             "祖父母": "grandparent", "爷爷": "grandparent", "奶奶": "grandparent", "外公": "grandparent",
             "外婆": "grandparent", "grandparent": "grandparent", "兄弟姐妹": "sibling", "sibling": "sibling",
             "其他": "other", "other": "other"}


def _relation(text: str | None) -> Optional[str]:
    if not text:
        return None
    r = RELATIONS.get(text.strip()) or RELATIONS.get(text.strip().lower())
    if r is None:
        raise ApiError(422, "relation_invalid", f"没有看懂与被保险人的关系“{text[:20]}”，请用本人、配偶、子女、父母等说明。",
                       allowed=sorted({"self", "spouse", "child", "parent", "grandparent", "sibling", "other"}))
    return r


def rule_source(src) -> RuleSource | None:
    if src is None:
        return None
    return src


def _policy_facts(p, extra) -> PolicyFacts:
    return PolicyFacts(
        policy_number=p.number, product=p.product, edition=p.edition, tier=p.tier,
        effective_date=p.effective_date, end_date=p.end_date, received_date=extra.received_date,
        cooling_off_days=extra.cooling_off_days,
        payment_term_years=p.payment_term_years, is_transfer=p.is_transfer, is_renewal=p.is_renewal,
        addons=tuple(p.addons) if extra.addons is None else tuple(extra.addons),
        is_family_policy=p.family_policy, family_members=tuple(x.name for x in p.insured),
        designated_family=tuple(DesignatedMember(f.name, f.relation, f.since) for f in p.family),
        condition_met_date=extra.condition_met_date, join_date=extra.join_date, upgraded=extra.upgraded)


def _person(body, policy) -> tuple[PersonFacts, Optional[dict]]:
    """PersonFacts from the request, matched against the people on the policy when there is one."""
    pin = body.person
    rel = _relation(pin.relation)
    if policy is None:
        return PersonFacts(person_id=pin.name or "person", relation=rel or "", is_insured=pin.is_insured,
                           birth_date=pin.birth_date, applicant_is_guardian=pin.applicant_is_guardian), None
    found = None
    if pin.name:
        found = policy.find_person(pin.name)
        if found is None:
            raise ApiError(422, "person_not_on_policy",
                           f"“{pin.name[:40]}”不是这张保单的被保险人或指定家人，请核对姓名。",
                           persons=[x.name for x in policy.persons()])
    elif rel in (None, "self") and len(policy.insured) == 1:
        found = policy.insured[0]  # the one insured person
    if found is None:
        return PersonFacts(person_id="person", relation=rel or "", is_insured=pin.is_insured,
                           birth_date=pin.birth_date, applicant_is_guardian=pin.applicant_is_guardian), None
    if found.role == "insured":
        facts = PersonFacts(person_id=found.name, relation="self", is_insured=True, birth_date=found.birth_date,
                            applicant_is_guardian=pin.applicant_is_guardian)
    else:
        facts = PersonFacts(person_id=found.name, relation=found.relation, is_insured=False,
                            birth_date=found.birth_date, designated_since=found.since,
                            applicant_is_guardian=pin.applicant_is_guardian)
    return facts, {"name": found.name, "role": found.role, "relation": facts.relation}


def _uses_this_period(policy, svc, rule, person: PersonFacts, on: date) -> tuple[Optional[int], str]:
    """Uses of this service recorded on the policy in the period the manual counts by."""
    if policy is None:
        return None, ""
    period = rule.usage.period
    ents = [e for e in rule.entitlements if e.usage_period]
    if ents:
        period = ents[0].usage_period
    if period == "policy_year":
        a, z, _ = policy_year_bounds(policy.effective_date, on)
    elif period == "per_year_calendar":
        a, z = calendar_year_bounds(on)
    elif period == "contract":
        a, z = policy.effective_date, policy.end_date
    else:
        return None, ""
    pool = rule.beneficiary.kind == "family_pool" and policy.family_policy
    who = None if pool else person.person_id
    n = sum(1 for u in policy.usage if u.counts_as_used and u.service.manual_id == svc.manual_id
            and u.service.key == svc.key and a <= u.used_on <= z and (who is None or u.person_name == who))
    return n, f"policy usage records {a.isoformat()}..{z.isoformat()}" + (" (family pool)" if pool else "")


def _coverage(kb, svc, case) -> tuple[Optional[CoverageResult], Optional[dict]]:
    city_text, hospital = case.city, None
    if case.hospital:
        hits = kb.find_hospital(case.hospital)
        hospital = hits[0] if hits else None
        if not city_text and hospital and hospital.city_name:
            city_text = hospital.city_name
    if not city_text:
        return None, None
    ans = kb.coverage(svc.id, city_text)
    if ans.resolution.status == "ambiguous":
        names = "、".join(f"{c.province}{c.name}" for c in ans.resolution.candidates[:5])
        raise ApiError(400, "city_ambiguous", f"“{city_text[:40]}”可能指{names}，请说明是哪一个城市。",
                       candidates=[{"name": c.name, "province": c.province, "code": c.code}
                                   for c in ans.resolution.candidates])
    if ans.city is None:
        raise ApiError(400, "city_unknown", f"没有识别出城市“{city_text[:40]}”，请提供地级市名称，例如“苏州”或“杭州”。")
    status, evidence, place, reason = ans.status, list(ans.evidence), ans.city.name, ans.reason
    if hospital is not None and hospital.city_code == ans.city.code:
        listed = kb.hospitals(svc.id, ans.city.name)  # the service's hospital lists in that city
        hit = next((h for h in listed if h.id in set(hospital.ids or (hospital.id,))), None)
        place = hospital.name
        if hit is not None:
            status, evidence, reason = "covered", [hit.source], "the hospital is in the service's list"
        elif listed:  # the city has listed hospitals, this one is not among them
            status, reason = "not_covered", "the hospital is not in the service's list for its city"
            evidence = [h.source for h in listed[:3]]
    covered = {"covered": True, "not_covered": False}.get(status)
    out = {"status": status, "covered": covered,
           "city": {"name": ans.city.name, "code": ans.city.code, "province": ans.city.province},
           "reason": coverage_reason_zh(svc, ans) if place == ans.city.name else _hospital_reason(svc, place, status),
           "sources": [source_out(kb, e) for e in evidence]}
    if hospital is not None:
        out["hospital"] = {"name": hospital.name, "city_name": hospital.city_name}
    src = evidence[0] if evidence else None
    return CoverageResult(status, rule_source(src), place, reason), out


def _hospital_reason(svc, hospital: str, status: str) -> str:
    if status == "covered":
        return f"{hospital}在{svc.name}的服务医院清单内。"
    if status == "not_covered":
        return f"{hospital}不在{svc.name}的服务医院清单内，可以选择清单内的其他医院。"
    return f"手册没有列出{svc.name}在{hospital}的服务情况，需由客服人员核实。"


_RULES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # KnowledgeBase -> {(service, edition, tier): rule}


def cached_service_rule(kb, engine, service_id: int, edition: str | None, tier: str | None):
    """rules.loader.service_rule, kept for the life of the KnowledgeBase object: the rule is built from the same
    knowledge store the KnowledgeBase already caches (a rebuilt store is read by a new process or object)."""
    cache = _RULES.setdefault(kb, {})
    key = (engine, service_id, edition, tier)
    if key not in cache:
        with Session(engine) as s:
            cache[key] = service_rule(s, service_id, edition=edition, tier=tier)
    return cache[key]


def check(kb, engine, policies, body) -> dict:
    insurer = resolve_insurer(kb, body.insurer)
    verifier = parse_verifier(body.verifier, body.mobile, body.id_last4)
    policy = None
    if body.policy_number:
        if verifier is None:
            raise ApiError(401, "verifier_missing", "请提供投保人手机号或身份证号后四位以核实保单。")
        policy = policies.get(body.policy_number, verifier)  # PolicyError / ValidationError -> handlers
        pol_ins = kb.resolve_insurer(policy.insurer)
        if insurer is not None and pol_ins is not None and pol_ins.id != insurer.id:
            raise ApiError(422, "service_not_for_policy", "这张保单不属于所选的保险公司，请确认保险公司或保单号。")
        insurer = insurer or pol_ins
    svc = resolve_service(kb, body.service, insurer, manual_id=policy.manual_id if policy else None,
                          edition=policy.edition if policy else None)
    if policy is not None and kb.resolve_insurer(policy.insurer) and svc.insurer_id != kb.resolve_insurer(policy.insurer).id:
        raise ApiError(422, "service_not_for_policy", "这项服务不属于您这张保单所在的保险公司，请确认要查询的服务。")

    rule = cached_service_rule(kb, engine, svc.id, policy.edition if policy else None, policy.tier if policy else None)
    if rule is None:
        raise ApiError(404, "unknown_service", "没有找到该服务的规则，请先确认服务名称。")

    person, person_view = _person(body, policy)
    case_in = body.case
    today = today_china()
    on = case_in.date or today
    uses, uses_from = case_in.uses_this_period, "request" if case_in.uses_this_period is not None else ""
    if uses is None:
        uses, uses_from = _uses_this_period(policy, svc, rule, person, on)
    coverage, coverage_view = _coverage(kb, svc, case_in)
    case = CaseFacts(diagnosis=case_in.diagnosis, disease=case_in.disease,
                     diagnosis_hospital_public=case_in.diagnosis_hospital_public,
                     diagnosis_hospital_grade=case_in.diagnosis_hospital_grade, accident=case_in.accident,
                     city=coverage_view["city"]["name"] if coverage_view else case_in.city,
                     hospital=case_in.hospital, request_date=on, uses_this_period=uses, stay_id=case_in.stay_id,
                     pregnancy=case_in.pregnancy)
    pfacts = _policy_facts(policy, body.policy_extra) if policy else PolicyFacts(
        received_date=body.policy_extra.received_date, cooling_off_days=body.policy_extra.cooling_off_days,
        condition_met_date=body.policy_extra.condition_met_date,
        join_date=body.policy_extra.join_date, upgraded=body.policy_extra.upgraded,
        addons=tuple(body.policy_extra.addons) if body.policy_extra.addons is not None else None)
    d = decide(rule, pfacts, person, case, today, coverage)

    reasons = [{"code": r.code, "passed": r.passed, "message": r.message_zh, "source": source_out(kb, r.source)}
               for r in d.reasons]
    missing = [{"fact": f, "question": FACT_ZH.get(f, f)} for f in d.missing]
    status = d.status
    if policy is None:  # without the policy most rules cannot be settled: ask for it first
        why = ("需要核实保单后才能确认保单生效日期、版本、等待期和可使用次数，请提供保单号以及投保人手机号或身份证号后四位。")
        reasons.insert(0, {"code": "policy", "passed": None, "message": why, "source": None})
        missing.insert(0, {"fact": "policy", "question": "保单号及投保人手机号或身份证号后四位"})
        if status == "eligible":
            status = "need_info"
    ask = ask_zh(d)
    if policy is None:
        ask = "请提供保单号以及投保人手机号或身份证号后四位" + (f"；另外{ask[:-1].replace('请告诉我们：', '还需要：')}。" if ask else "。")
    failed_first = sorted(reasons, key=lambda r: {False: 0, None: 1, True: 2}[r["passed"]])
    text = "\n".join(r["message"] + (f"（依据：{r['source']['cite']}）" if r["source"] else "") for r in failed_first)
    return {
        "decision": status, "service": service_summary(kb, svc),
        "policy": policy_out(policy) if policy else None, "person": person_view,
        "reasons": reasons, "missing": missing, "ask": ask, "coverage": coverage_view,
        "facts_used": {"today": today, "date": on, "uses_this_period": uses, "uses_from": uses_from or None,
                       "edition": pfacts.edition, "tier": pfacts.tier, "relation": person.relation or None},
        "text": text,
    }
