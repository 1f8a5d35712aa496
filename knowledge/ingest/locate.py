"""Locate every listed hospital in a city, after all manuals are read.

A hospital row whose list gives no city is located, in this order, by:
1. a reviewed entry of knowledge/data/hospital_places.yaml (name, city, manual line, why);
2. its region when the region is itself a city (香港, and the municipalities);
3. a city its name starts with (北京友谊医院, 上海交通大学附属仁济医院);
4. the hospital gazetteer: other hospitals of the store with a city whose name, alias or short name
   is this name, or this name without a trailing unit (北京同仁医院眼科会诊中心 -> 北京同仁医院),
   when they all lie in one city.
Each located hospital says how in the build warnings only when nothing located it.
"""
from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge import geo
from knowledge import models as m
from knowledge.ingest.text import squash

PLACES_FILE = Path(__file__).resolve().parents[1] / "data" / "hospital_places.yaml"
# a department or clinic named after its hospital: 北京同仁医院眼科会诊中心, 北京天坛医院多学科联合门诊
_UNIT_RE = re.compile(r"^(.{4,}?(?:医院|研究所))(?:[\u4e00-\u9fff]{2,16}(?:会诊中心|联合门诊|门诊|中心|院区|分院))$")


@lru_cache(maxsize=1)
def reviewed_places(path: Path = PLACES_FILE) -> dict[str, dict]:
    """name -> entry of the reviewed file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {squash(str(e["name"])): e for e in data.get("hospitals") or []}


def _city_of_name(name: str) -> geo.City | None:
    hits = geo.find_cities(name)
    if hits and hits[0][0] == 0 and hits[0][2].status == "ok":
        return hits[0][2].city
    return None


def _city_of_region(region: str | None) -> geo.City | None:
    if not region:
        return None
    r = geo.resolve_city(region)
    if r.status == "ok" and r.city and r.via in ("exact", "short") and r.city.province.startswith(region[:2]) \
            and geo.province_name(region) in (None, r.city.province):
        return r.city
    return None


def _gazetteer(session: Session) -> dict[str, set[tuple[str, str, str]]]:
    """name / alias / short name -> {(code, city name, province)} of located hospitals."""
    from knowledge.dictionary import hospital_name_key, hospital_short_names, load_hospital_aliases  # cycle
    out: dict[str, set] = defaultdict(set)
    by_key: dict[str, set] = defaultdict(set)
    for h in session.scalars(select(m.Hospital).where(m.Hospital.city_code.is_not(None))):
        where = (h.city_code, h.city_name, h.province)
        for k in [h.name, *(h.aliases or []), *hospital_short_names(h.name)]:
            out[squash(k)].add(where)
        by_key[hospital_name_key(h.name)].add(where)
    for alias, targets in load_hospital_aliases().items():
        for t in targets[:1]:
            for where in by_key.get(hospital_name_key(t), ()):
                out[alias].add(where)
    return out


def locate_hospitals(session: Session) -> list[str]:
    """Set the city of every hospital that has none; returns warnings for those still unlocated."""
    from knowledge.dictionary import hospital_short_names  # knowledge.dictionary imports knowledge.ingest
    todo = session.scalars(select(m.Hospital).where(m.Hospital.city_code.is_(None))).all()
    if not todo:
        return []
    reviewed = reviewed_places()
    gaz = _gazetteer(session)
    warnings = []
    for h in todo:
        city = None
        e = reviewed.get(squash(h.name))
        if e is not None:
            r = geo.resolve_city(str(e["city"]))
            city = r.city if r.status == "ok" else None
        city = city or _city_of_region(h.province) or _city_of_name(h.name)
        if city is None:
            keys = [h.name, *(h.aliases or [])]
            mm = _UNIT_RE.match(h.name)
            if mm:
                keys.append(mm.group(1))
            keys += hospital_short_names(h.name)
            for k in keys:
                found = gaz.get(squash(k), set())
                if len({c for c, _n, _p in found}) == 1:
                    code, name, prov = next(iter(found))
                    h.city_code, h.city_name, h.province = code, name, prov
                    break
            else:
                warnings.append(f"hospital {h.name!r}: no city (list, name, gazetteer or hospital_places.yaml)")
            continue
        h.city_code, h.city_name, h.province = city.code, city.name, city.province
    session.flush()
    return warnings
