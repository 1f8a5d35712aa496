"""Plain data for the eligibility rules: what a service requires, what we know, what we decided.

Nothing here touches the database. ServiceRule is built by rules.loader from the
knowledge store (or by hand in tests); every field that states a rule keeps the
Source (manual id, lines, quote) it was read from.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Optional

from knowledge.views import Source  # noqa: F401 (re-exported: the one citation type)

# -- sources ---------------------------------------------------------------------


# -- the rule of one service -----------------------------------------------------


@dataclass(frozen=True)
class WaitingRule:
    kind: Optional[str] = None  # days | same_as_policy | none | after_cooling_off | None (manual silent)
    days: Optional[int] = None
    waivers: tuple[str, ...] = ()  # transfer | renewal | accident
    source: Optional[Source] = None
    waiver_source: Optional[Source] = None


@dataclass(frozen=True)
class CoolingOffRule:
    days: Optional[int] = None
    source: Optional[Source] = None


@dataclass(frozen=True)
class BeneficiaryRule:
    """Who may use the service.

    kind: insured | designated_family | family_pool | insured_and_family | None (manual silent).
    Family details: max_designated (3/5; FamilyRule.max_members), family_years (window for family
    members; FamilyRule.window_years), and from the edition's Edition.rule["family"] (applied by
    rules.engine): family_limit (uses per family_period, None = no own limit), family_excluded
    (family members may never use this service).
    """

    kind: Optional[str] = None
    text: str = ""
    max_designated: Optional[int] = None
    family_limit: Optional[int] = None
    family_period: Optional[str] = None
    family_unlimited: bool = False
    family_years: Optional[int] = None
    family_excluded: bool = False
    depends_on_tier: bool = False  # family use is granted (or not) by the edition/tier: Edition.rule["family"]
    source: Optional[Source] = None
    family_source: Optional[Source] = None


_GRADE_RE = re.compile(r"([一二三1-3])级")
_GRADE_NUM = {"一": 1, "二": 2, "三": 3, "1": 1, "2": 2, "3": 3}


def parse_hospital_requirement(text: str | None) -> tuple[Optional[int], bool]:
    """'二级及以上公立医院' -> (2, True); '三级' -> (3, False); None -> (None, False)."""
    if not text:
        return None, False
    m = _GRADE_RE.search(text)
    return (_GRADE_NUM[m.group(1)] if m else None), ("公立" in text)


def hospital_grade(value: Any) -> Optional[int]:
    """A hospital grade from 3 / '三级甲等' / '二级' / '三甲'; None when unreadable."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value if 1 <= value <= 3 else None
    s = str(value).strip()
    m = _GRADE_RE.search(s) or re.search(r"^([一二三1-3])[甲乙丙]", s)
    return _GRADE_NUM[m.group(1)] if m else None


@dataclass(frozen=True)
class DiagnosisRule:
    kind: Optional[str] = None  # none | suspected | confirmed | suspected_or_confirmed | None
    disease_list: Optional[str] = None  # DiseaseList.name, e.g. 18 种重疾
    diseases: tuple[str, ...] = ()  # names (and aliases) in that list, when the store has them
    hospital: Optional[str] = None  # e.g. 二级及以上公立医院
    min_grade: Optional[int] = None
    public_only: bool = False
    exclusions: tuple[str, ...] = ()  # 原位癌, 怀孕及分娩 ...
    source: Optional[Source] = None
    list_source: Optional[Source] = None
    exclusion_source: Optional[Source] = None

    @classmethod
    def with_hospital(cls, hospital: str | None, **kw: Any) -> "DiagnosisRule":
        grade, public = parse_hospital_requirement(hospital)
        return cls(hospital=hospital, min_grade=grade, public_only=public, **kw)


@dataclass(frozen=True)
class AgeRule:
    min_age: Optional[int] = None
    max_age: Optional[int] = None
    source: Optional[Source] = None


@dataclass(frozen=True)
class UsageRule:
    limit: Optional[int] = None  # None + period unlimited = no limit; None + period None = unknown
    period: Optional[str] = None  # policy_year | per_year_calendar | per_stay | contract | unlimited | per_disease
    text: str = ""
    source: Optional[Source] = None


@dataclass(frozen=True)
class EntitlementRule:
    """One row of an entitlement table: edition (and tier) grants the service or not."""

    edition: str
    edition_kind: str = "version"  # version | tier | plan
    tier: Optional[str] = None
    included: bool = True
    usage_limit: Optional[int] = None
    usage_period: Optional[str] = None
    text: str = ""
    validity: Optional[str] = None  # the edition's validity text
    validity_rule: dict = field(default_factory=dict)  # Edition.rule (see /tmp/query_spec.md)
    source: Optional[Source] = None
    validity_source: Optional[Source] = None


@dataclass(frozen=True)
class ServiceRule:
    name: str
    service_id: Optional[int] = None
    key: str = ""
    manual_id: str = ""
    insurer: str = ""
    product: str = ""
    source: Optional[Source] = None
    waiting: WaitingRule = WaitingRule()
    cooling_off: CoolingOffRule = CoolingOffRule()
    beneficiary: BeneficiaryRule = BeneficiaryRule()
    diagnosis: DiagnosisRule = DiagnosisRule()
    age: AgeRule = AgeRule()
    usage: UsageRule = UsageRule()
    addon_required: Optional[str] = None
    addon_source: Optional[Source] = None
    guardian_source: Optional[Source] = None  # the manual says minors apply through a guardian
    entitlements: tuple[EntitlementRule, ...] = ()
    coverage_scope: str = "unspecified"  # list | nationwide | unspecified
    coverage_source: Optional[Source] = None
    validity_source: Optional[Source] = None  # e.g. 服务有效期与保险合同有效期一致
    min_stay_days: Optional[int] = None  # the stay in hospital it requires (住院天数需连续达到2天及以上)
    min_stay_source: Optional[Source] = None


# -- what we know about the customer ---------------------------------------------


@dataclass(frozen=True)
class DesignatedMember:
    person_id: str
    relation: str = ""
    since: Optional[date] = None


@dataclass(frozen=True)
class PolicyFacts:
    policy_number: Optional[str] = None
    product: Optional[str] = None
    edition: Optional[str] = None  # version or plan: 2023 版, 普惠版, 无忧管家
    tier: Optional[str] = None  # 专业版, 尊享版 2 档 ...
    effective_date: Optional[date] = None
    end_date: Optional[date] = None  # end of the insurance term, if known
    received_date: Optional[date] = None  # date the contract was received (犹豫期 starts the next day)
    cooling_off_days: Optional[int] = None
    waiting_days: Optional[int] = None  # the policy's own waiting period (for 与保单一致)
    payment_term_years: Optional[int] = None
    is_transfer: Optional[bool] = None  # 转保
    is_renewal: Optional[bool] = None  # 续期 / 续保
    addons: Optional[tuple[str, ...]] = None  # None = unknown; () = none bought
    is_family_policy: Optional[bool] = None  # 家庭共享单
    family_members: tuple[str, ...] = ()  # person ids insured on the family policy
    designated_family: tuple[DesignatedMember, ...] = ()
    condition_met_date: Optional[date] = None  # 满足指定条件 (太保蓝本 2019/2020)
    join_date: Optional[date] = None  # 成功加入 (普惠版)
    upgraded: Optional[bool] = None  # 已完成服务升级
    waiting_over: Optional[bool] = None  # the customer says the waiting period is over (等待期早过了)
    stated: bool = False  # facts the customer stated, no policy looked up: who is insured is not known


@dataclass(frozen=True)
class PersonFacts:
    person_id: str = "self"
    relation: str = "self"  # self | spouse | child | parent | grandparent | sibling | other
    is_insured: Optional[bool] = None
    birth_date: Optional[date] = None
    designated_since: Optional[date] = None
    applicant_is_guardian: Optional[bool] = None  # for minors: a guardian applies for them
    designated: Optional[bool] = None  # stated: the relative has been designated (date not said)


@dataclass(frozen=True)
class CaseFacts:
    diagnosis: Optional[str] = None  # none | suspected | confirmed
    disease: Optional[str] = None
    diagnosis_hospital_public: Optional[bool] = None
    diagnosis_hospital_grade: Any = None  # 2 / 3 / '三级甲等'
    accident: Optional[bool] = None
    city: Optional[str] = None
    hospital: Optional[str] = None
    request_date: Optional[date] = None  # the day the service would be used (default: today)
    uses_this_period: Optional[int] = None  # uses already consumed in the current period (pool-wide for a pool)
    stay_id: Optional[str] = None
    stay_days: Optional[int] = None  # days in hospital so far, as the customer says (住院已经5天)
    pregnancy: Optional[bool] = None  # the need arises from pregnancy or childbirth


@dataclass(frozen=True)
class CoverageResult:
    """Computed outside the engine by knowledge.query.KnowledgeBase.coverage()."""

    status: str  # covered | partial | not_covered | unknown
    source: Optional[Source] = None
    place: str = ""  # the city or hospital as resolved
    reason: str = ""
    places: tuple[str, ...] = ()  # partial: the listed places inside the city (宜城市 for 襄阳)


# -- the decision ----------------------------------------------------------------

ELIGIBLE, NOT_ELIGIBLE, NEED_INFO = "eligible", "not_eligible", "need_info"


@dataclass(frozen=True)
class Reason:
    code: str
    passed: Optional[bool]  # True pass, False fail, None need or note
    message_zh: str
    source: Optional[Source] = None

    def cite(self) -> str:
        return self.source.cite() if self.source else ""


@dataclass(frozen=True)
class Decision:
    status: str
    reasons: tuple[Reason, ...] = ()
    missing: tuple[str, ...] = ()

    @property
    def failed(self) -> list[Reason]:
        return [r for r in self.reasons if r.passed is False]

    def text_zh(self) -> str:
        """The reasons as one customer-facing text, failures first, each with its citation."""
        order = sorted(self.reasons, key=lambda r: {False: 0, None: 1, True: 2}[r.passed])
        parts = []
        for r in order:
            cite = f"（依据：{r.cite()}）" if r.source else ""
            parts.append(r.message_zh + cite)
        return "\n".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)
