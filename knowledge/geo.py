"""Place-name normalisation to official prefecture-level divisions.

Every accepted place name maps to one prefecture-level division (地级市 / 自治州 / 地区 / 盟,
the four municipalities, and the province-administered county-level units such as 济源 or
仙桃, which have no prefecture above them) with its 6-digit code.

Base data is jionlp's packaged china_location table (names, short names, codes) and its
change table (historical renames). On top of that, knowledge/data/place_aliases.yaml holds a
small reviewed list of nicknames, typos seen in the manuals, colloquial forms and renames the
change table lacks. See docs/geo.md.

Public interface: City, Resolution, resolve_city(), find_cities(), all_city_names().
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ALIASES_PATH = Path(__file__).parent / "data" / "place_aliases.yaml"


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
    # how it matched: exact | short | alias | county | rename | typo | nickname | pinyin
    # (on an "unknown" result: "province" when the text names a province only, else "")
    via: str = ""


# --- ranking ---------------------------------------------------------------------------
# Lower tier wins when one surface form points to several cities. Prefecture names beat
# reviewed aliases, which beat renames, which beat county-level names (so a county that
# shares a prefecture's short name loses to the prefecture).
_TIER = {"exact": 0, "short": 0, "nickname": 1, "alias": 1, "typo": 1, "rename": 2,
         "county": 3, "county_rename": 4}
_ALIAS_KIND_VIA = {"nickname": "nickname", "typo": "typo", "colloquial": "alias",
                   "abbreviation": "alias", "rename": "rename", "county_rename": "county_rename"}

# Development zones etc. in jionlp's county level: not admin divisions, not place names.
_NOT_DIVISION_RE = re.compile(r"开发区|高新区|经开区|产业园|示范区|工业园|管委会|新技术|保税")
# Trailing words a place name may carry: tried (longest first) only when the full text fails.
_SUFFIXES = ("市辖区", "市区", "城区", "地区", "自治州", "市", "县", "区", "州", "盟", "旗")
_TRIM = " \t\r\n.,;:!?'\"、，。；：！？“”‘’[]【】<>《》-—·…~"
_LATIN_RE = re.compile(r"^[a-z]+$")
# County-level names too generic to mean a place in free text (resolve_city still takes them).
_GENERIC = {"城区", "郊区", "矿区", "新区", "东区", "西区", "南区", "北区", "市中区", "市中", "新城区", "新城"}
_MAX_LEN = 64  # no place name is longer; longer input is not a place name
_COUNTY_SUFFIX_RE = re.compile(r"(?:县|旗|(?<![地市城])区)$")


@dataclass
class _Index:
    forms: dict[str, list[tuple[City, str, int]]]  # surface form -> (city, via, tier)
    provinces: dict[str, str]                       # province surface form -> full name
    free: dict[str, bool]                           # forms usable in free text
    not_places: list[str]                           # free-text words that only look like places
    problems: list[str]                             # alias entries that could not be applied
    max_form: int
    county_forms: set[str]                          # forms naming a county-level unit inside a prefecture


def _add(forms: dict, key: str, city: City, via: str) -> None:
    if not key:
        return
    lst = forms.setdefault(key, [])
    tier = _TIER[via]
    for i, (c, v, t) in enumerate(lst):
        if c == city:
            if tier < t:
                lst[i] = (city, via, tier)
            return
    lst.append((city, via, tier))


def _aliases(v) -> list[str]:
    if isinstance(v, list):
        return [a for a in v if a]
    return [v] if v else []


@lru_cache(maxsize=1)
def _index() -> _Index:
    import jionlp as jio  # slow import with a banner: only here
    import yaml

    loc = jio.china_location_loader()
    forms: dict[str, list[tuple[City, str, int]]] = {}
    provinces: dict[str, str] = {}
    county_free: set[str] = set()
    county_forms: set[str] = set()
    units_direct: set[City] = set()  # county-level units under a province directly
    by_name: dict[tuple[str, str], City] = {}  # (province, official name) -> city

    for prov, pdata in loc.items():
        provinces[prov] = prov
        for a in _aliases(pdata.get("_alias")):
            provinces[a] = prov
        for cname, cdata in pdata.items():
            if cname.startswith("_"):
                continue
            if cname == "省直辖行政区划":
                # province-administered county-level units: each is its own entry
                units = [(k, v) for k, v in cdata.items() if not k.startswith("_")]
                for uname, udata in units:
                    short = (_aliases(udata.get("_alias")) or [uname])[0]
                    c = City(udata["_admin_code"], uname, short, prov)
                    units_direct.add(c)
                    by_name[(prov, uname)] = c
                    _add(forms, uname, c, "exact")
                    _add(forms, short, c, "short")
                continue
            shorts = _aliases(cdata.get("_alias")) or [cname]
            c = City(cdata["_admin_code"], cname, shorts[0], prov)
            by_name[(prov, cname)] = c
            _add(forms, cname, c, "exact")
            for s in shorts:
                _add(forms, s, c, "short")
            if cname.endswith("自治州"):
                _add(forms, cname[:-3] + "州", c, "short")  # 克孜勒苏柯尔克孜州
                if not shorts[0].endswith("州"):
                    _add(forms, shorts[0] + "州", c, "short")  # 文山州, 延边州, 恩施州
            for kname, kdata in cdata.items():
                if kname.startswith("_") or _NOT_DIVISION_RE.search(kname):
                    continue
                _add(forms, kname, c, "county")
                county_forms.add(kname)
                ks = _aliases(kdata.get("_alias"))
                for s in ks:
                    if len(s) >= 2:
                        _add(forms, s, c, "county")
                        county_forms.add(s)
                        # free text: county-level cities, municipality districts, long names
                        if kname.endswith("市") or prov in ("北京市", "上海市", "天津市", "重庆市") or len(s) >= 3:
                            county_free.add(s)
                county_free.add(kname)

    # a province-administered county-level unit (台湾 连江县) sharing its name with an ordinary
    # county (福州 连江县) is no better than that county: same tier, so the name is ambiguous
    for key, lst in forms.items():
        if any(t == _TIER["county"] for _c, _v, t in lst):
            forms[key] = [(c, "county", _TIER["county"]) if c in units_direct else (c, v, t)
                          for c, v, t in lst]

    problems: list[str] = []
    by_short: dict[str, list[City]] = {}
    for key, lst in forms.items():
        for c, via, _t in lst:
            if via in ("exact", "short"):
                by_short.setdefault(key, []).append(c)

    def target(name: str, province: str | None) -> City | None:
        cands = by_short.get(name, [])
        if province:
            cands = [c for c in cands if c.province.startswith(province[:2])]
        return cands[0] if len(cands) == 1 else None

    # historical renames from jionlp's change table
    for ch in jio.china_location_change_loader():
        old, new = ch["old_loc"], ch["new_loc"]
        new_city = by_name.get((new[0], new[1]))
        if new_city is None:
            continue
        old_pref = old[1]
        if old_pref[0] and old_pref[0] != new[1] and old[2][0] is None:
            # a prefecture renamed as a whole (襄樊市 -> 襄阳市)
            for s in old_pref:
                if s and s not in by_short:
                    _add(forms, s, new_city, "rename")
        elif old[2][0] and old[2][0] != new[2]:
            # a county-level unit renamed or merged (江干区 -> 上城区, 杭州)
            for s in old[2]:
                if s and len(s) >= 2 and s not in forms:
                    _add(forms, s, new_city, "county_rename")
                    county_forms.add(s)

    # reviewed aliases
    data = yaml.safe_load(ALIASES_PATH.read_text(encoding="utf-8")) or {}
    for e in data.get("aliases") or []:
        alias, kind = str(e.get("alias", "")).strip(), e.get("kind")
        aim = target(str(e.get("city", "")), e.get("province"))
        if not alias or kind not in _ALIAS_KIND_VIA or not e.get("why") or aim is None:
            problems.append(f"alias entry {e!r}: needs alias, kind, why and a known city")
            continue
        via = _ALIAS_KIND_VIA[kind]
        _add(forms, _norm(alias), aim, via)
        if e.get("level") == "county" or via == "county_rename" or _COUNTY_SUFFIX_RE.search(_norm(alias)):
            county_forms.add(_norm(alias))  # 郫县, 临利县; 邓煌市 says level: county
        county_free.add(_norm(alias))
    not_places = [_norm(str(w["text"])) for w in data.get("not_places") or [] if w.get("text")]

    free = {}
    for key, lst in forms.items():
        if len(key) < 2:
            continue
        best = min(t for _c, _v, t in lst)
        if best <= _TIER["rename"]:
            free[key] = True
        elif key in county_free and key not in _GENERIC and len({c for c, _v, t in lst if t == best}) == 1:
            free[key] = True  # county-level names only when they name one prefecture
    return _Index(forms, provinces, free, not_places, problems, max(len(k) for k in forms), county_forms)


@lru_cache(maxsize=1)
def _latin_index() -> tuple[dict[str, list[City]], dict[str, list[City]]]:
    """Pinyin of prefecture short names: (full "suzhou" -> cities, initials "sz" -> cities).

    Built on the first Latin query only: jionlp's pinyin table takes about 0.5 s to load.
    """
    import jionlp as jio

    full: dict[str, list[City]] = {}
    initials: dict[str, list[City]] = {}
    seen = set()
    for lst in _index().forms.values():
        for c, via, _t in lst:
            if c in seen or via not in ("exact", "short"):
                continue
            seen.add(c)
            syl = [re.sub(r"[^a-z]", "", p) for p in jio.pinyin(c.short, formater="simple")]
            if not all(syl):
                continue
            full.setdefault("".join(syl), []).append(c)
            initials.setdefault("".join(s[0] for s in syl), []).append(c)
    return full, initials


def _norm(s: str) -> str:
    """NFKC (full-width -> half-width), drop whitespace, trim punctuation, lower-case Latin."""
    s = unicodedata.normalize("NFKC", s)
    # invisible characters pasted along with a name (zero-width space, BOM, direction marks, NUL)
    s = "".join(ch for ch in s if unicodedata.category(ch) not in ("Cc", "Cf"))
    s = re.sub(r"\s+", "", s)
    return s.strip(_TRIM).lower()


def _province_of(hint: str | None) -> str | None:
    if not hint:
        return None
    h = _norm(hint)
    provs = _index().provinces
    if h in provs:
        return provs[h]
    for form in sorted(provs, key=len, reverse=True):  # "江苏省苏州市" as a hint
        if len(form) >= 2 and h.startswith(form):
            return provs[form]
    return None


def province_of_code(code: str) -> str | None:
    """The province of a prefecture's admin code (its first two digits), e.g. 510100 -> 四川省."""
    if not _PROVINCE_BY_PREFIX:
        for hits in _index().forms.values():
            for city, _via, _tier in hits:
                _PROVINCE_BY_PREFIX.setdefault(city.code[:2], city.province)
    return _PROVINCE_BY_PREFIX.get((code or "")[:2])


_PROVINCE_BY_PREFIX: dict[str, str] = {}


def province_name(text: str) -> str | None:
    """The official province name when the text names exactly a province (四川 / 四川省), else None."""
    q = _norm(text if isinstance(text, str) else "")
    provs = _index().provinces
    return provs.get(q) or provs.get(q.rstrip("省"))


def _pick(q: str, hits: list[tuple[City, str, int]], province: str | None) -> Resolution:
    if province:
        hits = [h for h in hits if h[0].province == province] or hits
    best = min(t for _c, _v, t in hits)
    top = [(c, v) for c, v, t in hits if t == best]
    via = "rename" if top[0][1] == "county_rename" else top[0][1]
    cities = list(dict.fromkeys(c for c, _v in top))
    if len(cities) == 1:
        return Resolution("ok", q, cities[0], cities, via)
    return Resolution("ambiguous", q, None, cities, via)


def _lookup(q: str, province: str | None, depth: int = 0) -> Resolution | None:
    idx = _index()
    hits = idx.forms.get(q)
    if hits:
        return _pick(q, hits, province)
    if depth > 2:
        return None
    # province + city: 安徽合肥, 安徽省合肥市, 北京市朝阳区
    for n in range(min(len(q) - 1, 8), 1, -1):
        prov = idx.provinces.get(q[:n])
        if prov:
            rest = q[n:]
            r = _lookup(rest, prov, depth + 1)
            if r is not None:
                return r
    # prefecture + county or suffix: 苏州昆山, 合肥市区, 上海市浦东新区
    for n in range(min(len(q) - 1, idx.max_form), 1, -1):
        head = idx.forms.get(q[:n])
        if not head or min(t for _c, _v, t in head) > _TIER["rename"]:
            continue
        r = _pick(q[:n], head, province)
        if r.status != "ok":
            continue
        rest = q[n:]
        if rest in _SUFFIXES:
            return r
        tail = idx.forms.get(rest) or []
        if any(c == r.city for c, _v, _t in tail):
            return r
    # trailing generic suffix: 开封县, 阿城市, 铜仁地区, 长阳县
    for suf in sorted(_SUFFIXES, key=len, reverse=True):
        if q.endswith(suf) and len(q) - len(suf) >= 2:
            r = _lookup(q[: -len(suf)], province, depth + 1)
            if r is not None:
                return r
    return None


def _resolve_latin(q: str, initials_too: bool = True) -> Resolution:
    full, initials = _latin_index()
    cities = full.get(q)
    if cities:
        if len(cities) == 1:
            return Resolution("ok", q, cities[0], list(cities), "pinyin")
        return Resolution("ambiguous", q, None, list(cities), "pinyin")
    cities = initials.get(q) if initials_too else None
    if cities:
        # initials (SZ, BJ) are never a guess, even when only one city has them
        return Resolution("ambiguous", q, None, list(cities), "pinyin")
    return Resolution("unknown", q)


@lru_cache(maxsize=8192)
def _resolve(q: str, province: str | None) -> tuple:
    if len(q) < 2 or len(q) > _MAX_LEN:
        return ("unknown", None, (), "")
    r: Resolution | None
    if _LATIN_RE.match(q):
        r = _resolve_latin(q)
    else:
        r = None
        if "(" in q or ")" in q:  # 长阳土家族自治县(长阳县), 巴音郭楞(库尔勒市), 延边(延吉
            outer = re.sub(r"\(.*?\)", "", q).strip(_TRIM)
            parts = [outer] + re.split(r"[()]", q)
            for p in parts:
                if p:
                    r = _lookup(p, province)
                    if r is not None:
                        break
        else:
            r = _lookup(q, province)
        if r is None and province and q + "州" in _index().forms:
            # a prefecture written like a province inside another province's row (青海: 海南 -> 海南州)
            r = _lookup(q + "州", province)
            if r is not None and (r.status != "ok" or r.city is None or r.city.province != province):
                r = None
        if r is None:
            via = "province" if q in _index().provinces or q.rstrip("省") in _index().provinces else ""
            r = Resolution("unknown", q, via=via)
    return (r.status, r.city, tuple(r.candidates), r.via)


def resolve_city(text: str, province_hint: str | None = None) -> Resolution:
    """Normalise one place name to its prefecture-level division.

    ok: one city (city set, candidates == [city]); ambiguous: several candidates, city None;
    unknown: nothing matched (empty, garbage, not a place, a province alone).
    """
    raw = text if isinstance(text, str) else ""
    query = raw.strip()[:200]
    q = _norm(raw[: _MAX_LEN * 4])
    if len(raw) > _MAX_LEN * 4:
        q = ""  # far too long to be a place name
    status, city, cands, via = _resolve(q, _province_of(province_hint))
    return Resolution(status, query, city, list(cands), via)


def _free_norm(text: str) -> str:
    """Per-character NFKC so that offsets stay those of the original text."""
    out = []
    for ch in text:
        n = unicodedata.normalize("NFKC", ch)
        out.append(n.lower() if len(n) == 1 else ch)
    return "".join(out)


def find_cities(text: str) -> list[tuple[int, int, Resolution]]:
    """All place mentions in free text: (start, end, resolution), leftmost-longest, in order.

    Ambiguous mentions are returned too (the caller asks which one was meant); unknown never.
    A province written right before a city joins its span and disambiguates it (云南江城).
    A county right after its own prefecture joins the prefecture's span (苏州昆山).
    """
    if not isinstance(text, str) or not text:
        return []
    idx = _index()
    s = _free_norm(text[:100_000])
    n = len(s)
    # cover[i]: furthest end of a not_places word covering position i; a match that lies
    # wholly inside such a word is skipped, a longer one (来宾市 over 来宾) is not
    cover = [0] * n
    for w in idx.not_places:
        for m in re.finditer(re.escape(w), s):
            for i in range(m.start(), m.end()):
                cover[i] = max(cover[i], m.end())

    def city_at(i: int) -> int:
        for ln in range(min(idx.max_form, n - i), 1, -1):
            if s[i:i + ln] in idx.free and i + ln > cover[i]:
                return ln
        return 0

    out: list[tuple[int, int, Resolution]] = []
    i = 0
    while i < n:
        if s[i].isascii() and s[i].isalpha():
            j = i
            while j < n and s[j].isascii() and s[j].isalpha():
                j += 1
            # only full pinyin in free text: initials collide with CT, MRI, VIP ...
            if j - i > 3 and not (i and s[i - 1].isdigit()):
                r = _resolve_latin(s[i:j], initials_too=False)
                if r.status != "unknown":
                    r.query = text[i:j]
                    out.append((i, j, r))
            i = j
            continue
        start, prov = i, None
        for pl in range(min(8, n - i), 1, -1):
            p = idx.provinces.get(s[i:i + pl])
            if p and city_at(i + pl):
                prov, i = p, i + pl
                break
        ln = city_at(i)
        if not ln:
            i = start + 1
            continue
        form = s[i:i + ln]
        st, city, cands, via = _resolve(form, prov)
        end = i + ln
        if out and out[-1][1] == start and out[-1][2].city is not None and out[-1][2].city in cands:
            # 苏州昆山 / 北京市朝阳区: the county belongs to the prefecture just named
            ps, _pe, pr = out[-1]
            pr.query = text[ps:end]
            out[-1] = (ps, end, pr)
        elif st != "unknown":
            out.append((start, end, Resolution(st, text[start:end], city, list(cands), via)))
        i = end
    return out


def all_city_names() -> dict[str, str]:
    """Every unambiguous Chinese surface form -> city code (for gazetteers)."""
    out = {}
    for key in _index().forms:
        status, city, _c, _v = _resolve(key, None)
        if status == "ok" and city is not None and len(key) >= 2:
            out[key] = city.code
    return out


def is_county_level(text: str, province_hint: str | None = None) -> bool:
    """True when the text names a county-level unit inside a prefecture (崇州市, 宜城市, 郫县),
    False for a prefecture itself (成都, 襄樊市), a province-administered unit (仙桃) or no place."""
    r = resolve_city(text, province_hint)
    if r.status != "ok" or r.city is None:
        return False
    if r.via == "county":
        return True
    q = _norm(text if isinstance(text, str) else "")
    idx = _index()
    forms = idx.county_forms

    def county_form(s: str) -> bool:
        if s in forms:
            return True
        return any(s.endswith(suf) and s[: -len(suf)] in forms for suf in ("市", "县", "区"))

    if q in idx.forms:  # the whole text is one name
        return r.via not in ("exact", "short", "pinyin") and county_form(q)
    # a compound (四川成都崇州, 成都市崇州市, 上海市浦东新区): county-level when it ends with a county
    # name of the city it resolved to, other than the city's own names
    own = {r.city.name, r.city.short}
    for n in range(1, len(q) - 1):
        tail = q[n:]
        if tail in own or tail.rstrip("市") in own:
            return False
        hits = idx.forms.get(tail) or idx.forms.get(tail.rstrip("市县区")) or []
        if county_form(tail) and any(c == r.city for c, _v, _t in hits):
            return True
    return False


def alias_problems() -> list[str]:
    """Alias-table entries that could not be applied (the tests require none)."""
    return list(_index().problems)


_GROUPS: dict[str, tuple[str, ...]] = {}


def groups() -> dict[str, tuple[str, ...]]:
    """Words naming several cities at once (北上广 -> 北京, 上海, 广州), from place_aliases.yaml."""
    if not _GROUPS:
        import yaml

        data = yaml.safe_load(ALIASES_PATH.read_text(encoding="utf-8")) or {}
        _GROUPS.update({str(k): tuple(str(c) for c in v) for k, v in (data.get("groups") or {}).items()})
    return _GROUPS
