"""Place-name normalisation to official prefecture-level divisions.

INTERIM VERSION: being replaced by the full implementation (alias table, ambiguity,
county-level cities, renames). The interface below is the contract.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache


@dataclass(frozen=True)
class City:
    code: str       # 6-digit admin code of the prefecture-level division, e.g. 320500
    name: str       # official name, e.g. 苏州市
    short: str      # short form, e.g. 苏州
    province: str   # e.g. 江苏省


@dataclass
class Resolution:
    status: str  # ok | ambiguous | unknown
    query: str
    city: City | None = None
    candidates: list[City] = field(default_factory=list)
    via: str = ""  # how it matched: exact | short | alias | county | rename | typo


@lru_cache(maxsize=1)
def _index() -> dict[str, list[City]]:
    import jionlp as jio

    idx: dict[str, list[City]] = {}
    for prov, pdata in jio.china_location_loader().items():
        for cname, cdata in pdata.items():
            if cname.startswith("_"):
                continue
            alias = cdata.get("_alias")
            short = alias[0] if isinstance(alias, list) else (alias or cname)
            c = City(code=cdata["_admin_code"], name=cname, short=short, province=prov)
            for k in {cname, short}:
                idx.setdefault(k, []).append(c)
    return idx


def resolve_city(text: str, province_hint: str | None = None) -> Resolution:
    q = (text or "").strip()
    hits = _index().get(q, [])
    if province_hint:
        hits = [c for c in hits if c.province.startswith(province_hint[:2])] or hits
    if len(hits) == 1:
        return Resolution("ok", q, hits[0], hits, "exact")
    if len(hits) > 1:
        return Resolution("ambiguous", q, None, hits, "exact")
    return Resolution("unknown", q)
