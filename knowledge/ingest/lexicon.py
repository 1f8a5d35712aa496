"""The ingest vocabulary (knowledge/ingest/vocab.yaml) and the small word-level helpers built on it.

Adapters and readers take every keyword table from here: Chinese numerals, service categories,
abbreviations, field labels, contact labels. Place names come from jionlp's location table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional, overload

import yaml

from knowledge.ingest.text import clean, squash
from knowledge.vocab import Category, ContactKind, FactAttribute, UsagePeriod

VOCAB_FILE = Path(__file__).resolve().parent / "vocab.yaml"


@dataclass(frozen=True)
class Lexicon:
    digits: dict[str, int]
    ten: str
    categories: tuple[tuple[re.Pattern, Category], ...]
    abbreviations: tuple[tuple[str, str, bool], ...]  # (long, short, replace)
    usage_periods: tuple[tuple[re.Pattern, UsagePeriod], ...]
    field_labels: dict[str, FactAttribute]
    remark_topics: tuple[tuple[re.Pattern, FactAttribute], ...]
    contact_labels: dict[str, str]
    channels: tuple[tuple[str, ContactKind], ...]
    raw: dict[str, Any]


def load(path: Path = VOCAB_FILE) -> Lexicon:
    """Read and check the vocabulary file: every store name it uses must be declared in knowledge.vocab."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    num = data.get("numerals") or {}
    cats = tuple((re.compile(p), Category(c)) for p, c in data.get("categories") or [])
    abbr = []
    for long, short, how in data.get("abbreviations") or []:
        if how not in ("add", "replace"):
            raise ValueError(f"{path}: abbreviation {long!r} -> {short!r}: how must be add or replace, not {how!r}")
        abbr.append((long, short, how == "replace"))
    periods = tuple((re.compile(p), UsagePeriod(v)) for p, v in data.get("usage_periods") or [])
    labels = {k: FactAttribute(v) for k, v in (data.get("field_labels") or {}).items()}
    topics = tuple((re.compile(p), FactAttribute(a)) for p, a in data.get("remark_topics") or [])
    contacts = data.get("contacts") or {}
    channels = tuple((name, ContactKind(kind)) for name, kind in contacts.get("channels") or [])
    return Lexicon(digits=dict(num.get("digits") or {}), ten=num.get("ten") or "十", categories=cats,
                   abbreviations=tuple(abbr), usage_periods=periods, field_labels=labels, remark_topics=topics,
                   contact_labels=dict(contacts.get("labels") or {}), channels=channels, raw=data)


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    return load()


# -- numbers ---------------------------------------------------------------------------------------

def numeral_chars() -> str:
    """The Chinese numeral characters, for use inside a regex character class."""
    lx = lexicon()
    return "".join(lx.digits) + lx.ten


def cn_int(s: str | None) -> Optional[int]:
    """'3' / '三' / '两' / '十一' / '二十' -> int; None if not a number."""
    lx = lexicon()
    s = (s or "").strip()
    if s.isdigit():
        return int(s)
    if not s or any(ch not in lx.digits and ch != lx.ten for ch in s):
        return None
    if lx.ten in s:
        a, _, b = s.partition(lx.ten)
        if lx.ten in b:
            return None
        tens = lx.digits.get(a, 1) if a else 1
        return tens * 10 + (lx.digits.get(b, 0) if b else 0)
    return lx.digits.get(s) if len(s) == 1 else None


# -- contacts ------------------------------------------------------------------------------------------

def contact_label(key: str) -> str:
    """A contact label word from `contacts.labels` (a missing key is a bug: KeyError)."""
    return lexicon().contact_labels[key]


def channel_re(owner: str) -> re.Pattern:
    """Names of the owner's channels as a manual prints them: 众安互联网医院微信小程序, 众安保险 APP."""
    ends = "|".join(re.escape(w) for w, _ in lexicon().channels)
    return re.compile(rf"({re.escape(owner)}[\u4e00-\u9fff]{{0,6}}?\s?(?:{ends}))")


def channel_kind(name: str) -> Optional[str]:
    """The contact kind a channel name ends in (微信公众号 -> wechat, APP -> app)."""
    return next((str(k) for w, k in lexicon().channels if name.rstrip().endswith(w)), None)


# -- service names -----------------------------------------------------------------------------------

@overload
def category_of(name: str) -> str: ...
@overload
def category_of(name: str, default: Optional[str]) -> Optional[str]: ...


def category_of(name: str, default: Optional[str] = str(Category.OTHER)) -> Optional[str]:
    """The category a service name states (first matching row of `categories`), else `default`."""
    for rx, cat in lexicon().categories:
        if rx.search(name or ""):
            return str(cat)
    return default


def name_aliases(name: str) -> list[str]:
    """Other names of a service derivable from its name by rule (not by hand): a parenthesised
    Latin abbreviation (MDT), a trailing 服务 dropped, slash alternatives (住院/手术绿通 -> 住院绿通,
    手术绿通), and the `abbreviations` table."""
    out: set[str] = set()
    base = clean(name)
    m_paren = re.search(r"[（(]\s*([A-Za-z\-]+)\s*[)）]", base)
    core = re.sub(r"\s*[（(][^)）]*[)）]\s*", "", base).strip()
    if m_paren:
        out.add(m_paren.group(1))
        out.add(core)
    for n in list({base, core}):
        if n.endswith("服务") and len(n) > 4:
            out.add(n[:-2])
    for n in list(out | {core}):
        mm = re.search(r"([^/\s]+)/([^/\s]+)", n)
        if mm:
            # the alternatives are the two-character words either side of the slash:
            # 住院/手术绿通 -> 住院绿通, 手术绿通; 专家线上/书面诊疗意见 -> 专家线上诊疗意见, 专家书面诊疗意见
            left, right = mm.group(1), mm.group(2)
            k = min(2, len(left), len(right))
            prefix = n[: mm.start()] + left[:-k]
            suffix = right[k:] + n[mm.end():]
            out.add(prefix + left[-k:] + suffix)
            out.add(prefix + right[:k] + suffix)
    forms = list(out | {core, base})
    for long, short, replace in lexicon().abbreviations:
        for n in forms:
            if long in n:
                out.add(n.replace(long, short) if replace else short)
    return sorted(a for a in {squash(x) if re.fullmatch(r"[\u4e00-\u9fff/ ]+", x) else x for x in out}
                  if a and a != base)


# -- places ------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def province_names() -> dict[str, str]:
    """Province full names and short forms -> full name (from jionlp's location table)."""
    import jionlp as jio

    out: dict[str, str] = {}
    for prov, pdata in jio.china_location_loader().items():
        out[prov] = prov
        alias = pdata.get("_alias")
        for a in (alias if isinstance(alias, list) else [alias]):
            if a:
                out[a] = prov
    return out


def is_municipality(name: str) -> bool:
    full = province_names().get(name)
    return bool(full and full.endswith("市"))


def split_place_cell(cell: str) -> list[tuple[str, Optional[str]]]:
    """'延边(延吉、图们)、哈密、县级市:大冶市 丹江口市' -> [(延边, 延吉、图们), (哈密, None), ...].

    Separators are 、 , and spaces outside parentheses; '县级市:' and '县域:' are separators."""
    cell = re.sub(r"(?:县级市|县域)[:：]", "、", cell)
    toks, depth, cur = [], 0, ""
    for i, ch in enumerate(cell):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        if depth == 0 and ch in "、, ":
            toks.append(cur)
            cur = ""
        else:
            cur += ch
            # a name right after a closing parenthesis starts a new entry: 宁德(仅开放县级市)福清市
            if ch == ")" and depth == 0 and re.match(r"[\u4e00-\u9fff]", cell[i + 1:i + 2]):
                toks.append(cur)
                cur = ""
    toks.append(cur)
    out = []
    for tok in toks:
        tok = tok.strip().rstrip("+")
        name = tok.split("(", 1)[0].strip()
        groups = re.findall(r"\(((?:[^()]|\([^()]*\))*)\)?", tok[len(name):])
        groups = [g.strip() for g in groups if g.strip()]
        if re.search(r"\d|开放", name) or len(name) < 2:
            # no usable parent ("23 年 10 月开放区域(…)(城口县 丰都县 …)"): list members are the entries
            for g in groups:
                if re.search(r"[、 ]", g) and not re.search(r"开放|仅", g):
                    out += split_place_cell(g)
            continue
        note = "；".join(groups) or None
        if name.endswith("市辖区"):
            name, note = name[: -len("市辖区")], "市辖区" + (f"；{note}" if note else "")
        # two county names run together by a missing separator ("张北县康保县")
        mt = re.fullmatch(r"([\u4e00-\u9fff]{2,}?县)([\u4e00-\u9fff]{2,}县)", name)
        if mt and "自治" not in name:
            out += [(mt.group(1), note), (mt.group(2), note)]
            continue
        out.append((name, note))
    return out


def municipal_city(province: str, city: str) -> str:
    """Tables of the national hospital registry write 市辖区/县 as the city of a municipality."""
    return province if city in ("市辖区", "县", "") else city


# -- hospital names ------------------------------------------------------------------------------------

_PAREN = re.compile(r"^(.+?)\s*[(（]([^()（）]+)[)）]$")
_CAMPUS = ("院区", "分院", "总部", "部", "新院", "老院", "东院", "西院", "南院", "北院")


def split_hospital_name(raw: str) -> tuple[str, list[str]]:
    """'北京大学第三医院(北医三院)' -> ('北京大学第三医院', ['北医三院']); a campus in brackets
    ('北京积水潭医院(回龙观院区)') stays part of the name."""
    s = clean(raw)
    mm = _PAREN.match(s)
    if not mm or mm.group(2).strip().endswith(_CAMPUS):
        return s, []
    parts = [a.strip() for a in re.split(r"[、，,]", mm.group(2)) if a.strip()]
    if not parts or not all(any(w in a for w in ("院", "中心", "所")) for a in parts):
        return s, []  # a place or a remark in brackets, not another name
    return mm.group(1).strip(), parts
