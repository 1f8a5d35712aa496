"""decide(rule, policy, person, case, today) -> Decision. Pure: no I/O, no service names.

The decision is composed of small checks run in a fixed order (see CHECKS). Each check
adds reasons (pass / fail / note) and missing facts. A single fail makes the decision
not_eligible; otherwise any missing fact makes it need_info, listing every missing fact
at once; otherwise eligible.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import replace
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable, Optional

from rules.dates import (add_years, age_on, as_date, calendar_year_bounds, day_n, first_day_after,
                         policy_year_bounds, zh)
from rules.model import (ELIGIBLE, NEED_INFO, NOT_ELIGIBLE, BeneficiaryRule, CaseFacts, CoverageResult, Decision,
                         EntitlementRule, PersonFacts, PolicyFacts, Reason, ServiceRule, Source, hospital_grade)

PRIMARY = {"self", "insured", "本人", "被保险人"}
# 直系亲属 as insurers use it for these services: spouse, parents, children.
IMMEDIATE = {"spouse", "child", "parent", "配偶", "子女", "父母", "父亲", "母亲", "儿子", "女儿"}
ADULT_AGE = 18
_PREGNANCY = re.compile(r"怀孕|妊娠|分娩|孕")
_PUNCT = re.compile(r"[\s\u3000()（）·•\-_、,，.。:：/【】\[\]《》\"“”']+")

PERIOD_ZH = {
    "policy_year": "每个保单年度", "per_year_calendar": "每个自然年", "per_stay": "每次住院",
    "contract": "保险合同有效期内", "per_disease": "每种疾病", "unlimited": "不限次数",
}
FACT_ZH = {  # what to ask the customer for each missing fact
    "policy.effective_date": "保单生效日期", "policy.waiting_days": "保单约定的等待期天数",
    "policy.cooling_off_days": "犹豫期天数", "policy.edition": "保单对应的服务版本",
    "policy.tier": "服务档次（如专业版/尊享版）", "policy.payment_term_years": "保单交费期（年）",
    "policy.condition_met_date": "满足服务指定条件的日期", "policy.join_date": "成功加入服务的日期",
    "policy.upgraded": "是否已完成服务升级", "policy.is_transfer": "是否为转保保单",
    "policy.is_renewal": "是否为续期（续保）保单", "policy.addons": "已购买的附加保障（如加油包）",
    "policy.is_family_policy": "是否为家庭共享单", "person.relation": "使用人与被保险人的关系",
    "person.is_insured": "使用人是否为保单被保险人", "person.designated_since": "使用人被指定为可享服务家人的日期",
    "person.birth_date": "使用人出生日期", "person.applicant_is_guardian": "是否由监护人代为申请",
    "case.diagnosis": "是否已经医院诊断（疑似或确诊）", "case.disease": "诊断的疾病名称",
    "case.diagnosis_hospital_public": "诊断医院是否为公立医院", "case.diagnosis_hospital_grade": "诊断医院的等级",
    "case.accident": "是否因意外就医", "case.city": "就医城市", "case.uses_this_period": "本期已使用次数",
    "case.stay_id": "本次住院信息", "case.pregnancy": "是否因怀孕或分娩就医", "case.stay_days": "住院天数",
    "review.disease_in_list": "人工核对疾病是否在手册清单内",
}


def norm(s: str | None) -> str:
    return _PUNCT.sub("", unicodedata.normalize("NFKC", s or "")).lower()


def _subsequence(short: str, long: str) -> bool:
    it = iter(long)
    return all(ch in it for ch in short)


def names_match(a: str | None, b: str | None) -> bool:
    """Loose match of two manual names: equal, one inside the other, or (>= 4 chars) one a
    subsequence of the other with the same last character (门急诊加油包 ~ 门急诊医疗补充加油包)."""
    x, y = norm(a), norm(b)
    if not x or not y:
        return False
    if x == y or x in y or y in x:
        return True
    short, long = sorted((x, y), key=len)
    return len(short) >= 4 and short[-1] == long[-1] and _subsequence(short, long)


# -- accumulating the outcome ------------------------------------------------------


@dataclass
class Out:
    reasons: list[Reason] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def ok(self, code: str, msg: str, src: Optional[Source] = None) -> None:
        self.reasons.append(Reason(code, True, msg, src))

    def fail(self, code: str, msg: str, src: Optional[Source] = None) -> None:
        self.reasons.append(Reason(code, False, msg, src))

    def note(self, code: str, msg: str, src: Optional[Source] = None) -> None:
        self.reasons.append(Reason(code, None, msg, src))

    def need(self, code: str, facts: str | list[str], msg: str, src: Optional[Source] = None) -> None:
        for f in [facts] if isinstance(facts, str) else facts:
            if f not in self.missing:
                self.missing.append(f)
        self.reasons.append(Reason(code, None, msg, src))


@dataclass
class Ctx:
    rule: ServiceRule
    policy: PolicyFacts
    person: PersonFacts
    case: CaseFacts
    today: date
    on: date
    coverage: Optional[CoverageResult]
    entitlement: Optional[EntitlementRule] = None
    validity_from: Optional[EntitlementRule] = None  # the edition's validity when its tier is not known

    @property
    def is_family(self) -> bool:
        return (self.person.relation or "self") not in PRIMARY

    @property
    def svc(self) -> str:
        return self.rule.name or "该服务"

    @property
    def benef(self) -> BeneficiaryRule:
        """The service's beneficiary rule, overridden by the matched edition's family terms
        (Edition.rule["family"]: max_members, usage_limit, usage_period, excluded_services,
        unlimited_services)."""
        b, e = self.rule.beneficiary, self.entitlement
        fam = (e.validity_rule or {}).get("family") if e else None
        if not fam:
            if e and b.depends_on_tier and b.kind in ("designated_family", "insured_and_family"):
                return replace(b, kind="insured", source=e.source or b.source)
            return b
        assert e is not None  # the family rule is the entitlement's
        name = norm(self.rule.name)
        excluded = any(norm(x) == name for x in fam.get("excluded_services") or ())
        unlimited = fam.get("usage_period") == "unlimited" or any(norm(x) == name for x in fam.get("unlimited_services") or ())
        limit = fam.get("usage_limit")
        return replace(
            b, kind="designated_family" if fam.get("max_members") else (b.kind or "insured_and_family"),
            max_designated=fam.get("max_members") or b.max_designated,
            family_limit=limit if isinstance(limit, int) else b.family_limit,
            family_period=fam.get("usage_period") if fam.get("usage_period") != "unlimited" else b.family_period,
            family_unlimited=unlimited, family_excluded=excluded or b.family_excluded,
            family_source=e.validity_source or e.source or b.family_source)


# -- checks ----------------------------------------------------------------------


def _ask(facts: list[str]) -> str:
    return "、".join(FACT_ZH.get(f, f) for f in facts)


def _label(e: EntitlementRule) -> str:
    if not e.tier:
        return e.edition
    return e.tier if norm(e.edition) in norm(e.tier) else f"{e.edition}（{e.tier}）"


def check_entitlement(c: Ctx, o: Out) -> None:
    ents = c.rule.entitlements
    if not ents:
        return
    names = list(dict.fromkeys(e.edition for e in ents))
    if not c.policy.edition:
        o.need("entitlement", "policy.edition",
               f"{c.svc}的权益因版本而不同（{'、'.join(names)}），请告诉我们您的服务版本。", ents[0].source)
        return
    exact = [e for e in ents if norm(e.edition) == norm(c.policy.edition)]
    cands = exact or [e for e in ents if names_match(e.edition, c.policy.edition)]
    if not cands:
        o.fail("entitlement", f"您的版本「{c.policy.edition}」不包含{c.svc}（该服务适用于：{'、'.join(names)}）。",
               ents[0].source)
        return
    if len({e.edition for e in cands}) > 1:  # 2023 版 -> the plain version, not 普惠版（2023 版）
        shortest = min(len(norm(e.edition)) for e in cands)
        cands = [e for e in cands if len(norm(e.edition)) == shortest]
    if len({e.edition for e in cands}) > 1:
        o.need("entitlement", "policy.edition",
               f"「{c.policy.edition}」可能对应多个版本（{'、'.join(dict.fromkeys(e.edition for e in cands))}），请确认具体版本。",
               cands[0].source)
        return
    tiers = [e for e in cands if e.tier]
    if tiers:
        if not c.policy.tier:
            untiered = [e for e in cands if not e.tier]
            if untiered:
                cands = untiered
            else:
                window = [((e.validity_rule or {}).get("start"), (e.validity_rule or {}).get("end")) for e in tiers]
                if tiers[0].validity_rule and all(w == window[0] for w in window):  # every tier lasts as long
                    c.validity_from = tiers[0]
                o.need("entitlement", "policy.tier",
                       f"{cands[0].edition}的{c.svc}权益因档次而不同（{'、'.join(dict.fromkeys(e.tier or '' for e in tiers))}），请告诉我们您的档次。",
                       tiers[0].source)
                return
        else:
            exact_t = [e for e in tiers if norm(e.tier) == norm(c.policy.tier)]
            matched = exact_t or [e for e in tiers if names_match(e.tier, c.policy.tier)]
            if len({e.tier for e in matched}) > 1:
                o.need("entitlement", "policy.tier", f"「{c.policy.tier}」对应多个档次，请确认具体档次。", matched[0].source)
                return
            if not matched:
                o.fail("entitlement", f"{cands[0].edition}「{c.policy.tier}」不包含{c.svc}。", tiers[0].source)
                return
            cands = matched
    e = cands[0]
    label = _label(e)
    c.entitlement = e
    if not e.included:
        o.fail("entitlement", f"您的{label}不包含{c.svc}。", e.source)
    else:
        extra = f"：{e.text}" if e.text else ""
        o.ok("entitlement", f"您的{label}包含{c.svc}{extra}。", e.source)


def _window_start(kind: dict, c: Ctx, o: Out, src) -> Optional[date]:
    k = (kind or {}).get("kind")
    p = c.policy
    if k == "effective":
        if not p.effective_date:
            o.need("validity", "policy.effective_date", "需要您的保单生效日期来确认服务有效期。", src)
        return p.effective_date
    if k == "day_n_after_condition":
        n = int(kind.get("day") or 1)
        if not p.condition_met_date:
            o.need("validity", "policy.condition_met_date", f"服务自满足指定条件后的第 {n} 天起生效，需要您满足条件的日期。", src)
            return None
        return p.condition_met_date + timedelta(days=n)
    if k == "after_cooling_off":
        days = kind.get("days") or p.cooling_off_days
        facts = ([] if p.effective_date else ["policy.effective_date"]) + ([] if days else ["policy.cooling_off_days"])
        if facts:
            o.need("validity", facts, "服务自保单犹豫期结束后开始，需要您的保单生效日期和犹豫期天数。", src)
            return None
        assert p.effective_date is not None and days
        return first_day_after(p.effective_date, int(days))
    if k == "join_next_day":
        if not p.join_date:
            o.need("validity", "policy.join_date", "服务自成功加入次日起生效，需要您成功加入的日期。", src)
            return None
        return p.join_date + timedelta(days=1)
    o.note("validity", "手册对服务起始日的规定无法自动判断，请以客服核实为准。", src)
    return None


def _window_end(kind: dict, start: date, c: Ctx, o: Out, src) -> Optional[date]:
    k = (kind or {}).get("kind")
    p = c.policy
    if k == "years":
        years = int(kind.get("years") or 1)
        end = add_years(start, years) - timedelta(days=1)
        up = kind.get("upgraded_years")
        if up and p.upgraded:
            return add_years(start, int(up)) - timedelta(days=1)
        if up and p.upgraded is None and c.on > end:  # only matters once the base window is over
            o.need("validity", "policy.upgraded",
                   f"服务有效期为 {years} 年（至{zh(end)}），完成服务升级后为 {up} 年，请确认是否已升级。", src)
            return None
        return end
    if k == "payment_term":
        if not p.payment_term_years or not p.effective_date:
            facts = [f for f, v in (("policy.payment_term_years", p.payment_term_years),
                                    ("policy.effective_date", p.effective_date)) if not v]
            o.need("validity", facts, "服务有效期同保单交费期，需要您的保单生效日期和交费年限。", src)
            return None
        return add_years(p.effective_date, p.payment_term_years) - timedelta(days=1)
    if k == "calendar_year_end":
        base = p.join_date or start
        return date(base.year, 12, 31)
    if k == "one_year":
        base = p.effective_date or start
        return add_years(base, 1) - timedelta(days=1)
    if k == "policy_term":
        if p.end_date:
            return p.end_date
        if p.effective_date:
            return add_years(p.effective_date, 1) - timedelta(days=1)
        return None
    if k is not None:
        o.note("validity", "手册对服务截止日的规定无法自动判断，请以客服核实为准。", src)
    return None


def check_validity(c: Ctx, o: Out) -> None:
    p, on = c.policy, c.on
    e = c.entitlement or c.validity_from
    if p.effective_date and on < p.effective_date:
        o.fail("validity", f"您的保单将于{zh(p.effective_date)}生效，生效前不能使用{c.svc}。", c.rule.validity_source)
        return
    if p.end_date and on > p.end_date:
        o.fail("validity", f"您的保单已于{zh(p.end_date)}到期，{c.svc}随保险合同终止。", c.rule.validity_source)
        return
    if not e or not e.validity_rule:
        if c.rule.validity_source:
            o.ok("validity", f"{c.svc}的有效期与保险合同有效期一致。", c.rule.validity_source)
        return
    rule, src = e.validity_rule, e.validity_source or e.source
    fam = rule.get("family") or {}
    if c.is_family and fam.get("end") and c.person.designated_since:  # the relatives' own window, from designation
        fend = _window_end(fam["end"], c.person.designated_since, c, Out(), src)
        if fend is not None and on > fend:
            years = fam["end"].get("years")
            span = f"自指定起不超过 {years} 年" if years else "自指定起算"
            o.fail("validity", f"家人的服务期限{span}，您家人的服务有效期已于{zh(fend)}结束。", src)
            return
    start = _window_start(rule.get("start") or {"kind": "effective"}, c, o, src)
    if start is None:
        return
    end = _window_end(rule.get("end") or {}, start, c, o, src)
    if end is None and (rule.get("end") or {}).get("kind") not in (None, "policy_term"):
        return
    if c.is_family and fam.get("end"):
        base = max(start, c.person.designated_since or start)
        fend = _window_end(fam["end"], base, c, o, src)
        if fend is not None:
            end = min(end, fend) if end else fend
    label = (e.validity or "").strip() or "服务有效期"
    if end is not None and start > end:
        o.fail("validity", f"按手册规定（{label}），您的服务期自{zh(start)}起、至{zh(end)}止，没有可用的日期，请联系客服确认。", src)
    elif on < start:
        after = "（犹豫期结束后开始）" if (rule.get("start") or {}).get("kind") == "after_cooling_off" else ""
        o.fail("validity", f"您的服务有效期自{zh(start)}起{after}，{zh(on)}尚不能使用。", src)
    elif end is not None and on > end:
        who = "家人" if c.is_family and fam.get("end") else ""
        rule_said = f"按手册规定（{label.split('；')[0]}），" if label != "服务有效期" else ""  # 保单生效后一年: the span
        o.fail("validity", f"{rule_said}您{who}的服务有效期已于{zh(end)}结束。", src)
    else:
        till = f"至{zh(end)}" if end else ""
        o.ok("validity", f"您的服务有效期为{zh(start)}{till}，当前在有效期内。", src)


def check_cooling_off(c: Ctx, o: Out) -> None:
    if c.rule.waiting.kind != "after_cooling_off":
        return
    p = c.policy
    src = c.rule.cooling_off.source or c.rule.waiting.source
    days = c.rule.cooling_off.days or p.cooling_off_days
    if not days:
        o.need("cooling_off", "policy.cooling_off_days", f"{c.svc}在犹豫期后才能使用，需要确认犹豫期天数。", src)
        return
    if p.received_date:
        first = p.received_date + timedelta(days=days + 1)
        basis = f"您于{zh(p.received_date)}签收保单，犹豫期自次日起 {days} 天"
    elif p.effective_date:
        first = first_day_after(p.effective_date, days)
        basis = f"您的保单于{zh(p.effective_date)}生效，犹豫期 {days} 天（按生效日起算）"
    else:
        o.need("cooling_off", "policy.effective_date", f"{c.svc}在 {days} 天犹豫期后才能使用，需要您的保单生效日期。", src)
        return
    if c.on >= first:
        o.ok("cooling_off", f"{basis}，{c.svc}自{zh(first)}起可以使用。", src)
    else:
        o.fail("cooling_off", f"{basis}，{c.svc}在犹豫期后才能使用，{zh(first)}起可以使用。", src)


_WAIVER = {
    "transfer": ("policy", "is_transfer", "policy.is_transfer", "您的保单为转保保单，无等待期"),
    "renewal": ("policy", "is_renewal", "policy.is_renewal", "您的保单为续期保单，续期服务无等待期限定"),
    "accident": ("case", "accident", "case.accident", "因意外就医无等待期"),
}
_WAIVER_IF = {"transfer": "转保", "renewal": "续期", "accident": "因意外就医"}


def check_waiting(c: Ctx, o: Out) -> None:
    w, p = c.rule.waiting, c.policy
    if w.kind is None:
        o.note("waiting", f"手册未写明{c.svc}的等待期。", c.rule.source)
        return
    if w.kind == "none":
        o.ok("waiting", f"{c.svc}没有等待期。", w.source)
        return
    if w.kind == "after_cooling_off":
        return
    for wv in w.waivers:
        holder, attr, _, msg = _WAIVER.get(wv, (None, None, None, None))
        if holder and attr and getattr(p if holder == "policy" else c.case, attr) is True:
            o.ok("waiting", f"{msg}，可以使用{c.svc}。", w.waiver_source or w.source)
            return
    if p.waiting_over:
        o.ok("waiting", f"您说等待期已经过了，{c.svc}的等待期条件已满足。", w.source)
        return
    days = w.days if w.kind == "days" else (p.waiting_days if p.waiting_days is not None else w.days)
    if days is not None and days <= 0:
        o.ok("waiting", f"{c.svc}没有等待期。", w.source)
        return
    unknown = [wv for wv in w.waivers if wv in _WAIVER
               and getattr(p if _WAIVER[wv][0] == "policy" else c.case, _WAIVER[wv][1]) is None]
    if days is None or not p.effective_date:  # ask for everything that could settle it, at once
        facts = (["policy.waiting_days"] if days is None else []) + \
                (["policy.effective_date"] if not p.effective_date else []) + [_WAIVER[wv][2] for wv in unknown]
        what = "的等待期与保单一致，需要确认您保单的等待期天数" if days is None else f"有 {days} 天等待期，需要您的保单生效日期"
        tail = f"；如属于{'或'.join(_WAIVER_IF[wv] for wv in unknown)}，则不受等待期限制" if unknown else ""
        o.need("waiting", facts, f"{c.svc}{what}{tail}。", w.source)
        return
    first = first_day_after(p.effective_date, days)
    head = f"您的保单于{zh(p.effective_date)}生效，{c.svc}有{days}天等待期（含第{days}天）"
    if c.on >= first:
        o.ok("waiting", f"{head}，已于{zh(day_n(p.effective_date, days))}结束，{zh(first)}起可以使用。", w.source)
        return
    if unknown:
        cond = "或".join(_WAIVER_IF[wv] for wv in unknown)
        o.need("waiting", [_WAIVER[wv][2] for wv in unknown],
               f"{head}，{zh(first)}起可以使用；如属于{cond}，则不受等待期限制。", w.waiver_source or w.source)
        return
    o.fail("waiting", f"{head}，{zh(first)}起可以使用。", w.source)


def check_beneficiary(c: Ctx, o: Out) -> None:
    b, per, p = c.benef, c.person, c.policy
    rel = per.relation
    if not rel:
        o.need("beneficiary", "person.relation", "请告诉我们使用人与被保险人的关系。", b.source)
        return
    if b.kind is None:
        if c.is_family:
            o.note("beneficiary", f"手册未写明{c.svc}是否可由家人使用，请以客服核实为准。", c.rule.source)
        return
    if not c.is_family:
        o.ok("beneficiary", f"您是被保险人本人，可以使用{c.svc}。", b.source)
        return
    immediate = rel in IMMEDIATE
    if b.kind == "insured":
        label = ""
        if c.entitlement and c.rule.beneficiary.kind != "insured":
            label = f"按您的{_label(c.entitlement)}，"
        if per.is_insured is None and p.stated:  # stated facts: whose policy it is was not said
            o.need("beneficiary", "person.is_insured",
                   f"{label}{c.svc}仅限被保险人本人使用：如果这位家人本人就是被保险人，可以使用；"
                   "不是被保险人的家人不能使用。", b.source)
            return
        o.fail("beneficiary", f"{label}{c.svc}仅限被保险人本人使用，家人不能使用。", b.source)
    elif b.kind == "insured_and_family":
        if immediate:
            o.ok("beneficiary", f"{c.svc}可由被保险人本人及直系亲属使用。", b.source)
        else:
            o.fail("beneficiary", f"{c.svc}仅限被保险人本人及直系亲属使用。", b.source)
    elif b.kind == "designated_family":
        if b.family_excluded:
            o.fail("beneficiary", f"{c.svc}不在家人可享的服务范围内，仅限被保险人本人使用。", b.family_source or b.source)
            return
        if not immediate:
            o.fail("beneficiary", f"{c.svc}只能由被保险人本人及被指定的直系亲属使用。", b.source)
            return
        listed = [i for i, m in enumerate(p.designated_family) if m.person_id == per.person_id]
        limit = f"（最多指定 {b.max_designated} 名）" if b.max_designated else ""
        if listed and b.max_designated and listed[0] >= b.max_designated:
            o.fail("beneficiary", f"可享服务的家人最多指定 {b.max_designated} 名，该家人不在其中。", b.family_source or b.source)
        elif listed or per.designated_since or per.designated:
            o.ok("beneficiary", f"该家人已被指定为可享服务的直系亲属{limit}。", b.family_source or b.source)
        elif p.designated_family:
            o.fail("beneficiary", f"该家人未被指定为可享服务的直系亲属{limit}。", b.family_source or b.source)
        else:
            o.need("beneficiary", "person.designated_since",
                   f"家人需先被指定为可享服务的直系亲属{limit}才能使用，请确认是否已指定及指定日期。", b.family_source or b.source)
    elif b.kind == "family_pool":
        if per.is_insured is None and per.person_id not in p.family_members:
            o.need("beneficiary", "person.is_insured", f"{c.svc}只能由保单内的被保险人使用，请确认该家人是否为被保险人。", b.source)
        elif per.is_insured is False and per.person_id not in p.family_members:
            o.fail("beneficiary", f"{c.svc}只能由保单内的被保险人使用，该家人不是被保险人。", b.source)
        elif not immediate:
            o.fail("beneficiary", f"{c.svc}的次数共享仅限家庭共享单内互为直系亲属的被保险人。", b.source)
        elif p.is_family_policy is None:
            o.need("beneficiary", "policy.is_family_policy", "请确认是否为家庭共享单。", b.source)
        elif p.is_family_policy:
            o.ok("beneficiary", f"该家人是家庭共享单内的被保险人，可以使用{c.svc}，与家人共享服务次数。", b.source)
        else:
            o.ok("beneficiary", f"该家人本人是被保险人，可以使用{c.svc}。", b.source)
    else:
        o.note("beneficiary", f"{c.svc}的适用人群：{b.text or b.kind}。", b.source)


def check_age(c: Ctx, o: Out) -> None:
    a = c.rule.age
    if a.min_age is None and a.max_age is None:
        return
    if not c.person.birth_date:
        o.need("age", "person.birth_date", f"{c.svc}有年龄要求，需要使用人的出生日期。", a.source)
        return
    age = age_on(c.person.birth_date, c.on)
    if a.min_age is not None and age < a.min_age:
        o.fail("age", f"{c.svc}需年满 {a.min_age} 周岁，使用人目前 {age} 周岁。", a.source)
    elif a.max_age is not None and age > a.max_age:
        o.fail("age", f"{c.svc}适用于 {a.max_age} 周岁及以下，使用人目前 {age} 周岁。", a.source)
    else:
        o.ok("age", f"使用人 {age} 周岁，符合{c.svc}的年龄要求。", a.source)


def check_stay(c: Ctx, o: Out) -> None:
    """The stay in hospital a service requires (住院天数需连续达到2天及以上), against the days said."""
    n, d = c.rule.min_stay_days, c.case.stay_days
    if not n:
        return
    src = c.rule.min_stay_source
    if d is None:
        o.need("stay", "case.stay_days", f"{c.svc}要求住院天数达到 {n} 天及以上，请告诉我们住院了几天。", src)
    elif d < n:
        o.fail("stay", f"{c.svc}要求住院天数连续达到 {n} 天及以上，您说住院 {d} 天，不符合。", src)
    else:
        o.ok("stay", f"住院 {d} 天，符合{c.svc}住院天数达到 {n} 天及以上的要求。", src)


def check_guardian(c: Ctx, o: Out) -> None:
    src = c.rule.guardian_source
    if not src:
        return
    if not c.person.birth_date:
        o.note("guardian", "如使用人为未成年人，需由其监护人代为申请。", src)
        return
    if age_on(c.person.birth_date, c.on) >= ADULT_AGE:
        return
    g = c.person.applicant_is_guardian
    if g is None:
        o.need("guardian", "person.applicant_is_guardian", "使用人未成年，需由其监护人代为申请，请确认申请人是否为监护人。", src)
    elif g:
        o.ok("guardian", "使用人未成年，由监护人代为申请，符合要求。", src)
    else:
        o.fail("guardian", "使用人未成年，需由其监护人代为申请。", src)


def check_addon(c: Ctx, o: Out) -> None:
    need = c.rule.addon_required
    if not need:
        return
    src = c.rule.addon_source
    addons = c.policy.addons
    if addons is None:
        o.need("addon", "policy.addons", f"{c.svc}仅适用于购买了「{need}」的保单，请确认是否已购买。", src)
    elif any(names_match(a, need) or _same_cover(a, need) for a in addons):
        o.ok("addon", f"您已购买「{need}」，可以使用{c.svc}。", src)
    else:
        o.fail("addon", f"{c.svc}仅适用于购买了「{need}」的保单。", src)


_COVER_WORDS = re.compile(r"保险金|加油包|医疗|补充|责任|附加|保障|险")


def _same_cover(a: str, b: str) -> bool:
    """Two names of one add-on (门急诊保险金, 门急诊医疗补充加油包): the same once the generic words are gone."""
    x, y = _COVER_WORDS.sub("", norm(a)), _COVER_WORDS.sub("", norm(b))
    return len(x) >= 2 and x == y


def check_diagnosis(c: Ctx, o: Out) -> None:
    d, case = c.rule.diagnosis, c.case
    preg = [x for x in d.exclusions if _PREGNANCY.search(x)]
    other = [x for x in d.exclusions if not _PREGNANCY.search(x)]
    xsrc = d.exclusion_source or d.source
    if preg:
        if case.pregnancy is None:
            o.need("diagnosis", "case.pregnancy", f"{c.svc}不适用于{('、'.join(preg))}的情况，请确认本次是否与此有关。", xsrc)
        elif case.pregnancy:
            o.fail("diagnosis", f"{c.svc}不适用于{('、'.join(preg))}的情况。", xsrc)
    kind = d.kind
    if kind in (None, "none"):
        if kind is None and d.disease_list:
            o.note("diagnosis", f"{c.svc}适用于「{d.disease_list}」，请以手册清单为准。", d.list_source or d.source)
        return
    want = {"suspected": "疑似", "confirmed": "确诊", "suspected_or_confirmed": "疑似或确诊"}.get(kind, kind)
    place = f"经{d.hospital}" if d.hospital else "经医院"
    what = f"「{d.disease_list}」" if d.disease_list else "相关疾病"
    if case.diagnosis is None:
        o.need("diagnosis", "case.diagnosis", f"{c.svc}需{place}{want}{what}，请告诉我们目前的诊断情况。", d.source)
        return
    dx = case.diagnosis
    if dx not in ("suspected", "confirmed"):
        o.fail("diagnosis", f"{c.svc}需{place}{want}{what}后才能申请。", d.source)
        return
    if kind == "confirmed" and dx != "confirmed":
        o.fail("diagnosis", f"{c.svc}需{place}确诊{what}，目前为疑似诊断，确诊后可以申请。", d.source)
        return
    o.ok("diagnosis", f"您已{('确诊' if dx == 'confirmed' else '被诊断为疑似')}，符合{c.svc}对诊断的要求（{want}）。", d.source)
    # the hospital that made the diagnosis
    if d.min_grade or d.public_only:
        facts = []
        if d.public_only and case.diagnosis_hospital_public is None:
            facts.append("case.diagnosis_hospital_public")
        grade = hospital_grade(case.diagnosis_hospital_grade)
        if d.min_grade and grade is None:
            facts.append("case.diagnosis_hospital_grade")
        if d.public_only and case.diagnosis_hospital_public is False:
            o.fail("diagnosis_hospital", f"诊断需由{d.hospital}作出，非公立医院的诊断不符合要求。", d.source)
        elif d.min_grade and grade is not None and grade < d.min_grade:
            o.fail("diagnosis_hospital", f"诊断需由{d.hospital}作出，{grade}级医院的诊断不符合要求。", d.source)
        elif facts:
            o.need("diagnosis_hospital", facts, f"诊断需由{d.hospital}作出，请告诉我们诊断医院的情况。", d.source)
        else:
            o.ok("diagnosis_hospital", f"诊断医院符合{d.hospital}的要求。", d.source)
    # the disease itself
    if not case.disease:
        if d.disease_list or other:
            o.need("disease", "case.disease", f"请告诉我们诊断的疾病名称，{c.svc}限{what}。", d.list_source or d.source)
        return
    hit = [x for x in other if norm(x) and norm(x) in norm(case.disease)]
    if hit:
        o.fail("disease", f"「{case.disease}」属于{('、'.join(hit))}，不在{c.svc}的保障范围内。", xsrc)
        return
    if d.diseases:
        if any(names_match(case.disease, n) for n in d.diseases):
            o.ok("disease", f"「{case.disease}」在{what}范围内。", d.list_source or d.source)
        else:
            o.need("disease", "review.disease_in_list",
                   f"「{case.disease}」未能与{what}中的疾病名称直接对应，需要由服务人员核对病历后确认。", d.list_source or d.source)
    elif d.disease_list:
        o.note("disease", f"{c.svc}限{what}，「{case.disease}」是否在范围内以手册清单及审核为准。", d.list_source or d.source)


def _usage_terms(c: Ctx) -> tuple[Optional[int], Optional[str], Optional[Source], str]:
    e, b, u = c.entitlement, c.benef, c.rule.usage
    if c.is_family and b.kind == "designated_family" and (b.family_limit is not None or b.family_unlimited):
        period = b.family_period or "policy_year"
        return (None, "unlimited", b.family_source or b.source, "家人") if b.family_unlimited else \
            (b.family_limit, period, b.family_source or b.source, "家人")
    if e and (e.usage_limit is not None or e.usage_period):
        return e.usage_limit, e.usage_period, e.source, ""
    return u.limit, u.period, u.source, ""


def check_usage(c: Ctx, o: Out) -> None:
    limit, period, src, who = _usage_terms(c)
    if period == "unlimited":
        o.ok("usage", f"{c.svc}{'家人使用' if who else ''}不限次数。", src)
        return
    if limit is None:
        if c.rule.usage.text:
            o.note("usage", f"{c.svc}的使用次数：{c.rule.usage.text}。", src)
        else:
            o.note("usage", f"手册未写明{c.svc}的使用次数。", src)
        return
    if limit <= 0:
        o.fail("usage", f"您的权益中{c.svc}的次数为 0。", src)
        return
    span, nxt = "", ""
    p = c.policy
    pool = c.rule.beneficiary.kind == "family_pool" and p.is_family_policy
    if period == "policy_year":
        if p.effective_date:
            a, z, _ = policy_year_bounds(p.effective_date, c.on)
            span, nxt = f"本保单年度（{zh(a)}至{zh(z)}）", f"，下一保单年度（{zh(z + timedelta(days=1))}起）可再次使用"
        elif c.case.uses_this_period is not None:  # the customer counts the uses of this year themselves
            span, nxt = "每个保单年度", "，下一保单年度可再次使用"
        else:
            o.need("usage", "policy.effective_date", f"{c.svc}每个保单年度可用 {limit} 次，保单年度从生效日起算，需要您的保单生效日期。", src)
            return
    elif period == "per_year_calendar":
        a, z = calendar_year_bounds(c.on)
        span, nxt = f"{c.on.year}年内", f"，{c.on.year + 1}年1月1日起可再次使用"
    elif period == "per_stay":
        if not c.case.stay_id:
            o.need("usage", "case.stay_id", f"{c.svc}每次住院可使用 {limit} 次，请告诉我们本次住院的情况。", src)
            return
        span = "本次住院"
    elif period == "contract" and c.entitlement and src is c.entitlement.source:
        span = "服务期内"
    else:
        span = PERIOD_ZH.get(period or "", "服务期内")
    used = c.case.uses_this_period
    share = "（家庭共享单内被保险人共享次数）" if pool else ""
    if used is None:
        o.need("usage", "case.uses_this_period", f"{c.svc}{span}{who}可使用 {limit} 次{share}，需要确认已使用的次数。", src)
        return
    used = max(0, int(used))
    if used >= limit:
        o.fail("usage", f"{c.svc}{span}{who}共 {limit} 次{share}，已全部用完{nxt}。", src)
    else:
        o.ok("usage", f"{c.svc}{span}{who}共 {limit} 次{share}，已使用 {used} 次，还可使用 {limit - used} 次。", src)


def check_coverage(c: Ctx, o: Out) -> None:
    cov, r, case = c.coverage, c.rule, c.case
    place = case.hospital or case.city
    if cov is not None:
        where = cov.place or place or "该地"
        if cov.status == "covered":
            o.ok("coverage", f"{c.svc}的服务范围包括{where}。", cov.source)
        elif cov.status == "not_covered":
            o.fail("coverage", f"{where}不在{c.svc}的服务范围内。", cov.source)
        elif cov.status == "partial":  # only places inside the city are listed: ask where exactly
            o.note("coverage", f"{where}只有下辖的{'、'.join(cov.places)}在{c.svc}的服务清单里，"
                               "请确认就医地点是否在其中。", cov.source)
        else:
            o.note("coverage", f"手册没有列出{c.svc}在{where}的服务范围，是否可以安排需以客服核实为准。", cov.source or r.coverage_source)
        return
    if r.coverage_scope == "nationwide":
        o.ok("coverage", f"{c.svc}全国范围可用。", r.coverage_source)
    elif r.coverage_scope == "list":
        if not place:
            o.need("coverage", "case.city", f"{c.svc}只在手册所列城市/医院提供，请告诉我们就医城市。", r.coverage_source)
        else:
            o.note("coverage", f"{c.svc}只在手册所列城市/医院提供，{place}是否在列表内尚待核对。", r.coverage_source)
    else:
        o.note("coverage", f"手册没有给出{c.svc}的城市或医院清单，能否在当地安排需以客服核实为准。", r.coverage_source)


CHECKS: list[Callable[[Ctx, Out], None]] = [
    check_entitlement, check_validity, check_cooling_off, check_waiting, check_beneficiary, check_age,
    check_guardian, check_addon, check_diagnosis, check_stay, check_usage, check_coverage,
]


# -- input hygiene -----------------------------------------------------------------

# Dates outside these bounds are not a policy's or a person's (0001-01-01, 9999-12-31 from a form or
# a legacy system): treated as not given, so the date arithmetic below can never leave date's range.
MIN_DAY, MAX_DAY = date(1900, 1, 1), date(2199, 12, 31)


def plausible_date(value) -> Optional[date]:
    d = as_date(value)
    return d if d is not None and MIN_DAY <= d <= MAX_DAY else None


def _clean(obj, cls):
    if not isinstance(obj, cls):
        obj = cls()
    changes = {}
    for f in dataclasses.fields(obj):
        v = getattr(obj, f.name)
        if f.name.endswith("_date") or f.name == "designated_since":
            if v is not None and plausible_date(v) != v:
                changes[f.name] = plausible_date(v)
        elif f.name in ("cooling_off_days", "waiting_days", "payment_term_years", "uses_this_period"):
            if v is not None:
                try:
                    n = int(v)
                    changes[f.name] = n if 0 <= n <= 10_000 else None
                except (TypeError, ValueError):
                    changes[f.name] = None
        elif f.name == "addons" and v is not None and not isinstance(v, tuple):
            changes[f.name] = tuple(str(a) for a in v) if isinstance(v, (list, set)) else (str(v),)
        elif isinstance(v, str) and len(v) > 500:
            changes[f.name] = v[:500]
    return dataclasses.replace(obj, **changes) if changes else obj


def decide(rule: ServiceRule, policy: PolicyFacts | None, person: PersonFacts | None, case: CaseFacts | None,
           today: date, coverage: CoverageResult | None = None) -> Decision:
    """Is this person eligible for this service on `case.request_date` (default `today`)?"""
    if not isinstance(rule, ServiceRule):
        return Decision(NEED_INFO, (Reason("service", None, "未找到该服务的规则，请先确认您要使用的服务。"),),
                        ("service",))
    today = plausible_date(today) or date.today()
    policy, person, case = _clean(policy, PolicyFacts), _clean(person, PersonFacts), _clean(case, CaseFacts)
    if policy.designated_family and not all(hasattr(m, "person_id") for m in policy.designated_family):
        policy = dataclasses.replace(policy, designated_family=())
    if any(m.since is not None and plausible_date(m.since) != m.since for m in policy.designated_family):
        policy = dataclasses.replace(policy, designated_family=tuple(
            dataclasses.replace(m, since=plausible_date(m.since)) for m in policy.designated_family))
    ctx = Ctx(rule, policy, person, case, today, case.request_date or today,
              coverage if isinstance(coverage, CoverageResult) else None)
    out = Out()
    for check in CHECKS:
        check(ctx, out)
    if any(r.passed is False for r in out.reasons):
        status = NOT_ELIGIBLE
    elif out.missing:
        status = NEED_INFO
    else:
        status = ELIGIBLE
    return Decision(status, tuple(out.reasons), tuple(out.missing))


def ask_zh(decision: Decision) -> str:
    """What to ask the customer for the missing facts, in one sentence."""
    facts = [f for f in decision.missing if not f.startswith("review.")]
    return f"请告诉我们：{_ask(facts)}。" if facts else ""


# -- insurance-liability helper (manual 000, 确诊初次罹患) ---------------------------


def first_diagnosis_within_term(first_diagnosis: date | str | None, effective: date | str | None, waiting_days: int = 30,
                                term_end: date | str | None = None, source: Source | None = None) -> tuple[bool, Reason]:
    """Does a first-ever diagnosis meet "在本合同保险期间内初次确诊"?

    Manual 000 (lines 49-66): before the effective date -> no; within the waiting days
    counted from the effective date inclusive -> no; after them (and within the term) -> yes.
    """
    first_diagnosis, effective = as_date(first_diagnosis), as_date(effective)
    if first_diagnosis is None or effective is None:
        return False, Reason("first_diagnosis", None, "需要初次确诊日期和合同生效日期。", source)
    if first_diagnosis < effective:
        return False, Reason("first_diagnosis", False,
                             f"初次确诊（{zh(first_diagnosis)}）早于合同生效日（{zh(effective)}），不满足在保险期间内初次确诊的条件。", source)
    last_wait = day_n(effective, waiting_days)
    if first_diagnosis <= last_wait:
        return False, Reason("first_diagnosis", False,
                             f"初次确诊在合同生效日起 {waiting_days} 日（含）内（{zh(effective)}至{zh(last_wait)}），不满足条件。", source)
    term_end = as_date(term_end)
    if term_end and first_diagnosis > term_end:
        return False, Reason("first_diagnosis", False, f"初次确诊晚于保险期间届满日（{zh(term_end)}），不满足条件。", source)
    return True, Reason("first_diagnosis", True,
                        f"初次确诊在合同生效日起 {waiting_days} 日后（{zh(last_wait + timedelta(days=1))}起），满足在保险期间内初次确诊的条件。", source)
