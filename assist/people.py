"""People a service is for: relation words (one table, zh.yaml `relations`) and the person on a policy."""
from __future__ import annotations

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
