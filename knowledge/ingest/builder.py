"""The one write path from adapters into the store.

Adapters (knowledge/ingest/adapters/*.py) read a ManualText and call these methods;
the Builder normalises cities through knowledge.geo, de-duplicates hospitals across
manuals, and attaches the manual id and line range to every row.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Iterable, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge import models as m
from knowledge import vocab as v
from knowledge.ingest.text import ManualText, clean, squash

Lines = tuple[int, int]


@dataclass
class CityEntry:
    raw: str  # as written in the manual (may be a nickname, typo, county-level city)
    line: int
    hospital_count: Optional[int] = None
    note: Optional[str] = None
    province: Optional[str] = None  # hint when the manual groups by province


@dataclass
class HospitalEntry:
    name: str
    line: int
    province: Optional[str] = None
    city: Optional[str] = None  # raw city name as the manual writes it
    grade: Optional[str] = None
    note: Optional[str] = None
    aliases: list[str] = field(default_factory=list)


@dataclass
class DiseaseEntry:
    name: str
    line: int
    definition: Optional[str] = None
    aliases: list[str] = field(default_factory=list)


_HOSPITAL_NOISE = re.compile(r"[\s\u3000]+")

# Administrative group labels that tables print among city names; they name no place.
GROUP_LABELS = {"直辖县", "省直辖县", "省直辖县级行政单位", "省直辖县级行政区划", "自治区直辖县级行政区划", "市辖区"}


class ContractError(ValueError):
    """A name the store contract (knowledge.vocab) does not declare: a bug in an adapter."""


def _enum_value(enum: type[StrEnum], value: Any, what: str) -> str:
    try:
        return str(enum(value))
    except ValueError:
        raise ContractError(f"{what} {value!r} is not a {enum.__name__} "
                            f"(knowledge.vocab): one of {', '.join(e.value for e in enum)}") from None


def hospital_key(name: str) -> str:
    """Normalised hospital name used for de-duplication."""
    s = squash(name)
    s = s.replace("(", "（").replace(")", "）")
    return _HOSPITAL_NOISE.sub("", s)


class Builder:
    def __init__(self, session: Session, manual: m.Manual, text: ManualText, product: str | None = None,
                 product_aliases: Iterable[str] = ()):
        self.s = session
        self.manual = manual
        self.text = text
        # the manual's product, from the manifest (`product`, else `product_line`, and `product_aliases`)
        self.product_name = product or manual.product_line
        self.product_aliases = [a for a in dict.fromkeys(product_aliases) if a and a != self.product_name]
        self.services: dict[str, m.Service] = {}
        self.warnings: list[str] = []
        self._hospitals: dict[str, m.Hospital] = {}  # hospital_key -> row, saves a query per repeated hospital

    # -- helpers -----------------------------------------------------------
    def _src(self, lines: Lines) -> dict[str, Any]:
        a, b = lines
        if not (1 <= a <= b <= len(self.text)):
            raise ValueError(f"{self.manual.id}: bad line range {lines}")
        return {"manual_id": self.manual.id, "line_start": a, "line_end": b}

    def warn(self, msg: str) -> None:
        self.warnings.append(f"{self.manual.id}: {msg}")

    def _checked(self, svc_name: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Service fields with enum values, family_rule and usage_rule checked against knowledge.vocab."""
        out = dict(fields)
        where = f"{self.manual.id}: service {svc_name!r}:"
        for col, enum in v.SERVICE_ENUMS.items():
            if out.get(col) is not None:
                out[col] = _enum_value(enum, out[col], f"{where} {col}")
        if out.get("family_rule") is not None:
            rule = out["family_rule"]
            try:
                rule = rule if isinstance(rule, v.FamilyRule) else v.FamilyRule.from_json(rule)
            except ValueError as exc:
                raise ContractError(f"{where} {exc} (knowledge.vocab.FamilyRule)") from None
            out["family_rule"] = rule.to_json()
        if out.get("usage_rule") is not None:
            out["usage_rule"] = {_enum_value(v.UsageRuleKey, k, f"{where} usage_rule key"): x
                                 for k, x in dict(out["usage_rule"]).items()}
        if out.get("waiting_waivers") is not None:
            out["waiting_waivers"] = [_enum_value(v.WaitingWaiver, x, f"{where} waiting waiver")
                                      for x in out["waiting_waivers"]]
        return out

    def finish(self) -> None:
        """Check every service of the manual against the contract once the adapter is done
        (adapters may set fields after creating a service). Raises ContractError."""
        names = ["family_rule", "usage_rule", "waiting_waivers", *v.SERVICE_ENUMS]
        for svc in self.services.values():
            fields = self._checked(svc.name, {k: getattr(svc, k) for k in names})
            for k in names:
                if getattr(svc, k) != fields[k]:
                    setattr(svc, k, fields[k])
            self._min_stay(svc)

    def _min_stay(self, svc: m.Service) -> None:
        """The stay in hospital a service's own lines require (住院天数需连续达到2天及以上), read the same way
        for every manual: the first statement, as a min_stay fact."""
        from knowledge.ingest import readers

        a, b = svc.line_start, min(svc.line_end, len(self.text))
        for n in range(a, b + 1):
            here = self.text.line(n).strip()
            joined = here + (self.text.line(n + 1).strip() if n < b else "")  # a line wrapped mid-sentence
            r = next(readers.scan(joined, [v.FactAttribute.MIN_STAY]), None)
            if r is not None and "住院天数" in here:
                self.fact(svc, v.FactAttribute.MIN_STAY, joined, (n, n + 1 if n < b else n), data=r.data)
                return

    # -- products and editions ---------------------------------------------
    def product(self, name: str | None = None, aliases: Iterable[str] = ()) -> m.Product:
        """The manual's product as the manifest names it; with `name`, another product of the insurer."""
        if name is None:
            name, aliases = self.product_name, self.product_aliases
        ins_id = self.manual.insurer_id
        p = self.s.scalar(select(m.Product).where(m.Product.insurer_id == ins_id, m.Product.name == name))
        if p is None:
            p = m.Product(insurer_id=ins_id, manual_id=self.manual.id, name=name, aliases=list(aliases))
            self.s.add(p)
            self.s.flush()
        return p

    def edition(self, product: m.Product, kind: str, name: str, lines: Lines,
                validity: str | None = None, rule: dict | None = None) -> m.Edition:
        kind = _enum_value(v.EditionKind, kind, f"{self.manual.id}: edition {name!r} kind")
        e = m.Edition(product_id=product.id, kind=kind, name=name, validity=validity, rule=rule or {}, **self._src(lines))
        self.s.add(e)
        self.s.flush()
        return e

    def entitlement(self, service: m.Service, edition: m.Edition, lines: Lines, *, tier: m.Edition | None = None,
                    included: bool = True, usage_limit: int | None = None, usage_period: str | None = None,
                    text: str = "") -> m.Entitlement:
        if usage_period is not None:
            usage_period = _enum_value(v.UsagePeriod, usage_period, f"{self.manual.id}: entitlement usage_period")
        e = m.Entitlement(service_id=service.id, edition_id=edition.id, tier_id=tier.id if tier else None,
                          included=included, usage_limit=usage_limit, usage_period=usage_period, text=text,
                          **self._src(lines))
        self.s.add(e)
        return e

    # -- services ------------------------------------------------------------
    def service(self, key: str, name: str, lines: Lines, **fields: Any) -> m.Service:
        """Create a service (unique key within the manual). `fields` are Service columns.

        Creating the same key twice returns the first one (a repeated section is
        stored once); the repeat is recorded as a warning.
        """
        if key in self.services:
            self.warn(f"service {key!r} defined again at lines {lines}; kept the first")
            return self.services[key]
        fields = self._checked(name, fields)
        svc = m.Service(key=key, name=clean(name), **self._src(lines), **fields)
        svc.aliases = sorted({clean(a) for a in fields.get("aliases", []) if clean(a) and clean(a) != svc.name})
        self.s.add(svc)
        self.s.flush()
        self.services[key] = svc
        return svc

    def fact(self, service: m.Service, attribute: str, value: str, lines: Lines, data: Any = None) -> m.ServiceFact:
        """Record one reading of an attribute (a knowledge.vocab.FactAttribute). Same attribute with
        another value is kept too."""
        attribute = _enum_value(v.FactAttribute, attribute,
                                f"{self.manual.id}: service {service.name!r}: fact attribute")
        f = m.ServiceFact(service_id=service.id, attribute=attribute, value=clean(value), data=data, **self._src(lines))
        self.s.add(f)
        return f

    # -- coverage ------------------------------------------------------------
    def city_list(self, name: str, lines: Lines, entries: Iterable[CityEntry],
                  services: Iterable[m.Service] = (), complete: bool = True) -> m.CoverageList:
        from knowledge import geo

        cl = m.CoverageList(name=name, kind="city", complete=complete, **self._src(lines))
        self.s.add(cl)
        self.s.flush()
        for e in entries:
            if squash(e.raw) in GROUP_LABELS:
                self.warn(f"group label {e.raw!r} at line {e.line} is not a city: skipped")
                continue
            res = geo.resolve_city(e.raw, province_hint=e.province)
            city = res.city if res.status == "ok" else None
            if city is None:
                self.warn(f"city {e.raw!r} at line {e.line}: {res.status}")
            self.s.add(m.CoverageCity(
                list_id=cl.id, raw_name=clean(e.raw), line=e.line, hospital_count=e.hospital_count, note=e.note,
                city_code=city.code if city else None, city_name=city.name if city else None,
                province=city.province if city else e.province))
        for svc in services:
            self.link(svc, cl)
        return cl

    def hospital(self, e: HospitalEntry) -> m.Hospital:
        from knowledge import geo

        key = hospital_key(e.name)
        h = self._hospitals.get(key)
        new = False
        if h is None:
            h = self.s.scalar(select(m.Hospital).where(m.Hospital.name == key))
        if h is None:
            h = m.Hospital(name=key, aliases=[], province=e.province, grade=e.grade)
            self.s.add(h)
            new = True
        self._hospitals[key] = h
        if e.city and not h.city_code:
            res = geo.resolve_city(e.city, province_hint=e.province)
            if res.status == "ok" and res.city:
                h.city_code, h.city_name, h.province = res.city.code, res.city.name, res.city.province
            else:
                self.warn(f"hospital {e.name!r} city {e.city!r} at line {e.line}: {res.status}")
        if e.grade and not h.grade:
            h.grade = e.grade
        new_aliases = {clean(a) for a in e.aliases if clean(a)} - set(h.aliases or []) - {h.name}
        if new_aliases:
            h.aliases = sorted(set(h.aliases or []) | new_aliases)
        if new or h.id is None:
            self.s.flush()  # the caller needs h.id; changes to a known row are flushed later
        return h

    def hospital_list(self, name: str, lines: Lines, entries: Iterable[HospitalEntry],
                      services: Iterable[m.Service] = ()) -> m.CoverageList:
        cl = m.CoverageList(name=name, kind="hospital", **self._src(lines))
        self.s.add(cl)
        self.s.flush()
        seen: set[int] = set()
        for e in entries:
            h = self.hospital(e)
            if h.id in seen:
                continue
            seen.add(h.id)
            self.s.add(m.CoverageHospital(list_id=cl.id, hospital_id=h.id, raw_name=clean(e.name), note=e.note, line=e.line))
        for svc in services:
            self.link(svc, cl)
        return cl

    def link(self, service: m.Service, coverage_list: m.CoverageList) -> None:
        exists = self.s.scalar(select(m.ServiceCoverage).where(
            m.ServiceCoverage.service_id == service.id, m.ServiceCoverage.list_id == coverage_list.id))
        if exists is None:
            self.s.add(m.ServiceCoverage(service_id=service.id, list_id=coverage_list.id))
            service.coverage_scope = str(v.CoverageScope.LIST)
            self.s.flush()

    # -- lists, faq, contacts, passages ---------------------------------------
    def disease_list(self, name: str, lines: Lines, entries: Iterable[DiseaseEntry]) -> m.DiseaseList:
        dl = m.DiseaseList(name=name, **self._src(lines))
        self.s.add(dl)
        self.s.flush()
        for e in entries:
            self.s.add(m.Disease(list_id=dl.id, name=clean(e.name), aliases=e.aliases, definition=e.definition, line=e.line))
        return dl

    def drug(self, list_name: str, name: str, lines: Lines, **fields: Any) -> m.Drug:
        d = m.Drug(list_name=list_name, name=clean(name), **fields, **self._src(lines))
        self.s.add(d)
        return d

    def faq(self, question: str, answer: str, lines: Lines, service: m.Service | None = None) -> m.Faq:
        f = m.Faq(question=clean(question), answer=answer.strip(), service_id=service.id if service else None,
                  **self._src(lines))
        self.s.add(f)
        return f

    def contact(self, kind: str, label: str, value: str, lines: Lines, service: m.Service | None = None) -> m.Contact:
        kind = _enum_value(v.ContactKind, kind, f"{self.manual.id}: contact {label!r} kind")
        c = m.Contact(kind=kind, label=clean(label), value=clean(value), service_id=service.id if service else None,
                      **self._src(lines))
        self.s.add(c)
        return c

    def passage(self, section: str, lines: Lines, service: m.Service | None = None, text: str | None = None) -> m.Passage:
        body = text if text is not None else self.text.span(*lines)
        p = m.Passage(section=clean(section)[:500], text=body.strip(), service_id=service.id if service else None,
                      **self._src(lines))
        self.s.add(p)
        return p
