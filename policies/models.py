"""Policy store schema (pol_ tables).

Services are referenced by the knowledge store's stable key (manual_id + key,
plus the name for display), never by kb_ row ids: `python -m knowledge build`
drops and rebuilds kb_ tables, policies and usage must survive that.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, UtcDateTime, utc_now


class Policy(Base):
    __tablename__ = "pol_policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    holder_name: Mapped[str] = mapped_column(String(64))
    holder_mobile: Mapped[str] = mapped_column(String(16))
    holder_id_number: Mapped[str] = mapped_column(String(18))
    insurer: Mapped[str] = mapped_column(String(128))  # kb_insurers.name (full legal name)
    manual_id: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)  # manual describing its services
    product: Mapped[str] = mapped_column(String(255))
    edition: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)  # version / plan, e.g. 2023 版
    tier: Mapped[Optional[str]] = mapped_column(String(128), nullable=True)  # e.g. 尊享版 2 档
    effective_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    payment_term_years: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    # the product's waiting period in days, for services whose manual says "等待期同保险产品合同" (None: unknown)
    waiting_days: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    is_transfer: Mapped[bool] = mapped_column(Boolean, default=False)  # 转保
    is_renewal: Mapped[bool] = mapped_column(Boolean, default=False)  # 续期 / 续保
    addons: Mapped[list[str]] = mapped_column(JSON, default=list)  # optional covers bought (e.g. 门急诊保险金)
    family_policy: Mapped[bool] = mapped_column(Boolean, default=False)  # 家庭共享单: shared usage pool
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | lapsed | cancelled
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)

    insured: Mapped[list["InsuredPerson"]] = relationship(
        back_populates="policy", cascade="all, delete-orphan", order_by="InsuredPerson.id")
    family: Mapped[list["FamilyMember"]] = relationship(
        back_populates="policy", cascade="all, delete-orphan", order_by="FamilyMember.id")


class InsuredPerson(Base):
    __tablename__ = "pol_insured"
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("pol_policies.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(16))  # to the holder: self | spouse | child | parent | other
    name: Mapped[str] = mapped_column(String(64))
    birth_date: Mapped[date] = mapped_column(Date)
    id_number: Mapped[str] = mapped_column(String(18))
    policy: Mapped[Policy] = relationship(back_populates="insured")


class FamilyMember(Base):
    """A designated family member (指定直系亲属) who may share the insured's services."""

    __tablename__ = "pol_family_members"
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("pol_policies.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(16))  # to the insured: spouse | child | parent
    name: Mapped[str] = mapped_column(String(64))
    birth_date: Mapped[date] = mapped_column(Date)
    id_number: Mapped[str] = mapped_column(String(18))
    since: Mapped[date] = mapped_column(Date)  # designated on this date
    policy: Mapped[Policy] = relationship(back_populates="family")


class UsageRecord(Base):
    """One use of a service. Keyed by policy number (not a foreign key) so usage of
    policies served by an external PolicySource is recorded too."""

    __tablename__ = "pol_usage"
    id: Mapped[int] = mapped_column(primary_key=True)
    policy_number: Mapped[str] = mapped_column(String(32), index=True)
    service_manual_id: Mapped[str] = mapped_column(String(64))
    service_key: Mapped[str] = mapped_column(String(128))
    service_name: Mapped[str] = mapped_column(String(255))
    person_name: Mapped[str] = mapped_column(String(64))
    person_id_number: Mapped[Optional[str]] = mapped_column(String(18), nullable=True)
    used_on: Mapped[date] = mapped_column(Date)
    ticket_number: Mapped[Optional[str]] = mapped_column(String(32), unique=True, nullable=True)
    counts_as_used: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
