"""Build a ServiceRule from the knowledge store: the only part of rules/ that reads the store.

service_rule(kb, service_id, edition=None, tier=None) -> ServiceRule | None

It reads through the store's read API (knowledge.query.KnowledgeBase and its views), never the tables.
Every field takes its Source from the ServiceFact of the matching attribute (the lines
the adapter read it from), falling back to the service's own lines; quotes come from
the fact value or the manual text.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Optional

from knowledge.views import (DiseaseListView, EditionView, EntitlementView, FactView, NotFound,
                             ServiceView)
from knowledge.vocab import Beneficiary, FactAttribute, FamilyRule
from rules.engine import names_match
from rules.model import (AgeRule, BeneficiaryRule, CoolingOffRule, DiagnosisRule, EntitlementRule, ServiceRule,
                         Source, UsageRule, WaitingRule, parse_hospital_requirement)

if TYPE_CHECKING:
    from knowledge.query import KnowledgeBase

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


class _Sources:
    def __init__(self, kb: KnowledgeBase, svc: ServiceView):
        self.kb = kb
        self.svc = svc
        self.lines = kb.manual_lines(svc.manual_id)
        self.facts: dict[str, list[FactView]] = {}
        for f in svc.facts:  # in line order (then store order)
            self.facts.setdefault(f.attribute, []).append(f)

    def make(self, manual_id: str, a: int, b: int, quote: str | None = None) -> Source:
        return Source(manual_id, a, b, self.kb.excerpt(manual_id, a, b, quote), self.kb.manual(manual_id).title)

    def at(self, src: Source, quote: str | None = None) -> Source:
        """A citation of the lines of a store Source, quoting `quote` or those lines."""
        return self.make(src.manual_id, src.line_start, src.line_end, quote)

    def of_service(self) -> Source:
        return self.make(self.svc.manual_id, self.svc.line_start, self.svc.line_end)

    def fact(self, key: str, prefer: str | None = None) -> Optional[FactView]:
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
            return self.at(f.source, f.value)
        return self.of_service() if present else None

    def guardian(self) -> Optional[Source]:
        """The manual's guardian clause: a line saying 监护人 in the service's own lines, else in a
        manual-wide passage (general notes)."""
        lines = self.lines
        if not lines:
            return None
        spans = [(self.svc.line_start, self.svc.line_end)] + self.kb.general_passage_lines(self.svc.manual_id)
        for a, b in spans:
            for n in range(a, min(b, len(lines)) + 1):
                if not _GUARDIAN.search(lines[n - 1]):
                    continue
                start = n
                if not re.search(r"未成年|无民事", lines[n - 1]):  # clause began on an earlier line
                    prev = [k for k in range(max(1, n - 3), n) if lines[k - 1].strip()]
                    if prev and re.search(r"未成年|无民事", lines[prev[-1] - 1]):
                        start = prev[-1]
                return self.make(self.svc.manual_id, start, n)
        return None


def _disease_names(kb: KnowledgeBase, svc: ServiceView) -> tuple[tuple[str, ...], Optional[DiseaseListView]]:
    if not svc.diagnosis_list:
        return (), None
    dl = kb.disease_list(svc.diagnosis_list, svc.manual_id)
    if dl is None:
        return (), None
    names: list[str] = []
    for d in dl.diseases:
        names.append(d.name)
        names.extend(d.aliases)
    return tuple(dict.fromkeys(n for n in names if n)), dl


def _edition(kb: KnowledgeBase, edition_id: int | None) -> Optional[EditionView]:
    if not edition_id:
        return None
    try:
        return kb.edition(edition_id)
    except NotFound:
        return None


def _entitlements(kb: KnowledgeBase, svc: ServiceView, src: _Sources, edition: str | None,
                  tier: str | None) -> tuple[EntitlementRule, ...]:
    rows: list[EntitlementView] = kb.entitlements(svc.id)
    out = []
    for e in sorted(rows, key=lambda e: (e.source.line_start, e.id)):
        ed = _edition(kb, e.edition_id)
        tr = _edition(kb, e.tier_id)
        if ed is None:
            continue
        if edition and not names_match(ed.name, edition):
            continue
        if tier and tr is not None and not names_match(tr.name, tier):
            continue
        rule = dict(ed.rule)
        if tr is not None and tr.rule:
            rule = {**rule, **tr.rule}
        vsrc = tr if (tr is not None and tr.validity) else ed
        out.append(EntitlementRule(
            edition=ed.name, edition_kind=ed.kind, tier=tr.name if tr else None, included=bool(e.included),
            usage_limit=e.usage_limit, usage_period=e.usage_period, text=e.text or "",
            validity=vsrc.validity, validity_rule=rule, source=src.at(e.source, e.text or None),
            validity_source=src.at(vsrc.source, vsrc.validity or None)))
    if not out and edition and rows:  # the edition's tables do not list the service: every row, so that the
        return _entitlements(kb, svc, src, None, None)  # engine says the edition does not include it
    return tuple(out)


def service_rule(kb: KnowledgeBase, service_id: int, edition: str | None = None,
                 tier: str | None = None) -> Optional[ServiceRule]:
    """The ServiceRule of one stored service; None when there is no such service."""
    try:
        svc = kb.service(int(service_id))
    except (TypeError, ValueError, NotFound):
        return None
    src = _Sources(kb, svc)
    fam = FamilyRule.from_json(svc.family_rule)
    diseases, dl = _disease_names(kb, svc)
    grade, public = parse_hospital_requirement(svc.diagnosis_hospital)
    coverage_src = src.for_("coverage", present=False)
    lists = kb.coverage_lists(svc.id)
    if coverage_src is None and lists:
        first = min(lists, key=lambda cl: cl.source.line_start)
        coverage_src = src.at(first.source, first.name)
    stay = next((f for f in svc.facts if f.attribute == "min_stay" and (f.data or {}).get("days")), None)
    kind = svc.beneficiary
    if kind == Beneficiary.INSURED_AND_FAMILY and fam.max_members and not fam.depends_on_tier:
        kind = str(Beneficiary.DESIGNATED_FAMILY)  # 指定 N 名直系亲属: family must be designated
    return ServiceRule(
        name=svc.name, service_id=svc.id, key=svc.key, manual_id=svc.manual_id,
        insurer=svc.insurer, product=svc.product or "", source=src.of_service(),
        waiting=WaitingRule(svc.waiting_kind, svc.waiting_days, svc.waiting_waivers,
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
            exclusions=svc.diagnosis_exclusions,
            source=src.for_("diagnosis", svc.diagnosis_kind is not None),
            list_source=src.at(dl.source, dl.name) if dl else None,
            exclusion_source=src.for_("exclusions", bool(svc.diagnosis_exclusions))),
        age=AgeRule(svc.age_min, svc.age_max, src.for_("age", svc.age_min is not None or svc.age_max is not None)),
        usage=UsageRule(svc.usage_limit, svc.usage_period, svc.usage_text or "",
                        src.for_("usage", svc.usage_period is not None or svc.usage_limit is not None)),
        addon_required=svc.addon_required, addon_source=src.for_("addon", bool(svc.addon_required)),
        guardian_source=src.guardian(),
        entitlements=_entitlements(kb, svc, src, edition, tier),
        coverage_scope=svc.coverage_scope, coverage_source=coverage_src,
        validity_source=src.for_("validity", present=False),
        min_stay_days=stay.data.get("days") if stay is not None and stay.data else None,
        min_stay_source=src.at(stay.source) if stay is not None else None,
    )
