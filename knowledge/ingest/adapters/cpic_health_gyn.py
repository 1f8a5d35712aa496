"""Adapter for 太保互联网特定妇科癌症复发医疗保险 健康管理服务手册 (layout cpic_health_gyn).

Layout:
- a bullet list of the services and a summary table (服务简表, tab separated:
  序号 / 服务名称 / 服务次数 / 服务触发条件 / 服务对象 / 服务启用时间);
- 第一章: one section per service ("一、COC 肿瘤随访服务"), each with numbered parts
  1、服务内容 / 2、服务流程 / 3、服务说明 / 4、服务标准 whose items are "(1) ..." lines
  (an item may continue on the next non-empty line);
- 第二章 注意事项; 第三章 附件: 附表 1 hospitals (省份 / 城市 / 医院) and 附表 2 cities in a
  four-column table (省份 / 城市 / 省份 / 城市) flattened with drifting columns.

The summary table and the detail sections are both kept as facts; where they
disagree (e.g. the trigger of 就医陪诊) both readings stay.

Values are read with knowledge.ingest.readers; this module knows the outline and the tables.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from knowledge import models as m
from knowledge.ingest import readers
from knowledge.ingest.builder import Builder, CityEntry, HospitalEntry
from knowledge.ingest.lexicon import category_of, contact_label, is_municipality, name_aliases, province_names
from knowledge.ingest.text import clean, squash

def split_names(s: str) -> list[str]:
    return [x.strip() for x in re.split(r"[、，,及和与]", s) if x.strip()]


# ---------------------------------------------------------------------------
# This manual
# ---------------------------------------------------------------------------

_CHAPTER = re.compile(r"^第([一二三四五六七八九十]+)章\s*(.+)$")
_SERVICE = re.compile(r"^([一二三四五六七八九十]+)、\s*(.+)$")
_PART = re.compile(r"^(\d)、\s*(服务内容|服务流程|服务说明|服务标准)\s*$")
_ITEM = re.compile(r"^[-\s]*[（(]\s*(\d+)\s*[)）]\s*(.*)$")
_SUBITEM = re.compile(r"^\s*[（(]\s*([a-z])\s*[)）]")
_APPENDIX = re.compile(r"^附表\s*(\d+)\s*[：:]\s*(.+)$")
_QUOTED = re.compile(r"“([^”]+)”")
# what an unlabelled item of 服务说明 / 服务标准 can be about (readers.topics)
REMARK_TOPICS = ("response_time", "cancellation", "fees", "exclusions")


def _key(name: str) -> str:
    k = squash(name).replace("（", "(").replace("）", ")")
    return k[:-2] if k.endswith("服务") else k


@dataclass
class Item:
    label: str
    text: str
    lines: tuple[int, int]


def _items(b: Builder, start: int, end: int) -> list[Item]:
    """Numbered items '(1) 标签：内容' in start..end; unnumbered continuation lines join the item."""
    items: list[Item] = []
    for n, raw in b.text.iter(start, end):
        s = raw.strip()
        if not s:
            continue
        mm = _ITEM.match(s)
        if mm and not _SUBITEM.match(s):
            body = mm.group(2).strip()
            label, sep, rest = body.partition("：")
            if sep and len(label) <= 8:
                items.append(Item(label, rest.strip(), (n, n)))
            else:
                items.append(Item("", body, (n, n)))
        elif items:
            it = items[-1]
            it.text = it.text + squash(s) if not re.match(r"^[（(]", s) else it.text + "\n" + s
            it.lines = (it.lines[0], n)
    return items


def ingest(b: Builder) -> None:
    t = b.text
    if not any(line.strip() for line in t.lines):
        b.warn("manual text is empty")
        return
    product = b.product()
    title = product.name
    headings: list[tuple[int, str]] = []
    service_at: dict[int, m.Service] = {}

    # -- front matter: service bullet list and the summary table -------------------
    hdr = t.find(r"^序号\t服务名称")
    # the bullet list of services in the foreword, before the summary table
    intro_end = (t.find(r"服务简表") or hdr or len(t) + 1) - 1
    intro_names = [(n, clean(s.lstrip("- "))) for n, s in t.iter(1, intro_end) if s.startswith("- ")]
    summary: dict[str, tuple[int, list[str]]] = {}
    if hdr:
        cols = t.line(hdr).split("\t")
        n = hdr + 1
        while n <= len(t) and t.line(n).strip():
            cells = [c.strip() for c in t.line(n).split("\t")]
            if len(cells) == len(cols) and cells[0].isdigit():
                summary[_key(cells[1])] = (n, cells)
            n += 1
        table_title_line = t.find(r"服务简表", 1, hdr) or hdr
        headings.append((table_title_line, clean(t.line(table_title_line)).rstrip("：:")))
    headings.append((1, title))
    for pat in (r"^敬请注意", r"^服务期限"):
        ln = t.find(pat)
        if ln:
            headings.append((ln, clean(t.line(ln)).rstrip("：:")))

    # -- chapters ---------------------------------------------------------------
    chapters = [(n, clean(s)) for n, s in t.iter() if _CHAPTER.match(clean(s))]
    ch_bounds = {ln: (chapters[i + 1][0] - 1 if i + 1 < len(chapters) else len(t)) for i, (ln, _) in enumerate(chapters)}
    ch1 = next(((ln, tt) for ln, tt in chapters if "服务" in tt and "概要" in tt), chapters[0] if chapters else None)
    appendix_ch = next(((ln, tt) for ln, tt in chapters if "附件" in tt), None)
    for ln, tt in chapters:
        if ch1 and ln == ch1[0] or appendix_ch and ln == appendix_ch[0]:
            continue
        headings.append((ln, tt))

    # -- appendix tables (parsed first so services can link to them) -------------
    tables: dict[int, m.CoverageList] = {}
    applies_to: dict[int, list[str]] = {}
    if appendix_ch:
        a_start, a_end = appendix_ch[0], ch_bounds[appendix_ch[0]]
        apx = [(n, ma) for n, s in t.iter(a_start, a_end) if (ma := _APPENDIX.match(clean(s)))]
        for i, (ln, mm) in enumerate(apx):
            stop = apx[i + 1][0] - 1 if i + 1 < len(apx) else a_end
            num, name = int(mm.group(1)), clean(mm.group(2))
            note_ln = t.find(r"^备注", ln, stop)
            body_end = b.text.trim(ln, note_ln - 1 if note_ln else stop)
            headings.append((ln, f"{appendix_ch[1]} > {clean(t.line(ln))}"))
            hline = t.find(r"\S", ln + 1, body_end)
            cols = [c.strip() for c in t.line(hline).split("\t")] if hline else []
            if note_ln:
                applies_to[num] = _QUOTED.findall(t.line(note_ln))
            if hline and cols[:3] == ["省份", "城市", "医院"]:  # cols is empty when hline is None
                entries = _hospital_rows(b, hline + 1, body_end)
                # each hospital row carries its city: the list alone answers city questions
                # (a derived city list linked as well double-counted every city's hospitals)
                tables[num] = b.hospital_list(name, (ln, note_ln or body_end), entries)
            elif hline and cols == ["省份", "城市", "省份", "城市"]:
                cities = _two_column_cities(b, hline + 1, body_end)
                tables[num] = b.city_list(name, (ln, note_ln or body_end), cities)
            else:
                b.warn(f"appendix table {num} at line {ln}: unknown header {cols!r}")

    # -- services -----------------------------------------------------------------
    if ch1:
        s_start, s_end = ch1[0], ch_bounds[ch1[0]]
        svc_heads = [(n, ms) for n, s in t.iter(s_start + 1, s_end)
                     if (ms := _SERVICE.match(clean(s))) and not _PART.match(clean(s))]
        for i, (ln, mm) in enumerate(svc_heads):
            stop = b.text.trim(ln, svc_heads[i + 1][0] - 1 if i + 1 < len(svc_heads) else s_end)
            svc = _service(b, product, ln, stop, clean(mm.group(2)), summary, intro_names, tables)
            path = f"{ch1[1]} > {clean(t.line(ln))}"
            for pn, ps in t.iter(ln + 1, stop):
                if _PART.match(clean(ps)):
                    headings.append((pn, f"{path} > {clean(ps)}"))
                    service_at[pn] = svc
        # Table notes name the services a list applies to ("该列表适用于“门诊绿通”…").
        by_key = {_key(s.name): s for s in b.services.values()}
        for num, names in applies_to.items():
            for nm in names:
                named = by_key.get(_key(nm))
                if named is None:
                    b.warn(f"appendix {num} names unknown service {nm!r}")
                    continue
                if num in tables:
                    b.link(named, tables[num])

    # -- general notes that apply to every service (第二章 注意事项) ------------------
    for ln, tt in chapters:
        if "注意事项" not in tt:
            continue
        for n, s in t.iter(ln + 1, ch_bounds[ln]):
            if re.search(r"仅限被保险人本人使用", s):
                for svc in b.services.values():
                    b.fact(svc, "beneficiary", clean(s.lstrip("- ")), (n, n), {"beneficiary": "insured", "from": "notes"})
    for n, s in t.iter(1, first_chapter_line(chapters, len(t))):
        if re.search(r"未成年人.{0,12}代为申请", s):
            for svc in b.services.values():
                b.fact(svc, "how_to_apply", clean(s), (n, n), {"minor_applies_via": "guardian"})

    # -- contacts ------------------------------------------------------------------
    for n, s in t.iter():
        mw = re.search(r"微信(?:服务号|公众号)?“([^”]+)”|“([^”]+)”微信(?:服务号|公众号)", s)
        if mw:
            b.contact("wechat", contact_label("wechat_service"), mw.group(1) or mw.group(2), (n, n))
            break

    # -- passages -------------------------------------------------------------------
    def service_for(line: int, _title: str) -> Optional[m.Service]:
        return service_at.get(line)

    from knowledge.ingest.sections import add_passages

    # Front matter ends where the first chapter starts.
    first_ch = chapters[0][0] if chapters else len(t) + 1
    add_passages(b, [h for h in headings if h[0] < first_ch], end=first_ch - 1)
    add_passages(b, [h for h in headings if h[0] >= first_ch], service_for=service_for)
    # One passage per summary row, tied to its service, so "服务简表" questions cite the row.
    for svc in b.services.values():
        row = summary.get(_key(svc.name))
        if row and hdr:  # summary rows exist only when the table header (hdr) was found
            b.passage(f"健康管理服务简表 > {svc.name}", (row[0], row[0]), service=svc,
                      text=f"{t.line(hdr).strip()}\n{t.line(row[0]).strip()}")


def _service(b: Builder, product: m.Product, ln: int, stop: int, name: str, summary: dict, intro_names: list,
             tables: dict) -> m.Service:
    t = b.text
    key = _key(name)
    parts: dict[str, tuple[int, int]] = {}
    marks = [(n, mp.group(2)) for n, s in t.iter(ln + 1, stop) if (mp := _PART.match(clean(s)))]
    for i, (pn, pname) in enumerate(marks):
        pend = b.text.trim(pn, marks[i + 1][0] - 1) if i + 1 < len(marks) else stop
        parts[pname] = (pn, pend)

    aliases = set(name_aliases(name))
    row = summary.get(key)
    if row:
        aliases.add(clean(row[1][1]))
        aliases.update(name_aliases(row[1][1]))
    intro = [(n, nm) for n, nm in intro_names if _key(nm) == key]
    for _, nm in intro:
        aliases.add(nm)

    fields: dict = {"aliases": sorted(aliases), "category": category_of(name), "product_id": product.id}
    facts: list[tuple[str, str, tuple[int, int], object]] = []

    # content
    if "服务内容" in parts:
        a, z = parts["服务内容"]
        body = [clean(s) for _, s in t.iter(a + 1, z) if s.strip()]
        fields["description"] = "\n".join(body)
        facts.append(("content", "\n".join(body), (a, z), None))
        for n, s in t.iter(a + 1, z):
            if re.search(r"被保险人/家属|家属", s):
                facts.append(("beneficiary", clean(s), (n, n), {"beneficiary": readers.beneficiary(s)}))
    if "服务流程" in parts:
        a, z = parts["服务流程"]
        steps = [clean(s.lstrip("- ")) for _, s in t.iter(a + 1, z) if s.strip()]
        fields["how_to_apply"] = "\n".join(steps)
        facts.append(("how_to_apply", "\n".join(steps), (a, z), None))

    # summary row
    if row:
        rn, cells = row
        limit_txt, trigger_txt, who_txt, start_txt = cells[2], cells[3], cells[4], cells[5]
        u = readers.usage(limit_txt) or {"limit": None, "period": None}
        facts.append(("usage_limit", limit_txt, (rn, rn), {**u, "from": "summary"}))
        dd = readers.diagnosis(trigger_txt)
        facts.append(("trigger", trigger_txt, (rn, rn), dict(dd, **{"from": "summary"})))
        if dd:
            facts.append(("diagnosis", trigger_txt, (rn, rn), dict(dd, **{"from": "summary"})))
        who = readers.beneficiary(who_txt)
        facts.append(("beneficiary", who_txt, (rn, rn), {"beneficiary": who, "from": "summary"}))
        w = readers.waiting(start_txt)
        facts.append(("start_time", start_txt, (rn, rn), dict(w, **{"from": "summary"})))
        if w:
            facts.append((readers.waiting_attribute(w), start_txt, (rn, rn), w))
        fields.update(readers.waiting_columns(w))
        fields["beneficiary"], fields["beneficiary_text"] = who, who_txt
        fields["usage_limit"], fields["usage_period"], fields["usage_text"] = u["limit"], u["period"], limit_txt
        fields["diagnosis_kind"] = readers.diagnosis_kind(dd)

    # 服务说明 / 服务标准 items
    usage_rule: dict = {}
    responses: list[str] = []
    coverage_refs: list[tuple[str, tuple[int, int]]] = []
    for part in ("服务说明", "服务标准"):
        if part not in parts:
            continue
        a, z = parts[part]
        for it in _items(b, a + 1, z):
            txt, lab = it.text, it.label
            attr = readers.field(lab) or next(iter(readers.topics(txt, REMARK_TOPICS)), None)
            if attr == "trigger":
                for attr2, data in readers.trigger(txt):
                    facts.append((attr2, txt, it.lines, dict(data or {}, **{"from": "detail"})))
                    if attr2 == "diagnosis":
                        # the detail section is the more specific reading; the summary one stays a fact
                        fields["diagnosis_kind"] = readers.diagnosis_kind(data)
                    elif attr2 != "trigger":
                        for k, v in readers.waiting_columns(data).items():
                            fields.setdefault(k, v)
            elif attr == "usage_limit":
                u = readers.usage(txt) or {"limit": None, "period": None}
                facts.append(("usage_limit", txt, it.lines, {**u, "from": "detail"}))
                fields["usage_limit"], fields["usage_period"], fields["usage_text"] = u["limit"], u["period"], txt
            elif attr == "coverage":
                facts.append(("coverage", txt, it.lines, None))
                coverage_refs.append((txt, it.lines))
            elif attr == "service_hours":
                facts.append(("service_hours", txt, it.lines, None))
            elif attr == "response_time":
                facts.append(("response_time", txt, it.lines, None))
                responses.append(txt)
            elif attr == "cancellation":
                rule = readers.cancellation(txt)
                facts.append(("cancellation", txt, it.lines, rule))
                usage_rule.update(rule)
            elif attr in ("fees", "exclusions"):
                facts.append((attr, txt, it.lines, None))
                fields[attr] = txt
            else:  # a remark with no attribute of its own keeps its label in the data
                facts.append(("note", txt, it.lines, {"label": lab} if lab else None))
    if responses:
        fields["response_time"] = "；".join(r.rstrip("。；;") for r in responses)
    if usage_rule:
        fields["usage_rule"] = usage_rule

    svc = b.service(key, name, (ln, stop), **fields)
    for attr_name, val, lines, data in facts:
        b.fact(svc, attr_name, val, lines, data)
    for n, _nm in intro:
        b.fact(svc, "alias", _nm, (n, n))  # the name the foreword's list of services uses

    # coverage: "见“第三章附件 附表 1 …”" or an inline list of places; otherwise leave unspecified
    for txt, lines in coverage_refs:
        ref = re.search(r"附表\s*(\d+)", txt)
        if ref:
            num = int(ref.group(1))
            if num in tables:
                b.link(svc, tables[num])
            if num not in tables:
                b.warn(f"{name}: coverage refers to missing 附表 {num}")
            continue
        mm = re.search(r"覆盖(?:中国)?(.+?)(?:[一二三四五六七八九十\d]+个(?:地区|城市))?[。；]?$", squash(txt))
        if mm and "全国" not in mm.group(1):
            places = split_names(mm.group(1))
            b.city_list(f"{name} 服务地域", lines, [CityEntry(raw=p, line=lines[0]) for p in places], services=[svc])
        elif "全国" in txt:
            svc.coverage_scope = "nationwide"
    return svc


def first_chapter_line(chapters: list, default: int) -> int:
    return chapters[0][0] - 1 if chapters else default


def _split_note(name: str) -> tuple[str, list[str], Optional[str]]:
    """'皖南医学院第一附属医院（弋矶山医院）' -> base name, aliases, note.
    A parenthesis naming a hospital is an alias; anything else (a campus) is a note."""
    name = clean(name)
    mm = re.search(r"[（(]([^)）]+)[)）]\s*$", name)
    if not mm:
        return name, [], None
    base = name[: mm.start()].strip()
    inner = squash(mm.group(1))
    if re.search(r"医院$", inner):
        return base, [inner, squash(name)], None
    return base, [squash(name)], inner


def _hospital_rows(b: Builder, start: int, end: int) -> list[HospitalEntry]:
    out: list[HospitalEntry] = []
    for n, s in b.text.iter(start, end):
        cells = [c.strip() for c in s.split("\t")]
        if len(cells) != 3 or not all(cells):
            if s.strip():
                b.warn(f"hospital row at line {n} not understood: {s.strip()!r}")
            continue
        prov, city, hosp = cells
        base, aliases, note = _split_note(hosp)
        out.append(HospitalEntry(name=base, line=n, province=province_names().get(prov, prov), city=city,
                                 note=note, aliases=aliases))
    return out


@dataclass
class _Cell:
    line: int
    pos: int
    text: str
    province: bool
    stream: int  # 0 left half of the table, 1 right half


def _two_column_cities(b: Builder, start: int, end: int) -> list[CityEntry]:
    """De-interleave a 省份/城市/省份/城市 table flattened with drifting tab columns.

    Cells at tab positions 0-1 belong to the left half, 2+ to the right half. A province
    cell starts a group in its half; a province cell that drifted into the wrong half is
    put in the half whose following cities belong to it (checked through knowledge.geo).
    A municipality written twice on a row ("上海市 上海市") is a province and a city.
    """
    from knowledge import geo

    provs = province_names()
    cells: list[_Cell] = []
    for n, s in b.text.iter(start, end):
        if not s.strip():
            continue
        parts = s.split("\t")
        nonempty = [(i, c.strip()) for i, c in enumerate(parts) if c.strip()]
        for j, (i, word) in enumerate(nonempty):
            nxt = nonempty[j + 1][1] if j + 1 < len(nonempty) else None
            is_prov = word in provs and (not is_municipality(word)
                                         or (nxt is not None and provs.get(nxt) == provs[word]))
            cells.append(_Cell(n, i, word, is_prov, 0 if i < 2 else 1))

    def prov_of(text: str) -> Optional[str]:
        r = geo.resolve_city(text)
        return r.city.province if r.status == "ok" and r.city else None

    for k, c in enumerate(cells):
        if not c.province:
            continue
        full = provs[c.text]
        score = [0, 0]
        for stream in (0, 1):
            following = [x for x in cells[k + 1:] if x.stream == stream and not x.province][:6]
            score[stream] = sum(1 for x in following if prov_of(x.text) == full)
        if score[1 - c.stream] > score[c.stream]:
            c.stream = 1 - c.stream

    # Two city cells on one row: the first is the left half, the second the right half.
    by_line: dict[int, list[_Cell]] = {}
    for c in cells:
        if not c.province:
            by_line.setdefault(c.line, []).append(c)
    for row in by_line.values():
        if len(row) == 2:
            row[0].stream, row[1].stream = 0, 1

    current: list[Optional[str]] = [None, None]
    out: list[CityEntry] = []
    for c in cells:
        if c.province:
            current[c.stream] = provs[c.text]
            continue
        if len(by_line.get(c.line, [])) == 1:
            # A lone city that drifted: if geo places it in the other half's province, it belongs there.
            p = prov_of(c.text)
            if p and p != current[c.stream] and p == current[1 - c.stream]:
                c.stream = 1 - c.stream
        out.append(CityEntry(raw=c.text, line=c.line, province=current[c.stream]))
    return out
