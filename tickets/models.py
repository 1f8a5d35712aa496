"""Service ticket schema (tkt_ tables)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base
from core.db import UtcDateTime, utc_now

STATUSES = ("submitted", "accepted", "scheduled", "completed", "cancelled", "rejected")

# from -> allowed targets. completed / cancelled / rejected are final.
TRANSITIONS: dict[str, frozenset[str]] = {
    "submitted": frozenset({"accepted", "rejected", "cancelled"}),
    "accepted": frozenset({"scheduled", "rejected", "cancelled"}),
    "scheduled": frozenset({"completed", "cancelled"}),
    "completed": frozenset(),
    "cancelled": frozenset(),
    "rejected": frozenset(),
}

# Statuses after which the provider has confirmed the arrangement (a later cancellation may count as a use).
CONFIRMED = frozenset({"scheduled"})

STATUS_LABELS = {"submitted": "已提交", "accepted": "已受理", "scheduled": "已安排", "completed": "已完成",
                 "cancelled": "已取消", "rejected": "未通过"}


class Ticket(Base):
    __tablename__ = "tkt_tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # T20261121-000123
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the normalised request
    # service: stable knowledge-store reference (kb_ ids change on every rebuild)
    service_manual_id: Mapped[str] = mapped_column(String(64))
    service_key: Mapped[str] = mapped_column(String(128))
    service_name: Mapped[str] = mapped_column(String(255))
    insurer: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    policy_number: Mapped[str] = mapped_column(String(32), index=True)
    person_name: Mapped[str] = mapped_column(String(64))
    person_id_number: Mapped[Optional[str]] = mapped_column(String(18), nullable=True)
    city_raw: Mapped[str] = mapped_column(String(64))
    city_code: Mapped[Optional[str]] = mapped_column(String(12), nullable=True)
    city_name: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    coverage: Mapped[str] = mapped_column(String(16), default="unchecked")  # covered | unknown | unchecked
    hospital: Mapped[Optional[str]] = mapped_column(String(255), nullable=True)
    preferred_time: Mapped[datetime] = mapped_column(UtcDateTime)
    contact_phone: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32), default="api")
    conversation_id: Mapped[Optional[str]] = mapped_column(String(128), nullable=True, index=True)
    notes: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    system_notes: Mapped[Optional[str]] = mapped_column(Text, nullable=True)  # e.g. coverage unknown
    status: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)

    events: Mapped[list["TicketEvent"]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketEvent.id")


class TicketEvent(Base):
    """Audit trail: one row per change (creation included)."""

    __tablename__ = "tkt_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tkt_tickets.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    actor: Mapped[str] = mapped_column(String(64))  # customer | operator:<name> | system
    from_status: Mapped[Optional[str]] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    ticket: Mapped[Ticket] = relationship(back_populates="events")


class TicketCounter(Base):
    """Per-day sequence behind ticket numbers (row-locked increment, safe under concurrency)."""

    __tablename__ = "tkt_counters"
    day: Mapped[str] = mapped_column(String(8), primary_key=True)  # YYYYMMDD, Beijing time
    last: Mapped[int] = mapped_column(Integer, default=0)
