"""Names to store objects, for the chat and the API alike, with one error type (AssistError).

An insurer parameter also takes a product name (尊享e生PLUS, 太保蓝本2021庆典版): resolve_scope()
gives the insurer, and the manual, edition and tier the product names."""
from __future__ import annotations

from typing import Any

import re
from dataclasses import dataclass

from assist.errors import AssistError


@dataclass(frozen=True)
class Scope:
    insurer: Any  # knowledge.views.InsurerView
    manual_id: str | None = None
    product: str | None = None
    edition: str | None = None
    tier: str | None = None


def resolve_scope(kb, text: str | None) -> Scope | None:
    """An insurer or a product by any of its names (typos and sound-alikes repaired); None when not
    given. Unknown or ambiguous -> AssistError 400 unknown_insurer, listing what the store knows."""
    if not text or not str(text).strip():
        return None
    from assist.names import index_for
    from assist.text import normalise

    ix = index_for(kb)
    words, _ = ix.repair(normalise(str(text)[:100]))
    products = ix.products_in(words)
    if products:
        p = products[0]
        ins = kb.resolve_insurer(p.insurer_short)
        return Scope(ins, p.manual_id, p.product, p.edition, p.tier)
    ins = kb.resolve_insurer(words) or kb.resolve_insurer(str(text))
    if ins is not None:
        return Scope(ins)
    names = [i.short_name for i in kb.insurers()]
    products_known = [v[0] for v in ix.products.values()]
    raise AssistError(400, "unknown_insurer",
                      f"没有找到保险公司或产品“{str(text)[:40]}”，目前支持：{'、'.join(names)}"
                      f"（产品：{'、'.join(products_known)}）。", insurers=names, products=products_known)


def resolve_insurer(kb, text: str | None):
    """The insurer of an insurer or product name; None when not given (AssistError when unknown)."""
    scope = resolve_scope(kb, text)
    return scope.insurer if scope else None


def resolve_service(kb, text: str, insurer=None, manual_id: str | None = None, edition: str | None = None):
    """The best service for a name / alias / id; AssistError 404 with a clear message when none.

    manual_id, edition: prefer services of that manual (a product, or a customer's policy), and among
    those the ones whose entitlement table lists the edition (太保蓝本 names the same service differently
    per version: 多学科会诊 in 2019-2021, 重疾多学科会诊 from 2022)."""
    from knowledge.views import NotFound

    text = (text or "").strip()
    if not text:
        raise AssistError(400, "service_missing", "请告诉我们要查询的服务名称。")
    if text.isdigit():
        try:
            svc = kb.service(int(text))
        except (NotFound, LookupError, ValueError):
            raise AssistError(404, "unknown_service", f"没有编号为 {text[:20]} 的服务。")
        if insurer is not None and svc.insurer_id != insurer.id:
            raise AssistError(404, "unknown_service", f"{insurer.short_name}没有编号为 {text} 的服务。")
        return svc
    hits = kb.resolve_service(text, insurer=insurer.id if insurer else None)
    if not hits:
        from assist.names import index_for
        from assist.text import normalise

        fixed, _ = index_for(kb).repair(normalise(text))
        hits = kb.resolve_service(fixed, insurer=insurer.id if insurer else None) if fixed != text else []
    if manual_id:
        hits = [h for h in hits if h.manual_id == manual_id] + [h for h in hits if h.manual_id != manual_id]
    if edition and len(hits) > 1:
        listed = {h.id for h in hits[:8] if any(e.edition == edition for e in kb.entitlements(h.id))}
        hits = [h for h in hits if h.id in listed] + [h for h in hits if h.id not in listed]
    if not hits:
        who = f"{insurer.short_name}的" if insurer else ""
        raise AssistError(404, "unknown_service", f"没有找到{who}服务“{text[:40]}”，请换个说法或查看服务列表。")
    return hits[0]


def resolve_city(text: str):
    """A prefecture from the customer's words; AssistError city_unknown / city_ambiguous otherwise."""
    from knowledge import geo

    res = geo.resolve_city(str(text or "")[:64])
    if res.status == "ambiguous":
        names = "、".join(f"{c.province}{c.name}" for c in res.candidates[:5])
        raise AssistError(400, "city_ambiguous", f"“{str(text)[:40]}”可能指{names}，请说明是哪一个城市。",
                          candidates=[{"name": c.name, "province": c.province, "code": c.code}
                                      for c in res.candidates])
    if res.status != "ok" or res.city is None:
        raise AssistError(400, "city_unknown",
                          f"没有识别出城市“{str(text)[:40]}”，请提供地级市名称，例如“苏州”或“杭州”。")
    return res.city


_LAST4 = re.compile(r"^\d{3}[\dX]$")


def parse_verifier(text: str | None = None, mobile: str | None = None, id_last4: str | None = None):
    """Proof of identity from a free "verifier" (mobile or ID last four) or the explicit fields.

    None when nothing was given; a value that is neither a mobile number nor four ID characters -> 422.
    Spoken or full-width digits are accepted (幺三九…)."""
    from assist.text import digits_only
    from core.identity import Verifier
    from core.ids import halfwidth, is_mobile, normalize_mobile

    m = l4 = None
    for value in (text, mobile, id_last4):
        if value is None or not str(value).strip():
            continue
        s = halfwidth(str(value)).replace(" ", "").upper()[:40]
        if not re.fullmatch(r"[0-9Xx+\-]+", s):
            s = digits_only(s)
        if value is not id_last4 and is_mobile(s):
            m = normalize_mobile(s)
        elif value is not mobile and _LAST4.match(s):
            l4 = s
        else:
            raise AssistError(422, "verifier_invalid",
                              "验证信息格式不正确：请提供投保人的 11 位手机号，或身份证号码后四位（最后一位可以是 X）。")
    if m is None and l4 is None:
        return None
    return Verifier(mobile=m, id_last4=l4)
