"""Adapter for 众安 尊享e生·中高端医疗保险 PLUS 服务手册 (柏盛健康), layout zhongan_highend.

Layout:
- front matter (company texts, 致客户函, 联系我们 with the hotline and hours);
- top blocks "服务特色" / "我们的服务" / "增值服务" (a heading line indented by spaces);
- "（一）直付医疗服务" style sections; under "（二）增值服务项目" numbered services
  "N. 名称" whose fields are "(k) 标签：" (or "k) 标签：") lines: 服务内容, 申请方式, 服务对象,
  服务次数, 响应时效, 前提条件, 服务流程, 服务项目, 注意事项, 特别说明, 覆盖地域/区域;
- coverage as space-separated grids: short city names with province headers mixed in and
  long autonomous-prefecture names wrapped over two or three lines (重疾绿通); a four-column
  province/city table with repeated page headers (特药直付, reused "同上" by 基因检测);
  province-only regions (院内陪护, 术后上门护理); a numbered hospital table (国际进口特药).

The same service described twice (（二）垫付医疗服务 and 17. 住院垫付服务, both applied for as
“住院垫付服务”) is stored once; the facts of both descriptions are kept. Values are read with
knowledge.ingest.readers; this module knows the outline, the fields and the grids.
"""
from __future__ import annotations

import re
from typing import Optional

from knowledge import models as m
from knowledge.ingest import readers
from knowledge.ingest.builder import Builder, CityEntry, HospitalEntry
from knowledge.ingest.lexicon import category_of, contact_label, name_aliases, province_names
from knowledge.ingest.sections import add_passages
from knowledge.ingest.text import clean, squash

# Top blocks start with an icon glyph from the PDF's private-use area: " \uf06c 服务特色".
_TOP = re.compile(r"^\s*[\ue000-\uf8ff]\s*(服务特色|我们的服务|增值服务)\s*$")
_CN_SECTION = re.compile(r"^[（(]([一二三四五六七八九十]+)[)）]\s*(\S.*)$")
_NUMBERED = re.compile(r"^\s*(\d{1,2})\.\s*(\S.*)$")
_FIELD = re.compile(r"^\s*\(?(\d{1,2})\)\s*(服务内容|申请方式|服务对象|服务次数|响应时效|前提条件|服务流程|服务项目|"
                    r"注意事项|特别说明|覆盖地域|覆盖区域)\s*[：:]?\s*$")
_SUBITEM = re.compile(r"^\s*(\d{1,2})\)\s*(.*)$")
_MENU = re.compile(r"选择\s*[“\"”]\s*([^“”\"]+?)\s*[”\"]")
_PAGE_NO = re.compile(r"^\s*\d{1,3}\s*$")
_END_SUFFIX = ("市", "州", "盟", "区", "县", "旗")
# Characters that only occur in the wrapped tail of an autonomous-prefecture name.
_ADDON = re.compile(r"[（(]本服务仅适用于(.+?)[)）]")


def _bigrams(s: str) -> set[str]:
    s = squash(s)
    return {s[i:i + 2] for i in range(len(s) - 1)} - {"服务", "医疗"}


class _Doc:
    """Line helpers that skip page-number lines (a number alone between blank lines)."""

    def __init__(self, b: Builder):
        self.b = b
        self.t = b.text

    def is_page_no(self, n: int) -> bool:
        t = self.t
        if not _PAGE_NO.match(t.line(n)):
            return False
        before = n > 2 and not t.line(n - 1).strip() and not t.line(n - 2).strip()
        return before and int(t.line(n).strip()) >= 10

    def lines(self, a: int, z: int) -> list[tuple[int, str]]:
        return [(n, s) for n, s in self.t.iter(a, z) if s.strip() and not self.is_page_no(n)]

    def text(self, a: int, z: int) -> str:
        return "".join(squash(s) if s.strip() else "" for _, s in self.lines(a, z))

    def last(self, a: int, z: int) -> int:
        while z > a and (not self.t.line(z).strip() or self.is_page_no(z)):
            z -= 1
        return z


def ingest(b: Builder) -> None:
    d = _Doc(b)
    t = b.text
    product = b.product()
    headings: list[tuple[int, str]] = []
    svc_of_line: dict[int, m.Service] = {}

    # -- front matter headings: short standalone lines before the first top block ---------
    tops = [(n, mt.group(1)) for n, s in t.iter() if (mt := _TOP.match(s))]
    first_top = tops[0][0] if tops else len(t) + 1
    for n, s in t.iter(1, first_top - 1):
        c = clean(s)
        if c and len(c) <= 24 and not re.search(r"[，。；：:,]", c) and not re.match(r"^[A-Za-z]+$", c) \
                and (n == 1 or not t.line(n - 1).strip() or re.match(r"^[A-Za-z]+$", clean(t.line(n - 1)))):
            headings.append((n, c))
    _contacts(b, 1, first_top - 1)

    # -- top blocks and their （一） sections ----------------------------------------------
    top_bounds = [(n, name, (tops[i + 1][0] - 1 if i + 1 < len(tops) else len(t))) for i, (n, name) in enumerate(tops)]
    value_added_start = None
    for n, name, end in top_bounds:
        headings.append((n, name))
        secs = [(k, ms) for k, s in t.iter(n + 1, end) if (ms := _CN_SECTION.match(clean(s)))]
        for i, (k, mm) in enumerate(secs):
            send = secs[i + 1][0] - 1 if i + 1 < len(secs) else end
            title = clean(mm.group(2))
            path = f"{name} > {clean(t.line(k))}"
            if "增值服务项目" in title:
                value_added_start = (k, send, path)
                headings.append((k, path))
                continue
            if name == "我们的服务":
                svc = _section_service(b, d, product, k, d.last(k, send), title)
                for j in range(k, send + 1):
                    svc_of_line.setdefault(j, svc)
                sub = [(j, clean(s)) for j, s in t.iter(k + 1, send) if re.match(r"^\d\.\s*\S", clean(s))]
                headings.append((k, path))
                headings.extend((j, f"{path} > {st}") for j, st in sub)
            else:
                headings.append((k, path))

    # -- numbered value-added services ------------------------------------------------------
    lists: dict[str, m.CoverageList] = {}
    if value_added_start:
        k0, kend, vpath = value_added_start
        heads = [(n, mh) for n, s in t.iter(k0 + 1, kend) if (mh := _NUMBERED.match(s))]
        # numbered services run 1, 2, 3 ...; other "N." lines are not service headings
        seq, want = [], 1
        for n, mm in heads:
            if int(mm.group(1)) == want:
                seq.append((n, mm))
                want += 1
        prev_city_list: Optional[m.CoverageList] = None
        for i, (n, mm) in enumerate(seq):
            end = d.last(n, seq[i + 1][0] - 1 if i + 1 < len(seq) else kend)
            svc, fields = _numbered_service(b, d, product, n, end, clean(mm.group(2)))
            for j in range(n, end + 1):
                svc_of_line[j] = svc
            spath = f"{vpath} > {clean(t.line(n))}"
            headings.append((n, spath))
            for fn, flabel, _fa, _fz in fields:
                headings.append((fn, f"{spath} > {flabel}"))
            prev_city_list = _coverage(b, d, svc, n, end, fields, prev_city_list, lists)

    # The medical-network paragraph states the network size for direct billing and advance payment.
    net = t.find(r"医疗网络覆盖")
    if net:
        z = d.last(net, (t.find(r"^\s*$", net) or net + 1) - 1)
        for svc in {id(x): x for x in svc_of_line.values()}.values():
            if svc.category in ("direct_billing", "advance_payment") and svc.line_start < (value_added_start or (len(t),))[0]:
                b.fact(svc, "coverage", d.text(net, z), (net, z))

    def service_for(line: int, _title: str) -> Optional[m.Service]:
        return svc_of_line.get(line)

    add_passages(b, headings, service_for=service_for)


# ---------------------------------------------------------------------------------------
def _contacts(b: Builder, a: int, z: int) -> None:
    t = b.text
    seen: set[tuple[str, str]] = set()

    def add(kind: str, label: str, value: str, n: int) -> None:
        if (kind, value) not in seen:
            seen.add((kind, value))
            b.contact(kind, label, value, (n, n))

    work = contact_label("working_hours")
    for n, s in t.iter(a, z):
        c = clean(s)
        for ph in re.findall(r"\b0\d{2,3}-\d{7,8}\b", c):
            prev = clean(t.line(n - 1)) if n > 1 else ""
            label = re.sub(r"[:：]$", "", prev) if "热线" in prev else contact_label("dedicated_hotline")
            add("phone", label, ph, n)
            hrs = re.search(rf"[（(]{work}[：:]\s*([^)）]+)[)）]", c)
            if hrs:
                add("hours", f"{label} {work}", hrs.group(1), n)
        mm = re.match(rf"^(.+?)[（(]{work}[：:]\s*([^)）]+)[)）]\s*$", c)
        if mm and not re.search(r"\d{3,}-\d{6,}", c):
            add("hours", f"{mm.group(1).replace('_', ' ')} {work}", mm.group(2), n)
        for w in re.findall(r"“([^”]*微信(?:公众号|小程序))”", c):
            add("wechat", w, w, n)
        mini = contact_label("official_mini_program")
        mm = re.search(rf"{mini}[（(]([^)）]+)[)）]", c + (clean(t.line(n + 1)) if n < len(t) else ""))
        if mm:  # 官网小程序（Prosper 柏盛健康）: the provider's name is the Chinese part of the value
            add("app", "".join(re.findall(r"[\u4e00-\u9fff]+", mm.group(1))) + mini, mm.group(1), n)


def _sentences(lines: list[tuple[int, str]]) -> list[tuple[tuple[int, int], str]]:
    """Join wrapped lines and cut at 。；: sentences with the lines they span."""
    out: list[tuple[tuple[int, int], str]] = []
    buf, start = "", None
    for n, s in lines:
        for piece in re.split(r"(?<=[。；;])", squash(s)):
            if not piece:
                continue
            if start is None:
                start = n
            buf += piece
            if re.search(r"[。；;]$", piece):
                out.append(((start, n), buf))
                buf, start = "", None
        if start is not None and re.match(r"^\s*(\(\d+\)|\d\)|\d\.|[a-d]\.)", lines[min(len(lines) - 1, lines.index((n, s)) + 1)][1]):
            out.append(((start, n), buf))
            buf, start = "", None
    if start is not None:
        out.append(((start, lines[-1][0]), buf))
    return out


def _facts_from_text(b: Builder, svc: m.Service, lines: list[tuple[int, str]], fields: dict) -> None:
    """Readings found anywhere in a block of free text: lead times, response times, cancellation."""
    for (n, n2), c in _sentences(lines):
        lead = readers.lead_time(c)
        if lead:
            b.fact(svc, "lead_time", clean(c), (n, n2), lead)
            fields.setdefault("lead_time_hours", lead.get("hours"))
        for attr in readers.topics(c, ("response_time", "cancellation")):
            if attr == "response_time":
                b.fact(svc, attr, clean(c), (n, n2), readers.response_time(c))
                fields.setdefault("response_time", clean(c))
            else:
                rule = readers.cancellation(c)
                b.fact(svc, attr, clean(c), (n, n2), rule)
                fields.setdefault("usage_rule", {}).update(rule)


def _merge_or_create(b: Builder, key: str, name: str, lines: tuple[int, int], aliases: set[str], fields: dict) -> m.Service:
    existing = b.services.get(key)
    if existing is not None:
        b.warn(f"service {key!r} described again at lines {lines}; stored once, facts kept")
        existing.aliases = sorted(set(existing.aliases or []) | {a for a in aliases | {name} if a != existing.name})
        for k, v in fields.items():
            if getattr(existing, k, None) in (None, "", {}, []) and v not in (None, "", {}, []):
                setattr(existing, k, v)
        return existing
    return b.service(key, name, lines, aliases=sorted(aliases), **fields)


def _section_service(b: Builder, d: _Doc, product: m.Product, k: int, end: int, title: str) -> m.Service:
    """A （一） section of 我们的服务 (直付 / 垫付 / 预授权) as a service."""
    lines = d.lines(k + 1, end)
    body = "\n".join(clean(s) for _, s in lines)
    menus = [mm.group(1) for _, s in lines for mm in _MENU.finditer(squash(s) + "")]
    menus += [mm.group(1) for mm in _MENU.finditer(squash(d.text(k + 1, end)))]
    # The menu entry applied for names the service when it shares a word with the title.
    menu = next((x for x in menus if _bigrams(x) & _bigrams(title)), None)
    key = squash(menu or title)
    aliases = set(name_aliases(title)) | ({menu} if menu else set())
    fields: dict = {"product_id": product.id, "category": category_of(title),
                    "description": body[:2000], "how_to_apply": None}
    svc = _merge_or_create(b, key, title, (k, end), aliases, {})
    b.fact(svc, "content", body, (k + 1, end))
    _facts_from_text(b, svc, lines, fields)
    docs = [clean(s) for n, s in lines if re.match(r"^[a-d]\.", clean(s))]
    if docs:
        fields["documents"] = "；".join(docs)
        b.fact(svc, "documents", fields["documents"], (lines[0][0], end))
    for kk, v in fields.items():
        if getattr(svc, kk, None) in (None, "", {}, []) and v not in (None, "", {}, []):
            setattr(svc, kk, v)
    return svc


def _numbered_service(b: Builder, d: _Doc, product: m.Product, n: int, end: int, title: str):
    t = b.text
    addon = _ADDON.search(title)
    name = clean(_ADDON.sub("", title))
    marks = [(j, mf.group(2)) for j, s in t.iter(n + 1, end) if (mf := _FIELD.match(s))]
    fields_lines = []
    for i, (j, lab) in enumerate(marks):
        z = d.last(j, marks[i + 1][0] - 1 if i + 1 < len(marks) else end)
        fields_lines.append((j, lab, j + 1, z))
    val = {lab: (a, z) for _j, lab, a, z in fields_lines}

    def text_of(label: str) -> Optional[str]:
        if label not in val or val[label][0] > val[label][1]:
            return None
        return d.text(*val[label]) or None

    menus = [mm.group(1) for mm in _MENU.finditer(text_of("申请方式") or "")]
    menu = menus[0] if menus else None
    key = squash(name)
    # A service already described under 我们的服务 and applied for through the same menu entry.
    for other_key, other in b.services.items():
        if menu and (other_key == squash(menu) or menu in (other.aliases or [])):
            key = other_key
    aliases = set(name_aliases(name)) | ({squash(menu)} if menu else set())
    fields: dict = {"product_id": product.id, "category": category_of(name)}
    facts: list[tuple[str, str, tuple[int, int], object]] = []
    if addon:
        fields["addon_required"] = addon.group(1)
        facts.append(("addon_required", title, (n, n), {"addon": addon.group(1)}))
    if text_of("服务内容"):
        fields["description"] = text_of("服务内容")
        facts.append(("content", fields["description"], val["服务内容"], None))
    if text_of("申请方式"):
        fields["how_to_apply"] = text_of("申请方式")
        facts.append(("how_to_apply", fields["how_to_apply"], val["申请方式"], None))
    who = text_of("服务对象")
    if who:
        fields["beneficiary"], fields["beneficiary_text"] = readers.beneficiary(who), who
        facts.append(("beneficiary", who, val["服务对象"], {"beneficiary": fields["beneficiary"]}))
        mm = re.search(r"选购了(.+?)的", who)
        if mm:
            fields.setdefault("addon_required", mm.group(1))
            facts.append(("addon_required", who, val["服务对象"], {"addon": mm.group(1)}))
    use = text_of("服务次数")
    if use:
        u = readers.usage(use) or {"limit": None, "period": None}
        fields.update(usage_limit=u["limit"], usage_period=u["period"], usage_text=use)
        facts.append(("usage_limit", use, val["服务次数"], u))
    resp = text_of("响应时效")
    if resp:
        fields["response_time"] = resp
        facts.append(("response_time", resp, val["响应时效"], None))
    pre = text_of("前提条件")
    if pre:
        for attr, data in readers.trigger(pre):
            if attr == "diagnosis":
                if not readers.diagnosis_kind(data):
                    continue
                fields["diagnosis_kind"], fields["diagnosis_hospital"] = data["kind"], data.get("hospital")
            elif attr != "trigger":
                fields.update(readers.waiting_columns(data))
            facts.append((attr, pre, val["前提条件"], data))
    svc = _merge_or_create(b, key, name, (n, end), aliases, fields)
    for attr_name, v, lines, data in facts:
        b.fact(svc, attr_name, v, lines, data)
    # notes: numbered "1) ..." items with continuation lines
    extra: dict = {}
    for label in ("注意事项", "特别说明", "服务流程"):
        if label not in val:
            continue
        for (a, z), txt in _sub_items(d, *val[label]):
            _note_fact(b, svc, txt, (a, z), extra, label)
        if label == "服务流程":
            _facts_from_text(b, svc, d.lines(*val[label]), extra)
    for kk, v in extra.items():
        cur = getattr(svc, kk, None)
        if kk == "usage_rule":
            svc.usage_rule = dict(cur or {}, **v)
        elif cur in (None, "", [], {}):
            setattr(svc, kk, v)
    return svc, fields_lines


def _sub_items(d: _Doc, a: int, z: int) -> list[tuple[tuple[int, int], str]]:
    out: list[list] = []
    for n, s in d.lines(a, z):
        if _FIELD.match(s):
            continue
        mm = _SUBITEM.match(s)
        if mm:
            out.append([n, n, squash(mm.group(2))])
        elif out and not re.match(r"^\s*(步骤|\d+\s)", s):
            out[-1][1] = n
            out[-1][2] += squash(s)
    return [((x[0], x[1]), x[2]) for x in out]


REMARK_TOPICS = ("response_time", "cancellation", "waiting_period", "fees", "exclusions", "coverage", "documents")


def _note_fact(b: Builder, svc: m.Service, txt: str, lines: tuple[int, int], extra: dict, label: str) -> None:
    """A numbered note: a fact for each thing it is about (readers.topics), else a note."""
    about = readers.topics(txt, REMARK_TOPICS)
    for attr in about:
        if attr == "cancellation":
            rule = readers.cancellation(txt)
            b.fact(svc, attr, txt, lines, rule)
            extra.setdefault("usage_rule", {}).update(rule)
        elif attr == "waiting_period":
            w = readers.waiting(txt)
            b.fact(svc, attr, txt, lines, w)
            if w.get("waivers"):
                svc.waiting_waivers = sorted(set(svc.waiting_waivers or []) | set(w["waivers"]))
        elif attr == "documents" and "cancellation" in about:
            continue  # the papers to bring are not what a cancellation rule is about
        elif attr == "response_time":
            b.fact(svc, attr, txt, lines, readers.response_time(txt))
        else:
            b.fact(svc, attr, txt, lines)
            if attr in ("fees", "documents"):
                extra.setdefault(attr, txt)
    lead = readers.lead_time(txt)
    if lead:
        b.fact(svc, "lead_time", txt, lines, lead)
        extra.setdefault("lead_time_hours", lead.get("hours"))
    for r in readers.scan(txt, ["booking_window"]):
        b.fact(svc, r.attribute, txt, lines, r.data)
    if label != "服务流程" and not about:
        b.fact(svc, "note", txt, lines)


# ---------------------------------------------------------------------------------------
def _coverage(b: Builder, d: _Doc, svc: m.Service, n: int, end: int, fields, prev_city_list, lists):
    """Coverage lists of one numbered service. Returns the last city list seen (for "同上")."""
    t = b.text
    regions = [(j, lab, a, z) for j, lab, a, z in fields if lab in ("覆盖地域", "覆盖区域")]
    for j, lab, a, z in regions:
        note = t.find(r"^备注", a, z + 3)
        z = d.last(a, (note - 1) if note else z)
        tokens = _grid_tokens(d, a, z)
        if tokens and all(_province_full(tok) for _l, tok in tokens):
            # A region given as whole provinces (municipalities included): one entry per province.
            entries = [CityEntry(raw=tok, line=ln, province=_province_full(tok), note="province") for ln, tok in tokens]
        else:
            entries = _city_entries(tokens)
        prev_city_list = b.city_list(f"{svc.name} {lab}", (j, note or z), entries, services=[svc])
    for j, s in t.iter(n, end):
        mm = re.match(r"^\s*\d\)\s*城市列表[：:]\s*(.*)$", s)
        if not mm:
            continue
        if "同上" in mm.group(1):
            if prev_city_list is not None:
                b.link(svc, prev_city_list)
                b.fact(svc, "coverage", clean(s), (j, j), {"same_as": prev_city_list.name})
            continue
        note = t.find(r"^备注", j + 1, end + 3) or end
        z = d.last(j, note - 1)
        tokens = _grid_tokens(d, j + 1, z, skip=r"省/直辖市|^[—-]+$")
        prev_city_list = b.city_list(f"{svc.name} 城市列表", (j, note), _city_entries(tokens), services=[svc])
    # a hospital table inside the service ("指定医院清单" / "序号 地区 医院名称")
    hdr = t.find(r"^\s*序号\s+地区\s+医院名称\s*$", n, end)
    if hdr:
        title_ln = t.find(r"医院清单\s*$", n, hdr) or hdr
        rows = []
        for k, s in t.iter(hdr + 1, end):
            mm = re.match(r"^\s*\d+\s+(\S+)\s+(\S+)\s*$", s)
            if mm:
                region = mm.group(1)
                rows.append(HospitalEntry(name=mm.group(2), line=k,
                                          province=province_names().get(region, region.replace("中国", ""))))
            elif s.strip() and rows:
                break
        if rows:
            b.hospital_list(f"{svc.name} {clean(t.line(title_ln))}", (title_ln, rows[-1].line), rows, services=[svc])
    return prev_city_list


def _province_full(tok: str) -> Optional[str]:
    p = province_names()
    if tok in p:
        return p[tok]
    for suf in ("省", "自治区"):
        if tok.endswith(suf) and tok[: -len(suf)] in p:
            return p[tok[: -len(suf)]]
    return None


def _is_city_too(tok: str) -> bool:
    """吉林 / 北京 ... are both a province and a city."""
    from knowledge import geo

    if tok.endswith("省") or tok.endswith("自治区"):
        return False
    r = geo.resolve_city(tok)
    return r.status == "ok"


def _grid_tokens(d: _Doc, a: int, z: int, skip: str | None = None) -> list[tuple[int, str]]:
    """Whitespace tokens of a flattened grid, with wrapped names joined.

    A name wrapped over lines ("巴音郭楞蒙" / "古自治州") sits alone on its line; it is joined with the
    next lone token when the head does not end like a place name and together they end in 自治州.
    """
    toks: list[tuple[int, str, bool]] = []
    for n, s in d.lines(a, z):
        if skip and re.search(skip, s):
            continue
        parts = [p for p in s.split() if not (skip and re.search(skip, p))]
        for p in parts:
            toks.append((n, p, len(parts) == 1))
    out: list[tuple[int, str]] = []
    i = 0
    while i < len(toks):
        n, tok, alone = toks[i]
        if alone and not tok.endswith(_END_SUFFIX) and len(tok) >= 4 and i + 1 < len(toks):
            nn, nxt, nalone = toks[i + 1]
            if nalone and (tok + nxt).endswith("自治州"):
                out.append((n, tok + nxt))
                i += 2
                continue
        out.append((n, tok))
        i += 1
    return out


def _city_entries(tokens: list[tuple[int, str]]) -> list[CityEntry]:
    """Cities of a grid: province headers dropped (unless also a city name), repeats kept once."""
    out: list[CityEntry] = []
    seen: set[str] = set()
    for n, tok in tokens:
        if _province_full(tok) and not _is_city_too(tok):
            continue
        if tok in seen:
            continue
        seen.add(tok)
        out.append(CityEntry(raw=tok, line=n))
    return out
