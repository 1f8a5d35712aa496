"""How customers' words are matched to the store's names: the normal form and named scores.

Scores are on one 0-100 scale so that callers can compare hits of different kinds (an exact name
beats an alias beats a name inside a sentence beats a category word).
"""
from __future__ import annotations

import re
from functools import lru_cache

from knowledge.ingest.text import squash
from knowledge.vocab import CATEGORIES

MAX_QUERY_CHARS = 2000


class Score:
    """Named match scores (0-100)."""

    EXACT = 100.0            # the full stored name
    CORE = 98.0              # the name without 服务 / 服务介绍 / a trailing note in brackets
    ALIAS = 90.0             # a stored alias
    IN_TEXT = 60.0           # the name (or alias) occurs in a longer message: + its length, up to IN_TEXT_BONUS
    IN_TEXT_BONUS = 20.0
    PART = 40.0              # the words are part of a name: + PART_SPAN x the share of the name they cover
    PART_SPAN = 15.0
    CATEGORY = 45.0          # a word of the service's category (二诊, 绿通, 陪诊 ...)
    CATEGORY_PART = 35.0     # the words are part of a category word
    # hospitals
    H_NAME = 100.0
    H_ALIAS_FILE = 95.0      # knowledge/hospital_aliases.yaml (minus its rank there)
    H_ALIAS = 92.0           # an alias stored with the hospital
    H_SHORT = 88.0           # a generated short name (minus its rank, up to 5)
    H_IN_TEXT = 0.6          # x the key's weight, + its length (up to 20), when the key is inside the message
    H_PART = 0.4             # x the key's weight, + PART_SPAN x share, when the message is part of the key


def norm(text: str | None) -> str:
    """Matching form: NFKC, no spaces, lower-case Latin."""
    return squash(text or "").lower()[:MAX_QUERY_CHARS]


_SERVICE_TAIL = re.compile(r"([（(][^）)]*[）)]?)$")


def service_core(name: str) -> str:
    """重疾绿通服务（本服务仅适用于…） -> 重疾绿通."""
    s = norm(name)
    s = _SERVICE_TAIL.sub("", s)
    for tail in ("服务介绍", "服务"):
        if s.endswith(tail) and len(s) > len(tail) + 1:
            s = s[: -len(tail)]
            break
    return s


@lru_cache(maxsize=1)
def category_words() -> dict[str, tuple[str, ...]]:
    """Category -> its words (from the labels of knowledge.vocab.CATEGORIES)."""
    out: dict[str, tuple[str, ...]] = {}
    for cat, label in CATEGORIES.items():
        out[str(cat)] = tuple(norm(w) for w in re.split(r"[/（）()、]", label) if len(norm(w)) >= 2)
    return out


def service_score(q: str, name: str, aliases: list[str], category: str | None) -> float:
    """How well the normalised words q name a service (0 = not at all)."""
    qcore = service_core(q)
    full, core = norm(name), service_core(name)
    if q == full:
        return Score.EXACT
    if qcore == core:
        return Score.CORE
    if q in aliases or qcore in aliases:
        return Score.ALIAS
    score = 0.0
    for key in dict.fromkeys([core, *aliases, *(service_core(a) for a in aliases)]):  # 院外特药直付(服务)
        if len(key) >= 2 and key in q:  # the message names the service
            score = max(score, Score.IN_TEXT + min(len(key), Score.IN_TEXT_BONUS))
        elif len(qcore) >= 2 and qcore in key:  # the words are part of the name
            score = max(score, Score.PART + Score.PART_SPAN * len(qcore) / len(key))
    if category:
        for w in category_words().get(category, ()):
            if w == qcore or w in q:
                score = max(score, Score.CATEGORY)
            elif len(qcore) >= 2 and qcore in w:
                score = max(score, Score.CATEGORY_PART)
    return score


def name_score(q: str, names: list[str]) -> float:
    """How well q matches one of names (the first is the main name): exact, named in q, or part of one."""
    best = 0.0
    for i, n in enumerate(names):
        n = norm(n)
        if not n:
            continue
        if q == n:
            best = max(best, Score.EXACT - 5 * min(i, 1))
        elif len(n) >= 2 and n in q:
            best = max(best, Score.IN_TEXT + min(len(n), Score.IN_TEXT_BONUS))
        elif len(q) >= 2 and q in n:
            best = max(best, Score.PART + Score.PART_SPAN * len(q) / len(n))
    return best


def hospital_text_score(q: str, key: str, weight: float) -> float:
    """A hospital key (name, alias, short name of that weight) against a message that is not the key."""
    if len(key) >= 3 and key in q:  # a sentence naming the hospital
        return weight * Score.H_IN_TEXT + min(len(key), Score.IN_TEXT_BONUS)
    if len(q) >= 2 and q in key and len(key) >= 3:  # the words are part of a name
        return weight * Score.H_PART + Score.PART_SPAN * len(q) / len(key)
    return 0.0
