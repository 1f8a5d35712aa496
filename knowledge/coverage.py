"""Coverage decisions: is a service available in a city, which listed hospitals are there.

Functions over a KnowledgeBase's loaded tables (knowledge.query); the KnowledgeBase methods coverage()
and hospitals() call them.
"""
from __future__ import annotations

import re

from knowledge import geo
from knowledge.ingest.text import clean
from knowledge.views import CoverageAnswer, HospitalView, ServiceView, Source

MAX_EVIDENCE = 5


def list_source(kb, list_id: int) -> Source:
    name, _kind, mid, a, b = kb._coverage["lists"][list_id]
    return kb.source(mid, a, b, section=name)

def _place_key(name: str) -> str:
    """A county-level name without its suffix, for matching a row: 崇州市 / 崇州 -> 崇州."""
    n = re.sub(r"\s+", "", clean(name))
    return n[:-1] if len(n) > 2 and n[-1] in "市县区旗" else n


def city_coverage(kb, service_id: int, city_text: str) -> CoverageAnswer:
    """Is the service available in the place the words name? covered / partial / not_covered / unknown.

    A county-level place (崇州) is matched on its own row first, then on its prefecture's row.
    A prefecture with only county-level rows inside it is `partial` (襄阳: only 宜城市 is listed);
    `places` names the rows the answer rests on. The count is the manual's own number on the row
    asked about (never a sum over rows or lists), else the number of listed hospitals there."""
    svc = kb.service(service_id)
    q = clean(city_text or "")[:100]
    res = geo.resolve_city(q) if q else geo.Resolution("unknown", q)
    if res.status != "ok" or res.city is None:
        why = (f"city {q!r} is ambiguous: " + ", ".join(f"{c.province}{c.name}" for c in res.candidates[:5])
               if res.status == "ambiguous" else f"city {q!r} not recognised")
        return CoverageAnswer("unknown", svc.id, None, res, (), None, why)
    city = res.city
    county_key = _place_key(q) if geo.is_county_level(q) else None
    cov = kb._coverage
    list_ids = cov["svc_lists"].get(svc.id, [])
    if list_ids:
        own: list[tuple] = []     # the county-level row the customer named
        pref: list[tuple] = []    # rows naming the prefecture itself
        inside: list[tuple] = []  # county-level rows inside the prefecture
        region: list[tuple] = []  # a whole province listed as a region
        hosp: dict[int, Source] = {}
        unresolved = 0
        for lid in list_ids:
            name, kind, mid, _a, _b = cov["lists"][lid]
            if kind == "city":
                for code, raw, line, hcount, _cname in cov["cities"].get(lid, []):
                    if code not in (city.code, None):
                        continue
                    row = (raw, hcount, kb.source(mid, line, section=name))
                    if code == city.code:
                        if county_key and len(_place_key(raw)) >= 2 and county_key.endswith(_place_key(raw)):
                            # 崇州 / 崇州市 / 四川崇州 on the 崇州市 row
                            own.append(row)
                        elif geo.is_county_level(raw, city.province):
                            inside.append(row)
                        else:
                            pref.append(row)
                    elif code is None and geo.province_name(raw) is not None:
                        if geo.province_name(raw) == city.province:
                            region.append(row)
                    elif code is None:
                        unresolved += 1
            else:
                for hid, _raw, line in cov["hosp"].get(lid, []):
                    h = kb._hospitals.get(hid)
                    if h is None or hid in hosp:
                        continue
                    if h.city_code == city.code:
                        hosp[hid] = kb.source(mid, line, section=name)
                    elif h.city_code is None:
                        unresolved += 1

        def count_of(rows: list[tuple]) -> int | None:
            # the first row that prints a number: the manual's own count for that row
            return next((c for _r, c, _s in rows if c is not None), None)

        def places(rows: list[tuple]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(r for r, _c, _s in rows))

        def ev(rows: list[tuple]) -> tuple[Source, ...]:
            return tuple(s for _r, _c, s in rows)[:MAX_EVIDENCE]

        if own:
            return CoverageAnswer("covered", svc.id, city, res, ev(own), count_of(own),
                                  f"{q} has its own row in the service's coverage list", places(own), "own_row")
        if pref or hosp or region:
            rows = pref or region
            count = count_of(pref)
            if count is None and hosp:
                count = len(hosp)
            evidence = (ev(rows) + tuple(hosp.values()))[:MAX_EVIDENCE]
            why = (f"{city.name} is in the service's coverage list" if not county_key
                   else f"{q} is in {city.name}, which is in the service's coverage list")
            return CoverageAnswer("covered", svc.id, city, res, evidence, count, why,
                                  places(rows) or (city.name,), "prefecture" if county_key else "")
        if inside:
            if county_key:
                return CoverageAnswer("not_covered", svc.id, city, res, ev(inside), 0,
                                      f"{q} is not listed; in {city.name} only other county-level places are",
                                      places(inside))
            return CoverageAnswer("partial", svc.id, city, res, ev(inside), None,
                                  f"only county-level places inside {city.name} are listed", places(inside))
        heads = tuple(list_source(kb, lid) for lid in list_ids)
        cut = [lid for lid in list_ids if lid in cov.get("incomplete", ())]
        if cut:
            return CoverageAnswer("unknown", svc.id, city, res, heads, None,
                                  f"{city.name} is not in the part of the list the manual's text holds "
                                  "(the list is incomplete)")
        if unresolved:
            return CoverageAnswer("unknown", svc.id, city, res, heads, None,
                                  f"{city.name} not among the resolved entries; {unresolved} list entries "
                                  "have no recognised city")
        return CoverageAnswer("not_covered", svc.id, city, res, heads, 0,
                              f"{city.name} is not in the service's coverage list")
    clause = coverage_clause(kb, svc, "全国")
    if svc.coverage_scope == "nationwide":
        return CoverageAnswer("covered", svc.id, city, res, (clause or svc.source,), None,
                              "the manual says the service is available nationwide")
    # No list: a coverage statement that names the city is still the manual's word.
    for f in svc.facts:
        if f.attribute == "coverage" and (city.short in f.value or city.name in f.value) \
                and not re.search(r"除|不含|不包括|暂不|暂未|不支持", f.value):
            return CoverageAnswer("covered", svc.id, city, res, (f.source,), None,
                                  "the manual's coverage text names the city")
    stated = tuple(f.source for f in svc.facts if f.attribute == "coverage")[:MAX_EVIDENCE]
    return CoverageAnswer("unknown", svc.id, city, res, stated, None, "the manual gives no list")

def province_coverage(kb, service_id: int, province: str) -> tuple[str, tuple[str, ...], tuple[Source, ...]]:
    """Is the service available in a province asked about as a whole (山西那边)? (status, the listed
    places there, their lines: one source per place, in the same order): covered when the list names the
    province itself, partial when it names cities or hospitals inside it, not_covered when it has lists and
    none of them is there, unknown when the service has no list."""
    cov = kb._coverage
    list_ids = cov["svc_lists"].get(service_id, [])
    if not list_ids:
        return "unknown", (), ()
    whole: list[tuple[str, Source]] = []
    inside: list[tuple[str, Source]] = []
    for lid in list_ids:
        name, kind, mid, _a, _b = cov["lists"][lid]
        if kind == "city":
            for code, raw, line, _hcount, cname in cov["cities"].get(lid, []):
                if code is None and geo.province_name(raw) == province:
                    whole.append((raw, kb.source(mid, line, section=name)))
                elif code is not None and geo.province_of_code(code) == province:
                    inside.append((cname or raw, kb.source(mid, line, section=name)))
        else:
            for hid, _raw, line in cov["hosp"].get(lid, []):
                h = kb._hospitals.get(hid)
                if h is not None and h.city_code and geo.province_of_code(h.city_code) == province:
                    inside.append((h.name, kb.source(mid, line, section=name)))
    rows = whole or inside
    if rows:
        first = dict(reversed(rows))  # place -> its first row's lines, in the lists' order
        places = tuple(dict.fromkeys(n for n, _s in rows))
        return ("covered" if whole else "partial"), places, tuple(first[n] for n in places)
    return "not_covered", (), tuple(list_source(kb, lid) for lid in list_ids)[:MAX_EVIDENCE]


def coverage_clause(kb, svc: ServiceView, word: str) -> Source | None:
    """The first clause of the service mentioning word: a coverage fact, any fact, then its lines."""
    for f in svc.facts:
        if f.attribute == "coverage" and word in f.value:
            return f.source
    for f in svc.facts:
        if word in f.value:
            return f.source
    lines = kb._manual_lines(svc.manual_id) or []
    for n in range(svc.line_start, min(svc.line_end, len(lines)) + 1):
        if word in lines[n - 1]:
            return kb.source(svc.manual_id, n, section=svc.source.section)
    return None

def listed_hospitals(kb, service_id: int, city_text: str) -> list[HospitalView]:
    """The hospitals of the service's lists in the city the words name."""
    svc = kb.service(service_id)
    res = geo.resolve_city(clean(city_text or "")[:100]) if clean(city_text or "") else None
    if res is None or res.status != "ok" or res.city is None:
        return []
    cov = kb._coverage
    out: list[HospitalView] = []
    seen: set[int] = set()
    for lid in cov["svc_lists"].get(svc.id, []):
        name, kind, mid, _a, _b = cov["lists"][lid]
        for hid, raw, line in cov["hosp"].get(lid, []):
            h = kb._hospitals.get(hid)
            if h and h.city_code == res.city.code and hid not in seen:
                seen.add(hid)
                out.append(HospitalView(h.id, h.name, tuple(h.aliases or ()), h.province, h.city_code,
                                        h.city_name, h.grade, kb.source(mid, line, section=name)))
    return out


def check_answers(kb) -> dict[str, dict[str, int]]:
    """Answer-level check of every list row, per manual: asking the service about the row's own place
    must answer `covered` on that row (its line cited, its printed count given); asking about a listed
    hospital's city must list that hospital. A bare name that needs the row's province (江北, 双桥) is
    counted apart. Returns {manual id: {rows, ok, needs_province, bad}}."""
    cov = kb._coverage
    by_list: dict[int, list[int]] = {}
    for sid, lids in cov["svc_lists"].items():
        for lid in lids:
            by_list.setdefault(lid, []).append(sid)
    out: dict[str, dict[str, int]] = {}
    listed: dict[tuple, set[int]] = {}
    for lid, (_name, kind, mid, _a, _b) in sorted(cov["lists"].items()):
        sids = by_list.get(lid, [])
        if not sids:
            continue
        st = out.setdefault(mid, {"rows": 0, "ok": 0, "needs_province": 0, "bad": 0})
        sid = sids[0]
        if kind == "city":
            for code, raw, line, hcount, _cname in cov["cities"].get(lid, []):
                if code is None:
                    continue  # a province listed as a region
                st["rows"] += 1
                ans = city_coverage(kb, sid, raw)
                if ans.resolution.status != "ok" or ans.city is None or ans.city.code != code:
                    st["needs_province"] += 1  # the bare name means another place without the row's province
                    continue
                good = ans.status == "covered" and (line in [e.line_start for e in ans.evidence] or raw in ans.places)
                if hcount is not None and ans.via != "prefecture":
                    good = good and ans.hospitals_count == hcount
                st["ok" if good else "bad"] += 1
        else:
            for hid, _raw, _line in cov["hosp"].get(lid, []):
                h = kb._hospitals.get(hid)
                st["rows"] += 1
                if h is None or h.city_name is None:
                    st["bad"] += 1
                    continue
                key = (sid, h.city_name)
                if key not in listed:
                    listed[key] = {x.id for x in listed_hospitals(kb, sid, h.city_name)}
                st["ok" if hid in listed[key] else "bad"] += 1
    return out


def covered_in_province(kb, service_id: int, city_code: str | None, limit: int = 8) -> list[tuple[str, Source]]:
    """The cities of the service's city lists in the same province as city_code (the list's own names,
    in list order, each with its line): where a customer in an uncovered city could go instead."""
    if not city_code:
        return []
    return listed_cities(kb, service_id, limit, province=city_code[:2], besides=city_code)


def service_lists(kb, service_id: int) -> list[tuple[str, str, Source]]:
    """(name, kind: city | hospital, lines) of each list the service's coverage is read from."""
    cov = kb._coverage
    return [(name, kind, kb.source(mid, a, b, section=name))
            for name, kind, mid, a, b in (cov["lists"][lid] for lid in cov["svc_lists"].get(service_id, []))]


def listed_cities(kb, service_id: int, limit: int = 8, province: str | None = None,
                  besides: str | None = None) -> list[tuple[str, Source]]:
    """The cities of the service's city lists (of one province when given, but for `besides`), in list order,
    each with its line; at most `limit`."""
    cov, out, seen = kb._coverage, [], set()
    for lid in cov["svc_lists"].get(service_id, []):
        name, kind, mid, _a, _b = cov["lists"][lid]
        if kind != "city":
            continue
        for code, raw, line, _hcount, cname in cov["cities"].get(lid, []):
            if province is not None and not (code and code[:2] == province):
                continue
            if (besides is None or code != besides) and (cname or raw) not in seen:  # 安徽省 rows have no code
                seen.add(cname or raw)
                out.append((cname or raw, kb.source(mid, line, section=name)))
    return out[:limit]
