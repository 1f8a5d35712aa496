"""From readings to facts and Service columns.

Once an adapter knows which text is a labelled field, a sentence, a line or a table cell, these
functions read it with knowledge.ingest.readers, record each reading as a fact (with its lines)
and fill the Service columns the readings state. The rules of which reading wins a column live
here, not in the adapters.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from knowledge import models as m
from knowledge.ingest import readers
from knowledge.ingest.builder import Builder
from knowledge.ingest.text import clause_at, clean, nfkc, squash
from knowledge.vocab import FamilyRule, SharedWith

Lines = tuple[int, int]
Found = dict[str, list[tuple[str, Lines, Any]]]
PendingFact = tuple[str, str, Lines, Any]  # (attribute, value, lines, data) of a service not created yet

# a sentence naming the hotline: its hours are the hotline's (客服电话 95511-7(7*24 小时)), not the service's
_PHONE_LINE = re.compile(r"客服电话|热线|拨打")
# "不包括怀孕及分娩场景（例：…）": a case the rules engine can ask about
_EXCLUDED_CASE = re.compile(r"不(?:包括|包含|含)([^（(，,。；;、]{2,20}?)(?:场景|情况|等)?[（(，,。；;、]")


def _rule(svc: m.Service, more: dict[str, Any]) -> None:
    svc.usage_rule = {**(svc.usage_rule or {}), **more}


# -- labelled fields and sentences -----------------------------------------------------------------

def field_fact(b: Builder, svc: m.Service, attr: Optional[str], val: str, ls: Lines) -> None:
    """A labelled field ("适用人群 …", "使用次数 …") whose label states `attr`: its fact, and the column
    it fills when still empty."""
    if attr == "beneficiary":
        kind = readers.beneficiary(val)
        b.fact(svc, "beneficiary", val, ls, data={"beneficiary": kind})
        if svc.beneficiary is None:
            svc.beneficiary, svc.beneficiary_text = kind, val
    elif attr == "usage_limit":
        data = readers.usage(val)
        b.fact(svc, attr, val, ls, data=data)
        if data and svc.usage_limit is None:
            svc.usage_limit, svc.usage_period, svc.usage_text = data["limit"], data["period"], val
            _rule(svc, readers.usage_rule_of(data))
    elif attr in ("coverage", "documents"):
        b.fact(svc, attr, val, ls)
        if attr == "documents":
            svc.documents = svc.documents or val
    elif attr == "duration":
        b.fact(svc, attr, val, ls)
        mt = re.search(r"不超过\s*(\d+)\s*小时", val)
        if mt:
            _rule(svc, {"max_hours_per_use": int(mt.group(1))})


def first_beneficiary(b: Builder, svc: m.Service, sents: Iterable[tuple[str, Lines]]) -> None:
    """The first sentence saying whose service it is, as the beneficiary fact and column."""
    for s, ls in sents:
        r = next(readers.scan(s, ["beneficiary"]), None)
        if r is not None:
            b.fact(svc, "beneficiary", s, ls, data=r.data)
            svc.beneficiary, svc.beneficiary_text = r.data["beneficiary"], s
            break


def sentence_readings(sents: Iterable[tuple[str, Lines]], attributes: tuple[str, ...],
                      many: tuple[str, ...] = ()) -> Found:
    """{attribute: [(sentence, lines, data)]}: one reading per attribute and sentence, every distinct
    one for the attributes in `many`. A question (Q:) states nothing; an answer's A: is dropped."""
    found: Found = {a: [] for a in attributes}
    for s, ls in sents:
        if re.match(r"^Q\s*[:：]", s):
            continue
        s = re.sub(r"^A\s*[:：]\s*", "", s)
        seen: set[tuple[str, str]] = set()
        for r in readers.scan(s, attributes):
            key = (str(r.attribute), repr(r.data) if r.attribute in many else "")
            if key in seen:
                continue
            seen.add(key)
            found[r.attribute].append((s, ls, r.data))
    return found


def apply_sentence_readings(b: Builder, svc: m.Service, found: Found, disease_list: Optional[str]) -> None:
    """Facts of sentence_readings() and the columns they fill. Two values for one thing stay two facts
    with their own lines (a review time of 4 小时 and of 一个工作日)."""
    for s, ls, d in found["lead_time"]:
        b.fact(svc, "lead_time", s, ls, data=d)
    svc.lead_time_hours = next((d["hours"] for _, _, d in found["lead_time"] if "hours" in d), None)
    resp = found["response_time"]
    for s, ls, d in resp:
        b.fact(svc, "response_time", s, ls, data=d)
    if resp:
        first = next((r for r in resp if r[2].get("action") in ("响应", "联系")), resp[0])
        svc.response_time = first[0]
    for attr in ("review_time", "service_hours"):
        for s, ls, d in found[attr]:
            if attr == "service_hours" and _PHONE_LINE.search(s):
                continue
            b.fact(svc, attr, s, ls, data=d)
    for attr in ("fees", "exclusions", "documents"):
        for s, ls, _ in found[attr]:
            b.fact(svc, attr, s, ls)
    if found["fees"]:
        svc.fees = found["fees"][0][0]
    excl = found["exclusions"]
    if excl:
        svc.exclusions = "\n".join(dict.fromkeys(s for s, _, _ in excl))[:2000]
        named = [mx.group(1) for s, _, _ in excl for mx in _EXCLUDED_CASE.finditer(s)]
        if named:
            svc.diagnosis_exclusions = list(dict.fromkeys(named))
    if found["documents"] and not svc.documents:
        svc.documents = found["documents"][0][0]
    for s, ls, d in found["cancellation"]:
        b.fact(svc, "cancellation", s, ls, data=d)
        _rule(svc, d)
    # a diagnosis of "N 种重疾" names the disease list whose name starts with N
    diag = [(s, ls, d) for s, ls, d in found["diagnosis"] if "kind" in d]
    for s, ls, d in diag:
        n = re.match(r"(\d+)", d["condition"])
        d["list"] = disease_list if n and disease_list and disease_list.startswith(n.group(1)) else None
        b.fact(svc, "diagnosis", s, ls, data=d)
    if diag:
        kinds = {d["kind"] for _, _, d in diag}
        svc.diagnosis_kind = "suspected_or_confirmed" if "suspected_or_confirmed" in kinds else "confirmed"
        svc.diagnosis_list = next((d["list"] for _, _, d in diag if d["list"]), None)
    for s, ls, d in found["usage_limit"]:
        b.fact(svc, "usage_limit", s, ls, data=d)
        if d and "limit" in d and svc.usage_limit is None:
            svc.usage_limit, svc.usage_period, svc.usage_text = d["limit"], d["period"], s
        _rule(svc, readers.usage_rule_of(d))
    for s, ls, d in found["waiting_period"]:
        b.fact(svc, "waiting_period", s, ls, data=d)
    for s, ls, d in found["diagnosis"]:
        if "kind" not in d:
            b.fact(svc, "diagnosis", s, ls, data=d)
            svc.diagnosis_hospital = svc.diagnosis_hospital or d["hospital"]


# -- lines of free text --------------------------------------------------------------------------------

Reading = tuple[str, str, int, int, Any]  # (attribute, clause, first line, last line, data)


def _row_item(line: str) -> str:
    """The item a numbered table row is about (1<TAB>国内二次诊疗意见<TAB>…), else ''."""
    cells = [c.strip() for c in line.split("\t")]
    if len(cells) > 2 and cells[0].isdigit() and cells[1] and not cells[1][0].isdigit():
        return clean(cells[1])
    return ""


def line_readings(line: str, attributes: tuple[str, ...]) -> list[tuple[str, str, Any]]:
    """(attribute, clause, data) readings of one line, each with the clause (or table cell) it was read
    from; in a numbered table row the clause is prefixed with the row's item. An item-level 不限次 is
    dropped when the line already states a usage limit."""
    s = nfkc(line)
    out: list[tuple[str, str, Any]] = []
    seen: set[tuple[str, ...]] = set()
    for r in readers.scan(s, attributes, clause=lambda pos: clause_at(s, pos)):
        if r.attribute == "usage_limit" and (r.attribute, "limit") in seen and "item" in (r.data or {}):
            continue
        text = clause_at(s, r.start)
        item = _row_item(s)
        if item and not text.startswith(item):  # 国内 5 vs 国外 15 个工作日: the row's item tells them apart
            text = f"{item}：{text}"
        key = (r.attribute, text, repr(r.data))
        if key in seen:
            continue
        seen.add(key)
        seen.add((r.attribute, "limit"))
        out.append((str(r.attribute), text, r.data))
    return out


def first_reading(readings: list[Reading], attr: str, pred=lambda d: True) -> Optional[Reading]:
    for r in readings:
        if r[0] == attr and pred(r[4] or {}):
            return r
    return None


def columns_from_readings(R: list[Reading]) -> dict[str, Any]:
    """Service columns stated by all the line readings of one service's text: the first reading of a
    kind, or every distinct clause joined with ；. Usage: the explicit per-year clause first, then a
    single counted reading, then the clauses; cancelling and changing: every rule stated."""
    f: dict[str, Any] = {}
    w = [r for r in R if r[0] == "waiting_period"]
    if w:
        f["waiting_kind"] = next((r[4]["waiting_kind"] for r in w if "waiting_kind" in r[4]), None)
        f["waiting_waivers"] = sorted({x for r in w for x in r[4].get("waivers", [])})
    ben = first_reading(R, "beneficiary")
    if ben:
        f["beneficiary"], f["beneficiary_text"] = "insured", ben[1]
    dg = first_reading(R, "diagnosis", lambda d: "kind" in d)
    if dg:
        f["diagnosis_kind"], f["diagnosis_hospital"] = dg[4]["kind"], dg[4].get("hospital")
    u = [r for r in R if r[0] == "usage_limit"]
    explicit = first_reading(R, "usage_limit", lambda d: d.get("explicit"))
    counted = {(r[4]["limit"], r[4]["period"]) for r in u if "limit" in r[4]}
    if explicit:
        f["usage_limit"], f["usage_period"], f["usage_text"] = explicit[4]["limit"], explicit[4]["period"], explicit[1]
    elif len(counted) == 1:
        first = next(r for r in u if "limit" in r[4])
        (f["usage_limit"], f["usage_period"]), f["usage_text"] = counted.pop(), first[1]
    elif u:
        f["usage_text"] = "；".join(dict.fromkeys(r[1] for r in u))
    rule: dict[str, Any] = {}
    for r in u:
        d = r[4] or {}
        for k, v in readers.usage_rule_of(d).items():
            rule[k] = rule.get(k, []) + v if k == "times_options" else v
        if ("max_days" in d or "times" in d) and d.get("period"):
            f["usage_period"] = d["period"]
    for r in R:
        if r[0] == "cancellation":
            rule.update(r[4] or {})
    f["usage_rule"] = rule
    lt = first_reading(R, "lead_time", lambda d: "hours" in d)
    if lt:
        f["lead_time_hours"] = lt[4]["hours"]
    for col, attr, cap in (("response_time", "response_time", 2000), ("fees", "fees", None),
                           ("exclusions", "exclusions", None), ("documents", "documents", None)):
        texts = [r[1] for r in R if r[0] == attr]
        if texts:
            f[col] = "；".join(dict.fromkeys(texts))[:cap]
    if first_reading(R, "coverage", lambda d: "hospital" in d):
        f["coverage_scope"] = "unspecified"
    return f


# -- names and family sharing ------------------------------------------------------------------------

def add_aliases(b: Builder, svc: m.Service, names: list[str], lines: Lines) -> None:
    """Other names of a service (two characters or more, new ones only) with an alias fact."""
    new = {clean(a) for a in names if clean(a)} - set(svc.aliases or []) - {svc.name}
    new = {a for a in new if len(squash(a)) >= 2}
    if new:
        svc.aliases = sorted(set(svc.aliases or []) | new)
        b.fact(svc, "alias", "、".join(sorted(new)), lines)


def shared_entitlement(b: Builder, svc: m.Service, edition: str, tier: m.Edition, fam: dict, cell: str, lines: Lines,
                       target: str, target_lines: Lines) -> None:
    """An included entitlement of a tier whose rule shares services with family (`fam`, the tier's
    rule["family"]): the beneficiary fact (shared, or not for an excluded service or a cell saying
    仅限被保险人) over the cell's and the 服务对象 row's lines, and the beneficiary columns."""
    label = tier.name
    shared = svc.name not in fam.get("excluded_services", []) and "仅限被保险人" not in cell
    b.fact(svc, "beneficiary", f"{label}：{target}" if shared else f"{label}：{cell}（家人不可共享）",
           (min(lines[0], target_lines[0]), max(lines[1], target_lines[1])),
           {"edition": edition, "tier": tier.name, "family_shared": shared, **({
               "max_members": fam.get("max_members"), "family_usage_limit": fam.get("usage_limit"),
               "family_usage_period": fam.get("usage_period")} if shared else {})})
    family_beneficiary(svc, shared, fam, f"{label}：{target}")


def family_beneficiary(svc: m.Service, shared: bool, fam: dict, text: str) -> None:
    """Beneficiary columns from one entitlement's family sharing (readers.family_share): a shared
    entitlement makes the service insured_and_family with a family_rule that depends on the tier."""
    if not shared:
        if svc.beneficiary is None:
            svc.beneficiary, svc.beneficiary_text = "insured", text
        return
    svc.beneficiary = "insured_and_family"
    rule = dict(svc.family_rule or {})
    rule["shared_with"] = "immediate_relatives"
    rule["max_members"] = max(rule.get("max_members") or 0, fam.get("max_members") or 0) or None
    if (fam.get("end") or {}).get("kind") == "years":
        rule["window_years"] = fam["end"]["years"]
    rule["depends_on_tier"] = True
    svc.family_rule = rule
    if not (svc.beneficiary_text or "").count("直系亲属") and "家人" not in (svc.beneficiary_text or ""):
        svc.beneficiary_text = text
    else:
        svc.beneficiary_text = f"{svc.beneficiary_text}；{text}"


# -- paragraphs of a service description ------------------------------------------------------------

def condition_facts(s: str, ls: Lines, fields: dict[str, Any], out: list[PendingFact]) -> None:
    """A condition sentence ("经…诊断…，须经公司审核同意"): the diagnosis it requires (and the disease
    list it names in 《》, not in the manual), whether the company must approve."""
    d = readers.diagnosis(s)
    lst = re.search(r"《\[?([^\]》]+)", squash(s))
    fields.setdefault("diagnosis_kind", readers.diagnosis_kind(d))
    fields.setdefault("diagnosis_hospital", d.get("hospital"))
    out.append(("diagnosis", s, ls, {**d, "list_ref": lst.group(1) if lst else None, "list_in_manual": False}))
    if "审核同意" in s:
        out.append(("approval_required", "须经公司审核同意", ls, True))


def description_facts(s: str, ls: Lines, name: str, attributes: tuple[str, ...], fields: dict[str, Any],
                      aliases: list[str], out: list[PendingFact]) -> None:
    """Readings of one line of a service's description: facts (the matched text) and the columns they
    fill; "X即Y服务" adds aliases when X is this service; 7×24 小时 with 不限次 is unlimited use; a
    "申请时请…提供" note gives the documents even when the extraction cut it off."""
    s2 = squash(s)
    if "diagnosis_kind" not in fields and re.search(r"如客户(疑似|确诊)", s2):
        clause = re.search(r"如客户[^，]+", s)
        if clause:
            d = readers.diagnosis(clause.group(0))
            fields["diagnosis_kind"] = readers.diagnosis_kind(d)
            out.append(("diagnosis", clause.group(0), ls, {"kind": d.get("kind")}))
    for r in readers.scan(s, attributes):
        text = s[r.start:r.end]
        if r.attribute == "response_time":
            fields.setdefault("response_time", clean(text))
        elif r.attribute == "fees":
            fields["fees"] = clean(text)
        elif r.attribute == "documents":
            fields["documents"] = (r.data or {}).get("documents") or clean(text)
        elif r.attribute == "service_hours" and re.match(r"7\s*[×*xX]\s*24", text) and "不限次" in s:
            fields["usage_period"] = "unlimited"
            hours = re.search(r"7\s*[×*xX]\s*24\s*小时[^，。]*", s)
            fields["usage_text"] = clean(hours.group(0)) if hours else clean(text)
        elif r.attribute == "alias":
            if squash(r.data["of"]) not in squash(name):
                continue
            aliases += [r.data["alias"] + "服务", r.data["alias"]]
        out.append((r.attribute, text, ls, r.data))
    if s2.startswith("申请时请") and "提供" in s2:
        fields.setdefault("documents", clean(s))
        out.append(("documents", s, ls, {"truncated": not s2.endswith("。")}))


# -- rules defined once for every service ---------------------------------------------------------------

@dataclass
class Term:
    """A defined term of a manual's rules ("等待期：…") with the lines of its definition."""
    name: str
    lines: Lines
    text: str


def apply_definitions(b: Builder, services: list[tuple[m.Service, str]], defs: dict[str, Term],
                      general: Optional[tuple[str, Lines]], examples: list[tuple[int, str, bool, dict]]) -> None:
    """Rules a manual defines once (terms 等待期, 犹豫期, 服务共享规则, 医院, 确诊初次罹患), applied to each
    (service, its text) with facts pointing at the definitions. `general`: a notice paragraph about the
    waiting period for all services; `examples`: the rows of the 初次确诊 worked example."""
    by_name = {squash(svc.name): svc for svc, _ in services}

    def find(name: str) -> Optional[m.Service]:
        k = squash(name)
        if k in by_name:
            return by_name[k]
        hits = [svc for svc, _ in services if k in squash(svc.name) or k in map(squash, svc.aliases)]
        return hits[0] if len(hits) == 1 else None

    wait = next((d for n, d in defs.items() if "等待期" == n), None)
    reading: dict = {}
    exempt: set[int] = set()
    if wait:
        reading = readers.waiting(wait.text)
        for mt in re.finditer(r"([^,，。、]+?)服务?无等待期", wait.text):
            hit = find(mt.group(1).strip())
            if hit:
                exempt.add(id(hit))
    general_reading = readers.waiting(general[0]) if general else {}
    transfer = [src for src, r in ((wait.lines if wait else None, reading), (general[1] if general else None,
                                                                           general_reading))
                if src and "transfer" in r.get("waivers", [])]
    days = reading.get("waiting_days") if reading.get("waiting_kind") == "days" else None
    for svc, _ in services:
        if wait and id(svc) in exempt:
            svc.waiting_kind, svc.waiting_days = "none", 0
            b.fact(svc, "waiting_period", wait.text, wait.lines, data={"waiting_kind": "none"})
            continue
        if wait and days:
            svc.waiting_kind, svc.waiting_days = "days", days
            b.fact(svc, "waiting_period", wait.text, wait.lines,
                   data={k: v for k, v in reading.items() if k != "waivers"})
        if general:
            b.fact(svc, "waiting_period", general[0], general[1],
                   data={k: v for k, v in general_reading.items() if k != "waivers"})
            svc.waiting_kind = svc.waiting_kind or general_reading.get("waiting_kind")
        if transfer:
            svc.waiting_waivers = ["transfer"]
            for ls in transfer:
                b.fact(svc, "waiting_waiver", "转保无等待期", ls, data={"waivers": ["transfer"]})

    cool = readers.waiting(defs["犹豫期"].text) if "犹豫期" in defs else {}
    if cool.get("cooling_off_days"):
        for svc, _ in services:
            svc.cooling_off_days = cool["cooling_off_days"]
            b.fact(svc, "cooling_off", defs["犹豫期"].text, defs["犹豫期"].lines,
                   data={"cooling_off_days": cool["cooling_off_days"]})

    share = defs.get("服务共享规则")
    if share:
        sm = re.match(r"(.+?)\d+\s*项服务", share.text)
        names = re.split(r"、", sm.group(1)) if sm else []
        rule = FamilyRule(shared_usage=True, shared_with=SharedWith.IMMEDIATE_RELATIVES if "直系亲属" in share.text else None,
                          same_family_policy="家庭共享单" in share.text).to_json()
        for nm in names:
            hit = find(nm)
            if hit is None:
                b.warn(f"sharing rule names unknown service {nm!r}")
                continue
            hit.beneficiary = "family_pool"
            hit.family_rule = rule
            b.fact(hit, "beneficiary", share.text, share.lines, data={"beneficiary": "family_pool", **rule})

    hosp = defs.get("医院")
    required = readers.hospital_requirement(hosp.text) if hosp else None
    if hosp and required:  # "医院" in a service's text means the hospitals the definition describes
        for svc, _ in services:
            if svc.diagnosis_hospital == "医院":
                svc.diagnosis_hospital = required
                b.fact(svc, "diagnosis", hosp.text, hosp.lines, data={"hospital": required})

    first = defs.get("确诊初次罹患")
    if first:
        eff = re.search(r"生效为\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", first.text)
        for svc, text in services:
            if not (svc.diagnosis_list or "初次" in text):
                continue
            b.fact(svc, "first_diagnosis_rule", first.text, first.lines)
            for n, when, ok, data in examples:
                if eff:
                    data["effective"] = f"{eff.group(1)}-{int(eff.group(2)):02d}-{int(eff.group(3)):02d}"
                b.fact(svc, "first_diagnosis_example", f"{when}：{'是' if ok else '否'}", (n, n), data=data)
