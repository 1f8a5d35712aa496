"""Adapter for the 太保蓝本 健康管理服务手册 (CPIC Life), layout `cpic_life_lanben`.

The manual has: a bullet list of services, two copies of the validity rules
(服务期限), one entitlement table per product version (服务说明 sections, tab-separated
rows that wrap and lose leading cells at page breaks), eligibility per version
(服务对象), how to apply (服务申请), one description section per service, and
general notes (注意事项). There are no city, hospital, disease or drug lists.

Everything below is found by headings and table shapes; no line numbers are fixed. Values are
read with knowledge.ingest.readers; version names are the manifest's product name plus the
manual's version words.
"""
from __future__ import annotations

import re
from re import Match, Pattern
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from knowledge import models as m
from knowledge.ingest import facts, readers
from knowledge.ingest.builder import Builder
from knowledge.ingest.lexicon import category_of, name_aliases
from knowledge.ingest.sections import lines_repeat, section_ranges
from knowledge.ingest.text import clean, matched, same_text, squash, subsequence, tab_blocks

# -- patterns -----------------------------------------------------------------
CHAPTER_RE = re.compile(r"^第[一二三四五六七八九十]+章\s*(.+)$")
PART_RE = re.compile(r"^([一二三四五六七八九十]+)、\s*(.+?)[：:]?$")
TIER_TOKEN_RE = re.compile(r"([\u4e00-\u9fff]{2}版)")
SUB_TIER_RE = re.compile(r"^(\d)\s*档$")
SUBHEAD_RE = re.compile(r"^服务(条件|内容|介绍)$")
SENTENCE_PUNCT = re.compile(r"[。，；：:,;]")

# what a line of a service description can state (rows of knowledge.ingest.readers)
SECTION_ATTRIBUTES = ("response_time", "coverage", "hospital_choice", "fees", "documents", "service_hours", "alias")

def is_heading(s: str) -> bool:
    s = s.strip()
    return bool(s) and len(s) <= 24 and not s.startswith("-") and not SENTENCE_PUNCT.search(s)


@dataclass(frozen=True)
class Versions:
    """The product's versions as the manual names them, the product name from the manifest:
    太保蓝本（2023 版）, 太保蓝本(2021 庆典版), 太保蓝本普惠版（2023 版）, 太保蓝本无忧管家(2023版) (a plan)."""

    product: str

    @property
    def re(self) -> Pattern:
        return _version_re(self.product)

    @property
    def section_re(self) -> Pattern:
        return re.compile(rf"^{re.escape(self.product)}.*服务说明[：:]?$")

    @staticmethod
    def key(m_: Match) -> tuple[str, str, str]:
        return (m_.group(1) or "", m_.group(2), m_.group(3) or "")

    def name(self, key: tuple[str, str, str]) -> str:
        prefix, year, special = key
        return f"{self.product}{prefix}（{year}{special}版）"

    @staticmethod
    def kind(key: tuple[str, str, str]) -> str:
        """A prefix that is no 版 word (无忧管家) names a plan."""
        return "plan" if key[0] and not key[0].endswith("版") else "version"

    def subjects(self, subject: str) -> list[tuple[tuple[str, str, str], list[str]]]:
        """"太保蓝本（2023 版）、太保蓝本（2022 版）专业版及尊享版" -> [(key, tiers), ...]."""
        out = []
        hits = list(self.re.finditer(subject))
        for i, h in enumerate(hits):
            rest = subject[h.end(): hits[i + 1].start() if i + 1 < len(hits) else len(subject)]
            out.append((self.key(h), TIER_TOKEN_RE.findall(squash(rest))))
        return out


@lru_cache(maxsize=8)
def _version_re(product: str) -> re.Pattern:
    return re.compile(rf"{re.escape(product)}\s*([\u4e00-\u9fff]{{0,4}}?)\s*[（(]\s*(\d{{4}})\s*([\u4e00-\u9fff]{{0,2}}?)\s*版\s*[)）]")


# -- tables -------------------------------------------------------------------
@dataclass
class Column:
    top: str  # 专业版 / 尊享版 / 一档权益 ...
    sub: str = ""  # 1档 ...

    @property
    def label(self) -> str:
        return f"{self.top}{self.sub}"


@dataclass
class Row:
    label: str
    cells: list[str]  # one per leaf column
    lines: tuple[int, int]
    top_only: bool  # written with one cell per top column (merged sub columns)


@dataclass
class Table:
    title: str
    lines: tuple[int, int]
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)

    @property
    def phase(self) -> str:
        mm = re.search(r"[（(]([^）)]*(?:年度|年)[^）)]*)[）)]\s*$", self.title)
        return mm.group(1) if mm else ""


def parse_table(b: Builder, rows: list[tuple[int, list[str]]]) -> Optional[Table]:
    """rows: (line, cells) of one tab-separated block (blank lines already dropped)."""
    title_parts, header_i = [], None
    for i, (n, cells) in enumerate(rows):
        if any(squash(c).startswith("服务项目") and "一览表" not in c for c in cells):
            header_i = i
            break
        title_parts.append(" ".join(c for c in cells if c))
    first, last = rows[0][0], rows[-1][0]
    if header_i is None:  # no header: a title then "service \t cell" rows
        title = " ".join(title_parts[:1])
        table = Table(title=clean(title), lines=(first, last), columns=[Column(top="")])
        for n, cells in rows[1:]:
            if len(cells) >= 2:
                table.rows.append(Row(label=squash(cells[0]), cells=[clean(cells[-1])], lines=(n, n), top_only=False))
        return table

    hn, header = rows[header_i]
    li = next(i for i, c in enumerate(header) if squash(c).startswith("服务项目"))
    tops = [(i, squash(c)) for i, c in enumerate(header) if i > li and c]
    body = rows[header_i + 1:]
    subs: dict[int, list[str]] = {}
    if body and all(SUB_TIER_RE.match(squash(c)) for c in body[0][1] if c) and any(body[0][1]):
        for i, c in enumerate(body[0][1]):
            if c:
                # a sub column belongs to the nearest top column at or left of it
                owner = max(t for t, _ in tops if t <= i)
                subs.setdefault(owner, []).append(squash(c))
        body = body[1:]
    columns: list[Column] = []
    for i, top in tops:
        for sub in subs.get(i, [""]):
            columns.append(Column(top=top, sub=sub))
    n_top, n_leaf = len(tops), len(columns)
    table = Table(title=clean(" ".join(title_parts)), lines=(first, last), columns=columns)
    for n, cells in body:
        k = n_leaf if len(cells) > li + 1 + n_top else n_top
        lab_i = len(cells) - k - 1
        label = cells[lab_i] if lab_i >= 0 else ""
        values = cells[-k:] if lab_i >= 0 else cells[1:]
        prev = table.rows[-1] if table.rows else None
        if prev and (not label or label.startswith(("（", "("))):
            # continuation of the previous row: merge cell by cell, from the left
            cont = cells[li + 1:] if len(cells) > li + 1 else []
            if label.startswith(("（", "(")):
                prev.label += squash(label)
                cont = values
            width = len(prev.cells)
            off = 0 if len(cont) <= width else len(cont) - width
            for j, c in enumerate(cont[off:]):
                if c and j < width:
                    prev.cells[j] = f"{prev.cells[j]} {c}".strip()
            prev.lines = (prev.lines[0], n)
            continue
        if not label:
            b.warn(f"table row at line {n} has no service name; skipped")
            continue
        if k == n_top and n_top != n_leaf:  # one cell per top column: spread over its sub columns
            spread = []
            for (ti, _), v in zip(tops, values):
                spread += [v] * len(subs.get(ti, [""]))
            values = spread
        values = values + [""] * (n_leaf - len(values))
        table.rows.append(Row(label=squash(label), cells=[clean(v) for v in values], lines=(n, n),
                              top_only=(k == n_top and n_top != n_leaf)))
    return table


def tables_in(b: Builder, start: int, end: int) -> list[Table]:
    """Tables of the tab-separated blocks in [start, end]."""
    return [t for t in (parse_table(b, blk) for blk in tab_blocks(b.text, start, end)) if t]


# -- the adapter ----------------------------------------------------------------
@dataclass
class Section:
    title: str
    start: int
    end: int


def outline(b: Builder) -> dict:
    """Find the top-level landmarks by heading text."""
    T = b.text
    chapters = [(n, matched(CHAPTER_RE, T.line(n).strip()).group(1)) for n in T.find_all(CHAPTER_RE)]
    parts = [(n, matched(PART_RE, T.line(n).strip()).group(2)) for n in T.find_all(PART_RE)
             if is_heading(matched(PART_RE, T.line(n).strip()).group(2))]
    return {"chapters": chapters, "parts": parts}


def sections_between(b: Builder, heads: list[tuple[int, str]], end: int) -> list[Section]:
    return [Section(title=clean(title), start=n, end=stop) for n, stop, title in section_ranges(b.text, heads, end)]


def ingest(b: Builder) -> None:
    T = b.text
    if len(T) == 0:
        b.warn("empty manual")
        return
    product = b.product()
    V = Versions(product.name)
    ol = outline(b)
    chapters, parts = ol["chapters"], ol["parts"]
    if not chapters or not parts:
        b.warn("no 第X章 / 一、 headings found; passages only")
        b.passage(b.manual.title, (1, b.text.trim(1, len(T))))
        return
    ch1 = chapters[0][0]
    ch2 = chapters[1][0] if len(chapters) > 1 else len(T) + 1
    part_secs = sections_between(b, parts, ch2 - 1)

    def part(word: str) -> Optional[Section]:
        return next((s for s in part_secs if word in s.title), None)

    content_sec, target_sec, validity_sec = part("服务内容"), part("服务对象"), part("服务期限")
    apply_sec, desc_sec = part("服务申请"), part("服务流程")

    # 1. the bullet list of services in the front matter
    listed: list[tuple[int, str]] = []
    for n, s in T.iter(1, ch1 - 1):
        mm = re.match(r"^\s*-\s+(.+)$", s)
        if mm:
            listed.append((n, clean(mm.group(1))))

    # 2. description sections -> services
    services: dict[str, m.Service] = {}
    svc_sections: list[Section] = []
    if desc_sec:
        heads = [(n, s.strip()) for n, s in T.iter(desc_sec.start + 1, desc_sec.end)
                 if is_heading(s) and not SUBHEAD_RE.match(s.strip())]
        svc_sections = sections_between(b, heads, desc_sec.end)
    for sec in svc_sections:
        services[squash(sec.title)] = _service_from_section(b, product, sec)

    # aliases from the front list: exact, prefix (name + parenthesis), or the
    # shortest service names that contain the list name as a subsequence (二诊 -> 二次诊疗)
    for n, name in listed:
        key = squash(name)
        if key in services:
            continue
        hits = [k for k in services if key.startswith(k) and key[len(k):].startswith(("(", "（"))]
        if not hits:
            hits = [k for k in services if subsequence(re.sub(r"服务$", "", key), k)]
            if hits:
                best = min(len(k) for k in hits)
                hits = [k for k in hits if len(k) == best]
        if not hits:
            b.warn(f"listed service {name!r} at line {n} has no description section")
            continue
        for k in hits:
            facts.add_aliases(b, services[k], [name, re.sub(r"服务$", "", name)], (n, n))

    # 3. validity statements (front matter copy and 三、服务期限 copy)
    statements = _validity_statements(b, V, ch1, validity_sec)

    # 4. entitlement tables by version section
    editions = _editions_and_entitlements(b, product, content_sec, services, statements)

    # 5. validity and eligibility facts on the services each version grants
    _version_facts(b, V, editions, statements, target_sec)

    # 6. how to apply, general notes, contacts
    _apply_and_notes(b, services, apply_sec, ch2)
    _contacts(b, services)

    # 7. passages
    _passages(b, V, services, svc_sections, chapters, parts, content_sec, ch1)


def _service_from_section(b: Builder, product: m.Product, sec: Section) -> m.Service:
    T = b.text
    name = clean(sec.title)
    body = [(n, T.line(n).strip()) for n in range(sec.start + 1, sec.end + 1) if T.line(n).strip()]
    cond = [(n, s) for n, s in body if re.search(r"诊断|罹患", s) and "审核" in s]
    content = [(n, s) for n, s in body if not SUBHEAD_RE.match(s) and (n, s) not in cond]
    # a paragraph split by a page break ("...治疗方" / "案。") is joined back
    desc = re.sub(r"(?<=[^\s。；])\n(?=\S)", "", "\n".join(s for _, s in content))
    desc = re.sub(r"\s*\n\s*", "\n", desc).strip()
    fields: dict = {"category": category_of(name), "description": desc, "product_id": product.id,
                    "coverage_scope": "unspecified"}
    aliases = name_aliases(name)
    found: list[facts.PendingFact] = []
    for n, s in cond:
        facts.condition_facts(s, (n, n), fields, found)
    for n, s in content:
        facts.description_facts(s, (n, n), name, SECTION_ATTRIBUTES, fields, aliases, found)
    if content:
        found.append(("content", desc, (content[0][0], content[-1][0]), None))
    svc = b.service(squash(name), name, (sec.start, sec.end), aliases=aliases, **fields)
    for attr, value, lines, data in found:
        b.fact(svc, attr, value, lines, data)
    return svc


@dataclass
class Statement:
    text: str
    line: int
    targets: list[tuple[tuple[str, str, str], list[str]]]
    rule: dict


def _validity_statements(b: Builder, V: Versions, ch1: int, validity_sec) -> list[Statement]:
    T = b.text
    spans = []
    front = T.find(r"^服务期限[：:]?\s*$", 1, ch1 - 1)
    if front:
        spans.append((front + 1, ch1 - 1))
    if validity_sec:
        spans.append((validity_sec.start + 1, validity_sec.end))
    out = []
    for a, z in spans:
        for n, s in T.iter(a, z):
            if "有效期" not in s or not V.re.search(s):
                continue
            subject = s.split("有效期")[0]
            out.append(Statement(text=clean(s.replace("**", "")), line=n, targets=V.subjects(subject),
                                 rule=readers.validity_rule(s.split("有效期", 1)[1])))
    if not out:
        b.warn("no validity statements (服务期限) found")
    return out


@dataclass
class EditionInfo:
    edition: m.Edition
    key: tuple[str, str, str]
    tiers: dict[str, tuple[m.Edition, Column]] = field(default_factory=dict)
    services: dict[int, m.Service] = field(default_factory=dict)
    lines: tuple[int, int] = (0, 0)


def _editions_and_entitlements(b: Builder, product: m.Product, content_sec, services: dict[str, m.Service],
                               statements: list[Statement]) -> dict[tuple, EditionInfo]:
    T = b.text
    V = Versions(product.name)
    out: dict[tuple, EditionInfo] = {}
    if not content_sec:
        b.warn("no 服务内容 part found; no editions")
        return out
    heads = [(n, T.line(n).strip()) for n in T.find_all(V.section_re, content_sec.start, content_sec.end)]
    for sec in sections_between(b, heads, content_sec.end):
        vm = V.re.search(sec.title)
        if not vm:
            b.warn(f"version section {sec.title!r} at line {sec.start} names no version")
            continue
        key = V.key(vm)
        kind = V.kind(key)
        vname = V.name(key)
        own = [st for st in statements if any(k == key for k, _ in st.targets)]
        whole = [st for st in own if any(k == key and not t for k, t in st.targets)]
        first = whole[0] if whole else None
        ed = b.edition(product, kind, vname, (first.line, first.line) if first else (sec.start, sec.end),
                       validity=first.text if first else None, rule=first.rule if first else {})
        if first is None and own:  # statements name tiers only: keep their text on the version too
            texts: list[str] = []
            for st in own:
                if not any(same_text(st.text, t) for t in texts):
                    texts.append(st.text)
            ed.validity = "；".join(texts)
        info = EditionInfo(edition=ed, key=key, lines=(sec.start, sec.end))
        out[key] = info
        notes = [(n, squash(s)) for n, s in T.iter(sec.start, sec.end) if re.match(r"^注\s*\d*\s*[:：]", s.strip())
                 or re.match(r"^\d、", s.strip())]
        family_excl: list[str] = []
        for n, s in notes:
            mm = re.search(r"共享家人可享服务不包含(.+?)服务。?$", s)
            if mm:
                family_excl += [x for x in re.split(r"和|、|及", mm.group(1)) if x]
        year_note = next(((n, s) for n, s in notes if re.search(r"“?年”?均指“?保单年度", s)), None)
        term_note = next(((n, s) for n, s in notes if re.search(r"服务期限为.+年", s)), None)
        for table in tables_in(b, sec.start, sec.end):
            _table_entitlements(b, product, info, table, services, statements, family_excl,
                                term_note if table.phase.startswith("前") else None)
        if not info.tiers and not info.services:
            b.warn(f"version section {sec.title!r} at line {sec.start}: no table rows")
        if year_note:
            for svc in info.services.values():
                b.fact(svc, "usage_period", T.line(year_note[0]).strip(), (year_note[0], year_note[0]),
                       {"edition": vname, "period": "policy_year"})
        # version rule: the start/end every tier shares, when no statement covers the whole version
        if not ed.rule and info.tiers:
            rules = {repr({k: v for k, v in t.rule.items() if k != "family"}) for t, _ in info.tiers.values()}
            if len(rules) == 1:
                t0 = next(iter(info.tiers.values()))[0].rule
                ed.rule = {k: v for k, v in t0.items() if k != "family"}
    return out


def _table_entitlements(b: Builder, product: m.Product, info: EditionInfo, table: Table,
                        services: dict[str, m.Service], statements: list[Statement], family_excl: list[str],
                        term_note) -> None:
    T = b.text
    vname = info.edition.name
    phase = table.phase
    special = {"达标条件": "qualification", "服务期限": "term", "服务对象": "target", "家人可享": "target"}
    rows_by_kind: dict[str, Row] = {}
    svc_rows: list[tuple[m.Service, Row]] = []
    for row in table.rows:
        if row.label in special:
            rows_by_kind[special[row.label]] = row
            continue
        if all("险种" in c for c in row.cells if c) and any(row.cells):
            rows_by_kind["qualification"] = row  # 达标条件 row printed under a service name
            continue
        svc = services.get(row.label) or next(
            (v for k, v in services.items() if row.label.startswith(k) and row.label[len(k):][:1] in "(（"), None)
        if svc is None:
            b.warn(f"table row {row.label!r} at line {row.lines[0]} matches no service")
            continue
        svc_rows.append((svc, row))
    # tier editions (one per leaf column; a lone unnamed column means no tier)
    tiers: list[Optional[m.Edition]] = []
    for ci, col in enumerate(table.columns):
        if not col.label:
            tiers.append(None)
            continue
        tname = f"{vname}{'（' + clean(phase) + '）' if phase else ''} {col.top}{col.sub}"
        texts, rule = [], {}
        term = rows_by_kind.get("term")
        if term and term.cells[ci]:
            texts.append(f"{term.label}：{term.cells[ci]}")
            rule = readers.validity_rule(term.cells[ci])
        # statements naming this tier (or the whole version) fill in start/end the table leaves out
        for st in statements:
            for k, ts in st.targets:
                if k != info.key or (ts and not any(t in squash(col.top) for t in ts)):
                    continue
                for part in ("start", "end"):
                    if part in st.rule and part not in rule:
                        rule[part] = st.rule[part]
                if not any(same_text(st.text, t) for t in texts):
                    texts.append(st.text)
        if term_note:
            rule = {**rule, "start": {"kind": "effective"}, "end": readers.validity_rule(term_note[1]).get("end", rule.get("end"))}
            texts.append(clean(T.line(term_note[0])))
        if phase.startswith("后续"):
            rule.pop("start", None)  # starts after the first phase: not a start kind of Edition.rule
        target = rows_by_kind.get("target")
        fam = readers.family_share(target.cells[ci]) if target and target.cells[ci] else None
        if fam:
            fam = {**rule.get("family", {}), **fam}
            if family_excl:
                fam["excluded_services"] = list(family_excl)
            rule["family"] = fam
        if target and target.cells[ci]:
            texts.append(f"{target.label}：{target.cells[ci]}")
        qual = rows_by_kind.get("qualification")
        if qual and qual.cells[ci]:
            texts.append(f"达标条件：{qual.cells[ci]}")
        made = b.edition(product, "tier", tname, (table.lines[0], table.lines[1]),
                         validity="；".join(texts) or None, rule=rule)
        info.tiers[tname] = (made, col)
        tiers.append(made)
    # one entitlement per (service, column)
    for svc, row in svc_rows:
        info.services[svc.id] = svc
        for ci, tier in enumerate(tiers):
            cell = row.cells[ci]
            inc, lim, per = readers.entitlement_cell(cell)
            b.entitlement(svc, info.edition, row.lines, tier=tier, included=inc, usage_limit=lim, usage_period=per,
                          text=cell)
            label = tier.name if tier else vname
            b.fact(svc, "usage_limit", f"{label}：{cell or '-'}", row.lines,
                   {"edition": vname, "tier": tier.name if tier else None, "included": inc, "limit": lim,
                    "period": per})
            fam = (tier.rule or {}).get("family") if tier else None
            if fam and inc and tier is not None:
                target = rows_by_kind["target"]
                facts.shared_entitlement(b, svc, vname, tier, fam, cell, row.lines, target.cells[ci], target.lines)
            elif tier and inc and rows_by_kind.get("target") and svc.beneficiary is None:
                svc.beneficiary = "insured"
                svc.beneficiary_text = f"{label}：{rows_by_kind['target'].cells[ci]}"


def _version_facts(b: Builder, V: Versions, editions: dict[tuple, EditionInfo], statements: list[Statement],
                   target_sec) -> None:
    T = b.text
    for st in statements:
        for key, tiers in st.targets:
            info = editions.get(key)
            if info is None:
                b.warn(f"validity statement at line {st.line} names {V.name(key)} with no table")
                continue
            for svc in info.services.values():
                b.fact(svc, "validity", st.text, (st.line, st.line),
                       {"edition": info.edition.name, "tiers": tiers, "rule": st.rule})
    if not target_sec:
        return
    for n, s in T.iter(target_sec.start + 1, target_sec.end):
        if not V.re.search(s):
            continue
        subject = re.split(r"[：:]", s, 1)[0]
        for key, tiers in V.subjects(subject):
            info = editions.get(key)
            if info is None:
                continue
            for svc in info.services.values():
                b.fact(svc, "eligibility", s.strip(), (n, n), {"edition": info.edition.name, "tiers": tiers})


def _apply_and_notes(b: Builder, services: dict[str, m.Service], apply_sec, ch2: int) -> None:
    T = b.text
    if apply_sec:
        body = [(n, T.line(n).strip()) for n in range(apply_sec.start + 1, apply_sec.end + 1) if T.line(n).strip()]
        main = next(((n, s) for n, s in body if not s.startswith("注")), None)
        notes = [(n, s) for n, s in body if s.startswith("注")]
        for svc in services.values():
            if main:
                svc.how_to_apply = clean(main[1])
                b.fact(svc, "how_to_apply", main[1], (main[0], main[0]))
            for n, s in notes:
                mm = re.search(r"如为(.+?)类服务", s)
                scope = squash(mm.group(1)) if mm else ""
                # "重疾绿通类服务": services whose name carries the class word's first term (重疾)
                word = re.match(r"[\u4e00-\u9fff]{2}", scope)
                if not mm or (word and word.group(0) in svc.name):
                    b.fact(svc, "how_to_apply", s, (n, n), {"scope": scope or None})
                    if "病史资料" in s and not svc.documents:
                        svc.documents = "病史资料"
                        b.fact(svc, "documents", s, (n, n))
    if ch2 <= len(T):
        for n, s in T.iter(ch2 + 1, len(T)):
            s2 = s.strip()
            if re.match(r"^\d、", s2) and ("被保险人" in s2 and ("直系亲属" in s2 or "监护人" in s2)):
                for svc in services.values():
                    b.fact(svc, "beneficiary", s2, (n, n), {"scope": "all services"})


def _contacts(b: Builder, services: dict[str, m.Service]) -> None:
    seen: set[tuple[str, str]] = set()
    by_line = {n: svc for svc in services.values() for n in range(svc.line_start, svc.line_end + 1)}
    for n, s in b.text.iter():
        for kind, label, value in readers.contacts_in(s):
            if kind == "hours" or (label, value) not in seen:
                seen.add((label, value))
                b.contact(kind, label, value, (n, n), by_line.get(n))


def _passages(b: Builder, V: Versions, services: dict[str, m.Service], svc_sections: list[Section], chapters, parts,
              content_sec, ch1: int) -> None:
    T = b.text
    stored: list[list[str]] = []

    def norm_lines(a: int, z: int) -> list[str]:
        return [squash(T.line(n).replace("**", "")) for n in range(a, z + 1) if T.line(n).strip()]

    def add(title: str, a: int, z: int, svc=None) -> None:
        z = b.text.trim(a, z)
        if not T.span(a, z).strip():
            return
        lines = norm_lines(a, z)
        if svc is None and lines_repeat(lines[1:], stored):
            b.warn(f"section {title!r} at lines {a}-{z} repeats an earlier one; stored once")
            return
        stored.append(lines)
        b.passage(title, (a, z), service=svc)

    title = b.manual.title
    # front matter: split at short stand-alone headings ending in "：" (敬请注意：, 服务期限：)
    front_heads = [(1, title)] + [(n, s.strip().rstrip("：:")) for n, s in T.iter(1, ch1 - 1)
                                  if re.match(r"^[\u4e00-\u9fff]{2,8}[：:]$", s.strip())]
    for i, (n, t) in enumerate(front_heads):
        stop = front_heads[i + 1][0] - 1 if i + 1 < len(front_heads) else ch1 - 1
        add(f"{title} > {t}" if n != 1 else title, n, stop)
    ch_ends = [c[0] for c in chapters[1:]] + [len(T) + 1]
    for (cn, ct), cend in zip(chapters, ch_ends):
        inner = [p for p in parts if cn < p[0] < cend]
        add(f"{title} > {clean(T.line(cn))}", cn, (inner[0][0] - 1) if inner else cend - 1)
        for i, (pn, pt) in enumerate(inner):
            pend = inner[i + 1][0] - 1 if i + 1 < len(inner) else cend - 1
            ptitle = f"{title} > {clean(T.line(cn))} > {clean(T.line(pn))}"
            subs: list[tuple[int, str, Optional[m.Service]]] = []
            if content_sec and pn == content_sec.start:
                subs = [(n, T.line(n).strip(), None) for n in T.find_all(V.section_re, pn, pend)]
            elif svc_sections and svc_sections[0].start > pn and svc_sections[0].end <= pend:
                subs = [(s.start, s.title, services.get(squash(s.title))) for s in svc_sections]
            add(ptitle, pn, (subs[0][0] - 1) if subs else pend)
            for j, (sn, st, svc) in enumerate(subs):
                send = subs[j + 1][0] - 1 if j + 1 < len(subs) else pend
                add(f"{ptitle} > {clean(st)}", sn, send, svc)
