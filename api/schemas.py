"""Request and response bodies (pydantic v2). Requests forbid unknown fields and cap every string."""
from __future__ import annotations

from datetime import date, date as Date, datetime
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Short = Field(default=None, max_length=100)
# a calendar day a person or policy can have (rules.engine treats others as not given; here they are a 422)
Day = Annotated[Date, Field(ge=date(1900, 1, 1), le=date(2199, 12, 31))]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# -- shared ---------------------------------------------------------------------------
class SourceOut(BaseModel):
    manual_id: str
    manual_title: str
    section: Optional[str] = None
    line_start: int
    line_end: int
    quote: str
    cite: str = Field(description="Chinese citation, e.g. 《…服务手册》·就医陪诊（第 812-830 行）")


class ErrorBody(BaseModel):
    code: str
    message: str
    details: Optional[dict[str, Any]] = None


class ErrorOut(BaseModel):
    error: ErrorBody


class CityOut(BaseModel):
    name: str
    short: str
    code: str
    province: str


# -- knowledge -----------------------------------------------------------------------
class ServiceSummary(BaseModel):
    id: int
    key: str
    name: str
    aliases: list[str]
    category: Optional[str]
    insurer: str
    insurer_short: str
    product: Optional[str]
    manual_id: str
    coverage_scope: str
    lead_time_hours: Optional[int]
    source: SourceOut


class FactOut(BaseModel):
    attribute: str
    value: str
    source: SourceOut


class ServiceDetail(ServiceSummary):
    description: str
    beneficiary: Optional[str]
    beneficiary_text: Optional[str]
    waiting_kind: Optional[str]
    waiting_days: Optional[int]
    cooling_off_days: Optional[int]
    diagnosis_kind: Optional[str]
    diagnosis_list: Optional[str]
    diagnosis_hospital: Optional[str]
    age_min: Optional[int]
    age_max: Optional[int]
    usage_limit: Optional[int]
    usage_period: Optional[str]
    usage_text: Optional[str]
    addon_required: Optional[str]
    response_time: Optional[str]
    how_to_apply: Optional[str]
    documents: Optional[str]
    fees: Optional[str]
    exclusions: Optional[str]
    facts: list[FactOut]


class CoverageOut(BaseModel):
    covered: Optional[bool] = Field(description="true / false, or null when the manual does not say "
                                                "or lists only places inside the city (status partial)")
    status: Literal["covered", "partial", "not_covered", "unknown"] = Field(
        description="covered: the place is listed; partial: only places inside it are listed (see places); "
                    "not_covered; unknown: the manual gives no list or the place is not recognised")
    places: list[str] = Field(default_factory=list,
                              description="the listed places the answer rests on, as the manual writes them "
                                          "(for partial: the places inside the city that are listed)")
    service: ServiceSummary
    city: Optional[CityOut]
    reason: str = Field(description="Chinese, for the customer")
    reason_code: str = Field(description="English, short (from the knowledge store)")
    hospitals_count: Optional[int]
    sources: list[SourceOut]
    other_services: list[dict] = Field(default_factory=list,
                                       description="other services the words could mean (id, name)")


class HospitalOut(BaseModel):
    id: int
    name: str
    aliases: list[str]
    province: Optional[str]
    city_code: Optional[str]
    city_name: Optional[str]
    grade: Optional[str]
    matched: str = ""
    source: Optional[SourceOut]


class HospitalsOut(BaseModel):
    service: ServiceSummary
    city: CityOut
    count: int
    hospitals: list[HospitalOut]


class HospitalSearchOut(BaseModel):
    query: str
    count: int
    hospitals: list[HospitalOut]


# -- eligibility ---------------------------------------------------------------------
class PersonIn(Strict):
    name: Optional[str] = Field(default=None, max_length=40, description="a person on the policy (insured or designated family)")
    age: Optional[int] = Field(default=None, ge=0, le=120, description="when the birth date is not known")
    relation: Optional[str] = Field(default=None, max_length=20,
                                    description="to the insured: self / spouse / child / parent / other (本人、配偶、子女、父母)")
    birth_date: Optional[Day] = None
    is_insured: Optional[bool] = None
    applicant_is_guardian: Optional[bool] = None


class CaseIn(Strict):
    diagnosis: Optional[Literal["none", "suspected", "confirmed"]] = None
    disease: Optional[str] = Field(default=None, max_length=100)
    diagnosis_hospital_public: Optional[bool] = None
    diagnosis_hospital_grade: Optional[Union[int, Annotated[str, StringConstraints(max_length=20)]]] = Field(
        default=None, description="3 / 三级甲等 / 二级")
    accident: Optional[bool] = None
    pregnancy: Optional[bool] = None
    city: Optional[str] = Field(default=None, max_length=40)
    hospital: Optional[str] = Field(default=None, max_length=100)
    date: Optional[Day] = Field(default=None, description="the day the service would be used (default today)")
    uses_this_period: Optional[int] = Field(default=None, ge=0, le=1000,
                                            description="default: counted from the policy's usage records")
    stay_id: Optional[str] = Field(default=None, max_length=64)
    stay_days: Optional[int] = Field(default=None, ge=0, le=3650, description="days in hospital so far (住院天数)")


class PolicyExtraIn(Strict):
    """Facts the policy store does not hold; the customer may state them."""

    received_date: Optional[Day] = None
    cooling_off_days: Optional[int] = Field(default=None, ge=0, le=365)
    condition_met_date: Optional[Day] = None
    join_date: Optional[Day] = None
    upgraded: Optional[bool] = None
    addons: Optional[list[str]] = Field(default=None, max_length=10)
    # stated by a customer who gives no policy number (ignored when a policy is verified)
    effective_date: Optional[Day] = Field(default=None, description="the policy took effect on")
    edition: Optional[str] = Field(default=None, max_length=60, description="e.g. 2021庆典版")
    tier: Optional[str] = Field(default=None, max_length=60, description="e.g. 尊享版3档")
    is_transfer: Optional[bool] = None
    is_renewal: Optional[bool] = None
    payment_term_years: Optional[int] = Field(default=None, ge=1, le=100)
    waiting_over: Optional[bool] = Field(default=None, description="the customer says the waiting period is over")


class EligibilityIn(Strict):
    insurer: Optional[str] = Field(default=None, max_length=40, description="insurer or product name")
    service: str = Field(min_length=1, max_length=100, description="name, alias (二诊, 绿通, MDT) or id")
    policy_number: Optional[str] = Field(default=None, max_length=40)
    verifier: Optional[str] = Field(default=None, max_length=40, description="holder's mobile or ID last four")
    mobile: Optional[str] = Field(default=None, max_length=40)
    id_last4: Optional[str] = Field(default=None, max_length=8)
    person: PersonIn = Field(default_factory=PersonIn)
    case: CaseIn = Field(default_factory=CaseIn)
    policy_extra: PolicyExtraIn = Field(default_factory=PolicyExtraIn)


class ReasonOut(BaseModel):
    code: str
    passed: Optional[bool] = Field(description="true passed, false failed, null needs information or is a note")
    message: str
    source: Optional[SourceOut]


class MissingOut(BaseModel):
    fact: str
    question: str


class EligibilityOut(BaseModel):
    decision: Literal["eligible", "not_eligible", "need_info"]
    service: ServiceSummary
    policy: Optional[dict]
    person: Optional[dict]
    reasons: list[ReasonOut]
    missing: list[MissingOut]
    ask: str = Field(description="one Chinese sentence asking for the missing facts")
    coverage: Optional[dict]
    facts_used: dict[str, Any]
    text: str = Field(description="the reasons as customer text, failures first, with citations")


# -- tickets -------------------------------------------------------------------------
class TicketCreateIn(Strict):
    insurer: Optional[str] = Field(default=None, max_length=40)
    service: str = Field(min_length=1, max_length=100)
    policy_number: Optional[str] = Field(default=None, max_length=40, description="or the X-Policy-Number header")
    verifier: Optional[str] = Field(default=None, max_length=40, description="or the X-Verifier header")
    mobile: Optional[str] = Field(default=None, max_length=40)
    id_last4: Optional[str] = Field(default=None, max_length=8)
    person_name: str = Field(min_length=1, max_length=40)
    person_id_number: Optional[str] = Field(default=None, max_length=40)
    city: str = Field(min_length=1, max_length=40)
    hospital: Optional[str] = Field(default=None, max_length=100)
    preferred_time: str = Field(min_length=1, max_length=64, description="ISO 8601; Beijing time when no offset, e.g. 2026-12-01T09:30")
    contact_phone: str = Field(min_length=1, max_length=40)
    notes: Optional[str] = Field(default=None, max_length=500)
    channel: str = Field(default="api", max_length=32)
    conversation_id: Optional[str] = Field(default=None, max_length=128)
    idempotency_key: Optional[str] = Field(default=None, max_length=128, description="or the Idempotency-Key header")


class TicketCancelIn(Strict):
    policy_number: Optional[str] = Field(default=None, max_length=40)
    verifier: Optional[str] = Field(default=None, max_length=40)
    mobile: Optional[str] = Field(default=None, max_length=40)
    id_last4: Optional[str] = Field(default=None, max_length=8)
    reason: Optional[str] = Field(default=None, max_length=300)


class TicketTransitionIn(Strict):
    to_status: Literal["accepted", "scheduled", "completed", "cancelled", "rejected"]
    operator: str = Field(default="operator", min_length=1, max_length=40,
                          description="ignored: the audit trail names the owner of the X-API-Key (OPERATOR_API_KEYS)")
    note: Optional[str] = Field(default=None, max_length=500)


class EventOut(BaseModel):
    at: datetime
    actor: str
    from_status: Optional[str]
    to_status: str
    note: Optional[str]


class TicketOut(BaseModel):
    number: str
    status: str
    status_label: str
    service: dict
    insurer: Optional[str]
    policy_number: str
    person_name: str
    city: dict
    coverage: str
    hospital: Optional[str]
    preferred_time: datetime
    contact_phone_masked: Optional[str]
    channel: str
    conversation_id: Optional[str]
    notes: Optional[str]
    system_notes: Optional[str]
    created_at: datetime
    updated_at: datetime
    events: list[EventOut]


class TicketCreatedOut(BaseModel):
    created: bool = Field(description="false: an idempotent repeat, this is the original ticket")
    ticket: TicketOut


class TicketListOut(BaseModel):
    count: int
    total: int
    tickets: list[TicketOut]
