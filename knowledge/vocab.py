"""The store contract: controlled values shared by adapters, the builder, rules and actions.

Every name an adapter writes into the store is declared here: service categories and the other
enum-typed Service columns, the ServiceFact attribute names, the keys of Service.family_rule and
Service.usage_rule. The builder (knowledge/ingest/builder.py) rejects anything else, so a typo in
an adapter fails the build instead of reading as "the manual is silent".
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from typing import Any, Optional


class Category(StrEnum):
    """What kind of help a service is, across insurers (Service.category)."""

    GREEN_CHANNEL = "green_channel"
    OUTPATIENT_BOOKING = "outpatient_booking"
    INPATIENT_ARRANGEMENT = "inpatient_arrangement"
    ESCORT = "escort"
    INPATIENT_CARE = "inpatient_care"
    HOME_NURSING = "home_nursing"
    SECOND_OPINION = "second_opinion"
    MDT = "mdt"
    REMOTE_CONSULT = "remote_consult"
    ADVANCE_PAYMENT = "advance_payment"
    DIRECT_BILLING = "direct_billing"
    DRUG_SERVICE = "drug_service"
    REHAB = "rehab"
    TRANSPORT = "transport"
    OVERSEAS = "overseas"
    CHECKUP = "checkup"
    PSYCHOLOGY = "psychology"
    CONCIERGE = "concierge"
    WELLNESS = "wellness"
    OTHER = "other"


CATEGORIES = {
    Category.GREEN_CHANNEL: "就医绿通（门诊/住院/手术/检查安排）",
    Category.OUTPATIENT_BOOKING: "门诊挂号/专家预约",
    Category.INPATIENT_ARRANGEMENT: "住院/病房/手术安排",
    Category.ESCORT: "陪诊",
    Category.INPATIENT_CARE: "住院陪护/护工",
    Category.HOME_NURSING: "上门护理/术后家庭护理",
    Category.SECOND_OPINION: "第二诊疗意见/二诊",
    Category.MDT: "多学科会诊（MDT）",
    Category.REMOTE_CONSULT: "视频/电话/线上问诊、健康咨询",
    Category.ADVANCE_PAYMENT: "医疗垫付",
    Category.DIRECT_BILLING: "直付/直赔",
    Category.DRUG_SERVICE: "药品服务/药惠购/送药",
    Category.REHAB: "康复/随访",
    Category.TRANSPORT: "出院接送/急救",
    Category.OVERSEAS: "海外就医",
    Category.CHECKUP: "检查/体检/基因检测",
    Category.PSYCHOLOGY: "心理咨询",
    Category.CONCIERGE: "健康管家/全程服务",
    Category.WELLNESS: "健康促进/活力计划",
    Category.OTHER: "其他",
}


class Beneficiary(StrEnum):
    """Who may use a service (Service.beneficiary)."""

    INSURED = "insured"
    DESIGNATED_FAMILY = "designated_family"  # named family members
    FAMILY_POOL = "family_pool"  # uses shared by the family of one policy
    INSURED_AND_FAMILY = "insured_and_family"


class WaitingKind(StrEnum):
    """When a service can first be used (Service.waiting_kind)."""

    DAYS = "days"  # waiting_days after the policy starts
    SAME_AS_POLICY = "same_as_policy"
    NONE = "none"
    AFTER_COOLING_OFF = "after_cooling_off"


class WaitingWaiver(StrEnum):
    """Cases with no waiting period (Service.waiting_waivers)."""

    TRANSFER = "transfer"
    RENEWAL = "renewal"
    ACCIDENT = "accident"


class DiagnosisKind(StrEnum):
    """The diagnosis a service requires (Service.diagnosis_kind)."""

    NONE = "none"
    SUSPECTED = "suspected"
    CONFIRMED = "confirmed"
    SUSPECTED_OR_CONFIRMED = "suspected_or_confirmed"


class UsagePeriod(StrEnum):
    """The period a usage limit counts over (Service.usage_period, Entitlement.usage_period)."""

    POLICY_YEAR = "policy_year"
    PER_STAY = "per_stay"
    CONTRACT = "contract"
    UNLIMITED = "unlimited"
    PER_YEAR_CALENDAR = "per_year_calendar"  # understood by rules.engine; no manual states it yet
    PER_DISEASE = "per_disease"  # understood by rules.engine; no manual states it yet


class CoverageScope(StrEnum):
    """Where a service is available (Service.coverage_scope)."""

    LIST = "list"  # see ServiceCoverage
    NATIONWIDE = "nationwide"
    UNSPECIFIED = "unspecified"


class EditionKind(StrEnum):
    """Edition.kind."""

    VERSION = "version"  # 2023 版
    TIER = "tier"  # 尊享版
    PLAN = "plan"  # 无忧管家


class ContactKind(StrEnum):
    """Contact.kind."""

    PHONE = "phone"
    WECHAT = "wechat"
    APP = "app"
    HOURS = "hours"
    EMAIL = "email"


class FactAttribute(StrEnum):
    """ServiceFact.attribute: what one reading of a manual is about."""

    # who and when
    BENEFICIARY = "beneficiary"  # who may use it (data: {"beneficiary": Beneficiary, ...})
    ELIGIBILITY = "eligibility"  # which product versions / tiers grant it
    AGE = "age"
    DIAGNOSIS = "diagnosis"  # required diagnosis, hospital grade, disease list
    FIRST_DIAGNOSIS_RULE = "first_diagnosis_rule"  # definition of a first diagnosis
    FIRST_DIAGNOSIS_EXAMPLE = "first_diagnosis_example"  # one row of its worked example
    TRIGGER = "trigger"  # the condition that starts the service, as written
    WAITING_PERIOD = "waiting_period"
    WAITING_WAIVER = "waiting_waiver"  # a case without waiting period
    COOLING_OFF = "cooling_off"
    START_TIME = "start_time"  # when the service can first be used, as written
    VALIDITY = "validity"  # how long an edition's services last
    ADDON_REQUIRED = "addon_required"  # an add-on the policy must include
    APPROVAL_REQUIRED = "approval_required"  # the insurer must approve each use
    # how much
    USAGE_LIMIT = "usage_limit"
    USAGE_PERIOD = "usage_period"  # what a "year" in the usage limits means
    DURATION = "duration"  # length of one use
    CANCELLATION = "cancellation"  # cancelling, changing, no-shows
    FEES = "fees"
    EXCLUSIONS = "exclusions"
    # where
    COVERAGE = "coverage"  # cities, hospitals, nationwide
    HOSPITAL_CHOICE = "hospital_choice"  # whether the customer may name the hospital
    # how
    CONTENT = "content"  # what the service is
    HOW_TO_APPLY = "how_to_apply"
    DOCUMENTS = "documents"
    LEAD_TIME = "lead_time"  # how long before the service to apply
    BOOKING_WINDOW = "booking_window"  # how far ahead a booking may be
    MIN_STAY = "min_stay"  # days in hospital the service requires (住院天数需连续达到2天及以上)
    RESPONSE_TIME = "response_time"
    REVIEW_TIME = "review_time"  # time to review an application
    SERVICE_HOURS = "service_hours"
    # about the text
    ALIAS = "alias"  # another name the manual uses for the service
    REPEATED_SECTION = "repeated_section"  # the service is described again under another name
    UPDATED = "updated"  # date of the service description
    NOTE = "note"  # a remark with no attribute of its own (data may carry its label)


class UsageRuleKey(StrEnum):
    """Keys of Service.usage_rule: usage details beyond limit and period."""

    CARRY_OVER = "carry_over"  # unused uses carry over to the next year
    MAX_DAYS = "max_days"
    MAX_HOURS_PER_DAY = "max_hours_per_day"
    MAX_HOURS_PER_USE = "max_hours_per_use"
    NO_SPLIT = "no_split"  # the days must be used in one go
    MAX_AMOUNT_YUAN_PER_STAY = "max_amount_yuan_per_stay"
    TIMES_OPTIONS = "times_options"  # the number of uses depends on the plan: [2, 6]
    CHOOSE = "choose"  # choose N items ...
    CHOOSE_FROM = "choose_from"  # ... out of M
    SEE_POLICY = "see_policy"  # the limit is stated in the policy, not the manual
    CANCEL_AFTER_CONFIRM_COUNTS = "cancel_after_confirm_counts"
    CANCEL_NOTICE_WORKDAYS = "cancel_notice_workdays"
    CANCEL_NOTICE_DAYS = "cancel_notice_days"
    NO_CANCEL = "no_cancel"
    NO_SHOW_COUNTS = "no_show_counts"
    SAMPLED_COUNTS = "sampled_counts"  # a test counts as used once the sample is taken
    CHANGE_NOTICE_HOURS = "change_notice_hours"
    MAX_CHANGES = "max_changes"


class SharedWith(StrEnum):
    IMMEDIATE_RELATIVES = "immediate_relatives"  # 直系亲属


@dataclass(frozen=True)
class FamilyRule:
    """Service.family_rule: how family members share a service. Stored as JSON without the
    fields left at their default."""

    shared_with: Optional[SharedWith] = None
    shared_usage: bool = False  # the family shares one usage limit
    same_family_policy: bool = False  # only family members on the same family policy
    max_members: Optional[int] = None  # at most N designated family members
    window_years: Optional[int] = None  # family members may use it for N years
    depends_on_tier: bool = False  # the edition / tier decides (Edition.rule["family"])

    @classmethod
    def from_json(cls, data: Optional[dict[str, Any]]) -> "FamilyRule":
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown family_rule key(s) {unknown}; known: {sorted(known)}")
        if data.get("shared_with") is not None:
            data["shared_with"] = SharedWith(data["shared_with"])
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        default = FamilyRule()
        return {k: (str(v) if isinstance(v, StrEnum) else v) for k, v in asdict(self).items()
                if v != getattr(default, k)}


# Enum-typed Service columns, for the builder's checks and the contract test.
SERVICE_ENUMS: dict[str, type[StrEnum]] = {
    "category": Category,
    "beneficiary": Beneficiary,
    "waiting_kind": WaitingKind,
    "diagnosis_kind": DiagnosisKind,
    "usage_period": UsagePeriod,
    "coverage_scope": CoverageScope,
}
