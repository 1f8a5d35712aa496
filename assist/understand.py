"""What a customer's message says, read against the store: the names it uses (products, insurers,
services, places, hospitals, diseases), the facts it states, what it asks about (aspects) and what
kind of answer it wants (cues). Channel-neutral and independent of the NLU's intent."""
from __future__ import annotations

import re
from typing import Any

from dataclasses import dataclass, field
from functools import lru_cache

from assist.facts import StatedFacts, disease_words, read_facts
from assist.lexicon import Aspect, lexicon
from assist.names import ProductMention, index_for
from assist.text import normalise
from knowledge.matching import Score, norm, service_core, service_score

NAMED = Score.IN_TEXT  # a service whose name or alias is in the message
CATEGORY = Score.CATEGORY  # a word of its category only (陪诊, 绿通, 二诊)
SHARED = 50.0  # a long run of the name's characters (二次诊疗 in 二次诊疗意见)

# aspects that a more specific one makes redundant
_SHADOWED = {"duration": ("lead_time", "response_time", "hours"), "content": None, "fees": ("discount", "amount"),
             "who": ("transfer",), "count": ("counted",)}  # 算几次 asks how a use is counted, not how many


@dataclass
class Reading:
    raw: str
    text: str
    fixes: list = field(default_factory=list)
    products: list[ProductMention] = field(default_factory=list)
    denied: set[str] = field(default_factory=set)  # manuals whose product is named only to deny it
    insurer: Any = None  # InsurerView named in the message
    insurer_group: list = field(default_factory=list)  # insurers a shared word names (太保: 太保健康, 太保寿险)
    services: list[tuple[Any, float]] = field(default_factory=list)  # (ServiceView, score), best first
    places: list = field(default_factory=list)  # geo.Resolution of each place named
    province: str | None = None
    hospitals: list = field(default_factory=list)  # HospitalView named
    facts: StatedFacts = field(default_factory=StatedFacts)
    disease: str | None = None
    aspects: list[Aspect] = field(default_factory=list)
    cues: set[str] = field(default_factory=set)
    situation: dict[str, float] = field(default_factory=dict)  # category -> weight

    def aspect_keys(self) -> list[str]:
        return [a.key for a in self.aspects]

    @property
    def short(self) -> bool:
        return len(self.text) <= 12


def read(kb, text: str) -> Reading:
    ix = index_for(kb)
    clean = normalise(text)
    fixed, fixes = ix.repair(clean)
    r = Reading(raw=text, text=fixed, fixes=fixes)
    if not fixed:
        return r
    r.products = ix.products_in(fixed)
    r.denied = ix.products_denied(fixed)
    r.insurer = insurer_in(kb, fixed)
    if r.insurer is None and not r.products:
        r.insurer_group = _insurer_group_in(kb, fixed)
    r.services = services_in(kb, without_editions(kb, r.products, without_tiers(kb, without_names(kb, fixed))))
    r.places, r.province = _places(fixed)
    r.hospitals = _hospitals(kb, fixed) or _hospitals(kb, text[:200])  # 哈医大一院 is not 哈医大1院
    plain = _without_services(without_names(kb, fixed), r.services)  # 三甲 in 三甲医生视频问诊 is no fact
    r.facts = read_facts(plain, fixed)
    r.disease = _disease(kb, fixed)
    r.aspects = aspects_in(plain)
    r.cues = _cues(fixed)
    r.situation = situation_in(fixed)
    return r


def cues(kb, text: str) -> set[str]:
    """The cues of a message (zh.yaml `cues`: book, eligibility, …) without reading the rest of it."""
    fixed, _ = index_for(kb).repair(normalise(text))
    return _cues(fixed) if fixed else set()


def _cues(fixed: str) -> set[str]:
    lx = lexicon()
    return {name for name in lx.cues if lx.cue(name, fixed)}


def insurer_in(kb, text: str):
    t = norm(text)
    best = None
    for ins in kb.insurers():
        for n in (ins.name, ins.short_name, *ins.aliases):
            k = norm(n)
            if len(k) >= 2 and k in t and (best is None or len(k) > best[0]):
                best = (len(k), ins)
    return best[1] if best else None


def _insurer_group_in(kb, text: str) -> list:
    """Insurers named together by the start their names share (太保 for 太保健康 and 太保寿险, 太平洋 for
    太平洋健康 and 太平洋人寿): the words come from the store's names, none is typed here."""
    t, groups = norm(text), index_for(kb).insurer_groups
    best = max((w for w in groups if w in t), key=len, default=None)
    return [i for i in kb.insurers() if best and i.id in groups[best]]


def without_tiers(kb, text: str) -> str:
    """The text without the edition tiers it names (无忧管家专业版 is a tier, not the service 无忧管家全程服务)."""
    for t in index_for(kb).tier_names:
        if t in text:
            text = text.replace(t, "，")
    return text


def without_editions(kb, products: list, text: str) -> str:
    """The text without the edition it names (太保蓝本无忧管家: the edition, not the service 无忧管家全程服务),
    unless a whole service name holds it."""
    for p in products[:1]:
        core = re.sub(r"[（）()\s]|\d{4}|版$|版(?=[（(）)])", "", (p.edition or "").replace(p.product, ""))
        if len(core) >= 2 and core in text and not any(core in s.name and s.name in text for s in kb.services()):
            text = text.replace(core, "，")
    return text


def without_names(kb, text: str) -> str:
    """The text without the insurer and product names it holds (众安 is not a word of 众安互联网医院)."""
    ix = index_for(kb)
    names = sorted({n for _p, _i, ns in ix.products.values() for n in ns}
                   | {n for i in kb.insurers() for n in (i.name, i.short_name, *i.aliases)}, key=len, reverse=True)
    low = text
    for n in names:
        if len(n) >= 2 and n in low:
            low = low.replace(n, "，")
    return low


def _shared_span(q: str, name: str) -> int:
    """Length of the longest run of characters the message shares with a service name."""
    best = 0
    for i in range(len(name)):
        for j in range(i + best + 1, len(name) + 1):
            if name[i:j] in q:
                best = j - i
            else:
                break
    return best


def services_in(kb, text: str, manual_ids: set[str] | None = None) -> list[tuple[Any, float]]:
    """Services the message names (or names the category of, or shares a long run of its name with),
    best first."""
    q = norm(without_names(kb, text))
    out = []
    for v in kb.services():
        if manual_ids is not None and v.manual_id not in manual_ids:
            continue
        spelled = numeral_forms(v.name)  # 三甲 in a name, 3甲 in the normalised message
        s = service_score(q, v.name, [norm(a) for a in (*v.aliases, *spelled) if norm(a)], v.category)
        keys = {service_core(v.name), norm(v.name), *(norm(n) for n in spelled), *(service_core(a) for a in v.aliases)}
        for key in keys:  # an alias shares a run with the words too (院外特药直付服务 ~ 院外特药直付)
            span = _shared_span(q, key) if key else 0
            if span >= 4 or (span >= 3 and span >= 0.75 * len(key)):
                s = max(s, SHARED + 10.0 * span / len(key))
        if s >= CATEGORY:
            out.append((v, s))
    out.sort(key=lambda x: (-x[1], x[0].id))
    return out


@lru_cache(maxsize=4096)
def numeral_forms(name: str) -> tuple[str, ...]:
    """The name as normalise() writes it, when that differs (重疾三甲专家手术 -> 重疾3甲专家手术): a message
    is read normalised, the store's names are not."""
    n = normalise(name)
    return (n,) if n != name else ()


def _places(text: str):
    from knowledge import geo

    places = [res for _a, _b, res in geo.find_cities(text) if res.status != "unknown"]
    province = None
    if not places:
        for name in ("黑龙江", "内蒙古"):
            if name in text:
                province = geo.province_name(name)
        for i in range(len(text) - 1):  # every offset: 护山西那边 holds 山西
            if province is not None:
                break
            for ln in (3, 2):
                p = geo.province_name(text[i:i + ln]) if re.fullmatch(r"[\u4e00-\u9fff]+", text[i:i + ln]) else None
                if p:
                    province = p
                    break
    return places, province


def _hospitals(kb, text: str) -> list:
    if not any(w in text for w in ("医院", "院", "中心", "诊所", "协和", "华西", "湘雅", "齐鲁", "瑞金", "301")):
        return []
    from assist.names import find_hospital_heard

    hits, _heard = find_hospital_heard(kb, text, limit=3)  # 鞋和医院 -> 协和医院
    return [h for h in hits if h.score >= 70 or len(h.matched) >= 4]


def _disease(kb, text: str) -> str | None:
    for w in disease_words(text):
        for cut in range(0, max(1, len(w) - 1)):
            part = w[cut:]
            hits = kb.find_disease(part, limit=1)
            if hits and hits[0].score >= Score.CORE - 5:
                return hits[0].name
        return w[-4:] if len(w) > 4 else w
    return None


def _without_services(text: str, services) -> str:
    """The text without the names of the services it names (复发 in 复发肿瘤基因检测 asks nothing)."""
    names = {m for v, _s in services for n in (v.name, *v.aliases) for m in (n, *numeral_forms(n))}
    for n in sorted(names, key=len, reverse=True):  # longest first: 三甲医生视频问诊 before 视频问诊
        if len(n) >= 2 and n in text:
            text = text.replace(n, "，")
    return text


def aspects_in(text: str) -> list[Aspect]:
    found = [a for a in lexicon().aspects if a.asked_in(text)]
    keys = {a.key for a in found}
    out = []
    for a in found:
        shadow = _SHADOWED.get(a.key)
        if a.key == "content" and len(found) > 1:
            continue
        if shadow and keys.intersection(shadow):
            continue
        out.append(a)
    return out


def situation_in(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    low = text.lower()
    for s in lexicon().situations:
        # a word of three characters or more also counts with a few words inside it (Situation.gapped)
        hits = [w for w, gap in zip(s.words, s.gapped) if w.lower() in low or gap is not None and gap.search(low)]
        if hits:
            w = 1.0 + 0.2 * (len(hits) - 1)
            for rank, cat in enumerate(s.categories):
                out[cat] = out.get(cat, 0.0) + w / (1 + rank)
    lx = lexicon()
    if any(w in text for w in lx.raw["discharged_words"]):  # 刚出院: nothing left to arrange in hospital
        for cat in lx.raw["in_hospital_categories"]:
            out.pop(cat, None)
    return out
