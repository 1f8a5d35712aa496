"""Facts a customer states about themselves (no policy needed): how long the policy has run, uses
already made, who the service is for and their age, diagnosis, add-ons, transfer or renewal,
pregnancy or accident, the diagnosing hospital. Read with the patterns of zh.yaml (`facts`)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from assist.lexicon import lexicon


@dataclass
class StatedFacts:
    effective_days: int | None = None  # days since the policy took effect (-1: still in its waiting period)
    waiting_over: bool | None = None  # the waiting period is said to be over (等待期早过了)
    condition_days: int | None = None  # days since the service's condition was met (4年前达标)
    join_days: int | None = None  # days since joining (普惠版)
    designated_days: int | None = None  # days since the relative was designated (指定为家人已经4年)
    upgraded: bool | None = None  # the service was upgraded (太保蓝本 2019/2020)
    transfer: bool | None = None
    outpatient: bool | None = None  # only seen as an outpatient (只是看门诊, 没住院)
    family_policy: bool | None = None  # a family policy whose insured share the uses (家庭单)
    renewal: bool | None = None
    uses: int | None = None  # uses already made in the current period
    used_days: int | None = None  # days of the service already used in the current period
    stay_days: int | None = None  # days in hospital so far (住院已经5天, 只住了1天)
    uses_by_other: bool | None = None  # the uses were made by a relative (我老婆用过一次)
    relation: str | None = None  # self | spouse | child | parent | grandparent | sibling | other
    relation_word: str | None = None
    insured: bool | None = None  # False: the person named is said not to be on the policy
    designated: bool | None = None  # the relative is said to be designated for the services (指定家人)
    age: int | None = None
    diagnosis: str | None = None  # none | suspected | confirmed
    pregnancy: bool | None = None
    accident: bool | None = None
    addon: bool | None = None  # an add-on (门急诊保险金 / 加油包) bought
    hospital_public: bool | None = None
    hospital_grade: int | None = None
    said: list[str] = field(default_factory=list)  # which facts were stated (for the answer's wording)

    def any(self) -> bool:
        return bool(self.said)

    def about_case(self) -> bool:
        """Facts beyond who the customer asks for (我爸 alone is context, not an eligibility question)."""
        return bool(set(self.said) - {"relation"}) or self.insured is False


_UNIT_DAYS = {"年": 365, "个月": 30, "月": 30, "周": 7, "天": 1, "日": 1}
_GRADE = {"1": 1, "2": 2, "3": 3, "一": 1, "二": 2, "三": 3}


def relation_in(text: str) -> tuple[str | None, str | None]:
    """(relation code, the word) of the first relation word in the text; 我妈 -> parent."""
    lx = lexicon()
    best = None
    for w in lx.relation_words:
        i = text.find(w)
        while i >= 0 and re.search(r"(我|咱)(和|跟|与)(我)?$", text[max(0, i - 3):i]) and w not in ("我", "我用"):
            i = text.find(w, i + 1)  # 我和我老婆是分开投保的: the two of them, not whom it is for
        if i >= 0 and (best is None or i < best[0] or (i == best[0] and len(w) > len(best[1]))):
            best = (i, w)
    if best is None:
        return None, None
    code = lx.relations[best[1]]
    if code == "self" and best[1] in ("我", "我用"):
        return None, None
    return code, best[1]


def served_relation(text: str) -> tuple[str | None, str | None]:
    """The person a message asks for: the one pointed at (给我妈约, 帮我爸问), else the first named."""
    lx = lexicon()
    for p in lx.served:
        m = p.search(text)
        if m:
            return lx.relations[m.group("w")], m.group("w")
    asks = [c for c in re.split(r"[，,。；;！!？?]", text or "") if re.search(r"吗|能不能|可不可以", c)]
    if asks and re.search(r"我自己|我本人|我本身|^\s*(那|那么)?我(还|能|可以|也)", asks[-1]) \
            and not re.search(r"(他|她)(的)?(保单|保险)|的[^，。,]{0,8}(保单|保险|险)", text):  # …，我自己还能再约吗
        # (a relative's policy the speaker would use is read by read_facts: 我老婆的…险，我自己能用吗)
        return "self", "我自己"
    return relation_in(text)


def read_facts(text: str, whole: str | None = None) -> StatedFacts:
    """Facts stated in `text` (the message without product and service names); whose policy it is is
    read from `whole`, the message with its names (她的平安健康险)."""
    lx = lexicon()
    whole = whole or text
    f = StatedFacts()
    pats = lx.facts
    for rx, mult in pats["effective_days"]:
        m = rx.search(text)
        if m:
            f.effective_days = int(m.group("n")) * mult
            f.said.append("effective")
            break
    if f.effective_days is None:
        for rx, days in pats["effective_words"]:
            if rx.search(text):
                f.effective_days = days
                f.said.append("effective")
                break
    if any(p.search(text) for p in pats["waiting_over"]):
        f.waiting_over = True
    for key in ("condition_days", "join_days", "designated_days"):
        for p in pats[key]:
            m = p.search(text)
            if m:
                setattr(f, key, int(m.group("n")) * _UNIT_DAYS.get(m.group("u"), 1))
                f.said.append(key)
                break
    f.upgraded = _yes_or_no(pats, "upgraded_yes", "upgraded_no", text)
    if f.upgraded is not None:
        f.said.append("upgraded")
    if any(p.search(text) for p in pats["transfer"]):
        f.transfer = True
        f.said.append("transfer")
    if lexicon().outpatient_only.search(text):
        f.outpatient = True
        f.said.append("outpatient")
    f.family_policy = _yes_or_no(pats, "family_policy", "family_policy_no", whole)
    if f.family_policy is not None:
        f.said.append("family_policy")
    if any(p.search(text) for p in pats["renewal"]):
        f.renewal = True
        f.said.append("renewal")
    if any(p.search(text) for p in pats["uses_none"]):
        f.uses = 0
        f.said.append("uses")
    for p in pats["uses"] if f.uses is None else ():
        m = p.search(text)
        if m:
            n = m.groupdict().get("n")
            f.uses = int(n) if n else 1
            f.said.append("uses")
            clause = re.split(r"[，。？！,.?!；;]", text[:m.end()])[-1]  # 我老婆两个月前用过一次: the family's use
            f.uses_by_other = any(w in clause for w, code in lx.relations.items() if code != "self")
            break
    f.used_days = _number(pats["used_days"], text)
    if f.used_days is not None:
        f.said.append("used_days")
    f.stay_days = _number(pats["stay_days"], text)
    if f.stay_days is not None:
        f.said.append("stay_days")
    rel, word = served_relation(text)
    if rel and rel != "self" and word:
        who = word

        def says(key: str) -> bool:
            return any(p.search(whole) for p in lx.person_patterns(key, who))

        if says("owner") and says("speaker_served"):  # 我老公的保单…我自己能用吗: the speaker, not insured
            rel, f.insured = lx.relation_inverse.get(rel, "other"), False
            word = lx.relation_zh.get(rel, word)
        elif says("is_insured"):
            rel = "self"  # 我爸是这张保单的被保险人 / 我妈买了…: the rules see the insured himself
        elif says("not_insured"):
            f.insured = False
    if rel:
        f.relation, f.relation_word = rel, word
        f.said.append("relation")
        if rel != "self" and any(p.search(text) for p in pats["designated"]):
            f.designated = True
    f.age = _number(pats["age"], text)
    if f.age is not None:
        f.said.append("age")
    if any(p.search(text) for p in pats["not_diagnosed"]):
        f.diagnosis = "none"
    elif any(p.search(text) for p in pats["suspected"]):
        f.diagnosis = "suspected"
    elif any(p.search(text) for p in pats["confirmed"]):
        f.diagnosis = "confirmed"
    if f.diagnosis:
        f.said.append("diagnosis")
    if pregnancy_said(text):
        f.pregnancy = True
        f.said.append("pregnancy")
    if any(p.search(text) for p in pats["accident"]):
        f.accident = True
        f.said.append("accident")
    f.addon = _yes_or_no(pats, "addon_yes", "addon_no", text)
    if f.addon is not None:
        f.said.append("addon")
    if any(p.search(text) for p in pats["hospital_public_no"]):
        f.hospital_public = False
        f.said.append("hospital")
    for p in pats["hospital_grade"]:
        m = p.search(text)
        if m:
            f.hospital_grade = _GRADE.get(m.group("n"))
            if "公立" in text or f.hospital_public is None:
                f.hospital_public = True if "公立" in text else f.hospital_public
            if f.hospital_public is None and f.hospital_grade == 3 and "甲" in m.group(0):
                f.hospital_public = True  # 三甲医院, as customers say it, is a public hospital (私立 said: not)
            f.said.append("hospital")
            break
    return f


def pregnancy_said(text: str) -> bool:
    """The text gives pregnancy or childbirth as the reason (生孩子, 怀孕): zh.yaml facts.pregnancy."""
    return any(p.search(text) for p in lexicon().facts["pregnancy"])


def _yes_or_no(pats: dict, yes: str, no: str, text: str) -> bool | None:
    """False when a `no` pattern matches (不是家庭单), else True when a `yes` one does (家庭单), else None."""
    if any(p.search(text) for p in pats[no]):
        return False
    if any(p.search(text) for p in pats[yes]):
        return True
    return None


def _number(patterns, text: str) -> int | None:
    """The number (`n`) the first matching pattern reads, or None."""
    for p in patterns:
        m = p.search(text)
        if m:
            return int(m.group("n"))
    return None


def disease_words(text: str) -> list[str]:
    """Disease names a message may hold (…癌, …瘤, …病, …症): for the store's disease lists."""
    return re.findall(r"[\u4e00-\u9fff]{1,6}(?:癌|瘤|病|症|炎|中风|梗死|梗塞|出血)", text)
