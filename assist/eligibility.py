"""May this person use this service? The rules engine on a verified policy or on the facts a customer
states, with every reason sourced. Shared by POST /api/eligibility and the chat.

The engine is pure; this module gathers its inputs: the ServiceRule (rules.loader), the policy through
the PolicySource (identity verified) or the stated facts, the person, the coverage answer of the
knowledge base, and uses already recorded in the current period.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Optional

from assist.errors import AssistError
from assist.people import relation_code
from assist.resolve import parse_verifier, resolve_scope, resolve_service
from assist.views import coverage_reason_zh, policy_out, service_summary, source_out
from core.clock import today_china
from rules import CaseFacts, CoverageResult, DesignatedMember, PersonFacts, PolicyFacts, decide
from rules.dates import calendar_year_bounds, policy_year_bounds
from rules.engine import FACT_ZH, ask_zh
from rules.loader import service_rule


# -- the request -----------------------------------------------------------------------
@dataclass
class Person:
    name: Optional[str] = None
    relation: Optional[str] = None
    birth_date: Optional[date] = None
    age: Optional[int] = None
    is_insured: Optional[bool] = None
    applicant_is_guardian: Optional[bool] = None
    designated: Optional[bool] = None  # the customer says the relative is designated for the services
    designated_since: Optional[date] = None  # when, as the customer says (指定为家人已经4年)


@dataclass
class Case:
    diagnosis: Optional[str] = None  # none | suspected | confirmed
    disease: Optional[str] = None
    diagnosis_hospital_public: Optional[bool] = None
    diagnosis_hospital_grade: Any = None
    accident: Optional[bool] = None
    pregnancy: Optional[bool] = None
    city: Optional[str] = None
    hospital: Optional[str] = None
    date: Optional[date] = None
    uses_this_period: Optional[int] = None
    stay_id: Optional[str] = None
    stay_days: Optional[int] = None  # days in hospital so far


@dataclass
class PolicyExtra:
    """Facts the policy store does not hold, or (without a policy) what the customer states."""

    received_date: Optional[date] = None
    cooling_off_days: Optional[int] = None
    condition_met_date: Optional[date] = None
    join_date: Optional[date] = None
    upgraded: Optional[bool] = None
    addons: Optional[list[str]] = None
    # stated without a policy
    effective_date: Optional[date] = None
    edition: Optional[str] = None
    tier: Optional[str] = None
    is_transfer: Optional[bool] = None
    is_renewal: Optional[bool] = None
    payment_term_years: Optional[int] = None
    waiting_over: Optional[bool] = None
    is_family_policy: Optional[bool] = None


@dataclass
class EligibilityRequest:
    service: str
    insurer: Optional[str] = None  # an insurer or a product name
    policy_number: Optional[str] = None
    verifier: Optional[str] = None
    mobile: Optional[str] = None
    id_last4: Optional[str] = None
    person: Person = field(default_factory=Person)
    case: Case = field(default_factory=Case)
    policy_extra: PolicyExtra = field(default_factory=PolicyExtra)

    @classmethod
    def from_dict(cls, d: dict) -> "EligibilityRequest":
        d = dict(d)
        return cls(person=Person(**(d.pop("person", None) or {})), case=Case(**(d.pop("case", None) or {})),
                   policy_extra=PolicyExtra(**(d.pop("policy_extra", None) or {})), **d)


# -- inputs of the engine ----------------------------------------------------------------
def _relation(text: str | None) -> Optional[str]:
    if not text:
        return None
    r = relation_code(text)
    if r is None:
        raise AssistError(422, "relation_invalid",
                          f"没有看懂与被保险人的关系“{text[:20]}”，请用本人、配偶、子女、父母等说明。",
                          allowed=sorted({"self", "spouse", "child", "parent", "grandparent", "sibling", "other"}))
    return r


def _policy_facts(p, extra: PolicyExtra) -> PolicyFacts:
    return PolicyFacts(
        policy_number=p.number, product=p.product, edition=p.edition, tier=p.tier,
        effective_date=p.effective_date, end_date=p.end_date, received_date=extra.received_date,
        cooling_off_days=extra.cooling_off_days,
        payment_term_years=p.payment_term_years, is_transfer=p.is_transfer, is_renewal=p.is_renewal,
        waiting_days=p.waiting_days,
        addons=tuple(p.addons) if extra.addons is None else tuple(extra.addons),
        is_family_policy=p.family_policy, family_members=tuple(x.name for x in p.insured),
        designated_family=tuple(DesignatedMember(f.name, f.relation, f.since) for f in p.family),
        condition_met_date=extra.condition_met_date, join_date=extra.join_date, upgraded=extra.upgraded)


def _stated_policy(extra: PolicyExtra) -> PolicyFacts:
    return PolicyFacts(
        edition=extra.edition, tier=extra.tier, effective_date=extra.effective_date,
        received_date=extra.received_date, cooling_off_days=extra.cooling_off_days,
        payment_term_years=extra.payment_term_years, is_transfer=extra.is_transfer, is_renewal=extra.is_renewal,
        addons=tuple(extra.addons) if extra.addons is not None else None,
        condition_met_date=extra.condition_met_date, join_date=extra.join_date, upgraded=extra.upgraded,
        waiting_over=extra.waiting_over, is_family_policy=extra.is_family_policy, stated=True)


def _birth(pin: Person, on: date) -> Optional[date]:
    if pin.birth_date:
        return pin.birth_date
    if pin.age is not None and 0 <= pin.age <= 120:
        try:
            return on.replace(year=on.year - pin.age) - timedelta(days=1)
        except ValueError:  # 29 Feb
            return on.replace(year=on.year - pin.age, day=28) - timedelta(days=1)
    return None


def _person(pin: Person, policy, on: date) -> tuple[PersonFacts, Optional[dict]]:
    """PersonFacts from the request, matched against the people on the policy when there is one."""
    rel = _relation(pin.relation)
    birth = _birth(pin, on)
    if policy is None:
        return PersonFacts(person_id=pin.name or "person", relation=rel or "", is_insured=pin.is_insured,
                           birth_date=birth, applicant_is_guardian=pin.applicant_is_guardian,
                           designated=pin.designated or (True if pin.designated_since else None),
                           designated_since=pin.designated_since), None
    found = None
    if pin.name:
        found = policy.find_person(pin.name)
        holder = getattr(policy, "holder_name", "")
        if found is None and holder and pin.name.strip() == holder:  # the holder, not insured on this policy
            from assist.lexicon import lexicon

            rel_of = {lexicon().relation_inverse.get(x.relation, "other") for x in policy.insured}
            return PersonFacts(person_id=holder, relation=rel_of.pop() if len(rel_of) == 1 else "other",
                               is_insured=False, birth_date=birth), {"name": holder, "role": "holder",
                                                                     "relation": "holder"}
        if found is None:
            raise AssistError(422, "person_not_on_policy",
                              f"“{pin.name[:40]}”不是这张保单的被保险人或指定家人，请核对姓名。",
                              persons=[x.name for x in policy.persons()])
    elif rel in (None, "self") and len(policy.insured) == 1:
        found = policy.insured[0]  # the one insured person
    if found is None:
        return PersonFacts(person_id="person", relation=rel or "", is_insured=pin.is_insured,
                           birth_date=birth, applicant_is_guardian=pin.applicant_is_guardian), None
    if found.role == "insured":
        facts = PersonFacts(person_id=found.name, relation="self", is_insured=True, birth_date=found.birth_date,
                            applicant_is_guardian=pin.applicant_is_guardian)
    else:
        facts = PersonFacts(person_id=found.name, relation=found.relation, is_insured=False,
                            birth_date=found.birth_date, designated_since=found.since,
                            applicant_is_guardian=pin.applicant_is_guardian)
    return facts, {"name": found.name, "role": found.role, "relation": facts.relation}


def uses_this_period(policy, svc, rule, person: PersonFacts, on: date) -> tuple[Optional[int], str]:
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


def coverage_facts(kb, svc, case: Case, short: bool = False) -> tuple[Optional[CoverageResult], Optional[dict]]:
    """The coverage answer for the case's city or hospital (None when neither is given); `short` words the
    reason with the city's short name, as in a chat."""
    from assist.resolve import resolve_city

    city_text, hospital = case.city, None
    if case.hospital:
        hits = kb.find_hospital(case.hospital)
        hospital = hits[0] if hits else None
        if not city_text and hospital and hospital.city_name:
            city_text = hospital.city_name
    if not city_text:
        return None, None
    resolve_city(city_text)  # AssistError city_unknown / city_ambiguous
    ans = kb.coverage(svc.id, city_text)
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
           "city": {"name": ans.city.name, "short": ans.city.short or ans.city.name, "code": ans.city.code,
                    "province": ans.city.province},
           "reason": coverage_reason_zh(svc, ans, short) if place == ans.city.name else hospital_reason(svc, place, status),
           "sources": [source_out(kb, e) for e in evidence]}
    if hospital is not None:
        out["hospital"] = {"name": hospital.name, "city_name": hospital.city_name}
    src = evidence[0] if evidence else None
    places = tuple(ans.places) if status == "partial" else ()
    if places:
        out["places"] = list(places)
    return CoverageResult(status, src, place, reason, places), out


def hospital_reason(svc, hospital: str, status: str) -> str:
    if status == "covered":
        return f"{hospital}在{svc.name}的服务医院清单内。"
    if status == "not_covered":
        return f"{hospital}不在{svc.name}的服务医院清单内，可以选择清单内的其他医院。"
    return f"手册没有列出{svc.name}在{hospital}的服务情况，需由客服人员核实。"


_RULES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()  # KnowledgeBase -> {(service, edition, tier): rule}


def cached_service_rule(kb, service_id: int, edition: str | None, tier: str | None):
    """rules.loader.service_rule, kept for the life of the KnowledgeBase object (the store is read-only)."""
    cache = _RULES.setdefault(kb, {})
    key = (service_id, edition, tier)
    if key not in cache:
        cache[key] = service_rule(kb, service_id, edition=edition, tier=tier)
    return cache[key]


# -- the use case -------------------------------------------------------------------------
@dataclass(frozen=True)
class Eligibility:
    payload: dict  # what the API returns (EligibilityOut)
    decision: Any  # rules.Decision
    rule: Any  # rules.ServiceRule
    service: Any  # knowledge.views.ServiceView
    policy: Any = None  # the verified policy, if any


def check(kb, engine, policies, req: EligibilityRequest, today: date | None = None) -> Eligibility:
    """The decision (eligible / not_eligible / need_info) with sourced reasons (payload: EligibilityOut)."""
    scope = resolve_scope(kb, req.insurer)
    insurer = scope.insurer if scope else None
    verifier = parse_verifier(req.verifier, req.mobile, req.id_last4)
    policy = None
    if req.policy_number:
        if verifier is None:
            raise AssistError(401, "verifier_missing", "请提供投保人手机号或身份证号后四位以核实保单。")
        policy = policies.get(req.policy_number, verifier)  # PolicyError / ValidationError -> handlers
        pol_ins = kb.resolve_insurer(policy.insurer)
        if insurer is not None and pol_ins is not None and pol_ins.id != insurer.id:
            raise AssistError(422, "service_not_for_policy", "这张保单不属于所选的保险公司，请确认保险公司或保单号。")
        insurer = insurer or pol_ins
    extra = req.policy_extra
    edition = policy.edition if policy else (extra.edition or (scope.edition if scope else None))
    tier = policy.tier if policy else (extra.tier or (scope.tier if scope else None))
    manual_id = policy.manual_id if policy else (scope.manual_id if scope else None)
    svc = resolve_service(kb, req.service, insurer, manual_id=manual_id, edition=edition)
    if policy is not None and kb.resolve_insurer(policy.insurer) and \
            svc.insurer_id != kb.resolve_insurer(policy.insurer).id:
        raise AssistError(422, "service_not_for_policy", "这项服务不属于您这张保单所在的保险公司，请确认要查询的服务。")

    rule = cached_service_rule(kb, svc.id, edition, tier)
    if rule is None:
        raise AssistError(404, "unknown_service", "没有找到该服务的规则，请先确认服务名称。")

    today = today or today_china()
    case_in = req.case
    on = case_in.date or today
    person, person_view = _person(req.person, policy, on)
    uses, uses_from = case_in.uses_this_period, "request" if case_in.uses_this_period is not None else ""
    if uses is None:
        uses, uses_from = uses_this_period(policy, svc, rule, person, on)
    coverage, coverage_view = coverage_facts(kb, svc, case_in)
    case = CaseFacts(diagnosis=case_in.diagnosis, disease=case_in.disease,
                     diagnosis_hospital_public=case_in.diagnosis_hospital_public,
                     diagnosis_hospital_grade=case_in.diagnosis_hospital_grade, accident=case_in.accident,
                     city=coverage_view["city"]["name"] if coverage_view else case_in.city,
                     hospital=case_in.hospital, request_date=on, uses_this_period=uses, stay_id=case_in.stay_id,
                     stay_days=case_in.stay_days, pregnancy=case_in.pregnancy)
    pfacts = _policy_facts(policy, extra) if policy else _stated_policy(extra)
    d = decide(rule, pfacts, person, case, today, coverage)

    reasons: list[dict[str, Any]] = [{"code": r.code, "passed": r.passed, "message": r.message_zh, "source": source_out(kb, r.source)}
               for r in d.reasons]
    missing = [{"fact": f, "question": FACT_ZH.get(f, f)} for f in d.missing]
    failed_first = sorted(reasons, key=lambda r: {False: 0, None: 1, True: 2}[r["passed"]])
    text = "\n".join(r["message"] + (f"（依据：{r['source']['cite']}）" if r["source"] else "") for r in failed_first)
    payload = {
        "decision": d.status, "service": service_summary(kb, svc),
        "policy": policy_out(policy) if policy else None, "person": person_view,
        "reasons": reasons, "missing": missing, "ask": ask_zh(d), "coverage": coverage_view,
        "facts_used": {"today": today, "date": on, "uses_this_period": uses, "uses_from": uses_from or None,
                       "edition": pfacts.edition, "tier": pfacts.tier, "relation": person.relation or None,
                       "stated": policy is None},
        "text": text,
    }
    return Eligibility(payload, d, rule, svc, policy)
