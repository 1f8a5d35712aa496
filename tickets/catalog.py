"""What tickets need to know about a service, read through the knowledge store's read API.

Tickets keep (manual_id, key, name); the kb_ row id is only used to talk to
knowledge.query in the same moment (coverage checks), never stored.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol, Union

from sqlalchemy.exc import SQLAlchemyError

from core.ids import ServiceRef
from knowledge.views import NotFound

if TYPE_CHECKING:
    from knowledge.query import KnowledgeBase


@dataclass(frozen=True)
class FactInfo:
    attribute: str
    value: str
    manual_id: str
    line_start: int
    line_end: int


@dataclass(frozen=True)
class ServiceInfo:
    ref: ServiceRef
    kb_id: Optional[int] = None  # current kb_services.id (for knowledge.query calls), not stored
    insurer: Optional[str] = None
    lead_time_hours: Optional[int] = None
    usage_rule: dict = field(default_factory=dict)
    usage_text: Optional[str] = None
    facts: tuple[FactInfo, ...] = ()


ServiceSpec = Union[ServiceRef, int]


class ServiceCatalog(Protocol):
    def get(self, spec: ServiceSpec) -> ServiceInfo | None: ...


class KbServiceCatalog:
    """Reads services (and their facts) through the knowledge store's read API."""

    def __init__(self, kb: KnowledgeBase | None = None):
        if kb is None:
            from knowledge.query import KnowledgeBase

            kb = KnowledgeBase()
        self.kb = kb

    def get(self, spec: ServiceSpec) -> ServiceInfo | None:
        try:
            if isinstance(spec, ServiceRef):
                svc = self.kb.service_by_key(spec.manual_id, spec.key)
            elif isinstance(spec, int) and not isinstance(spec, bool):
                svc = self.kb.service(spec)
            else:
                return None
        except NotFound:
            return None
        except SQLAlchemyError:  # no knowledge store built yet
            return None
        return ServiceInfo(
            ref=ServiceRef(svc.manual_id, svc.key, svc.name), kb_id=svc.id, insurer=svc.insurer,
            lead_time_hours=svc.lead_time_hours, usage_rule=dict(svc.usage_rule), usage_text=svc.usage_text,
            facts=tuple(FactInfo(f.attribute, f.value, f.source.manual_id, f.source.line_start, f.source.line_end)
                        for f in sorted(svc.facts, key=lambda f: f.id)))  # the order the adapter read them


@dataclass
class StaticCatalog:
    """Fixed services (tests, or a deployment without the knowledge store)."""

    services: list[ServiceInfo] = field(default_factory=list)

    def get(self, spec: ServiceSpec) -> ServiceInfo | None:
        for s in self.services:
            if (isinstance(spec, ServiceRef) and (s.ref.manual_id, s.ref.key) == (spec.manual_id, spec.key)) \
                    or (isinstance(spec, int) and s.kb_id == spec):
                return s
        return None


# -- usage: does a ticket outcome consume one use of the service? ----------------------
@dataclass(frozen=True)
class UsageDecision:
    counts: bool
    reason: str  # English, short; goes into the usage record note


UsageHook = Callable[[ServiceInfo, str, str], Optional[UsageDecision]]

# "因客户原因放弃或取消服务的，视同该次服务已使用/完成", "仍视作服务权益已使用完毕", "视为服务已使用"
_CANCEL_COUNTS = re.compile(r"(取消|放弃|爽约).{0,40}?(视同|视为|视作).{0,15}?(已使用|已完成|使用完毕|服务已使用|权益正常扣除|扣除)")


def cancel_counts_rule(info: ServiceInfo) -> tuple[Optional[bool], str]:
    """Whether a cancellation after confirmation counts as a use, from usage_rule or the service's text."""
    rule = info.usage_rule or {}
    if "cancel_after_confirm_counts" in rule:
        return bool(rule["cancel_after_confirm_counts"]), "usage_rule.cancel_after_confirm_counts"
    texts = [(f.value, f"{f.manual_id}:{f.line_start}-{f.line_end}") for f in info.facts
             if f.attribute in ("cancellation", "usage_limit", "fees", "exclusions", "how_to_apply")]
    if info.usage_text:
        texts.append((info.usage_text, "usage_text"))
    for text, where in texts:
        if _CANCEL_COUNTS.search(re.sub(r"\s+", "", text or "")):
            return True, f"manual text at {where}"
    return None, "no rule in the manual"


def default_usage_hook(info: ServiceInfo, from_status: str, to_status: str) -> Optional[UsageDecision]:
    """completed -> a use; cancelled after confirmation -> a use when the manual says so; else none."""
    from tickets.models import CONFIRMED

    if to_status == "completed":
        return UsageDecision(True, "service completed")
    if to_status == "cancelled" and from_status in CONFIRMED:
        counts, why = cancel_counts_rule(info)
        if counts:
            return UsageDecision(True, f"cancelled after confirmation counts as used ({why})")
        return UsageDecision(False, f"cancelled after confirmation, not counted ({why})")
    return None


CoverageFn = Callable[[Any, str], Any]
