"""Adapter for the 平安健康保险 服务手册 layout (manual 000).

Layout, as the PDF extraction left it:
- front matter: title, a notice, then "服务规则及名词定义释义" with `术语：定义` paragraphs
  (等待期, 服务共享规则, 犹豫期, 医院, 确诊初次罹患) and a small worked-example table;
- parts "一、服务内容" and "二、附件"; inside each part the units are numbered "N.标题"
  sequentially (a line "6.7 天住院陪护" is unit 6, not sub-section 6.7: numbering decides);
  sub-sections "N.M 标题"; one unit (药品服务) restarts its own local numbering; one unit
  (活力 GO) uses unnumbered sub-headings;
- service-standard tables flattened to "标签 值" rows (适用人群, 使用次数, 服务范围 ...), values
  wrapping over several lines; flow charts flattened into one-word fragments;
- appendices: city tables of three shapes (省 市 医院数量 rows; a two-column province/city
  table interleaved line by line; province rows with "、"-separated city lists whose row count
  may sit in the middle of the cell), and the disease list with names wrapped in a narrow column;
  one service section holds a 区域 医院 地址 table. These shapes are read by
  knowledge.ingest.list_tables; this adapter says where they are and which service they serve.

Everything below is parsing by shape; the only literals are layout vocabulary (row labels,
section words). Values are read with knowledge.ingest.readers, keywords come from
knowledge/ingest/vocab.yaml.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import AbstractSet, Any, Optional

from knowledge import models as m
from knowledge.ingest import facts, list_tables, readers
from knowledge.ingest.builder import Builder
from knowledge.ingest.lexicon import category_of, contact_label, name_aliases
from knowledge.ingest.facts import Term
from knowledge.ingest.sections import Node, add_faqs_shared_once, close_nodes, emit_passages, own_spans, qa_pairs, untitled_blocks
from knowledge.ingest.text import BULLETS, Flow, ManualText, squash
from knowledge.ingest.text import unbullet as norm

# --------------------------------------------------------------------------------------
# layout vocabulary

PART_RE = re.compile(r"^([一二三四五六七八九十]+)、\s*(\S.{0,30})$")
TOP_RE = re.compile(r"^(\d{1,2})\.\s*(\S.*)$")
SUB_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})(?![.\d])\s*(\S.*)$")
# sub-headings are short and carry no sentence punctuation
TITLE_BAD = re.compile(r"[，。；;,、]")  # text is NFKC-normalised: ，；：（）？ are , ; : ( ) ?
GENERIC_HEADS = ("服务内容", "服务标准", "服务流程", "服务期限", "常见问答", "常见问题", "注意事项", "服务说明")
ROW_LABELS = ("适用人群", "使用人群", "使用前提", "使用条件", "使用次数", "服务范围", "覆盖范围", "特殊事项",
              "特殊约定", "注意事项", "服务时效", "服务时长", "申请条件", "材料要求", "服务项目")
# what a sentence of a service section can state (rows of knowledge.ingest.readers); the attributes in
# MANY_PER_SENTENCE keep every distinct reading of a sentence, the others the first one
SENTENCE_ATTRIBUTES = ("lead_time", "response_time", "review_time", "service_hours", "fees", "exclusions", "documents",
                       "cancellation", "diagnosis", "usage_limit", "waiting_period")
MANY_PER_SENTENCE = ("cancellation", "diagnosis", "usage_limit")
NAV_BRACKETS = {"我的", "用服务", "立即使用", "我的保单", "我的】-【用服务", "我的】-【我的保单"}


# --------------------------------------------------------------------------------------
# joined text with a map back to lines

BLOCK_START = re.compile(r"^(?:\d{1,2}[)）、]|\d{1,2}\.\d|[QA]\s*[:：]|\S{2,6}[:：]|注|请注意|" + "|".join(ROW_LABELS) + ")")


def make_flow(t: ManualText, a: int, b: int, skip: AbstractSet[int] = frozenset()) -> Flow:
    """Lines a..b joined (wrapped CJK lines join without a space); a line that starts a new
    block (numbered item, row label, Q/A, heading, bullet) starts on a new line."""
    pieces: list[tuple[int, str]] = []
    for n in range(a, b + 1):
        if n in skip:
            continue
        raw = t.line(n)
        s = norm(raw)
        if not s:
            continue
        sub = SUB_RE.match(s)
        heading = bool(sub and is_title(sub.group(3)) or s in GENERIC_HEADS or is_top_title(s))
        if pieces and (heading or BLOCK_START.match(s) or raw.lstrip()[:1] in BULLETS):
            s = "\n" + s
        if heading:
            s += "\n"
        pieces.append((n, s))
    return Flow.join(pieces, a)


SENT_SPLIT = re.compile(r"(?<=[。；;！!？?\n])|(?<!\d)(?=\d{1,2}[）)])")


# --------------------------------------------------------------------------------------
# outline

def is_title(s: str, max_len: int = 20) -> bool:
    s = s.rstrip("：:")
    return 1 <= len(s) <= max_len and not TITLE_BAD.search(s)


def is_top_title(s: str) -> bool:
    """A short "N.标题" line."""
    mt = TOP_RE.match(s)
    return bool(mt and is_title(mt.group(2), 12))


def top_title(title: str) -> str:
    """'3.陪诊服务覆盖城市清单' -> '陪诊服务覆盖城市清单'."""
    mt = TOP_RE.match(title)
    return mt.group(2) if mt else title


def noise_lines(t: ManualText, a: int, b: int) -> set[int]:
    """Page numbers and flattened flow-chart fragments inside a span."""
    skip: set[int] = set()
    in_chart = False
    for n in range(a, b + 1):
        s = norm(t.line(n))
        if re.fullmatch(r"1(?: \d){2,}", s):  # "1 2 3 4 5 6": a flow chart begins
            in_chart = True
            skip.add(n)
            continue
        if in_chart:
            if re.match(r"^(?:\d{1,2}[）)、]|\d\.\d\s)", s):
                in_chart = False
            else:
                skip.add(n)
                continue
        if re.fullmatch(r"\d{1,3}", s) and not norm(t.line(n - 1) if n > 1 else "") \
                and not norm(t.line(n + 1) if n < len(t) else ""):
            skip.add(n)  # page number alone between blank lines
        elif s.startswith("mailto:"):
            skip.add(n)
    return skip


def outline(t: ManualText) -> tuple[Node, list[Node]]:
    """Return (front matter node, part nodes). Units are numbered sequentially per part."""
    found = [(n, PART_RE.match(norm(s))) for n, s in t.iter()]
    parts = [(n, mt) for n, mt in found if mt]
    first = next((n for n, s in t.iter() if norm(s)), 1)
    front = Node(norm(t.line(first)), first, 0, end=(parts[0][0] - 1 if parts else len(t)))
    # front matter headings: short lines with no punctuation followed by a blank line
    for n in range(first + 1, front.end + 1):
        s = norm(t.line(n))
        next_blank = n == len(t) or not norm(t.line(n + 1))
        if 4 <= len(s) <= 12 and next_blank and is_title(s) and not re.search(r"[\d：:()]", s):
            front.children.append(Node(s, n, 1, parent=front))
    close_nodes(front.children, front.end)

    nodes: list[Node] = []
    for i, (pl, mt) in enumerate(parts):
        end = parts[i + 1][0] - 1 if i + 1 < len(parts) else len(t)
        part = Node(norm(t.line(pl)), pl, 0, end=end, number=mt.group(1))
        cur = 0
        for n in range(pl + 1, end + 1):
            s = norm(t.line(n))
            mt_top = TOP_RE.match(s)
            if mt_top and int(mt_top.group(1)) == cur + 1 and is_title(mt_top.group(2), 30):
                cur += 1
                part.children.append(Node(s, n, 1, number=str(cur), parent=part))
        close_nodes(part.children, end)
        for unit in part.children:
            _sub_sections(t, unit)
        nodes.append(part)
    return front, nodes


def _sub_sections(t: ManualText, unit: Node) -> None:
    num = int(unit.number)
    subs: list[Node] = []
    for n in range(unit.line + 1, unit.end + 1):
        s = norm(t.line(n))
        mt = SUB_RE.match(s)
        if mt and int(mt.group(1)) == num and is_title(mt.group(3)):
            subs.append(Node(s, n, 2, number=f"{mt.group(1)}.{mt.group(2)}", parent=unit))
    if not subs:  # a unit with its own local numbering ("1.服务内容", "2.1 ...")
        for n in range(unit.line + 1, unit.end + 1):
            s = norm(t.line(n))
            mt = TOP_RE.match(s)
            if mt and not SUB_RE.match(s) and is_title(mt.group(2), 12):
                subs.append(Node(s, n, 2, number=mt.group(1), parent=unit))
    if not subs:  # unnumbered generic sub-headings ("服务内容", "服务标准" ...)
        for n in range(unit.line + 1, unit.end + 1):
            s = norm(t.line(n))
            if s in GENERIC_HEADS:
                subs.append(Node(s, n, 2, parent=unit))
    close_nodes(subs, unit.end)
    # local sub-sub-sections inside locally numbered units ("2.1 专科医生开具用药处方")
    for sub in subs:
        if sub.number and "." not in sub.number:
            kids = []
            for n in range(sub.line + 1, sub.end + 1):
                mt = SUB_RE.match(norm(t.line(n)))
                if mt and mt.group(1) == sub.number and is_title(mt.group(3)):
                    kids.append(Node(norm(t.line(n)), n, 3, number=f"{mt.group(1)}.{mt.group(2)}", parent=sub))
            close_nodes(kids, sub.end)
            sub.children = kids
    unit.children = subs


def unit_name(title: str) -> tuple[str, list[str]]:
    """'2.国内第二诊疗（18 种重疾）' -> ('国内第二诊疗', ['国内第二诊疗（18 种重疾）'])."""
    s = top_title(title)
    aliases = []
    mt = re.match(r"^(.*?)\s*\((.+)\)\s*$", s)
    if mt:
        aliases.append(title.split(".", 1)[-1])
        s = mt.group(1)
        inner = mt.group(2)
        if not re.search(r"\d", inner):  # "特药和外购药" -> 特药, 外购药
            aliases += [p for p in re.split(r"[和、及]", inner) if len(p) >= 2]
    return s.strip(), aliases


# --------------------------------------------------------------------------------------
# rows "标签 值" of the service-standard tables

def rows(t: ManualText, a: int, b: int, skip: set[int]) -> list[tuple[str, str, tuple[int, int]]]:
    out: list[list] = []
    for n in range(a, b + 1):
        if n in skip:
            continue
        s = norm(t.line(n))
        if not s:
            continue
        lab = next((lb for lb in ROW_LABELS if s == lb or s.startswith(lb + " ")), None)
        if lab:
            out.append([lab, s[len(lab):].strip(), n, n])
        elif SUB_RE.match(s) or is_top_title(s) or s in GENERIC_HEADS:
            out.append(["", "", n, n])  # a heading ends the previous row
        elif out and out[-1][0]:
            out[-1][1] += s
            out[-1][3] = n
    return [(lab, v, (x, y)) for lab, v, x, y in out if lab and v]


# --------------------------------------------------------------------------------------
# front matter: rules and definitions

def terms(t: ManualText, node: Node) -> list[Term]:
    out: list[Term] = []
    for n in range(node.line + 1, node.end + 1):
        s = norm(t.line(n))
        mt = re.match(r"^(\S{2,8})[：:](.*)$", s)
        if mt and not re.search(r"\d", mt.group(1)):
            out.append(Term(mt.group(1), (n, n), mt.group(2)))
        elif out and s and not re.search(r"下表[:：]$", out[-1].text):  # a table after "见下表:" is no text
            out[-1].text += s
            out[-1].lines = (out[-1].lines[0], n)
    return out


def example_rows(t: ManualText, a: int, b: int) -> list[tuple[int, str, bool, dict]]:
    """Rows "<时间> 是|否" of the 初次确诊 worked example."""
    out = []
    for n in range(a, b + 1):
        s = norm(t.line(n))
        mt = re.match(r"^(.+?)\s+(是|否)$", s)
        if not mt:
            continue
        when = mt.group(1)
        data: dict[str, Any] = {"when": when, "eligible": mt.group(2) == "是"}
        d = re.search(r"(\d+)\s*日(?!.*\d+\s*日)", when)  # the last "N 日": "5 月 1 日起的 30 日后" -> 30
        if "之前" in when:
            data["relation"] = "before_effective"
        elif d and re.search(r"日\s*\(含\)\s*内|日内", when):
            data.update(relation="within_days", days=int(d.group(1)), inclusive="含" in when)
        elif d and "后" in when:
            data.update(relation="after_days", days=int(d.group(1)))
        out.append((n, when, mt.group(2) == "是", data))
    return out


# --------------------------------------------------------------------------------------
# the adapter

@dataclass
class Unit:
    node: Node
    svc: m.Service
    flow: Flow
    skip: set[int]
    rows: list


def ingest(b: Builder) -> None:
    t = b.text
    if len(t) == 0 or not any(norm(s) for s in t.lines):
        b.warn("empty manual text")
        return
    front, parts = outline(t)
    product = b.product()
    service_part = next((p for p in parts if "服务" in p.title), None)
    annex_part = next((p for p in parts if "附件" in p.title), None)
    if service_part is None:
        b.warn("no '服务内容' part found; passages only")

    # ---- services
    units: list[Unit] = []
    for nd in (service_part.children if service_part else []):
        name, aliases = unit_name(nd.title)
        skip = noise_lines(t, nd.line, nd.end)
        fl = make_flow(t, nd.line + 1, nd.end, skip)
        aliases += _aliases(t, nd, skip, name)
        key = re.sub(r"\W+", "_", squash(name)).strip("_").lower() or f"unit_{nd.number}"
        svc = b.service(key, name, (nd.line, nd.end), product_id=product.id, aliases=aliases,
                        category=category_of(name))
        units.append(Unit(nd, svc, fl, skip, rows(t, nd.line + 1, nd.end, skip)))

    rules = next((c for c in front.children if "规则" in c.title or "定义" in c.title), None)
    notice = next((c for c in front.children if "注意" in c.title), None)
    defs = {d.name: d for d in terms(t, rules)} if rules else {}

    # ---- disease list (appendix) first: services name it in diagnosis_list
    disease_list_name = None
    annex_units = annex_part.children if annex_part else []
    for nd in annex_units:
        ds = list_tables.disease_list(t, nd.line + 1, nd.end)
        if len(ds) >= 5:
            title = top_title(nd.title)
            disease_list_name = squash(re.sub(r"\(.*?\)$", "", title))
            b.disease_list(disease_list_name, (nd.line, nd.end), ds)
            nd.number = "diseases"
            # one passage per disease, not the "2.1"/"2.2" items that look like sub-sections
            nd.children = [Node(d.name, d.line, 2, parent=nd) for d in ds]
            close_nodes(nd.children, nd.end)

    for u in units:
        _fill_service(b, u, disease_list_name)
    _apply_front_rules(b, units, defs, notice, t)
    _faqs(b, units)
    _contacts(b, units, front)

    # ---- coverage lists
    provinces: set[str] = set()
    linked: dict[int, Optional[m.Service]] = {}
    for nd in annex_units:
        ents, _ = list_tables.count_rows(t, nd.line + 1, nd.end)
        provinces |= {list_tables.PROV_SUFFIX.sub("", e.province) for e in ents if e.province}
        provinces |= {e.province for e in ents if e.province}
    for nd in annex_units:
        if nd.number == "diseases":
            continue
        linked[nd.line] = _city_list(b, nd, units, provinces)
    for u in units:  # hospital tables inside a service section (MDT offline hospitals)
        for sub in u.node.children:
            hs, last = list_tables.hospital_table(t, sub.line, sub.end)
            if hs:
                b.hospital_list(f"{u.svc.name}线下服务医疗机构", (hs[0].line, last), hs, services=[u.svc])
    for u in units:
        for s, ls in u.flow.sentences(SENT_SPLIT):
            seen: list = []
            for r in readers.scan(s, ["coverage"]):
                if r.data not in seen:
                    seen.append(r.data)
                    b.fact(u.svc, "coverage", s, ls, data=r.data)
                    if (r.data or {}).get("scope") == "nationwide":
                        u.svc.coverage_scope = "nationwide"

    # ---- passages
    svc_by_node = {id(u.node): u.svc for u in units}

    def service_of(nd: Optional[Node]) -> Optional[m.Service]:
        while nd is not None:
            if id(nd) in svc_by_node:
                return svc_by_node[id(nd)]
            if nd.parent is not None and nd.parent is annex_part:
                if nd.number == "diseases":
                    return next((u.svc for u in units if u.svc.diagnosis_list == disease_list_name), None)
                return linked.get(nd.line)
            nd = nd.parent
        return None

    # front matter definitions get their own passages (term paragraphs, and the example table)
    if rules and defs:
        rules.children = [Node(d.name, d.lines[0], 2, parent=rules) for d in defs.values()]
        close_nodes(rules.children, rules.end)
        first = next((c for c in rules.children if c.title == "确诊初次罹患"), None)
        ex = example_rows(t, defs["确诊初次罹患"].lines[1] + 1, first.end) if first else []
        if first and ex:  # the worked example table on its own, from its header lines to its last row
            head = next((n for n in range(defs["确诊初次罹患"].lines[1] + 1, ex[0][0]) if norm(t.line(n))), ex[0][0])
            first.children = [Node("示例表", head, 3, end=first.end, parent=first)]
    emit_passages(b, own_spans([front, *parts]), service_of, norm, lambda a, z: noise_lines(t, a, z))
    for a, z in untitled_blocks(t, [front, *parts], norm):
        b.passage(f"{front.title} > （无标题）", (a, z), text="\n".join(norm(x) for x in t.lines[a - 1:z] if norm(x)))
        b.warn(f"untitled text at lines {a}-{z} stored as its own passage")
    b.s.flush()


def _aliases(t: ManualText, node: Node, skip: set[int], name: str) -> list[str]:
    """Other names of a service: the app menu item in its 服务流程 steps (【国内二诊】), the name
    its FAQ questions use ('申请国内专家二诊咨询服务'), and those derived from the name (lexicon)."""
    out = []
    for sub in node.children:
        body = make_flow(t, sub.line + 1, sub.end, skip).text
        if "流程" in sub.title:
            for br in re.findall(r"【([^【】]{2,16})】", body):
                br = br.strip()
                if br not in NAV_BRACKETS and not br.startswith("我的"):
                    out.append(br)
        if re.search(r"常见问[答题]", sub.title):
            for mt in re.finditer(r"Q\s*[:：][^\n]*?申请([\u4e00-\u9fff]{2,10}?)服务", body):
                out.append(re.sub(r"^(?:及使用|使用|及)", "", mt.group(1)))
    out += name_aliases(name)
    return [a for a in dict.fromkeys(out) if a != name]


def _fill_service(b: Builder, u: Unit, disease_list_name: Optional[str]) -> None:
    t, svc, fl = b.text, u.svc, u.flow
    sents = fl.sentences(SENT_SPLIT)
    sub = {re.sub(r"^[\d.\s]+", "", c.title): c for c in u.node.children}

    # description: the 服务内容 text up to its first table or row
    content = sub.get("服务内容")
    if content:
        cf = make_flow(t, content.line + 1, (content.children[0].line - 1) if content.children else content.end,
                       u.skip)
        desc = []
        for s, ls in cf.sentences(SENT_SPLIT):
            first = norm(t.line(ls[0]))
            if any(first.startswith(lb) for lb in ROW_LABELS) or re.fullmatch(r"(\S{1,4} ){1,3}\S{1,4}", first):
                break
            desc.append((s, ls))
        if desc:
            svc.description = "".join(s for s, _ in desc)[:500]
            b.fact(svc, "content", svc.description, (desc[0][1][0], desc[-1][1][1]))

    # rows ("使用条件 … 本人 …" says whose service it is), then the service text's sentences
    for lab, val, ls in u.rows:
        facts.field_fact(b, svc, "beneficiary" if lab == "使用条件" and "本人" in val else readers.field(lab), val, ls)
    if svc.beneficiary is None:
        facts.first_beneficiary(b, svc, sents)
    found = facts.sentence_readings(sents, SENTENCE_ATTRIBUTES, MANY_PER_SENTENCE)
    facts.apply_sentence_readings(b, svc, found, disease_list_name)

    # documents: a sub-section about 材料 is the primary reading
    for c in u.node.children:
        if "材料" in c.title:
            cf = make_flow(t, c.line + 1, c.end, u.skip)
            if cf.text.strip():
                svc.documents = cf.text.strip()[:2000]
                b.fact(svc, "documents", svc.documents, (cf.lines[0], cf.lines[-1]))

    # how to apply: the numbered steps of the 服务流程 sub-section
    flow_node = next((c for k, c in sub.items() if "流程" in k), None)
    if flow_node:
        ff = make_flow(t, flow_node.line + 1, flow_node.end, u.skip)
        steps = [(s, ls) for s, ls in ff.sentences(SENT_SPLIT) if re.match(r"^\d{1,2}[）)、]", s)
                 or re.match(r"^\d\.\d", norm(t.line(ls[0])))]
        if steps:
            svc.how_to_apply = "\n".join(s for s, _ in steps)[:2000]
            b.fact(svc, "how_to_apply", svc.how_to_apply, (steps[0][1][0], steps[-1][1][1]))


def _apply_front_rules(b: Builder, units: list[Unit], defs: dict[str, Term], notice: Optional[Node],
                       t: ManualText) -> None:
    """Rules stated once at the top (facts.apply_definitions), with the notice's 等待期 paragraph and
    the worked example table that follows the 确诊初次罹患 definition."""
    general = None  # "等待期内无法申请使用…各项服务" in the notice
    if notice:
        for n in range(notice.line, notice.end + 1):
            if "等待期" in norm(t.line(n)):
                # the whole bullet paragraph: up to the next bullet line
                stop = next((k - 1 for k in range(n + 1, notice.end + 1)
                             if t.line(k).strip() and t.line(k).lstrip()[0] in BULLETS),
                            notice.end)
                fl = make_flow(t, n, stop)
                general = (fl.text, (fl.lines[0], fl.lines[-1]))
                break
    first = defs.get("确诊初次罹患")
    examples = []
    if first:
        end = first.lines[1]
        # the worked example table follows the definition up to the next part heading
        stop = next((n for n in range(end + 1, len(t) + 1) if PART_RE.match(norm(t.line(n)))), end)
        examples = example_rows(t, first.lines[0], stop - 1)
    facts.apply_definitions(b, [(u.svc, u.flow.text) for u in units], defs, general, examples)


def _faqs(b: Builder, units: list[Unit]) -> None:
    """Q&A pairs of the 常见问答/常见问题 sub-sections."""
    pairs = [(q, a, ls, u.svc) for u in units for sub in u.node.children if re.search(r"常见问[答题]", sub.title)
             for q, a, ls in qa_pairs(b.text, sub.line + 1, sub.end, u.skip, norm)]
    add_faqs_shared_once(b, pairs)


def _contacts(b: Builder, units: list[Unit], front: Node) -> None:
    t = b.text
    seen: set[tuple[str, str]] = set()

    def add(kind, label, value, ls, svc=None):
        k = (kind, value) if kind in ("app", "phone") else (kind, value, svc.id if svc else None)
        if k in seen:
            return
        seen.add(k)
        b.contact(kind, label, value, ls, svc)

    ins = b.manual.insurer
    national = contact_label("national_hotline")
    # the insurer as the manual prints it before 全国客服电话 (平安健康保险), else its short name
    names = sorted({ins.name, ins.short_name, *(ins.aliases or [])}, key=len, reverse=True)
    owner = next((x for x in names if re.search(re.escape(x) + r"\s*" + national, "".join(t.lines))), ins.short_name)
    scopes = [(None, make_flow(t, front.line, front.end))] + [(u.svc, u.flow) for u in units]
    for svc, fl in scopes:
        for mt in re.finditer(rf"({national}|拨打)\s*(\d{{5}}-\d)(?:\((7\*24\s*小时)\))?", fl.text):
            ls = fl.lines_of(mt.start(), mt.end())
            add("phone", f"{owner}{national}", mt.group(2), ls)
            if mt.group(3):
                add("hours", national + contact_label("service_hours"), mt.group(3), ls)
        short = re.escape(ins.short_name)
        for mt in re.finditer(rf"({short}(?:保险|险))\s*APP", fl.text):
            add("app", f"{mt.group(1)} {contact_label('app')}", f"{mt.group(1)} APP", fl.lines_of(mt.start(), mt.end()))
        for mt in re.finditer(r"(?:工作时间是|服务时间为?|服务时间[:：]|专案服务时间为)\s*((?:工作日\s*)?"
                              r"(?:7\*24\s*小时咨询|\d{1,2}\s*[:：]\s*\d{2}\s*[-~]\s*\d{1,2}[:：]\d{2}(?:\*7\s*天)?))",
                              fl.text):
            if svc is not None:
                add("hours", svc.name + contact_label("service_hours"), mt.group(1), fl.lines_of(mt.start(), mt.end()),
                    svc)
        for mt in re.finditer(r"[A-Za-z0-9._+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+", fl.text):
            n = fl.line_of(mt.start())
            label = norm(t.line(n)).split(mt.group(0))[0].strip() or contact_label("email")
            add("email", label, mt.group(0), (n, n), svc)


def _city_list(b: Builder, nd: Node, units: list[Unit], provinces: set[str]) -> Optional[m.Service]:
    t = b.text
    title = top_title(nd.title)
    ents, problems = list_tables.city_table(t, nd.line + 1, nd.end, provinces)
    for p in problems:
        b.warn(f"{title}: {p}")
    if not ents:
        b.warn(f"appendix {title!r} at line {nd.line}: no table recognised")
        return None
    targets = _services_for_title(title, units)
    if not targets:
        b.warn(f"appendix {title!r}: no service matches its title")
    b.city_list(title, (nd.line, nd.end), ents, services=[u.svc for u in targets])
    return targets[0].svc if targets else None


def _services_for_title(title: str, units: list[Unit]) -> list[Unit]:
    stem = re.sub(r"服务覆盖城市(?:清单|范围)$", "", squash(title))
    out = []
    for part in re.split(r"[及和、]", stem):
        if not part:
            continue
        hits = [u for u in units if part in squash(u.svc.name)] or \
               [u for u in units if any(part in squash(a) for a in u.svc.aliases)]
        if len(hits) == 1:
            out.append(hits[0])
    return out
