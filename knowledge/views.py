"""What the knowledge store's read API returns: plain frozen views, each fact with its Source."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from knowledge import geo


class NotFound(KeyError):
    """An id that is not in the store."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "not found"


@dataclass(frozen=True)
class Source:
    """Where a fact comes from: a manual's line range (1-based, inclusive), with a short quote.

    The one citation type of the project: the store, the rules engine and every answer use it."""

    manual_id: str
    line_start: int
    line_end: int
    quote: str = ""
    manual_title: str = ""
    insurer: str = ""
    section: Optional[str] = None

    def cite(self) -> str:
        lines = f"第 {self.line_start} 行" if self.line_start == self.line_end else f"第 {self.line_start}-{self.line_end} 行"
        name = f"《{self.manual_title}》" if self.manual_title else self.manual_id
        section = f"·{self.section.split(' > ')[-1]}" if self.section else ""
        return f"{name}{section}（{lines}）"


@dataclass(frozen=True)
class InsurerView:
    id: int
    name: str
    short_name: str
    aliases: tuple[str, ...]
    manuals: tuple[str, ...]  # manual ids (the insurer itself comes from the manifest, not a manual line)


@dataclass(frozen=True)
class ManualView:
    id: str
    title: str
    insurer: str
    insurer_id: int
    line_count: int


@dataclass(frozen=True)
class FactView:
    attribute: str
    value: str
    data: Any
    source: Source
    id: int = 0  # store row id: the order the adapter read the facts in


@dataclass(frozen=True)
class ServiceView:
    id: int
    key: str
    manual_id: str
    insurer: str
    insurer_id: int
    insurer_short: str
    product: Optional[str]
    product_id: Optional[int]
    name: str
    aliases: tuple[str, ...]
    category: Optional[str]
    description: str
    beneficiary: Optional[str]
    beneficiary_text: Optional[str]
    family_rule: dict
    waiting_kind: Optional[str]
    waiting_days: Optional[int]
    cooling_off_days: Optional[int]
    waiting_waivers: tuple[str, ...]
    diagnosis_kind: Optional[str]
    diagnosis_list: Optional[str]
    diagnosis_hospital: Optional[str]
    diagnosis_exclusions: tuple[str, ...]
    age_min: Optional[int]
    age_max: Optional[int]
    usage_limit: Optional[int]
    usage_period: Optional[str]
    usage_text: Optional[str]
    usage_rule: dict
    addon_required: Optional[str]
    lead_time_hours: Optional[int]
    response_time: Optional[str]
    how_to_apply: Optional[str]
    documents: Optional[str]
    fees: Optional[str]
    exclusions: Optional[str]
    coverage_scope: str
    line_start: int
    line_end: int
    source: Source
    facts: tuple[FactView, ...] = ()


@dataclass(frozen=True)
class CoverageAnswer:
    status: str  # covered | partial | not_covered | unknown
    service_id: int
    city: Optional[geo.City]
    resolution: geo.Resolution
    evidence: tuple[Source, ...]
    hospitals_count: Optional[int]  # the manual's number for the row asked about, or the listed hospitals there
    reason: str
    places: tuple[str, ...] = ()  # the listed places the answer rests on, as the manual writes them
    # how a county-level place (崇州) matched: "own_row" (its own row), "prefecture" (its prefecture's row)
    via: str = ""


@dataclass(frozen=True)
class HospitalView:
    id: int
    name: str
    aliases: tuple[str, ...]
    province: Optional[str]
    city_code: Optional[str]
    city_name: Optional[str]
    grade: Optional[str]
    source: Optional[Source]  # first list line that names it
    matched: str = ""  # the name or alias the query matched
    score: float = 0.0
    ids: tuple[int, ...] = ()  # store rows of the same hospital written differently (北京协和医院 / 北京协和医院（协和医院）)


@dataclass(frozen=True)
class DiseaseView:
    id: int
    name: str
    aliases: tuple[str, ...]
    definition: Optional[str]
    list_name: str
    source: Source
    score: float = 0.0


@dataclass(frozen=True)
class DiseaseListView:
    id: int
    name: str
    diseases: tuple[DiseaseView, ...]
    source: Source


@dataclass(frozen=True)
class CoverageListView:
    id: int
    name: str
    kind: str  # city | hospital
    complete: bool
    source: Source


@dataclass(frozen=True)
class DrugView:
    id: int
    name: str
    brand: Optional[str]
    maker: Optional[str]
    spec: Optional[str]
    indication: Optional[str]
    list_name: str
    source: Source
    score: float = 0.0


@dataclass(frozen=True)
class FaqView:
    id: int
    question: str
    answer: str
    service_id: Optional[int]
    source: Source
    score: float = 0.0


@dataclass(frozen=True)
class PassageHit:
    id: int
    section: str
    text: str
    service_id: Optional[int]
    score: float
    source: Source


@dataclass(frozen=True)
class ClauseView:
    """One clause of a manual (knowledge.clauses) and the service whose lines hold it (None: general)."""

    id: int
    manual_id: str
    line_start: int
    line_end: int
    text: str
    service_id: Optional[int]
    section: Optional[str]


@dataclass(frozen=True)
class ContactView:
    id: int
    kind: str
    label: str
    value: str
    service_id: Optional[int]
    source: Source


@dataclass(frozen=True)
class EditionView:
    id: int
    product: str
    product_id: int
    kind: str
    name: str
    validity: Optional[str]
    rule: dict
    source: Source


@dataclass(frozen=True)
class EntitlementView:
    id: int
    service_id: int
    edition: str
    edition_id: int
    tier: Optional[str]
    tier_id: Optional[int]
    included: bool
    usage_limit: Optional[int]
    usage_period: Optional[str]
    text: str
    source: Source

