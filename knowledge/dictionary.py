"""Domain vocabulary built from the store: the pkuseg user dictionary and hospital names.

Short hospital names are generated from official names by rule (四川大学华西医院 ->
华西医院, 华西); colloquial names customers use (浙一, 温医二院) come from
knowledge/data/hospital_aliases.yaml, each mapped to the official name.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from knowledge import models as m
from knowledge.ingest.text import squash
from knowledge.vocab import CATEGORIES

ALIASES_FILE = Path(__file__).resolve().parent / "data" / "hospital_aliases.yaml"

_BRACKET = re.compile(r"[（(]([^（）()]*)[）)]?")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# What is left after stripping a prefix must not be one of these (too generic to name a hospital).
_GENERIC_CORES = {
    "", "第一", "第二", "第三", "第四", "第五", "第六", "第七", "第八", "第九", "第十", "人民", "中医", "中心",
    "附属", "妇幼", "妇幼保健", "儿童", "肿瘤", "口腔", "眼科", "胸科", "传染病", "精神", "中西医结合", "总",
    "第一人民", "第二人民", "第三人民", "第四人民", "第五人民", "第六人民", "第七人民", "省", "市", "医学院",
    "妇产", "妇产科", "骨科", "康复", "心血管病", "职工", "中医药", "一", "二", "三", "四", "五", "六",
    "第一附属", "第二附属", "第三附属", "附属第一", "附属第二", "附属第三", "眼视光", "皮肤病", "儿科",
}
_SCHOOL = re.compile(r"^(.{2,12}?(?:医科大学|大学|医学院|学院))(.*?附属)?(.+)$")
_HOSPITAL_SUFFIX = re.compile(r"(医院|院区|分院|中心)$")


@lru_cache(maxsize=1)
def place_names() -> frozenset[str]:
    """Province and prefecture names and short forms (from jionlp's bundled table)."""
    import jionlp as jio

    names: set[str] = set()
    for prov, pdata in jio.china_location_loader().items():
        names.add(prov)
        alias = pdata.get("_alias")
        names.update(alias if isinstance(alias, list) else [alias] if alias else [])
        for cname, cdata in pdata.items():
            if cname.startswith("_") or not isinstance(cdata, dict):
                continue
            names.add(cname)
            a = cdata.get("_alias")
            names.update(a if isinstance(a, list) else [a] if a else [])
    return frozenset(n for n in names if n and len(n) >= 2)


def _core(name: str) -> str:
    return name[:-2] if name.endswith("医院") else name


def _ok_short(s: str) -> bool:
    return len(s) >= 2 and bool(_CJK.search(s)) and _core(s) not in _GENERIC_CORES and s not in place_names()


def hospital_short_names(name: str) -> list[str]:
    """Short forms of an official hospital name, most specific first (never the name itself).

    四川大学华西医院 -> [华西医院, 华西]; 浙江省人民医院 -> [浙江人民医院];
    北京大学第三医院（北医三院） -> [北京大学第三医院, 北医三院].
    """
    full = squash(name)
    out: list[str] = []

    def add(s: str) -> None:
        s = s.strip()
        if s and s != full and s not in out and _ok_short(s):
            out.append(s)

    base = full
    for inner in _BRACKET.findall(full):
        inner = inner.strip()
        if inner.startswith("原"):  # (原XX医院): a former name still used by customers
            inner = inner[1:]
        if 2 <= len(inner) <= 14 and re.search(r"(院|医院|院区)$", inner):
            add(inner)
    base = _BRACKET.sub("", full).strip() or full
    add(base)
    # 省/市 after a place name: 浙江省人民医院 -> 浙江人民医院
    mm = re.match(r"^(.{2,3}?)(省|市)(.+医院)$", base)
    if mm and mm.group(1) in place_names():
        add(mm.group(1) + mm.group(3))
    # University affiliation: 四川大学华西医院 -> 华西医院 -> 华西
    mm = _SCHOOL.match(base)
    if mm:
        rest = mm.group(3)
        if rest.endswith(("分院", "院区")) and re.search(r"..医院", rest):
            add(rest)  # 华山医院浦东分院
        elif rest.endswith("医院") and _core(rest) not in _GENERIC_CORES:
            add(rest)
            core = _core(rest)
            # 附属北京天坛医院 -> 天坛医院, 天坛
            for p in sorted(place_names(), key=len, reverse=True):
                if core.startswith(p) and len(core) - len(p) >= 2:
                    add(core[len(p):] + "医院")
                    core = core[len(p):]
                    break
            if 2 <= len(core) <= 4:
                add(core)
    # City prefix without affiliation: 北京协和医院 -> 协和医院, 协和
    for p in sorted(place_names(), key=len, reverse=True):
        if base.startswith(p) and base.endswith("医院"):
            rest = base[len(p):].lstrip("省市")
            if _core(rest) not in _GENERIC_CORES and len(_core(rest)) >= 2 and not re.search(r"大学|学院|附属|医科", rest):
                add(rest)
                if 2 <= len(_core(rest)) <= 3:
                    add(_core(rest))
            break
    return out


def load_hospital_aliases(path: Path = ALIASES_FILE) -> dict[str, list[str]]:
    """alias -> official names (best first) from the YAML file."""
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, list[str]] = {}
    for alias, target in (data.get("aliases") or {}).items():
        targets = [target] if isinstance(target, str) else list(target or [])
        out[squash(str(alias))] = [squash(t) for t in targets if t]
    return out


def hospital_name_key(name: str) -> str:
    """Name without bracketed remarks, for matching YAML targets to stored names."""
    return _BRACKET.sub("", squash(name)).replace("(", "").replace("（", "")


def _words_ok(w: str) -> bool:
    return 2 <= len(w) <= 24 and bool(_CJK.search(w)) and not re.search(r"[\s，。、；：？！,.;:?!]", w)


def user_dictionary(session: Session) -> list[str]:
    """Words pkuseg must keep whole: service, hospital, disease, drug and insurer names."""
    words: set[str] = set()

    def add(w: str | None) -> None:
        if not w:
            return
        w = squash(w)
        w = _BRACKET.sub("", w) if len(w) > 12 else w
        if _words_ok(w):
            words.add(w)
            if w.endswith("服务") and _words_ok(w[:-2]):
                words.add(w[:-2])

    for name, aliases in session.execute(select(m.Service.name, m.Service.aliases)):
        add(name)
        for a in aliases or []:
            add(a)
    for name, aliases in session.execute(select(m.Hospital.name, m.Hospital.aliases)):
        add(name)
        for a in (aliases or []) + hospital_short_names(name):
            add(a)
    for alias in load_hospital_aliases():
        add(alias)
    for name, aliases in session.execute(select(m.Disease.name, m.Disease.aliases)):
        add(name)
        for a in aliases or []:
            add(a)
    for name, brand in session.execute(select(m.Drug.name, m.Drug.brand)):
        add(name)
        add(brand)
    for short, aliases in session.execute(select(m.Insurer.short_name, m.Insurer.aliases)):
        add(short)
        for a in aliases or []:
            add(a)
    for label in CATEGORIES.values():
        for w in re.split(r"[/（）()、]", label):
            add(w)
    return sorted(words)
