"""Build a ServiceRule from the knowledge store: the only part of rules/ that does I/O.

service_rule(session, service_id, edition=None, tier=None) -> ServiceRule | None

Every field takes its Source from the ServiceFact of the matching attribute (the lines
the adapter read it from), falling back to the service's own lines; quotes come from
the fact value or the manual text.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.config import MANUALS_DIR
from knowledge import models as m
from knowledge.ingest.text import ManualText, clean
from knowledge.vocab import Beneficiary, FactAttribute, FamilyRule
from rules.engine import names_match
from rules.model import (AgeRule, BeneficiaryRule, CoolingOffRule, DiagnosisRule, EntitlementRule, ServiceRule,
                         Source, UsageRule, WaitingRule, parse_hospital_requirement)

QUOTE_MAX = 200
_GUARDIAN = re.compile(r"监护人")

A = FactAttribute
# ServiceFact.attribute names read for each field (first present wins).
ATTRS: dict[str, tuple[FactAttribute, ...]] = {
    "waiting": (A.WAITING_PERIOD,),
    "waiver": (A.WAITING_WAIVER, A.WAITING_PERIOD),
    "cooling_off": (A.COOLING_OFF, A.WAITING_PERIOD),
    "beneficiary": (A.BENEFICIARY,),
    "family": (A.BENEFICIARY,),
    "diagnosis": (A.DIAGNOSIS, A.TRIGGER),
    "exclusions": (A.EXCLUSIONS, A.DIAGNOSIS),
    "age": (A.AGE,),
    "usage": (A.USAGE_LIMIT,),
    "addon": (A.ADDON_REQUIRED,),
    "coverage": (A.COVERAGE,),
    "validity": (A.VALIDITY,),
}


@lru_cache(maxsize=16)
def _manual_text(filename: str) -> Optional[ManualText]:
    path = MANUALS_DIR / filename
    return ManualText.load(path) if path.is_file() else None


class _Sources:
    def __init__(self, session: Session, svc: m.Service):
        self.s = session
        self.svc = svc
        self.manual = svc.manual
        self.text = _manual_text(self.manual.filename) if self.manual else None
        self.title = self.manual.title if self.manual else ""
        self.facts: dict[str, list[m.ServiceFact]] = {}
        for f in sorted(svc.facts, key=lambda f: (f.line_start, f.id)):
            self.facts.setdefault(f.attribute, []).append(f)

    def quote(self, a: int, b: int) -> str:
        if not self.text:
            return ""
        body = " ".join(clean(x) for x in self.text.lines[max(0, a - 1):b] if x.strip())
        return body[:QUOTE_MAX]

    def make(self, manual_id: str, a: int, b: int, quote: str | None = None) -> Source:
        q = clean(quote)[:QUOTE_MAX] if quote else self.quote(a, b)
        return Source(manual_id, a, b, q, self.title)

    def of(self, row) -> Source:
        return self.make(row.manual_id, row.line_start, row.line_end)

    def fact(self, key: str, prefer: str | None = None) -> Optional[m.ServiceFact]:
        """The first fact for key; with `prefer`, the first whose text states that value."""
        for attr in ATTRS[key]:
            rows = self.facts.get(attr)
            if rows:
                if prefer:
                    hit = next((f for f in rows if re.search(rf"(?<!\d){re.escape(prefer)}(?!\d)", f.value)), None)
                    if hit is not None:
                        return hit
                return rows[0]
        return None

    def for_(self, key: str, present: bool = True, prefer: str | None = None) -> Optional[Source]:
        """The source of a field: its fact (the one stating `prefer` if any), else the service's lines."""
        f = self.fact(key, prefer)
        if f is not None:
            return self.make(f.manual_id, f.line_start, f.line_end, f.value)
        return self.of(self.svc) if present else None

    def guardian(self) -> Optional[Source]:
        """The manual's guardian clause: a line saying 监护人 in the service's own lines, else in a
        manual-wide passage (general notes)."""
        if not self.text:
            return None
        spans = [(self.svc.line_start, self.svc.line_end)]
        rows = self.s.scalars(select(m.Passage).where(m.Passage.manual_id == self.svc.manual_id,
                                                       m.Passage.service_id.is_(None))).all()
        spans += [(p.line_start, p.line_end) for p in sorted(rows, key=lambda p: p.line_start)]
        for a, b in spans:
            for n in self.text.find_all(_GUARDIAN, a, min(b, len(self.text))):
                start = n
                if not re.search(r"未成年|无民事", self.text.line(n)):  # clause began on an earlier line
                    prev = [k for k in range(max(1, n - 3), n) if self.text.line(k).strip()]
                    if prev and re.search(r"未成年|无民事", self.text.line(prev[-1])):
                        start = prev[-1]
                return self.make(self.svc.manual_id, start, n)
        return None


def _disease_names(session: Session, svc: m.Service) -> tuple[tuple[str, ...], Optional[m.DiseaseList]]:
    if not svc.diagnosis_list:
        return (), None
    lists = session.scalars(select(m.DiseaseList).where(m.DiseaseList.name == svc.diagnosis_list)).all()
    if not lists:
        return (), None
    dl = next((x for x in lists if x.manual_id == svc.manual_id), lists[0])
    names: list[str] = []
    for d in dl.diseases:
        names.append(d.name)
        names.extend(d.aliases or [])
    return tuple(dict.fromkeys(n for n in names if n)), dl


def _entitlements(session: Session, svc: m.Service, src: _Sources, edition: str | None,
                  tier: str | None) -> tuple[EntitlementRule, ...]:
    rows = session.scalars(select(m.Entitlement).where(m.Entitlement.service_id == svc.id)).all()
    out = []
    for e in sorted(rows, key=lambda e: (e.line_start, e.id)):
        ed = session.get(m.Edition, e.edition_id)
        tr = session.get(m.Edition, e.tier_id) if e.tier_id else None
        if ed is None:
            continue
        if edition and not names_match(ed.name, edition):
            continue
        if tier and tr is not None and not names_match(tr.name, tier):
            continue
        rule = dict(ed.rule or {})
        if tr is not None and tr.rule:
            rule = {**rule, **tr.rule}
        vsrc = tr if (tr is not None and tr.validity) else ed
        out.append(EntitlementRule(
            edition=ed.name, edition_kind=ed.kind, tier=tr.name if tr else None, included=bool(e.included),
            usage_limit=e.usage_limit, usage_period=e.usage_period, text=e.text or "",
            validity=vsrc.validity, validity_rule=rule, source=src.make(e.manual_id, e.line_start, e.line_end, e.text or None),
            validity_source=src.make(vsrc.manual_id, vsrc.line_start, vsrc.line_end, vsrc.validity or None)))
    return tuple(out)


def service_rule(session: Session, service_id: int, edition: str | None = None,
                 tier: str | None = None) -> Optional[ServiceRule]:
    """The ServiceRule of one stored service; None when there is no such service."""
    try:
        sid = int(service_id)
    except (TypeError, ValueError):
        return None
    svc = session.get(m.Service, sid)
    if svc is None:
        return None
    src = _Sources(session, svc)
    fam = FamilyRule.from_json(svc.family_rule)
    diseases, dl = _disease_names(session, svc)
    grade, public = parse_hospital_requirement(svc.diagnosis_hospital)
    product = session.get(m.Product, svc.product_id) if svc.product_id else None
    coverage_src = src.for_("coverage", present=False)
    if coverage_src is None and svc.coverage:
        first = min((c.list for c in svc.coverage), key=lambda cl: cl.line_start)
        coverage_src = src.make(first.manual_id, first.line_start, first.line_end, first.name)
    kind = svc.beneficiary
    if kind == Beneficiary.INSURED_AND_FAMILY and fam.max_members and not fam.depends_on_tier:
        kind = str(Beneficiary.DESIGNATED_FAMILY)  # 指定 N 名直系亲属: family must be designated
    return ServiceRule(
        name=svc.name, service_id=svc.id, key=svc.key, manual_id=svc.manual_id,
        insurer=svc.manual.insurer.name if svc.manual and svc.manual.insurer else "",
        product=product.name if product else "", source=src.of(svc),
        waiting=WaitingRule(svc.waiting_kind, svc.waiting_days, tuple(svc.waiting_waivers or ()),
                            src.for_("waiting", svc.waiting_kind is not None,
                                     prefer=str(svc.waiting_days) if svc.waiting_days is not None else None),
                            src.for_("waiver", bool(svc.waiting_waivers))),
        cooling_off=CoolingOffRule(svc.cooling_off_days, src.for_("cooling_off", svc.cooling_off_days is not None)),
        beneficiary=BeneficiaryRule(
            kind=kind, text=svc.beneficiary_text or "",
            # family limits, periods and exclusions come from the edition (rules.engine applies
            # Edition.rule["family"]); the service states only how many and for how long
            max_designated=fam.max_members, family_years=fam.window_years, depends_on_tier=fam.depends_on_tier,
            source=src.for_("beneficiary", svc.beneficiary is not None),
            family_source=src.for_("family", bool(svc.family_rule))),
        diagnosis=DiagnosisRule(
            kind=svc.diagnosis_kind, disease_list=svc.diagnosis_list, diseases=diseases,
            hospital=svc.diagnosis_hospital, min_grade=grade, public_only=public,
            exclusions=tuple(svc.diagnosis_exclusions or ()),
            source=src.for_("diagnosis", svc.diagnosis_kind is not None),
            list_source=src.make(dl.manual_id, dl.line_start, dl.line_end, dl.name) if dl else None,
            exclusion_source=src.for_("exclusions", bool(svc.diagnosis_exclusions))),
        age=AgeRule(svc.age_min, svc.age_max, src.for_("age", svc.age_min is not None or svc.age_max is not None)),
        usage=UsageRule(svc.usage_limit, svc.usage_period, svc.usage_text or "",
                        src.for_("usage", svc.usage_period is not None or svc.usage_limit is not None)),
        addon_required=svc.addon_required, addon_source=src.for_("addon", bool(svc.addon_required)),
        guardian_source=src.guardian(),
        entitlements=_entitlements(session, svc, src, edition, tier),
        coverage_scope=svc.coverage_scope or "unspecified", coverage_source=coverage_src,
        validity_source=src.for_("validity", present=False),
    )
