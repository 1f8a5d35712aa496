"""Where policies come from: the PolicySource protocol, identity checks and the views.

A caller proves it may see a policy with the policy number plus the holder's
mobile number or the last four characters of the holder's ID number. Every
failure (unknown number, wrong or missing proof) raises the same
PolicyNotVerified, so the answer never reveals whether a policy exists. A
malformed policy number raises core.ids.ValidationError.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Optional, Protocol, runtime_checkable

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from policies import models as pm
from core.identity import (PolicyError, PolicyNotVerified, PolicySourceUnavailable, Verifier,  # noqa: F401 (re-exported)
                           verify_holder)
from core.ids import ServiceRef, ValidationError, halfwidth, mask_id, mask_mobile, normalize_policy_number  # noqa: F401


# -- views ----------------------------------------------------------------------
@dataclass(frozen=True)
class PersonView:
    role: str  # insured | family
    relation: str  # insured: to the holder (self/spouse/child/parent); family: to the insured
    name: str
    birth_date: date
    id_masked: Optional[str]
    since: Optional[date] = None  # family members: designated on

    def age_on(self, day: date) -> int:
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))

    def matches(self, name: str, id_number: str | None = None) -> bool:
        if halfwidth(name) != self.name:
            return False
        return not id_number or not self.id_masked or self.id_masked[-4:] == id_number.strip().upper()[-4:]


@dataclass(frozen=True)
class UsageView:
    service: ServiceRef
    person_name: str
    used_on: date
    ticket_number: Optional[str]
    counts_as_used: bool
    note: Optional[str] = None


@dataclass(frozen=True)
class PolicyView:
    number: str
    insurer: str
    manual_id: Optional[str]
    product: str
    edition: Optional[str]
    tier: Optional[str]
    effective_date: date
    end_date: date
    payment_term_years: Optional[int]
    is_transfer: bool
    is_renewal: bool
    addons: tuple[str, ...]
    family_policy: bool
    status: str
    holder_name: str
    holder_mobile_masked: Optional[str]
    insured: tuple[PersonView, ...]
    family: tuple[PersonView, ...] = ()
    usage: tuple[UsageView, ...] = ()
    source: str = "db"
    waiting_days: Optional[int] = None  # the product's waiting period (for 等待期同保险合同)

    def persons(self) -> tuple[PersonView, ...]:
        return self.insured + self.family

    def find_person(self, name: str, id_number: str | None = None) -> PersonView | None:
        for p in self.persons():
            if p.matches(name, id_number):
                return p
        return None

    def is_in_force(self, day: date) -> bool:
        return self.status == "active" and self.effective_date <= day <= self.end_date

    def used(self, service: ServiceRef, person_name: str | None = None) -> int:
        """Uses that count for a service (optionally for one person)."""
        return sum(1 for u in self.usage if u.counts_as_used and u.service.manual_id == service.manual_id
                   and u.service.key == service.key and (person_name is None or u.person_name == person_name))


@runtime_checkable
class PolicySource(Protocol):
    def get(self, policy_number: str, verifier: Verifier | None) -> PolicyView:
        """The verified policy, or PolicyNotVerified / ValidationError / PolicySourceUnavailable."""
        ...


# -- database implementation ---------------------------------------------------------
def usage_views(rows: Iterable[pm.UsageRecord]) -> tuple[UsageView, ...]:
    return tuple(UsageView(ServiceRef(u.service_manual_id, u.service_key, u.service_name), u.person_name, u.used_on,
                           u.ticket_number, u.counts_as_used, u.note) for u in rows)


def load_usage(db: Session | Connection, number: str) -> tuple[UsageView, ...]:
    """Recorded uses of a policy, oldest first (a plain select: rows, no ORM objects)."""
    use = pm.UsageRecord.__table__
    return usage_views(db.execute(select(use).where(use.c.policy_number == number)
                                  .order_by(use.c.used_on, use.c.id)))


def policy_view(p, usage: tuple[UsageView, ...] = (), source: str = "db", insured=None, family=None) -> PolicyView:
    """The view of a policy: an ORM Policy, or a row of pol_policies with its insured and family rows."""
    insured = p.insured if insured is None else insured
    family = p.family if family is None else family
    return PolicyView(
        number=p.number, insurer=p.insurer, manual_id=p.manual_id, product=p.product, edition=p.edition, tier=p.tier,
        effective_date=p.effective_date, end_date=p.end_date, payment_term_years=p.payment_term_years,
        is_transfer=bool(p.is_transfer), is_renewal=bool(p.is_renewal), addons=tuple(p.addons or ()),
        family_policy=bool(p.family_policy), status=p.status, holder_name=p.holder_name,
        holder_mobile_masked=mask_mobile(p.holder_mobile),
        insured=tuple(PersonView("insured", i.relation, i.name, i.birth_date, mask_id(i.id_number))
                      for i in insured),
        family=tuple(PersonView("family", f.relation, f.name, f.birth_date, mask_id(f.id_number), f.since)
                     for f in family),
        usage=usage, source=source, waiting_days=getattr(p, "waiting_days", None))


class DbPolicySource:
    """Policies stored in the pol_ tables (demo data from policies.seed, or an import)."""

    def __init__(self, engine: Engine | None = None):
        from core.db import engine_for

        self.engine = engine or engine_for()

    def get(self, policy_number: str, verifier: Verifier | None) -> PolicyView:
        # plain Core queries: the ORM (objects, identity map, selectin loads) cost about a third of the action
        # server's CPU per turn under chat load (bench/chat_load.py)
        number = normalize_policy_number(policy_number)
        pol, ins, fam = (m.__table__ for m in (pm.Policy, pm.InsuredPerson, pm.FamilyMember))
        with self.engine.connect() as c:
            p = c.execute(select(pol).where(pol.c.number == number)).first()
            # same refusal whether the policy is missing or the proof is wrong
            if p is None or not verify_holder(verifier, p.holder_mobile, p.holder_id_number):
                raise PolicyNotVerified()
            insured = c.execute(select(ins).where(ins.c.policy_id == p.id).order_by(ins.c.id)).all()
            family = c.execute(select(fam).where(fam.c.policy_id == p.id).order_by(fam.c.id)).all()
            usage = load_usage(c, number)
        return policy_view(p, usage, insured=insured, family=family)


@dataclass
class StaticPolicySource:
    """In-memory source for tests and demos: {number: (view, holder_mobile, holder_id_number)}."""

    entries: dict = field(default_factory=dict)

    def get(self, policy_number: str, verifier: Verifier | None) -> PolicyView:
        number = normalize_policy_number(policy_number)
        e = self.entries.get(number)
        if e is None or not verify_holder(verifier, e[1], e[2]):
            raise PolicyNotVerified()
        return e[0]


def record_usage(session: Session, entry) -> None:
    """tickets.service.UsageWriter: store a use a ticket's outcome consumed, in the ticket's transaction."""
    session.add(pm.UsageRecord(policy_number=entry.policy_number, service_manual_id=entry.service.manual_id,
                               service_key=entry.service.key, service_name=entry.service.name,
                               person_name=entry.person_name, person_id_number=entry.person_id_number,
                               used_on=entry.used_on, ticket_number=entry.ticket_number,
                               counts_as_used=entry.counts_as_used, note=entry.note))
