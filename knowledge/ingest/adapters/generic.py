"""Fallback for manuals with no adapter of their own (or an unknown layout).

Detects headings by their shape (第X章, 一、, （一）, 1. / 1、 / 1.1, short title lines
that end like a service or a section name, question lines), then:
- one passage per section (long sections in chunks), so every non-blank line is in a passage;
- one Service per heading that names a service (…服务, …绿通, …陪诊, …会诊 …), with
  only what the heading states (name, category from the name's own words, lines);
  rule fields are left None for a real adapter to fill;
- FAQ pairs from Q:/A: blocks and from question headings (…？) followed by their answer.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from knowledge import models as m
from knowledge.ingest import lexicon
from knowledge.ingest.builder import Builder
from knowledge.ingest.text import clean, squash

CHUNK_LINES = 60  # longer sections are split into passages of about this many lines

_CN = "一二三四五六七八九十百零〇"
# (pattern, level): lower level = higher in the outline
_NUMBERED = [
    (re.compile(rf"^第[{_CN}\d]+[章节部分篇]\s*(.*)$"), 1),
    (re.compile(rf"^[{_CN}]+[、．.]\s*(.+)$"), 2),
    (re.compile(rf"^[（(][{_CN}]+[）)]\s*(.+)$"), 3),
    (re.compile(r"^\d{1,2}[.．]\d{1,2}(?:[.．]\d{1,2})?\s*(\D.*)$"), 5),
    (re.compile(r"^\d{1,2}\s*[.．、]\s*(\D.*)$"), 4),
]
_QA_Q = re.compile(r"^(?:Q\d*|问)\s*[:：]\s*(.+)$", re.I)
_QA_A = re.compile(r"^(?:A\d*|答)\s*[:：]\s*(.*)$", re.I)
_QA_A_RAW = re.compile(r"^(?:A\d*|答)\s*[:：]\s*(.*)$", re.I)
_SENTENCE_END = re.compile(r"[。；;，,：:、]$")
_TITLE_END = re.compile(r"(服务|服务介绍|服务说明|服务内容|服务流程|服务标准|须知|说明|流程|问答|常见问题|注意事项|附件|附录|目录)$")

# A heading names a service when it ends like one (an optional remark in brackets may follow).
_SERVICE_END = re.compile(
    r"(服务|绿通|绿色通道|陪诊|会诊|MDT|陪护|护理|诊疗|探视|交通安排|垫付|直付|直赔|问诊|二诊|诊疗意见|挂号|随访|体检|筛查|检测|"
    r"药惠购|送药|接送|康复|营养方案|就医协助|门诊协助|住院协助|住院安排|手术安排)"
    r"\s*(?:[（(][^）)]*[）)]?)?$", re.I)
# Section words that end in 服务 etc. but are not a service of their own.
_NOT_SERVICE = re.compile(
    r"^(服务|增值服务|健康管理服务|服务内容|服务流程|服务说明|服务标准|服务概要|服务对象|服务期限|服务申请|服务范围|"
    r"服务简介|服务规则|服务须知|服务时效|服务时长|服务项目|服务介绍|服务流程简介|增值服务项目|增值服务查看和申请|"
    r"特色服务|其他服务|更多服务|服务方式|服务网络|医疗服务|就医服务|健康服务)$")
@dataclass
class Heading:
    line: int
    level: float
    title: str  # without its number
    raw: str
    question: bool = False


def _plain(s: str) -> str:
    """Spaces folded, full-width punctuation kept (it is shown to customers)."""
    return re.sub(r"[ \t\u3000\xa0]+", " ", s).strip()


def _is_question(s: str) -> bool:
    return s.endswith(("？", "?")) and len(s) <= 80


def detect_headings(lines: list[str]) -> list[Heading]:
    """Heading lines of a manual, in order. `lines[0]` is line 1."""
    out: list[Heading] = []
    n = len(lines)

    def next_body(i: int) -> str:
        for j in range(i + 1, min(n, i + 4)):
            if lines[j].strip():
                return clean(lines[j])
        return ""

    last_level = 0  # level of the last numbered (non-question) heading
    for i, raw in enumerate(lines):
        s = clean(raw)
        if not s or len(s) > 60:
            continue
        qa = _QA_Q.match(s)
        if qa:
            out.append(Heading(i + 1, 6, qa.group(1).strip(), s, question=True))
            continue
        level = None
        title = s
        for rx, lv in _NUMBERED:
            mm = rx.match(s)
            if mm:
                level, title = lv, (mm.group(1) or s).strip()
                break
        if level is not None:
            if level >= 4 and (len(title) > 30 or (_SENTENCE_END.search(title) and not _is_question(title))):
                continue  # a numbered list item, not a heading
            if not title:
                title = s
            out.append(Heading(i + 1, level, title, s, question=_is_question(title)))
            if not out[-1].question:
                last_level = level
            continue
        # Unnumbered: a short title line followed by body text, ending like a section name.
        if len(s) <= 20 and not _SENTENCE_END.search(s) and re.search(r"[\u4e00-\u9fff]", s) \
                and " " not in s.strip() and _TITLE_END.search(s) and len(next_body(i)) >= len(s):
            # an unnumbered title is a sub-heading of the numbered section it is in
            out.append(Heading(i + 1, last_level + 0.5 if last_level else 3, s, s))
        elif _is_question(s) and len(s) >= 6 and not _SENTENCE_END.search(s[:-1]) and len(next_body(i)) >= 8 \
                and re.match(r"^[\u4e00-\u9fffA-Za-z]", s):
            out.append(Heading(i + 1, 6, s, s, question=True))
    return _fix_run_in_numbers(out)


def _fix_run_in_numbers(hs: list[Heading]) -> list[Heading]:
    """"6.7 天住院陪护" followed by "6.1 服务内容" is heading 6 named "7 天住院陪护"."""
    rx = re.compile(r"^(\d{1,2})[.．](\d{1,2})\s*(.+)$")
    for k, h in enumerate(hs):
        mm = rx.match(h.raw) if h.level == 5 else None
        if not mm or mm.group(2) == "1":
            continue
        nxt = next((x for x in hs[k + 1:] if x.level == 5), None)
        if nxt and rx.match(nxt.raw) and nxt.raw.startswith(f"{mm.group(1)}.1"):
            h.level, h.title = 4, f"{mm.group(2)} {mm.group(3)}".strip()
    return hs


def names_service(title: str) -> bool:
    t = squash(title)
    if not t or _is_question(t) or len(t) > 40:
        return False
    core = re.sub(r"[（(][^）)]*[）)]?$", "", t)
    if _NOT_SERVICE.match(core) or core.startswith(("什么是", "如何", "怎么", "关于")):
        return False
    return bool(_SERVICE_END.search(t))


def category_of(name: str) -> Optional[str]:
    """The category the name's own words state (knowledge/ingest/vocab.yaml), else None."""
    return lexicon.category_of(name, default=None)


def _section_end(hs: list[Heading], i: int, last: int) -> int:
    """Last line of heading i's section including its sub-sections."""
    for h in hs[i + 1:]:
        if h.level <= hs[i].level and not h.question:
            return h.line - 1
    return last


def ingest(b: Builder) -> None:
    lines = b.text.lines
    last = len(lines)
    hs = [h for h in detect_headings(lines)]
    title = b.manual.title
    product = b.product()

    # Services: headings that name one; each spans its section with sub-sections.
    spans: list[tuple[int, int, m.Service]] = []
    for i, h in enumerate(hs):
        if h.question or not names_service(h.title):
            continue
        end = b.text.trim(h.line, _section_end(hs, i, last))
        name = clean(h.title)
        body = " ".join(_plain(x) for x in lines[h.line:end] if _plain(x))
        svc = b.service(squash(name)[:120], name, (h.line, end), product_id=product.id, category=category_of(name),
                        description=body[:300])
        spans.append((h.line, end, svc))

    def service_at(line: int) -> m.Service | None:
        best = None
        for a, z, svc in spans:
            if a <= line <= z and (best is None or z - a < best[1] - best[0]):
                best = (a, z, svc)
        return best[2] if best else None

    # Passages: one per heading (the front matter gets the manual title), long ones chunked.
    starts: list[tuple[int, str, float]] = [(1, title, 0)] if not hs or hs[0].line > 1 else []
    path: list[tuple[float, str]] = []
    for h in hs:
        while path and path[-1][0] >= h.level:
            path.pop()
        path.append((h.level, h.title))
        starts.append((h.line, " > ".join(t for _, t in path), h.level))
    for k, (a, section, _lv) in enumerate(starts):
        z = starts[k + 1][0] - 1 if k + 1 < len(starts) else last
        z = b.text.trim(a, z)
        if not b.text.span(a, z).strip():
            continue
        part = 0
        for c in range(a, z + 1, CHUNK_LINES):
            ce = b.text.trim(c, min(z, c + CHUNK_LINES - 1))
            if not b.text.span(c, ce).strip():
                continue
            part += 1
            name = section if part == 1 else f"{section}（续 {part}）"
            b.passage(name, (c, ce), service=service_at(c))

    # FAQ: Q:/A: blocks and question headings with the text that follows them.
    for k, h in enumerate(hs):
        if not h.question:
            continue
        z = hs[k + 1].line - 1 if k + 1 < len(hs) else last
        z = b.text.trim(h.line, z)
        plain_lines = [_plain(x) for x in lines[h.line:z]]
        answer_lines = []
        for x in plain_lines:
            mm = _QA_A.match(clean(x))
            mm = _QA_A_RAW.match(x) if mm else None
            answer_lines.append(mm.group(1) if mm else x)
        answer = "".join(x for x in answer_lines if x)  # PDF lines break mid-sentence
        if z > h.line and answer:
            b.faq(h.title, answer, (h.line, z), service=service_at(h.line))
