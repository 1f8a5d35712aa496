"""The store's names as customers say them: insurers, products (with edition and tier), services.

repair() puts the store's spelling back where a message has a sound-alike or a typo of a name
(兰本 -> 蓝本, 陪珍 -> 陪诊, 尊享一生普拉斯 -> 尊享e生PLUS, 重急绿通 -> 重疾绿通): every name the store
knows is compared on its folded pinyin (pypinyin, with the sound folds and letter sounds of zh.yaml).
products() finds the products (and so manuals) a message names, with the edition and tier it states.
"""
from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from functools import cached_property, lru_cache

from assist.lexicon import lexicon
from assist.text import compact, to_digits
from knowledge.matching import norm, service_core

MIN_SOUND_SYLLABLES = 2


@dataclass(frozen=True)
class ProductMention:
    manual_id: str
    product: str
    insurer_short: str
    edition: str | None = None  # the store's edition name (kb_editions), when the message states one
    tier: str | None = None
    said: str = ""


@dataclass
class _Name:
    surface: str  # the store's spelling, as inserted by repair()
    key: str  # compact form for exact search
    sounds: tuple[str, ...]
    kind: str  # insurer | product | edition | service | word


_DENIAL = re.compile(r"(不是|并非|而非|非|没买|没有买|不买)(买的|那款|这款|那个|的)?$")  # 不是尊享e生


# -- pinyin ---------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _fold(syllable: str) -> str:
    s = syllable.lower()
    for a, b in lexicon().pinyin_folds:
        if a in ("l", "f", "r"):  # initials only
            if s.startswith(a) and not (a == "l" and s.startswith("lv")):
                s = b + s[len(a):]
        else:
            s = s.replace(a, b)
    return s.replace("ü", "v")


def sounds(text: str) -> list[tuple[str, int, int]]:
    """(folded syllable, start, end) for each sound of the text: a CJK character, a digit, a Latin word."""
    from pypinyin import Style, lazy_pinyin

    out: list[tuple[str, int, int]] = []
    for m in re.finditer(r"[\u4e00-\u9fff]|[A-Za-z]+|\d", text):
        tok = m.group(0)
        if re.match(r"[\u4e00-\u9fff]", tok):
            py = lazy_pinyin(tok, style=Style.NORMAL, errors="ignore")
            out.append((_fold(py[0]) if py else tok, m.start(), m.end()))
        elif tok.isdigit():
            out.append((tok, m.start(), m.end()))
        else:
            said = lexicon().letter_sounds.get(tok.lower())
            if said:
                for s in said:
                    out.append((_fold(s), m.start(), m.end()))
            else:
                out.append((tok.lower(), m.start(), m.end()))
    return out


# -- the index ------------------------------------------------------------------------
class NameIndex:
    def __init__(self, kb):
        self.kb = kb
        self.names: list[_Name] = []
        seen: set[tuple[str, str]] = set()

        def add(surface: str, kind: str) -> None:
            surface = (surface or "").strip()
            key = compact(to_digits(surface))
            if len(key) < 2 or (key, kind) in seen:
                return
            seen.add((key, kind))
            self.names.append(_Name(surface, key, tuple(s for s, _, _ in sounds(to_digits(surface))), kind))

        for ins in kb.insurers():
            for n in (ins.name, ins.short_name, *ins.aliases):
                add(n, "insurer")
        self.products: dict[str, tuple[str, str, list[str]]] = {}  # manual id -> (product, insurer short, names)
        ins_by_manual = {mid: i.short_name for i in kb.insurers() for mid in i.manuals}
        for p in kb._products.values():
            names = [p.name, *(p.aliases or [])]
            self.products[p.manual_id] = (p.name, ins_by_manual.get(p.manual_id, ""), names)
            for n in names:
                add(n, "product")
        self.editions = kb.editions()
        for e in self.editions:  # edition words as said (普惠版, 无忧管家): 普慧版 is 普惠版
            for w in re.findall(r"[\u4e00-\u9fff]{2}版|无忧管家", e.name):
                if not w.endswith(("蓝本版", "本版")):
                    add(w, "edition")
        for v in kb.services():
            for n in {v.name, service_core(v.name), *v.aliases}:
                add(n, "service")
        from knowledge.matching import category_words

        for words in category_words().values():
            for w in words:
                add(w, "word")
        self.names.sort(key=lambda n: -len(n.key))

    # -- repair ---------------------------------------------------------------------
    def repair(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """text with sound-alike spans of store names replaced by the store's spelling; the fixes."""
        if not text:
            return text, []
        covered = [False] * len(text)
        low = text.lower()
        for n in self.names:  # exact (case-insensitive) names are kept as they are
            for m in re.finditer(re.escape(n.surface.lower()), low):
                for i in range(m.start(), m.end()):
                    covered[i] = True
        syl = sounds(text)
        keys = [s for s, _, _ in syl]
        bounds = self._word_bounds(text)
        fixes: list[tuple[int, int, str]] = []
        taken = [False] * len(syl)
        for n in self.names:
            k = len(n.sounds)
            if k < MIN_SOUND_SYLLABLES or n.kind == "word" and k < 2:
                continue
            for i in range(0, len(keys) - k + 1):
                if any(taken[i:i + k]) or keys[i:i + k] != list(n.sounds):
                    continue
                a, b = syl[i][1], syl[i + k - 1][2]
                if any(covered[a:b]) and not _said_right_inside(text, covered, a, b, n.surface):
                    continue  # part of a name said right (平安健康 in 出院时平安健康)
                if k == MIN_SOUND_SYLLABLES and not (a in bounds and b in bounds):
                    continue  # two sounds across words (健康服务 is not 健康复务)
                said = text[a:b]
                if k == MIN_SOUND_SYLLABLES and not set(said) & set(n.surface):
                    continue  # two sounds and no character in common is another word (只陪 is not 直赔)
                if said.lower() == n.surface.lower() or compact(said).lower() == compact(n.surface).lower():
                    continue  # as the store writes it (a digit form such as 2次诊疗 is put back to 二次诊疗)
                fixes.append((a, b, n.surface))
                for j in range(i, i + k):
                    taken[j] = True
        if not fixes:
            return text, []
        out, pos, done = [], 0, []
        for a, b, surface in sorted(fixes):
            if a < pos:
                continue
            out.append(text[pos:a])
            out.append(surface)
            done.append((text[a:b], surface))
            pos = b
        out.append(text[pos:])
        return "".join(out), done

    def _word_bounds(self, text: str) -> set[int]:
        """Offsets where the store's segmenter (pkuseg with the store's words) puts a word boundary."""
        try:
            words = self.kb._index.tokenizer._cut(text)
        except Exception:  # no segmenter: every offset counts
            return set(range(len(text) + 1))
        out, pos = {0}, 0
        for w in words:
            i = text.find(w, pos)
            if i < 0:
                continue
            out.update((i, i + len(w)))
            pos = i + len(w)
        return out

    @cached_property
    def tier_names(self) -> tuple[str, ...]:
        """The store's edition tiers as said (无忧管家专业版, 尊享版2档), longest first."""
        names = {re.sub(r"[(（].*?[)）]", "", e.name.rsplit(" ", 1)[-1]) for e in self.editions if " " in e.name}
        return tuple(sorted((n for n in names if len(n) >= 5), key=len, reverse=True))

    @cached_property
    def insurer_groups(self) -> dict[str, frozenset[int]]:
        """The start two insurers' names share (太保 of 太保健康 and 太保寿险) -> the ids of the insurers it names."""
        ins = list(self.kb.insurers())
        names = {i.id: [norm(n) for n in (i.short_name, *i.aliases)] for i in ins}
        found: dict[str, set[int]] = {}
        for a in ins:
            for b in ins:
                if a.id >= b.id:
                    continue
                for x in names[a.id]:
                    for y in names[b.id]:
                        k = 0
                        while k < min(len(x), len(y)) and x[k] == y[k]:
                            k += 1
                        if k >= 2:
                            found.setdefault(x[:k], set()).update((a.id, b.id))
        return {w: frozenset(ids) for w, ids in found.items()}

    # -- products -------------------------------------------------------------------
    def products_in(self, text: str) -> list[ProductMention]:
        """Products the text names (longest names first), with the edition and tier it states."""
        t = compact(to_digits(text))
        hits: list[tuple[int, str]] = []
        denied = self.products_denied(text)
        for mid, (_prod, _ins, names) in self.products.items():
            if mid in denied:
                continue
            keys = [k for k in (compact(to_digits(n)) for n in names) if len(k) >= 2]
            best = max((len(k) for k in keys if k in t), default=0)
            if not best:  # a long name said with a word inside it (妇科癌症复发的保险)
                best = max((len(k) - 1 for k in keys if len(k) >= 6 and _gapped(k).search(t)), default=0)
            if best:
                hits.append((best, mid))
        out = []
        for _, mid in sorted(hits, reverse=True):
            prod, ins, _ = self.products[mid]
            ed, tier = self.edition_in(text, mid)
            out.append(ProductMention(mid, prod, ins, ed, tier))
        if not out:  # an edition alone names its product (无忧管家, 2021庆典版, 普惠版)
            for mid, (prod, ins, _) in self.products.items():
                ed, tier = self.edition_in(text, mid)
                if ed and _strong_edition(text):
                    out.append(ProductMention(mid, prod, ins, ed, tier))
        return out

    def products_denied(self, text: str) -> set[str]:
        """Manuals whose product the text names only to deny it (众安的医疗险，不是尊享e生那款)."""
        t = compact(to_digits(text))
        out = set()
        for mid, (_prod, _ins, names) in self.products.items():
            keys = [k for k in (compact(to_digits(n)) for n in names) if len(k) >= 2 and k in t]
            spots = [m.start() for k in keys for m in re.finditer(re.escape(k), t)]
            if spots and all(_DENIAL.search(t[max(0, i - 6):i]) for i in spots):
                out.add(mid)
        return out

    def edition_in(self, text: str, manual_id: str) -> tuple[str | None, str | None]:
        """The store's edition and tier names that the text's edition words pick out (None when none)."""
        eds = [e for e in self.editions if self._manual_of(e.product_id) == manual_id]
        if not eds:
            return None, None
        want = edition_features(text)
        if not want:
            return None, None
        versions = [e for e in eds if e.kind in ("version", "plan")]
        scored = []
        for e in versions:
            have = edition_features(e.name)
            if _compatible(want, have, tier=False):
                scored.append((_overlap(want, have), e))
        if not scored:
            return None, None
        scored.sort(key=lambda x: (-x[0], len(x[1].name)))
        edition = scored[0][1]
        tier = None
        if want.get("tier") or want.get("tier_n") is not None:
            tiers = [e for e in eds if e.kind == "tier" and e.name.startswith(edition.name)]
            cands = [e for e in tiers if _compatible(want, edition_features(e.name[len(edition.name):]), tier=True)]
            if len(cands) == 1:
                tier = cands[0].name
            elif cands:
                first = [e for e in cands if "前5" in e.name]  # 无忧管家: the first five years' table
                tier = (first or cands)[0].name
        return edition.name, tier

    def _manual_of(self, product_id: int) -> str | None:
        p = self.kb._products.get(product_id)
        return p.manual_id if p else None


_YEAR = re.compile(r"(?<!\d)20(19|2[0-9])(?!\d)|(?<!\d)(19|2[0-9])\s*年?\s*(?:版|庆典|款)")
_TIER_N = re.compile(r"(?<!\d)([1-9])\s*档|档\s*([1-9])")


def _said_right_inside(text: str, covered: list, a: int, b: int, surface: str) -> bool:
    """The span sounds like a longer name and only its start or end is another name said right (门诊挂号 in
    门诊挂号写助 for 门诊挂号协助): the longer name wins."""
    flags = covered[a:b]
    k = 0
    while k < len(flags) and flags[k]:
        k += 1
    j = len(flags)
    while j > 0 and flags[j - 1]:
        j -= 1
    if any(flags[k:j]) or j - k < 2:
        return False  # said right in the middle, or too little said otherwise
    return all(part in surface for part in (text[a:a + k], text[a + j:b]) if part)


def edition_features(text: str) -> dict:
    """Edition words of a text or a store name: year, 庆典, plan (无忧管家/普惠), tier kind and number."""
    t = compact(to_digits(text or ""))
    f: dict = {}
    m = _YEAR.search(t)
    if m:
        f["year"] = int(m.group(1) or m.group(2))
    if "庆典" in t:
        f["celebration"] = True
    for plan in ("无忧管家", "普惠"):
        if plan in t:
            f["plan"] = plan
    for tier in ("专业", "关爱", "尊享"):
        if tier + "版" in t or (tier in t and tier != "关爱" and re.search(tier + r"\d?档", t)) or \
                (tier == "尊享" and re.search(r"尊享\d", t)):
            f["tier"] = tier
    m = _TIER_N.search(t)
    if m:
        f["tier_n"] = int(m.group(1) or m.group(2))
    return f


def _strong_edition(text: str) -> bool:
    f = edition_features(text)
    return bool(f.get("plan") or (f.get("year") and ("版" in text or "庆典" in text)))


def _compatible(want: dict, have: dict, tier: bool) -> bool:
    keys = ("tier", "tier_n") if tier else ("year", "plan")
    for k in keys:
        if k in want and k in have and want[k] != have[k]:
            return False
        if k in want and k not in have and not (tier and k == "tier" and want[k] == "尊享" and "tier_n" in have):
            return False
    if not tier:
        if want.get("celebration") and not have.get("celebration"):
            return False
        if "plan" in have and "plan" not in want:
            return False
        if "year" not in want and "plan" not in want:
            return False
    else:
        if "tier_n" in have and "tier_n" not in want and want.get("tier") != "专业":
            return False
        if have.get("tier") in ("专业", "关爱") and want.get("tier") != have.get("tier"):
            return False
    return True


def _overlap(a: dict, b: dict) -> int:
    return sum(1 for k in a if k in b and a[k] == b[k])


_indexes: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def index_for(kb) -> NameIndex:
    idx = _indexes.get(kb)
    if idx is None:
        idx = _indexes[kb] = NameIndex(kb)
    return idx


_hospital_sounds: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_hospital_heard: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
MIN_HOSPITAL_SYLLABLES = 4  # 湘雅医院: shorter sound-alikes are too often other words


def _hospital_sound_index(kb) -> dict[str, str]:
    """Folded pinyin of each hospital name and alias (4 to 14 characters) -> that spelling, built once per store."""
    idx = _hospital_sounds.get(kb)
    if idx is None:
        idx = {}
        for key in sorted(kb._hospital_keys, key=len):
            if MIN_HOSPITAL_SYLLABLES <= len(key) <= 14 and re.fullmatch(r"[\u4e00-\u9fff]+", key):
                idx.setdefault(" ".join(s for s, _a, _b in sounds(key)), key)
        _hospital_sounds[kb] = idx
    return idx


def hospital_city(h) -> str:
    """The city a store hospital is in, as customers say it (上海), from its city or province; '' unknown."""
    from knowledge import geo

    res = geo.resolve_city(h.city_name or h.province or "")
    return (res.city.short or res.city.name) if res.city is not None else ""


def find_hospital_heard(kb, text: str, limit: int = 10) -> tuple[list, str]:
    """(hospitals, the text they were found in): as written, else as heard (香雅医院 -> 湘雅医院)."""
    hits = kb.find_hospital(text, limit=limit)
    if hits:
        return hits, text
    heard = hospital_by_sound(kb, text)
    hits = kb.find_hospital(heard, limit=limit) if heard != text else []
    return hits, (heard if hits else text)


def hospital_by_sound(kb, text: str) -> str:
    """The text with a sound-alike of a hospital's name put back in the store's spelling (中南大学那个香雅医院 ->
    中南大学那个湘雅医院), longest first; the text unchanged when it has none. For when the name is not found
    as written (a hotline transcript, a typo). Remembered per text: a message is read several times a turn."""
    memo = _hospital_heard.setdefault(kb, {})
    if text not in memo:
        if len(memo) > 1024:
            memo.clear()
        memo[text] = _by_sound(_hospital_sound_index(kb), text)
    return memo[text]


def _by_sound(idx: dict[str, str], text: str) -> str:
    syl = sounds(text or "")
    for k in range(min(14, len(syl)), MIN_HOSPITAL_SYLLABLES - 1, -1):
        for i in range(len(syl) - k + 1):
            key = idx.get(" ".join(s for s, _a, _b in syl[i:i + k]))
            if key is not None:
                a, b = syl[i][1], syl[i + k - 1][2]
                return text[:a] + key + text[b:]
    return text


@dataclass
class Names:
    """What a message names (after repair)."""

    text: str
    fixes: list = field(default_factory=list)
    products: list[ProductMention] = field(default_factory=list)
    insurers: list = field(default_factory=list)  # InsurerView


@lru_cache(maxsize=256)
def _gapped(name: str) -> re.Pattern:
    """A name with up to two characters inside it in one place at most (妇科癌症复发保险 ~ 妇科癌症复发的保险)."""
    alts = [re.escape(name[:i]) + r"[\u4e00-\u9fff]{1,2}" + re.escape(name[i:]) for i in range(2, len(name) - 1)]
    return re.compile("|".join(alts))
