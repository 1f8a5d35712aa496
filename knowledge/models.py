"""The knowledge store schema (SQLAlchemy 2).

Everything here is produced by `knowledge.ingest` from the manuals under
knowledge/manuals. Every row that states a fact carries its source: the manual id
and the 1-based line range in that manual's text file.
"""
from __future__ import annotations

from typing import Any, Optional

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base


class SourceMixin:
    """Where a fact comes from: manual id and line range (1-based, inclusive)."""

    manual_id: Mapped[str] = mapped_column(ForeignKey("kb_manuals.id"), index=True)
    line_start: Mapped[int] = mapped_column(Integer)
    line_end: Mapped[int] = mapped_column(Integer)


class Manual(Base):
    __tablename__ = "kb_manuals"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # file stem, e.g. 000_0cd5...
    filename: Mapped[str] = mapped_column(String(255))
    title: Mapped[str] = mapped_column(String(255))
    insurer_id: Mapped[int] = mapped_column(ForeignKey("kb_insurers.id"))
    product_line: Mapped[str] = mapped_column(String(255))
    layout: Mapped[str] = mapped_column(String(64))
    sha256: Mapped[str] = mapped_column(String(64))
    line_count: Mapped[int] = mapped_column(Integer)
    insurer: Mapped["Insurer"] = relationship()


class Insurer(Base):
    __tablename__ = "kb_insurers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)  # 平安健康保险
    short_name: Mapped[str] = mapped_column(String(64))  # 平安健康
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)


class Product(Base):
    __tablename__ = "kb_products"
    __table_args__ = (UniqueConstraint("insurer_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    insurer_id: Mapped[int] = mapped_column(ForeignKey("kb_insurers.id"), index=True)
    manual_id: Mapped[str] = mapped_column(ForeignKey("kb_manuals.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    insurer: Mapped[Insurer] = relationship()


class Edition(SourceMixin, Base):
    """A product version (2019 版), tier (尊享版) or plan (普惠, 无忧管家)."""

    __tablename__ = "kb_editions"
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("kb_products.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # version | tier | plan
    name: Mapped[str] = mapped_column(String(128))
    validity: Mapped[Optional[str]] = mapped_column(Text, nullable=True)  # text of the validity rule
    rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # parsed validity rule


class Service(SourceMixin, Base):
    """One service of one manual, with the parsed fields the rules engine uses.

    Parsed fields are the primary reading; every reading (including contradicting
    ones) is also kept as a ServiceFact with its own lines.
    """

    __tablename__ = "kb_services"
    __table_args__ = (UniqueConstraint("manual_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(128))  # stable slug within the manual
    product_id: Mapped[Optional[int]] = mapped_column(ForeignKey("kb_products.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    category: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)  # see knowledge.vocab.CATEGORIES
    description: Mapped[str] = mapped_column(Text, default="")
    # who may use: insured | designated_family | family_pool | insured_and_family
    beneficiary: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    beneficiary_text: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    family_rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # waiting: days | same_as_policy | none | after_cooling_off
    waiting_kind: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    waiting_days: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    cooling_off_days: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    waiting_waivers: Mapped[list[str]] = mapped_column(JSON, default=list)  # transfer | renewal | accident
    # diagnosis: none | suspected | confirmed | suspected_or_confirmed
    diagnosis_kind: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    diagnosis_list: Mapped[Optional[str]] = mapped_column(String(255), nullable=True)  # DiseaseList.name
    diagnosis_hospital: Mapped[Optional[str]] = mapped_column(String(255), nullable=True)  # e.g. 二级及以上公立医院
    diagnosis_exclusions: Mapped[list[str]] = mapped_column(JSON, default=list)
    age_min: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    age_max: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    # usage: limit None with period "unlimited" means no limit; None with period None means unknown
    usage_limit: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    usage_period: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)  # policy_year|per_stay|contract|unlimited
    usage_text: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    usage_rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # e.g. cancel_after_confirm_counts
    addon_required: Mapped[Optional[str]] = mapped_column(String(255), nullable=True)
    lead_time_hours: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    response_time: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    how_to_apply: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    documents: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    fees: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    exclusions: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    # coverage: list (see ServiceCoverage) | nationwide | unspecified
    coverage_scope: Mapped[str] = mapped_column(String(16), default="unspecified")

    manual: Mapped[Manual] = relationship()
    facts: Mapped[list["ServiceFact"]] = relationship(back_populates="service", cascade="all, delete-orphan")
    coverage: Mapped[list["ServiceCoverage"]] = relationship(back_populates="service", cascade="all, delete-orphan")


class ServiceFact(SourceMixin, Base):
    """One attribute reading of a service, with its lines. Contradictions are kept as
    several facts with the same attribute and different values."""

    __tablename__ = "kb_service_facts"
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("kb_services.id"), index=True)
    attribute: Mapped[str] = mapped_column(String(64), index=True)
    value: Mapped[str] = mapped_column(Text)
    data: Mapped[Any] = mapped_column(JSON, nullable=True)
    service: Mapped[Service] = relationship(back_populates="facts")


class Entitlement(SourceMixin, Base):
    """What an edition (version / tier / plan) grants of a service."""

    __tablename__ = "kb_entitlements"
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("kb_services.id"), index=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("kb_editions.id"), index=True)
    tier_id: Mapped[Optional[int]] = mapped_column(ForeignKey("kb_editions.id"), nullable=True)
    included: Mapped[bool] = mapped_column(default=True)
    usage_limit: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    usage_period: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")


class CoverageList(SourceMixin, Base):
    """A named list of cities or hospitals (an appendix, a table in a section)."""

    __tablename__ = "kb_coverage_lists"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))  # city | hospital
    # False when the manual's text holds only part of the list (a table cut off in extraction):
    # a place missing from it is unknown, not "not covered"
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    cities: Mapped[list["CoverageCity"]] = relationship(cascade="all, delete-orphan")
    hospitals: Mapped[list["CoverageHospital"]] = relationship(cascade="all, delete-orphan")


class CoverageCity(Base):
    __tablename__ = "kb_coverage_cities"
    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("kb_coverage_lists.id"), index=True)
    raw_name: Mapped[str] = mapped_column(String(64))  # as the manual writes it
    city_code: Mapped[Optional[str]] = mapped_column(String(12), index=True, nullable=True)
    city_name: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)  # official prefecture name
    province: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    hospital_count: Mapped[Optional[int]] = mapped_column(Integer, nullable=True)
    note: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    line: Mapped[int] = mapped_column(Integer)


class Hospital(Base):
    __tablename__ = "kb_hospitals"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255), unique=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    province: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    city_code: Mapped[Optional[str]] = mapped_column(String(12), index=True, nullable=True)
    city_name: Mapped[Optional[str]] = mapped_column(String(64), nullable=True)
    grade: Mapped[Optional[str]] = mapped_column(String(32), nullable=True)  # 三级甲等 ...


class CoverageHospital(Base):
    __tablename__ = "kb_coverage_hospitals"
    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("kb_coverage_lists.id"), index=True)
    hospital_id: Mapped[int] = mapped_column(ForeignKey("kb_hospitals.id"), index=True)
    raw_name: Mapped[str] = mapped_column(String(255))
    note: Mapped[Optional[str]] = mapped_column(Text, nullable=True)  # e.g. department
    line: Mapped[int] = mapped_column(Integer)
    hospital: Mapped[Hospital] = relationship()


class ServiceCoverage(Base):
    __tablename__ = "kb_service_coverage"
    __table_args__ = (UniqueConstraint("service_id", "list_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("kb_services.id"), index=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("kb_coverage_lists.id"), index=True)
    service: Mapped[Service] = relationship(back_populates="coverage")
    list: Mapped[CoverageList] = relationship()


class DiseaseList(SourceMixin, Base):
    __tablename__ = "kb_disease_lists"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    diseases: Mapped[list["Disease"]] = relationship(cascade="all, delete-orphan")


class Disease(Base):
    __tablename__ = "kb_diseases"
    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("kb_disease_lists.id"), index=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    definition: Mapped[Optional[str]] = mapped_column(Text, nullable=True)
    line: Mapped[int] = mapped_column(Integer)


class Drug(SourceMixin, Base):
    __tablename__ = "kb_drugs"
    id: Mapped[int] = mapped_column(primary_key=True)
    list_name: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255), index=True)  # generic name
    brand: Mapped[Optional[str]] = mapped_column(String(255), nullable=True)
    maker: Mapped[Optional[str]] = mapped_column(String(255), nullable=True)
    spec: Mapped[Optional[str]] = mapped_column(String(255), nullable=True)
    indication: Mapped[Optional[str]] = mapped_column(Text, nullable=True)


class Faq(SourceMixin, Base):
    __tablename__ = "kb_faqs"
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[Optional[int]] = mapped_column(ForeignKey("kb_services.id"), nullable=True, index=True)
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)


class Contact(SourceMixin, Base):
    __tablename__ = "kb_contacts"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # phone | wechat | app | hours | email | web
    label: Mapped[str] = mapped_column(String(255))
    value: Mapped[str] = mapped_column(String(255))
    service_id: Mapped[Optional[int]] = mapped_column(ForeignKey("kb_services.id"), nullable=True)


class Passage(SourceMixin, Base):
    """The text of a section, for retrieval and citation."""

    __tablename__ = "kb_passages"
    id: Mapped[int] = mapped_column(primary_key=True)
    section: Mapped[str] = mapped_column(String(512))  # title path, " > " separated
    text: Mapped[str] = mapped_column(Text)
    service_id: Mapped[Optional[int]] = mapped_column(ForeignKey("kb_services.id"), nullable=True, index=True)
