"""Ticket operations: create (idempotent), read, cancel, operator transitions, list.

Every write is one transaction: a rejected request leaves nothing behind, and
each status change writes its audit row (and usage record, when it consumes a
use) together with the change.
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Callable, Optional, Protocol

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from core.db import session_scope
from core.identity import PolicyError, PolicyNotVerified, Verifier
from core.ids import ServiceRef, mask_mobile
from core import ids
from core.clock import CHINA_TZ, now_china, to_aware
from tickets import validation as v
from tickets.catalog import (KbServiceCatalog, ServiceCatalog, ServiceInfo, ServiceSpec, UsageHook,
                             default_usage_hook)
from tickets.models import STATUS_LABELS, TRANSITIONS, Ticket, TicketCounter, TicketEvent


class TicketError(Exception):
    code = "ticket_error"
    message = "工单暂时无法处理，请稍后再试。"

    def __init__(self, message: str | None = None, **details: Any):
        if message:
            self.message = message
        self.details = details
        super().__init__(self.message)


class TicketNotFound(TicketError):
    code = "ticket_not_found"
    message = "没有找到这张工单，或验证信息不匹配，请核对工单号和预约时留的手机号。"


class TransitionNotAllowed(TicketError):
    code = "transition_not_allowed"


class IdempotencyConflict(TicketError):
    code = "idempotency_conflict"
    message = "这个请求编号已经用于另一份不同内容的预约，请勿重复使用同一请求编号提交不同内容。"


class ConcurrentChange(TicketError):
    code = "ticket_changed"
    message = "工单状态刚刚发生了变化，请刷新后再试。"


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str
    from_status: Optional[str]
    to_status: str
    note: Optional[str]


@dataclass(frozen=True)
class TicketView:
    number: str
    status: str
    status_label: str
    service: ServiceRef
    insurer: Optional[str]
    policy_number: str
    person_name: str
    city_raw: str
    city_code: Optional[str]
    city_name: Optional[str]
    coverage: str
    hospital: Optional[str]
    preferred_time: datetime  # Beijing time
    contact_phone_masked: Optional[str]
    channel: str
    conversation_id: Optional[str]
    notes: Optional[str]
    system_notes: Optional[str]
    created_at: datetime
    updated_at: datetime
    events: tuple[EventView, ...] = ()


@dataclass(frozen=True)
class CreateResult:
    ticket: TicketView
    created: bool  # False: the same idempotent request was seen before; this is the original ticket


def ticket_view(t: Ticket) -> TicketView:
    return TicketView(
        number=t.number, status=t.status, status_label=STATUS_LABELS.get(t.status, t.status),
        service=ServiceRef(t.service_manual_id, t.service_key, t.service_name), insurer=t.insurer,
        policy_number=t.policy_number, person_name=t.person_name, city_raw=t.city_raw, city_code=t.city_code,
        city_name=t.city_name, coverage=t.coverage, hospital=t.hospital,
        preferred_time=t.preferred_time.astimezone(CHINA_TZ), contact_phone_masked=mask_mobile(t.contact_phone),
        channel=t.channel, conversation_id=t.conversation_id, notes=t.notes, system_notes=t.system_notes,
        created_at=t.created_at, updated_at=t.updated_at,
        events=tuple(EventView(e.at, e.actor, e.from_status, e.to_status, e.note) for e in t.events))


_TICKET_NO = re.compile(r"^T\d{8}-\d{6,}$")
_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")


def normalize_ticket_number(text: Any) -> str:
    s = re.sub(r"\s+", "", ids.halfwidth(str(text or ""))).upper()
    if not _TICKET_NO.match(s):
        raise ids.ValidationError([ids.Issue("ticket_number_invalid", "number",
                                         "工单号格式不正确，应类似 T20250318-000123，请核对后重新输入。")])
    return s


def _light(value: Any) -> Any:
    """Normalisation used for the idempotency hash (no validation, never raises)."""
    if isinstance(value, datetime):
        return to_aware(value).astimezone(timezone.utc).isoformat()
    if isinstance(value, ServiceRef):
        return [value.manual_id, value.key]
    if value is None:
        return None
    s = ids.halfwidth(str(value))
    if isinstance(value, str):
        try:
            return to_aware(datetime.fromisoformat(s.replace("/", "-"))).astimezone(timezone.utc).isoformat()
        except (ValueError, OverflowError):  # OverflowError: 0001-01-01 / 9999-12-31 moved to UTC
            pass
    return re.sub(r"\s+", " ", s)


class PolicyLookup(Protocol):
    """What tickets need of a policy source (policies.source.PolicySource satisfies it)."""

    def get(self, number: str, verifier: Verifier | None) -> Any: ...


@dataclass(frozen=True)
class UsageEntry:
    """A use of a service a ticket's outcome consumes (written by the policy side, see usage_writer)."""

    policy_number: str
    service: ServiceRef
    person_name: str
    person_id_number: Optional[str]
    used_on: date
    ticket_number: str
    counts_as_used: bool
    note: Optional[str] = None


UsageWriter = Callable[[Session, UsageEntry], None]  # records the use in the same transaction


class TicketService:
    def __init__(self, engine: Engine | None = None, *, catalog: ServiceCatalog | None = None,
                 policies: PolicyLookup | None = None, coverage: Callable | None = None,
                 usage_hook: UsageHook = default_usage_hook, usage_writer: UsageWriter | None = None, clock: Callable[[], datetime] | None = None,
                 resolve_city: Callable | None = None):
        """policies: when given, creating a ticket needs a verifier and the person must be on the policy.
        coverage: (kb service id, city text) -> answer with .status, e.g. KnowledgeBase().coverage."""
        from core.db import engine_for

        self.engine = engine or engine_for()
        if catalog is None:
            from knowledge.query import KnowledgeBase

            catalog = KbServiceCatalog(KnowledgeBase(self.engine))
        self.catalog = catalog
        self.policies = policies
        self.coverage = coverage
        self.usage_hook = usage_hook
        self.usage_writer = usage_writer
        self.clock = clock or now_china
        self.resolve_city = resolve_city

    # -- create -------------------------------------------------------------------
    def create_ticket(self, *, service: ServiceSpec, policy_number: str, person_name: str, city: str,
                      preferred_time: Any, contact_phone: str, idempotency_key: str | None = None,
                      person_id_number: str | None = None, hospital: str | None = None, channel: str = "api",
                      conversation_id: str | None = None, notes: str | None = None,
                      verifier: Verifier | None = None, actor: str = "customer") -> CreateResult:
        if idempotency_key is not None:
            key = str(idempotency_key).strip()
            if not _KEY.match(key):
                raise ids.ValidationError([ids.Issue("idempotency_key_invalid", "idempotency_key",
                                                 "请求编号格式不正确（1-128 个可见 ASCII 字符）。")])
        else:
            key = f"auto-{uuid.uuid4().hex}"
        info = self.catalog.get(service)
        payload = {"service": _light(info.ref if info else service), "policy_number": _light(policy_number),
                   "person_name": _light(person_name), "person_id_number": _light(person_id_number),
                   "city": _light(city), "hospital": _light(hospital), "preferred_time": _light(preferred_time),
                   "contact_phone": re.sub(r"\D", "", ids.halfwidth(str(contact_phone or ""))),
                   "channel": _light(channel), "conversation_id": _light(conversation_id), "notes": _light(notes)}
        digest = hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True)
                                .encode("utf-8", "surrogatepass")).hexdigest()

        replay = self._replay(key, digest)
        if replay:
            return replay

        fields = self._validate(info, service, policy_number, person_name, person_id_number, city, preferred_time,
                                contact_phone, hospital, channel, conversation_id, notes)
        if self.policies is not None:
            self._check_policy(fields, verifier)

        now = datetime.now(timezone.utc)
        try:
            with session_scope(self.engine) as s:
                number = self._next_number(s, now)
                t = Ticket(number=number, idempotency_key=key, request_hash=digest, status="submitted",
                           created_at=now, updated_at=now, **fields)
                t.events.append(TicketEvent(at=now, actor=actor, from_status=None, to_status="submitted",
                                            note=fields.get("system_notes")))
                s.add(t)
                s.flush()
                view = ticket_view(t)
        except IntegrityError:
            replay = self._replay(key, digest)  # a concurrent twin won the race
            if replay:
                return replay
            raise
        return CreateResult(view, True)

    def _replay(self, key: str, digest: str) -> CreateResult | None:
        with Session(self.engine) as s:
            t = s.scalar(select(Ticket).where(Ticket.idempotency_key == key).options(selectinload(Ticket.events)))
            if t is None:
                return None
            if t.request_hash != digest:
                raise IdempotencyConflict(number=t.number)
            return CreateResult(ticket_view(t), False)

    def _validate(self, info: ServiceInfo | None, service, policy_number, person_name, person_id_number, city,
                  preferred_time, contact_phone, hospital, channel, conversation_id, notes) -> dict:
        def svc():
            if info is None:
                raise ids.ValidationError([ids.Issue("service_unknown", "service",
                                                 "没有找到要预约的服务，请先确认服务名称。")])
            return info

        name = info.ref.name if info else "该服务"
        res = v.collect(
            svc,
            lambda: ids.normalize_policy_number(policy_number),
            lambda: v.clean_text(person_name, "person_name", required=True, label="服务对象姓名"),
            lambda: ids.normalize_id_number(person_id_number, "person_id_number") if person_id_number else None,
            lambda: v.check_city(city, service_id=info.kb_id if info else None, coverage=self.coverage,
                                 resolve=self.resolve_city, service_name=name),
            lambda: v.check_preferred_time(preferred_time, now=self.clock(),
                                           lead_time_hours=info.lead_time_hours if info else None),
            lambda: ids.normalize_mobile(contact_phone),
            lambda: v.clean_text(hospital, "hospital", label="医院名称"),
            lambda: v.clean_text(channel, "channel", label="渠道") or "api",
            lambda: v.clean_text(conversation_id, "conversation_id", label="会话编号"),
            lambda: v.clean_text(notes, "notes", label="备注"),
        )
        info, number, pname, pid, city_check, when, phone, hosp, chan, conv, note = res
        return dict(service_manual_id=info.ref.manual_id, service_key=info.ref.key, service_name=info.ref.name,
                    insurer=info.insurer, policy_number=number, person_name=pname, person_id_number=pid,
                    city_raw=city_check.raw, city_code=city_check.code, city_name=city_check.name,
                    coverage=city_check.coverage, system_notes=city_check.note, hospital=hosp,
                    preferred_time=when, contact_phone=phone, channel=chan, conversation_id=conv, notes=note)

    def _check_policy(self, fields: dict, verifier: Verifier | None) -> None:
        policy = self.policies.get(fields["policy_number"], verifier)  # PolicyError propagates
        if policy.find_person(fields["person_name"], fields["person_id_number"]) is None:
            raise ids.ValidationError([ids.Issue("person_not_on_policy", "person_name",
                                             f"“{fields['person_name']}”不是这张保单的被保险人或指定家人，"
                                             "请核对服务对象姓名。")])
        if fields["insurer"] and policy.insurer and fields["insurer"] != policy.insurer:
            raise ids.ValidationError([ids.Issue("service_not_for_policy", "service",
                                             "这项服务不属于您这张保单所在的保险公司，请确认要预约的服务。")])

    def _next_number(self, s: Session, now: datetime) -> str:
        day = now.astimezone(CHINA_TZ).strftime("%Y%m%d")
        dialect = s.get_bind().dialect.name
        if dialect in ("sqlite", "postgresql"):
            mod = __import__(f"sqlalchemy.dialects.{dialect}", fromlist=["insert"])
            s.execute(mod.insert(TicketCounter).values(day=day, last=0).on_conflict_do_nothing(index_elements=["day"]))
            n = s.execute(update(TicketCounter).where(TicketCounter.day == day)
                          .values(last=TicketCounter.last + 1).returning(TicketCounter.last)
                          .execution_options(synchronize_session=False)).scalar_one()
        else:  # generic fallback: row lock where supported
            row = s.scalar(select(TicketCounter).where(TicketCounter.day == day).with_for_update())
            if row is None:
                row = TicketCounter(day=day, last=0)
                s.add(row)
            row.last += 1
            s.flush()
            n = row.last
        return f"T{day}-{n:06d}"

    # -- read ---------------------------------------------------------------------------
    def _load(self, s: Session, number: str, lock: bool = False) -> Ticket | None:
        q = select(Ticket).where(Ticket.number == number).options(selectinload(Ticket.events))
        if lock:
            q = q.with_for_update()
        return s.scalar(q)

    def _may_see(self, t: Ticket, verifier: Verifier | None) -> bool:
        if verifier is None:
            return False
        mobile, _ = verifier.normalized()
        if mobile and mobile == t.contact_phone:
            return True
        if self.policies is not None:
            try:
                self.policies.get(t.policy_number, verifier)
                return True
            except (PolicyError, ids.ValidationError):
                return False
        return False

    def get_ticket(self, number: str, verifier: Verifier | None) -> TicketView:
        """The ticket when the verifier matches its contact phone (or the policy holder); one refusal otherwise."""
        number = normalize_ticket_number(number)
        with Session(self.engine) as s:
            t = self._load(s, number)
            if t is None or not self._may_see(t, verifier):
                raise TicketNotFound()
            return ticket_view(t)

    def list_for_policy(self, policy_number: str, verifier: Verifier | None = None, *, trusted: bool = False,
                        statuses: set[str] | None = None) -> list[TicketView]:
        """Tickets of a policy, newest first. Customers pass a verifier checked by the policy source;
        internal callers (rules engine, operators) pass trusted=True."""
        number = ids.normalize_policy_number(policy_number)
        if not trusted:
            if self.policies is None:
                raise PolicyNotVerified()
            self.policies.get(number, verifier)
        with Session(self.engine) as s:
            q = select(Ticket).where(Ticket.policy_number == number).options(selectinload(Ticket.events))
            if statuses:
                q = q.where(Ticket.status.in_(sorted(statuses)))
            return [ticket_view(t) for t in s.scalars(q.order_by(Ticket.created_at.desc(), Ticket.id.desc()))]

    # -- change ---------------------------------------------------------------------------
    def cancel_ticket(self, number: str, verifier: Verifier | None, reason: str | None = None) -> TicketView:
        view = self.get_ticket(number, verifier)
        reason = v.clean_text(reason, "reason", label="取消原因")
        return self.transition(view.number, "cancelled", actor="customer", note=reason or "客户取消")

    def transition(self, number: str, to_status: str, actor: str, note: str | None = None) -> TicketView:
        """Move a ticket along the lifecycle (operators, or cancel_ticket). Writes the audit row and,
        when the hook says the outcome consumes a use, the pol_usage record, in the same transaction."""
        number = normalize_ticket_number(number)
        if to_status not in TRANSITIONS:
            raise TransitionNotAllowed(f"未知的工单状态：{to_status}")
        actor = (v.clean_text(actor, "actor") or "system")[:64]
        note = v.clean_text(note, "notes", label="备注")
        with session_scope(self.engine) as s:
            t = self._load(s, number, lock=True)
            if t is None:
                raise TicketNotFound()
            current = t.status
            if to_status not in TRANSITIONS[current]:
                label = STATUS_LABELS.get(current, current)
                msg = (f"该工单{label}，无法取消。" if to_status == "cancelled"
                       else f"该工单当前为“{label}”，不能改为“{STATUS_LABELS[to_status]}”。")
                raise TransitionNotAllowed(msg, current=current, requested=to_status)
            now = datetime.now(timezone.utc)
            done = s.execute(update(Ticket).where(Ticket.id == t.id, Ticket.status == current)
                             .values(status=to_status, updated_at=now)
                             .execution_options(synchronize_session=False)).rowcount
            if done != 1:
                raise ConcurrentChange()
            s.add(TicketEvent(ticket_id=t.id, at=now, actor=actor, from_status=current, to_status=to_status,
                              note=note))
            ref = ServiceRef(t.service_manual_id, t.service_key, t.service_name)
            info = self.catalog.get(ref) or ServiceInfo(ref=ref)
            decision = self.usage_hook(info, current, to_status)
            if decision is not None and self.usage_writer is not None:
                self.usage_writer(s, UsageEntry(
                    policy_number=t.policy_number, service=ref, person_name=t.person_name,
                    person_id_number=t.person_id_number, used_on=t.preferred_time.astimezone(CHINA_TZ).date(),
                    ticket_number=t.number, counts_as_used=decision.counts, note=decision.reason))
            s.flush()
            s.expire_all()
            return ticket_view(self._load(s, number))


