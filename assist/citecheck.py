"""Checked citations: the numbers an answer states must occur in the manual lines it cites.

A number here is any run of digits once numbers said in words are digits (三个工作日 -> 3个工作日), so an
amount, a count, a time of day, a date and a phone are all covered. A number may also come from the
customer's own message (保单生效20天了 …) or from a name the answer uses (蓝本2023尊享版3档). Anything else
is a number the answer cannot show a source for: unchecked() names it, and assist.qa sends the honest
fallback instead of the reply.
"""
from __future__ import annotations

import re
import unicodedata

from assist.text import to_digits

_RUN = re.compile(r"\d+")
# What the answer works out rather than quotes: a date from the customer's days and the clause's period
# (2026年12月18日起可以使用), and counts of what it lists from the cited rows (共 12 项, 有 4 家服务医院).
_DERIVED = re.compile(r"\d{4}年\d{1,2}月\d{1,2}日|共\s*\d+\s*[项家]|有\s*\d+\s*款产品|有\s*\d+\s*家服务医院"
                      r"|等\s*\d+\s*(?:个城市/地区|家)|已使用\s*\d+\s*次|还可使用\s*\d+\s*次")
_LIST_MARK = re.compile(r"(?:^|\n)\s*\d{1,2}[.、)）]")  # 1. / 2、 numbering an answer's own list
_LINE_NO = re.compile(r"第\s*\d+(?:\s*[-–]\s*\d+)?\s*行")  # a citation written into the text


def numbers(text: str | None) -> set[str]:
    """The digit runs of a text, leading zeros kept apart (08:00 -> 8, 0)."""
    s = to_digits(unicodedata.normalize("NFKC", text or ""))
    out = set()
    for m in _RUN.finditer(s):
        run = m.group(0)
        out.add(run)
        if len(run) > 1 and run.startswith("0"):
            out.add(run.lstrip("0") or "0")
    return out


def stated(kb, text: str | None) -> set[str]:
    """The numbers an answer states, less its own list numbering, citations, what it works out and the
    names it uses (7 天住院陪护, 120 急救补贴, 太保蓝本（2020版） 一档)."""
    s = unicodedata.normalize("NFKC", text or "")
    s = _DERIVED.sub("", _LINE_NO.sub("", _LIST_MARK.sub("\n", s)))
    names = name_pattern(kb)
    if names is not None:
        s = names.sub("", s)
    return numbers(s)


def unchecked(kb, text: str, sources: list, said: str = "", names: tuple[str, ...] = ()) -> set[str]:
    """Numbers in `text` found neither in the lines of `sources`, nor in what the customer `said`, nor in
    `names` (more names the answer uses, beside the store's services, products, editions and tiers)."""
    wanted = stated(kb, text)
    if not wanted:
        return set()
    known = numbers(said)
    for n in names:
        known |= numbers(n)
    for src in sources:
        known |= numbers((src.get("quote") if isinstance(src, dict) else getattr(src, "quote", "")) or "")
        known |= numbers(cited_text(kb, src))
    return {n for n in wanted if n not in known and n.lstrip("0") not in known and n != "1"}  # 一 is a word too


def cited_text(kb, src) -> str:
    """The manual lines a source cites."""
    get = src.get if isinstance(src, dict) else lambda k: getattr(src, k, None)
    manual = get("manual_id")
    if not manual:
        return ""
    lines = kb.manual_lines(manual)
    a, b = int(get("line_start") or 0), int(get("line_end") or 0)
    return "\n".join(lines[max(a - 1, 0):max(b, a)])


_NAMES: dict[int, re.Pattern | None] = {}


def name_pattern(kb) -> re.Pattern | None:
    """The store's names holding a digit (services, products, editions, tiers), longest first; built once
    per store (assist.qa.warm builds it at start)."""
    key = id(kb)
    if key not in _NAMES:
        found: set[str] = set()
        for svc in kb.services():
            found |= {svc.name, svc.product or "", *svc.aliases}
            for e in kb.entitlements(svc.id):
                found |= {e.edition, e.tier or ""}
        for ed in kb.editions():
            found |= {ed.name, ed.product}
        forms = {unicodedata.normalize("NFKC", n).strip() for n in found}
        for f in list(forms):  # a tier is "edition tier"; answers also name the parts: 二档权益, (前5个保单年度)
            forms |= {p for p in f.split() if re.search(r"[\u4e00-\u9fff]", p)} | set(re.findall(r"\([^()]*\)", f))
        forms = {f for f in forms if re.search(r"\d|[一二两三四五六七八九十]", f)}
        _NAMES[key] = (re.compile("|".join(sorted(map(re.escape, forms), key=len, reverse=True)))
                       if forms else None)
    return _NAMES[key]
