"""The one reader of assist/zh.yaml: the application layer's Chinese vocabulary, compiled once."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from functools import lru_cache
from pathlib import Path

import yaml

DATA = Path(__file__).with_name("zh.yaml")


@dataclass(frozen=True)
class Aspect:
    key: str
    label: str
    ask: tuple[re.Pattern, ...]
    clause: re.Pattern
    unit: re.Pattern | None
    expand: tuple[str, ...]

    def asked_in(self, text: str) -> bool:
        return any(p.search(text) for p in self.ask)


@dataclass(frozen=True)
class Situation:
    words: tuple[str, ...]
    categories: tuple[str, ...]
    # per word, the word with a few words allowed inside it (没法陪 in 没法天天在医院陪); None under 3 characters
    gapped: tuple[re.Pattern | None, ...] = ()

    @staticmethod
    def of(words: list[str], categories: list[str]) -> "Situation":
        gapped = tuple(re.compile(re.escape(w[:2].lower()) + r"[^，。？?！!,；;]{1,5}?" + re.escape(w[2:].lower()))
                       if len(w) >= 3 else None for w in words)
        return Situation(tuple(words), tuple(categories), gapped)


class Lexicon:
    def __init__(self, data: dict):
        self.raw = data
        self.fillers = tuple(sorted(data["fillers"], key=len, reverse=True))
        self.letter_sounds = {k.lower(): tuple(v) for k, v in data["letter_sounds"].items()}
        self.pinyin_folds = tuple(tuple(x) for x in data["pinyin_folds"])
        self.relations: dict[str, str] = {}
        for code, words in data["relations"].items():
            for w in words:
                self.relations[w] = code
        self.relation_words = tuple(sorted(self.relations, key=len, reverse=True))
        self.relation_zh: dict[str, str] = dict(data["relation_zh"])
        self.aspects = tuple(
            Aspect(k, v["label"], tuple(re.compile(p) for p in v["ask"]), re.compile(_num(v["clause"])),
                   re.compile(_num(v["unit"])) if v.get("unit") else None, tuple(v.get("expand") or ()))
            for k, v in data["aspects"].items())
        self.cues = {k: tuple(re.compile(p) for p in v) for k, v in data["cues"].items()}
        self.self_pay = re.compile(data["self_pay"])
        self.focus = tuple(re.compile(p) for p in data["focus"])
        self.specialties = {k: tuple(v) for k, v in data["specialties"].items()}
        self.manual_terms = {k: tuple(v) for k, v in data["manual_terms"].items()}
        self.counts_as = tuple(re.compile(p) for p in data["counts_as"])
        self.payers = frozenset(data["payers"])
        self.negated = re.compile(data["negated"])
        self.negated_skip = frozenset(data["negated_skip"])
        self.requirement = re.compile(data["requirement"])
        self.outpatient_only = re.compile(data["outpatient_only"])
        self.buying_the_policy = re.compile(data["buying_the_policy"])
        self.inpatient_clause = re.compile(data["inpatient_clause"])
        self.situations = tuple(Situation.of(s["words"], s["categories"]) for s in data["situations"])
        f = data["facts"]
        person = ("is_insured", "not_insured", "served", "owner", "speaker_served")  # patterns about one person: `{who}` / `{rel}`
        self.facts: dict[str, Any] = {
            "effective_days": tuple((re.compile(p), int(mult)) for p, mult in f["effective_days"]),
            "effective_words": tuple((re.compile(p), int(days)) for p, days in f["effective_words"]),
            **{k: tuple(re.compile(p) for p in f[k])
               for k in f if k not in ("effective_days", "effective_words") + person},
        }
        others = "|".join(re.escape(w) for w in self.relation_words if self.relations[w] != "self")
        self.served = tuple(re.compile(p.replace("{rel}", f"(?P<w>{others})")) for p in f["served"])
        self._person_raw = {k: tuple(f[k]) for k in ("is_insured", "not_insured", "owner", "speaker_served")}
        self.relation_inverse: dict[str, str] = dict(data["relation_inverse"])
        self._person_cache: dict[tuple[str, str], tuple[re.Pattern, ...]] = {}

    def person_patterns(self, key: str, who: str) -> tuple[re.Pattern, ...]:
        """zh.yaml `facts.is_insured` / `not_insured` about the person named by `who` (我妈, 老公)."""
        hit = self._person_cache.get((key, who))
        if hit is None:
            hit = tuple(re.compile(p.replace("{who}", re.escape(who))) for p in self._person_raw[key])
            self._person_cache[(key, who)] = hit
        return hit

    def aspect(self, key: str) -> Aspect:
        return next(a for a in self.aspects if a.key == key)

    def cue(self, name: str, text: str) -> bool:
        return any(p.search(text) for p in self.cues.get(name, ()))


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    return Lexicon(yaml.safe_load(DATA.read_text(encoding="utf-8")))


NUMBER = r"(?:\d+|[一二两三四五六七八九十]+)"  # a number as the manuals write it: 3 次, 三折, 两次


def _num(pattern: str) -> str:
    """zh.yaml's `{n}` in clause and unit patterns: a number in digits or Chinese numerals."""
    return pattern.replace("{n}", NUMBER)
