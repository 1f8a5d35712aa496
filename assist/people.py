"""People a service is for: relation words (one table, zh.yaml `relations`) and the person on a policy."""
from __future__ import annotations

import re

from assist.lexicon import lexicon

CODES = ("self", "spouse", "child", "parent", "grandparent", "sibling", "other")


def relation_code(text: str | None) -> str | None:
    """本人 / 我妈 / 老公 / spouse -> relation code; None when the words name no relation."""
    t = (text or "").strip()[:40]
    if not t:
        return None
    if t.lower() in CODES:
        return t.lower()
    if t == "insured":
        return "self"
    lx = lexicon()
    if t in lx.relations:
        return lx.relations[t]
    for w in lx.relation_words:  # the longest relation word inside a short phrase (就我本人, 给我妈)
        if w in t and len(t) <= 8 and w not in ("我", "我用"):
            return lx.relations[w]
    return None


def relation_zh(code: str | None) -> str:
    return lexicon().relation_zh.get(code or "", code or "")


def person_on_policy(policy, text: str):
    """(PersonView | None, candidates) for a name or a relation word on a verified policy."""
    t = (text or "").strip()[:40]
    if not t or policy is None:
        return None, []
    p = policy.find_person(t)
    if p:
        return p, []
    named = _named_in(policy, t)
    if named is not None:  # "不是我女儿，是我老婆刘芳要看": the one name on the policy the words give
        return named, []
    code = relation_code(t)
    if code == "self":
        return (policy.insured[0], []) if len(policy.insured) == 1 else (None, list(policy.insured))
    if code:
        # insured people carry their relation to the holder; family members theirs to the insured
        hits = [x for x in policy.persons() if x.relation == code and not (x.role == "insured" and code == "self")]
        if len(hits) == 1:
            return hits[0], []
        return None, hits
    return None, []


_DENIED = re.compile(r"(?:不是|并非|不给)[^，,。；;！!]*")


def _named_in(policy, text: str):
    """The one person on the policy whose name the text gives outside what it denies (不是王小雨，是刘芳)."""
    kept = _DENIED.sub(" ", text)
    hits = {x.name: x for x in policy.persons() if x.name and len(x.name) >= 2 and x.name in kept}
    return next(iter(hits.values())) if len(hits) == 1 else None
