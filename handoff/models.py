"""Handoff table (hof_ prefix: created on first use, outside the pol_/tkt_ migrations)."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base
from core.db import UtcDateTime, utc_now

STATUSES = ("open", "claimed", "closed")


class Handoff(Base):
    __tablename__ = "hof_handoffs"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # H20261122-3F9A1C
    conversation_id: Mapped[str] = mapped_column(String(128), index=True)
    channel: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    insurer: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)
    reason: Mapped[str] = mapped_column(String(64))  # customer_request | fallback | complaint | not_in_manual
    summary: Mapped[Optional[str]] = mapped_column(Text, nullable=True)  # what the customer asked last
    transcript: Mapped[list] = mapped_column(JSON, default=list)  # [{"who": "user"|"bot", "text": ..., "at": ...}]
    slots: Mapped[dict] = mapped_column(JSON, default=dict)  # what the assistant knew (no verifier)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    agent: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
