"""Adapter for 众安 增值服务介绍汇编 (manual 003): a concatenation of service introductions.

Shape of the text (PDF extraction):
- each intro starts with a short title line ("重疾绿通服务介绍", "癌症早筛服务", "门诊挂号协助介绍"),
  usually followed by "最新更新日期/更新时间" and numbered headings ("1. 什么是…？", "5、如何申请…",
  "一、服务内容"); one intro has no title at all (it starts with a bare "服务介绍" after the previous
  intro's appendix), its name is taken from its own text ("“药惠购”服务入口");
- tables are tab-separated rows; page breaks show up as blank lines inside tables; some rows are
  split over two lines; two-up tables (序号 省 市 序号 省 市) hold two rows per line;
- appendices (hospital, city, drug and disease lists) follow the intro they belong to;
- one intro is repeated under a second name with continued numbering (重疾住院护工服务): when its
  parsed rules equal the first one it is stored once, its name kept as an alias.

Every line of an intro is read with the rows of knowledge.ingest.readers; this module knows the
intros, headings and tables.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from re import Match
from typing import Any, Optional, cast

from knowledge import models as m
from knowledge.ingest import facts
from knowledge.ingest.builder import Builder, CityEntry, DiseaseEntry, HospitalEntry
from knowledge.ingest.lexicon import category_of, channel_kind, channel_re, contact_label, municipal_city, name_aliases, \
    split_hospital_name
from knowledge.ingest.sections import add_faq_once, qa_items, repeated_section, section_ranges, section_text
from knowledge.ingest.text import clean, header_cells, is_table, n_up, nfkc, squash, tab_rows

# -- headings ----------------------------------------------------------------------------------

_CJK_NUM = "一二三四五六七八九十"
TITLE_RE = re.compile(r"^[^\t，。：；:,（(]{2,30}(服务介绍|介绍|服务)$")
DATE_RE = re.compile(r"^(最新更新日期|更新时间)\s*[：:]\s*(.+)$")
NUM_HEAD_RE = re.compile(r"^(\d{1,2})\s*[.、．]\s*(\S.*)$")
CN_HEAD_RE = re.compile(rf"^([{_CJK_NUM}]{{1,3}})、\s*(\S.*)$")
LABEL_RE = re.compile(r"^(\S{1,14})[：:]$")
BARE_INTRO = "服务介绍"
HEAD_WORDS = ("什么", "如何", "申请", "范围", "服务", "介绍", "流程", "清单", "说明", "内容", "事项", "声明",
              "免责", "标准", "比例", "条件", "材料", "期限", "提示", "问题", "Q&A")
SENT_PUNCT = re.compile(r"[，。；;,]")
QUESTION_END = ("？", "?")


@dataclass
class Heading:
    line: int
    title: str
    kind: str  # num | cn | label | caption | appendix


@dataclass
class Intro:
    start: int  # title line (or the bare 服务介绍 line)
    end: int
    name: str
    untitled: bool = False
    date: Optional[str] = None
    date_line: Optional[int] = None
    headings: list[Heading] = field(default_factory=list)
    body_end: int = 0  # last line before the first appendix
    service: Optional[m.Service] = None
    readings: list[tuple[str, str, int, int, Any]] = field(default_factory=list)


def _is_structural(s: str) -> bool:
    """A line that opens an intro body: date line, bare 服务介绍, or a first-level heading."""
    s = s.strip()
    return bool(DATE_RE.match(s) or s == BARE_INTRO or CN_HEAD_RE.match(s)
                or (NUM_HEAD_RE.match(s) and not SENT_PUNCT.search(s) and len(s) <= 40))


def find_intros(b: Builder) -> list[Intro]:
    starts: list[tuple[int, str, bool]] = []
    for n, raw in b.text.iter():
        s = raw.strip()
        if not s or is_table(raw):
            continue
        if s == BARE_INTRO:
            p = b.text.prev_nonblank(n)
            if p is not None and TITLE_RE.match(b.text.line(p).strip()) and not is_table(b.text.line(p)):
                continue  # sub-heading right under a title
            starts.append((n, "", True))
            continue
        if NUM_HEAD_RE.match(s) or CN_HEAD_RE.match(s) or not TITLE_RE.match(s):
            continue
        nx = b.text.next_nonblank(n)
        if nx is not None and _is_structural(b.text.line(nx)) and not is_table(b.text.line(nx)):
            starts.append((n, s, False))
    intros = []
    for i, (n, title, untitled) in enumerate(starts):
        end = starts[i + 1][0] - 1 if i + 1 < len(starts) else len(b.text)
        while end > n and not b.text.line(end).strip():
            end -= 1
        intro = Intro(start=n, end=end, name=_service_name(title) if title else "", untitled=untitled)
        if untitled:
            intro.name = _name_from_body(b, n, end)
        for k, raw in b.text.iter(n + 1, min(end, n + 4)):
            dm = DATE_RE.match(raw.strip())
            if dm:
                intro.date, intro.date_line = clean(dm.group(2)), k
        intros.append(intro)
    return intros


def _service_name(title: str) -> str:
    t = clean(title)
    for suffix in ("服务介绍", "介绍"):
        if t.endswith(suffix):
            t = t[: -len(suffix)]
            break
    return t.strip() or clean(title)


_QUOTED_ENTRY = re.compile(r"[“\"]([\u4e00-\u9fff]{2,10})[”\"]服务入口")
_RIGHTS = re.compile(r"([\u4e00-\u9fff]{2,6}?)权益(?:服务|所产生)")


def _name_from_body(b: Builder, start: int, end: int) -> str:
    """Name of an intro without a title, from the way its own text refers to the service."""
    body = b.text.span(start, end)
    for rx in (_QUOTED_ENTRY, _RIGHTS):
        mm = rx.search(body)
        if mm:
            return mm.group(1)
    return f"未命名服务（第{start}行）"


def find_headings(b: Builder, intro: Intro) -> list[Heading]:
    hs: list[Heading] = []
    for n, raw in b.text.iter(intro.start + 1, intro.end):
        s = raw.strip()
        if not s or is_table(raw) or s.startswith(("-", "Q", "A:", "A：")):
            continue
        if DATE_RE.match(s):
            continue
        nx = b.text.next_nonblank(n, intro.end)
        next_is_table = nx is not None and is_table(b.text.line(nx))
        if s.startswith("附件") and len(s) <= 60 and "。" not in s:
            hs.append(Heading(n, s.rstrip("：:"), "appendix"))
        elif mc := CN_HEAD_RE.match(s):
            title = SENT_PUNCT.split(mc.group(2))[0]
            hs.append(Heading(n, f"{mc.group(1)}、{title[:24].strip()}", "cn"))
        elif NUM_HEAD_RE.match(s) and len(s) <= 40 and not SENT_PUNCT.search(s.rstrip("。")[:-1] + "x") \
                and not s.endswith(("。", "；", ";")) and (s.endswith(QUESTION_END) or any(w in s for w in HEAD_WORDS)):
            hs.append(Heading(n, s.rstrip("：:"), "num"))
        elif LABEL_RE.match(s) and not SENT_PUNCT.search(s) and not s.startswith(("(", "（")):
            hs.append(Heading(n, s.rstrip("：:"), "label"))
        elif s in (BARE_INTRO, "服务流程及时效"):
            hs.append(Heading(n, s, "label"))
        elif next_is_table and len(s) <= 40 and not SENT_PUNCT.search(s) and not s.startswith(("(", "（")):
            hs.append(Heading(n, s, "caption"))
    return hs


# -- tables ------------------------------------------------------------------------------------

def parse_hospital_table(b: Builder, header: int, end: int) -> tuple[list[HospitalEntry], int]:
    """医院名称 | 省份 | 城市; a row whose province and city are empty continues the previous name."""
    rows, last = tab_rows(b.text, header, end)
    out: list[HospitalEntry] = []
    for n, cells in rows:
        cells = (cells + ["", "", ""])[:3]
        name, prov, city = (clean(c) for c in cells)
        if not prov and not city and out:
            out[-1].name += name  # row split across lines
            continue
        if not name:
            continue
        out.append(HospitalEntry(name=name, line=n, province=prov or None, city=municipal_city(prov, city) or None))
    for e in out:
        e.name, e.aliases = split_hospital_name(e.name)
    return out, last


def parse_grouped_hospital_table(b: Builder, header: int, end: int) -> tuple[list[HospitalEntry], int]:
    """省份 | 城市 | 医院 | 级别 with blank cells meaning "same as above"."""
    rows, last = tab_rows(b.text, header, end)
    out, prov, city = [], "", ""
    for n, cells in rows:
        cells = (cells + ["", "", "", ""])[:4]
        prov = clean(cells[0]) or prov
        city = clean(cells[1]) or city
        if clean(cells[2]):
            out.append(HospitalEntry(name=clean(cells[2]), line=n, province=prov or None, city=city or None,
                                     grade=clean(cells[3]) or None))
    return out, last


_UNIT_OF_HOSPITAL = re.compile(r"^(.{4,}?医院)([\u4e00-\u9fff]{2,16}(?:会诊中心|联合门诊))$")


def parse_team_table(b: Builder, header: int, end: int) -> tuple[list[HospitalEntry], int]:
    """医院 | 团队擅长: blank hospital = same as above; a team written in the first column of a row with an
    empty second column belongs to the hospital above (column drift in extraction)."""
    rows, last = tab_rows(b.text, header, end)
    by_name: dict[str, HospitalEntry] = {}
    order: list[HospitalEntry] = []
    current: Optional[HospitalEntry] = None
    for n, cells in rows:
        cells = (cells + ["", ""])[:2]
        first, team = clean(cells[0]), clean(cells[1])
        if first and not team and current is not None:
            team, first = first, ""
        unit = ""
        if first:
            # a clinic or centre of a hospital is that hospital (北京同仁医院眼科会诊中心 -> 北京同仁医院)
            mm = _UNIT_OF_HOSPITAL.match(first)
            if mm:
                first, unit = mm.group(1), first
            current = by_name.get(first)
            if current is None:
                current = HospitalEntry(name=first, line=n, note="")
                by_name[first] = current
                order.append(current)
            if unit and unit not in current.aliases:
                current.aliases.append(unit)
                team = f"{unit[len(first):]}：{team}" if team else team
        if current is not None and team:
            current.note = f"{current.note}；{team}" if current.note else team
    return order, last


def parse_city_table(b: Builder, header: int, end: int) -> tuple[list[CityEntry], int]:
    """序号 | 省 | 市 repeated side by side; returns entries ordered by their 序号."""
    hdr = header_cells(b.text.line(header))
    width = hdr[1:].index("序号") + 1 if "序号" in hdr[1:] else len(hdr)
    rows, last = tab_rows(b.text, header, end)
    out: list[tuple[int, CityEntry]] = []
    for n, cells in rows:
        for g in n_up(cells, width):
            g = (g + ["", "", ""])[:3]
            if not g[0].strip().isdigit() or not clean(g[2]):
                continue
            out.append((int(g[0]), CityEntry(raw=clean(g[2]), line=n, province=clean(g[1]) or None)))
    out.sort(key=lambda t: t[0])
    return [e for _, e in out], last


def parse_mark_table(b: Builder, first: int, end: int) -> tuple[list[CityEntry], int]:
    """City rows followed by √/× marks (a table whose header row is missing from the text)."""
    out, last = [], first
    for n, raw in b.text.iter(first, end):
        if not raw.strip():
            continue
        if not is_table(raw):
            break
        cells = [c.strip() for c in raw.split("\t")]
        marks = [c for c in cells[1:] if c]
        if not marks or not all(c in "√×" for c in marks):
            break
        last = n
        if "√" in marks:
            out.append(CityEntry(raw=squash(cells[0]), line=n, note="".join(marks)))
    return out, last


def parse_drug_table(b: Builder, header: int, end: int) -> tuple[list[tuple[int, int, str, str]], int]:
    """序号 | 分类 | 通用名, two-up. Returns (序号, line, category, name) sorted by 序号."""
    hdr = header_cells(b.text.line(header))
    width = hdr[1:].index("序号") + 1 if "序号" in hdr[1:] else len(hdr)
    rows, last = tab_rows(b.text, header, end)
    out = []
    for n, cells in rows:
        for g in n_up(cells, width):
            g = (g + ["", "", ""])[:3]
            if g[0].strip().isdigit() and clean(g[2]):
                out.append((int(g[0]), n, clean(g[1]), clean(g[2])))
    out.sort()
    return out, last


def parse_disease_table(b: Builder, header: int, end: int) -> tuple[list[tuple[int, DiseaseEntry]], int]:
    """序号 | 疾病名称, five-up."""
    rows, last = tab_rows(b.text, header, end)
    out = []
    for n, cells in rows:
        for g in n_up(cells, 2):
            g = (g + ["", ""])[:2]
            if g[0].strip().isdigit() and clean(g[1]):
                out.append((int(g[0]), DiseaseEntry(name=clean(g[1]), line=n)))
    out.sort(key=lambda t: t[0])
    return out, last


_INLINE_LIST = re.compile(r"(\d+)\s*个城市包括[：:]")


def parse_inline_cities(b: Builder, start: int, end: int, mm: Match[str]) -> tuple[list[CityEntry], int, int]:
    """'N 个城市包括：甲市、乙市、…' (mm: _INLINE_LIST in line start) possibly continued on the next non-blank lines."""
    first = b.text.line(start)
    stated = int(mm.group(1))
    out: list[CityEntry] = []
    text, n, last = first[mm.end():], start, start
    while True:
        for part in re.split(r"[、，,]", text):
            part = squash(part).rstrip("。；;")
            if part:
                out.append(CityEntry(raw=part, line=n))
        if not text.rstrip().endswith(("、", "，", ",")):
            break
        nx = b.text.next_nonblank(n, end)
        if nx is None:
            break
        n, text, last = nx, b.text.line(nx), nx
    return out, last, stated


# -- readings: (attribute, text, data) found in one line ------------------------------------------

# what a line of an intro can state (rows of knowledge.ingest.readers)
ATTRIBUTES = ("waiting_period", "beneficiary", "diagnosis", "usage_limit", "response_time", "review_time", "lead_time",
              "cancellation", "fees", "exclusions", "age", "coverage", "documents", "service_hours")


def read_line(line: str) -> list[tuple[str, str, Any]]:
    """(attribute, clause, data) readings of one line of an intro."""
    return facts.line_readings(line, ATTRIBUTES)


# -- category and aliases ------------------------------------------------------------------------

def aliases_for(b: Builder, name: str, intro: Intro) -> list[str]:
    out = set(name_aliases(name))
    short = re.sub(r"^[^·・]{2,12}[·・]", "", name)  # 众安互联网医院·视频问诊 -> 视频问诊
    if short != name:
        out.add(short)
    if name.endswith("服务"):
        out.add(name[:-2])
    # long names the intro itself uses: "我司提供重大疾病绿色就医通道服务"
    body = nfkc(b.text.span(intro.start, intro.body_end or intro.end))
    for mm in re.finditer(r"我司提供([\u4e00-\u9fff]{4,16}?服务)", body):
        alt = mm.group(1)
        if "和" not in alt and "专业" not in alt:
            out.add(alt)
    return sorted(a for a in out if a and a != name)


# -- the adapter ---------------------------------------------------------------------------------

def ingest(b: Builder) -> None:
    product = b.product()
    intros = find_intros(b)
    if not intros:
        b.warn("no service introduction found")
        b.passage(b.manual.title, (1, max(1, len(b.text))))
        return
    for intro in intros:
        intro.headings = find_headings(b, intro)
        appx = [h.line for h in intro.headings if h.kind in ("appendix", "caption") and _looks_like_list(b, h, intro)]
        intro.body_end = (min(appx) - 1) if appx else intro.end
        for n, raw in b.text.iter(intro.start, intro.body_end):
            if raw.strip():
                for attr, text, data in read_line(raw):
                    intro.readings.append((attr, text, n, n, data))

    # services (a repeated intro with the same rules is stored once, its name becomes an alias)
    signatures: dict[str, Intro] = {}
    canonical: dict[int, Intro] = {}
    for intro in intros:
        sig = _rule_signature(intro)
        first = signatures.get(sig)
        if first is not None and first.service is not None:
            canonical[intro.start] = first
            b.warn(f"intro {intro.name!r} at line {intro.start} repeats {first.name!r} (line {first.start}); stored once")
            first.service.aliases = sorted(set(first.service.aliases) | {intro.name})
            b.fact(first.service, "repeated_section", f"{intro.name}（与{first.name}内容相同）", (intro.start, intro.end),
                   data={"alias": intro.name})
            continue
        signatures[sig] = intro
        canonical[intro.start] = intro
        intro.service = _make_service(b, intro, product)

    _store_contacts(b, intros)
    seen_passages: dict[str, list[str]] = {}
    seen_faq: set[str] = set()
    seen_lists: set = set()
    for intro in intros:
        svc_intro = canonical[intro.start]
        svc = svc_intro.service
        assert svc is not None  # every canonical intro has its service
        names = [intro.name, svc_intro.name] + list(svc.aliases)
        _store_lists(b, intro, svc, seen_lists)
        _store_passages(b, intro, svc, names, seen_passages)
        _store_faqs(b, intro, svc, names, seen_faq)


def _looks_like_list(b: Builder, h: Heading, intro: Intro) -> bool:
    nx = b.text.next_nonblank(h.line, intro.end)
    return h.kind == "appendix" or (nx is not None and is_table(b.text.line(nx)) and
                                    any(w in h.title for w in ("列表", "名单", "清单", "明细")))


def _rule_signature(intro: Intro) -> str:
    parts = sorted({(a, repr(d)) for a, _, _, _, d in intro.readings})
    return repr(parts) + "|" + category_of(intro.name)


def _section_text(b: Builder, intro: Intro, words: tuple[str, ...]) -> tuple[str, int, int] | None:
    return section_text(b.text, [(h.line, h.title) for h in intro.headings], intro.body_end, words)


def _make_service(b: Builder, intro: Intro, product: m.Product) -> m.Service:
    R = intro.readings
    f: dict[str, Any] = {"category": category_of(intro.name), "product_id": product.id}
    # description: the first paragraph after "什么是…" / "服务介绍" / "服务说明" / "服务内容", else the first prose line
    desc = _section_text(b, intro, ("什么是", "服务介绍", "服务说明", "服务内容", "服务简介"))
    if desc:
        f["description"] = desc[0].split("\n")[0][:800]
    else:
        for n, raw in b.text.iter(intro.start + 1, intro.body_end):
            if len(raw.strip()) > 30 and not is_table(raw):
                f["description"] = clean(raw)[:800]
                break
    f.update(facts.columns_from_readings(R))
    how = _section_text(b, intro, ("如何申请", "服务流程", "使用流程", "申请流程"))
    if how:
        f["how_to_apply"] = how[0][:3000]
    docs = _section_text(b, intro, ("材料",))
    if docs:
        f["documents"] = docs[0][:3000]
    slug = f"{intro.start:04d}-" + re.sub(r"[^\w]", "", intro.name)[:40]
    svc = b.service(f"za003-{slug}", intro.name, (intro.start, intro.end),
                    aliases=aliases_for(b, intro.name, intro), **f)
    # every reading as a fact, with its own line
    for attr, text, a, z, data in R:
        b.fact(svc, attr, text, (a, z), data=data)
    if intro.date and intro.date_line is not None:  # set together
        b.fact(svc, "updated", intro.date, (intro.date_line, intro.date_line))
    if desc:
        b.fact(svc, "content", f.get("description", ""), (desc[1], desc[2]))
    if how:
        b.fact(svc, "how_to_apply", how[0][:3000], (how[1], how[2]))
    if docs:
        b.fact(svc, "documents", docs[0][:3000], (docs[1], docs[2]))
    trig = _section_text(b, intro, ("什么情况", "启动条件", "使用条件", "需满足"))
    if trig:
        b.fact(svc, "trigger", trig[0][:3000], (trig[1], trig[2]))
    _content_table_facts(b, intro, svc)
    return svc


def _content_table_facts(b: Builder, intro: Intro, svc: m.Service) -> None:
    """Rows of the service-content table (服务名称 | 项目说明 | 服务方式及次数 | 备注) as content facts."""
    for n, raw in b.text.iter(intro.start, intro.body_end):
        hdr = header_cells(raw) if is_table(raw) else []
        if not hdr or not any(c in ("服务名称", "服务项目", "服务内容") for c in hdr) or "序号" in hdr and "分类" in hdr:
            continue
        if not any(c.startswith(("项目说明", "服务内容", "服务次数", "服务额度")) for c in hdr[1:]):
            continue
        rows, _ = tab_rows(b.text, n, intro.body_end)
        item_col = next(i for i, c in enumerate(hdr) if c in ("服务名称", "服务项目", "服务内容"))
        for rn, cells in rows:
            cells = [clean(c) for c in cells]
            if item_col < len(cells) and cells[item_col] and not cells[item_col].isdigit():
                row = {hdr[i] if i < len(hdr) else f"col{i}": c for i, c in enumerate(cells) if c}
                b.fact(svc, "content", "｜".join(c for c in cells if c), (rn, rn), data=row)
        return


def _store_contacts(b: Builder, intros: list[Intro]) -> None:
    seen: set[tuple[str, str]] = set()
    phone = re.compile(r"(?<!\d)(400-\d{4}-\d{3}|1010-?9955)(?!\d)")
    short = b.manual.insurer.short_name
    hotline = short + contact_label("hotline")
    channels = channel_re(short)
    for intro in intros:
        svc = intro.service
        for n, raw in b.text.iter(intro.start, intro.body_end):
            s = nfkc(raw).replace("**", "")
            for mm in phone.finditer(s):
                val = mm.group(1).replace("-", "") if mm.group(1).startswith("1010") else mm.group(1)
                label = contact_label("supplier_hotline") if "供应商" in s or "服务商" in s else hotline
                if ("phone", val) not in seen:
                    seen.add(("phone", val))
                    b.contact("phone", label, val, (n, n), service=svc if val.startswith("400") else None)
            hm = re.search(r"电话接听时间[：:]\s*每天\s*([\d:：]+\s*-\s*[\d:：]+)", s)
            if hm and ("hours", "phone") not in seen:
                seen.add(("hours", "phone"))
                b.contact("hours", hotline + contact_label("answering_hours"), "每天 " + hm.group(1).replace("：", ":"),
                          (n, n))
            for app in channels.findall(s):  # 众安互联网医院微信小程序 / 众安健康微信公众号 / 众安保险 APP
                kind = cast(str, channel_kind(app))  # channels only matches names ending in a channel word
                if (kind, app.replace(" ", "")) not in seen:
                    seen.add((kind, app.replace(" ", "")))
                    b.contact(kind, app, app, (n, n))


def _store_lists(b: Builder, intro: Intro, svc: m.Service, seen: set) -> None:
    """Coverage, hospital, drug and disease lists inside an intro's span (tables found by their header).

    A list repeated for the same service (same entries) is stored once."""
    def fresh(kind: str, entries) -> bool:
        key = (svc.id, kind, tuple(getattr(e, "raw", None) or getattr(e, "name", None) or repr(e) for e in entries))
        if key in seen:
            return False
        seen.add(key)
        return True

    def title_above(n: int) -> str:
        hs = [h for h in intro.headings if h.line < n]
        t = hs[-1].title if hs else intro.name
        t = re.sub(r"^附件[一二三四五六七八九十\d]?\s*[：:]?\s*", "", t)
        t = re.sub(r"^(\d{1,2}\s*[.、．]|[一二三四五六七八九十]{1,3}、)\s*", "", t)
        t = re.sub(r"[《》]", "", t).strip("：: ")
        return t or intro.name

    n = intro.start
    while n <= intro.end:
        raw = b.text.line(n)
        if mi := _INLINE_LIST.search(raw):
            entries, last, stated = parse_inline_cities(b, n, intro.end, mi)
            b.city_list(f"{svc.name}·覆盖城市（{stated}个）" if stated else f"{svc.name}·覆盖城市", (n, last), entries,
                        services=[svc])
            if stated is not None and stated != len(entries):
                b.warn(f"{svc.name}: list says {stated} cities, parsed {len(entries)}")
            n = last + 1
            continue
        if not is_table(raw):
            n += 1
            continue
        hdr = header_cells(raw)
        name = f"{svc.name}·{title_above(n)}"
        if hdr[:3] == ["医院名称", "省份", "城市"]:
            hs, last = parse_hospital_table(b, n, intro.end)
            if fresh("h", hs):
                b.hospital_list(name, (n, last), hs, services=[svc])
        elif hdr[:2] == ["省份", "城市"] and "医院级别" in hdr:
            hs, last = parse_grouped_hospital_table(b, n, intro.end)
            b.hospital_list(name, (n, last), hs, services=[svc])
        elif hdr[:2] == ["医院", "团队擅长"]:
            hs, last = parse_team_table(b, n, intro.end)
            b.hospital_list(name, (n, last), hs, services=[svc])
        elif hdr[0] == "序号" and len(hdr) >= 3 and hdr[1] in ("省", "省份") and hdr[2] in ("市", "城市"):
            entries, last = parse_city_table(b, n, intro.end)
            if fresh("c", entries):
                b.city_list(name, (n, last), entries, services=[svc])
        elif hdr[0] == "序号" and len(hdr) >= 3 and hdr[1] == "分类" and hdr[2] == "通用名":
            rows, last = parse_drug_table(b, n, intro.end)
            pairs: set[tuple[str, str]] = set()  # a drug row repeated in the table is stored once
            for _, rn, cat, drug in rows:
                if (drug, cat) not in pairs:
                    pairs.add((drug, cat))
                    b.drug(name, drug, (rn, rn), indication=cat)
        elif hdr[0] == "序号" and len(hdr) >= 2 and hdr[1] == "疾病名称":
            drows, last = parse_disease_table(b, n, intro.end)
            dl = b.disease_list(name, (n, last), [e for _, e in drows])
            nums = [k for k, _ in drows]
            missing = sorted(set(range(1, max(nums) + 1)) - set(nums)) if nums else []
            if missing:
                b.warn(f"{name}: entries {missing} missing from the text (truncated table)")
            if svc.diagnosis_list is None:
                svc.diagnosis_list = dl.name
                b.fact(svc, "diagnosis", f"限定疾病见{dl.name}", (n, last), data={"list": dl.name})
        elif len(hdr) > 3 and any(hdr[1:]) and all(c in ("√", "×") for c in hdr[1:] if c) and hdr[0] \
                and not hdr[0].isdigit():
            # √/× availability table whose header (and first rows) are missing: linked as an incomplete
            # list, so a listed city is covered and a city missing from the fragment is unknown.
            entries, last = parse_mark_table(b, n, intro.end)
            b.city_list(f"{svc.name}·可预约城市（残缺表格，缺表头）", (n, last), entries, services=[svc], complete=False)
            b.warn(f"{svc.name}: availability table at lines {n}-{last} has no header; linked as incomplete")
        else:
            last = n
        n = last + 1


def _store_passages(b: Builder, intro: Intro, svc: m.Service, names: list[str],
                    seen: dict[str, list[str]]) -> None:
    heads = [(intro.start, intro.name if not intro.untitled else f"{intro.name}（原文无标题）")]
    heads += [(h.line, h.title) for h in intro.headings]
    for start, stop, title in section_ranges(b.text, heads, intro.end):
        body = b.text.span(start, stop)
        if not body.strip():
            continue
        # compared within the same service (a repeated intro may use another name for it)
        if repeated_section(seen, str(svc.id), title, body, names):
            continue
        path = svc.name if start == intro.start else f"{svc.name} > {title}"
        b.passage(path, (start, stop), service=svc)


def _store_faqs(b: Builder, intro: Intro, svc: m.Service, names: list[str], seen: set[str]) -> None:
    def add(q: str, a: str, lines: tuple[int, int]) -> None:
        add_faq_once(b, seen, q, a, lines, svc, names)

    # answers run to the next numbered heading (label headings such as "特别说明：" stay inside)
    heads = [(intro.start, intro.name)] + [(h.line, h.title) for h in intro.headings if h.kind != "label"]
    for start, stop, title in section_ranges(b.text, heads, intro.body_end):
        t = title.strip()
        # numbered question headings: "1. 什么是重疾绿通服务？"
        if (mq := NUM_HEAD_RE.match(t)) and t.endswith(QUESTION_END) and stop > start:
            add(mq.group(2), b.text.span(start + 1, stop), (start, stop))
        # Q&A sections: "Q1: … / A: …" pairs, or numbered items under 常见问题 / Q&A
        if any(w in t for w in ("常见问题", "Q&A")):
            for n, end, q, a in qa_items(b.text, start + 1, stop):
                add(q, a, (n, end))

