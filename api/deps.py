"""Shared dependencies: the knowledge base, ticket service, identity proof and operator auth.

Everything the routes need lives on app.state (set by api.app.create_app), so an app
made for a test database never touches the default one.
"""
from __future__ import annotations

import hmac
import os
import re

from fastapi import Header, Request

from api.errors import ApiError
from core.identity import Verifier
from core.ids import halfwidth, is_mobile, normalize_mobile

DEV_OPERATOR_KEY = "dev-operator-key"


def knowledge_base(request: Request):
    return request.app.state.kb


def ticket_service(request: Request):
    return request.app.state.tickets


def policy_source(request: Request):
    return request.app.state.policies


def operator_key() -> str:
    return os.environ.get("OPERATOR_API_KEY", DEV_OPERATOR_KEY)


def require_operator(x_api_key: str | None = Header(default=None, max_length=256)) -> str:
    """Operator endpoints need the X-API-Key header to match OPERATOR_API_KEY."""
    if not x_api_key or not hmac.compare_digest(x_api_key.encode(), operator_key().encode()):
        raise ApiError(401, "operator_key_required", "需要有效的运营人员密钥（X-API-Key）。")
    return "operator"


def resolve_insurer(kb, text: str | None):
    """Insurer by name or alias; None when not given. Unknown or ambiguous -> 400."""
    if not text or not text.strip():
        return None
    ins = kb.resolve_insurer(text)
    if ins is None:
        names = "、".join(i.short_name for i in kb.insurers())
        raise ApiError(400, "unknown_insurer", f"没有找到保险公司“{text[:40]}”，目前支持：{names}。",
                       insurers=[i.short_name for i in kb.insurers()])
    return ins


def resolve_service(kb, text: str, insurer=None, manual_id: str | None = None, edition: str | None = None):
    """The best service for a name / alias / id; 404 with a clear message when none.

    manual_id, edition: prefer services of the manual a customer's policy is described by, and
    among those the ones whose entitlement table lists the policy's edition (太保蓝本 names the
    same service differently per version: 多学科会诊 in 2019-2021, 重疾多学科会诊 from 2022)."""
    from knowledge.query import NotFound

    text = (text or "").strip()
    if not text:
        raise ApiError(400, "service_missing", "请告诉我们要查询的服务名称。")
    if text.isdigit():
        try:
            svc = kb.service(int(text))
        except (NotFound, LookupError, ValueError):
            raise ApiError(404, "unknown_service", f"没有编号为 {text[:20]} 的服务。")
        if insurer is not None and svc.insurer_id != insurer.id:
            raise ApiError(404, "unknown_service", f"{insurer.short_name}没有编号为 {text} 的服务。")
        return svc
    hits = kb.resolve_service(text, insurer=insurer.id if insurer else None)
    if manual_id:
        hits = [h for h in hits if h.manual_id == manual_id] + [h for h in hits if h.manual_id != manual_id]
    if edition and len(hits) > 1:
        listed = {h.id for h in hits[:8] if any(e.edition == edition for e in kb.entitlements(h.id))}
        hits = [h for h in hits if h.id in listed] + [h for h in hits if h.id not in listed]
    if not hits:
        who = f"{insurer.short_name}的" if insurer else ""
        raise ApiError(404, "unknown_service", f"没有找到{who}服务“{text[:40]}”，请换个说法或查看服务列表。")
    return hits[0]


_LAST4 = re.compile(r"^\d{3}[\dX]$")


def parse_verifier(text: str | None = None, mobile: str | None = None, id_last4: str | None = None) -> Verifier | None:
    """Proof of identity from a free "verifier" (mobile or ID last four) or the explicit fields.

    None when nothing was given; a value that is neither a mobile number nor four ID characters -> 422."""
    m = l4 = None
    for value in (text, mobile, id_last4):
        if value is None or not str(value).strip():
            continue
        s = halfwidth(str(value)).replace(" ", "").upper()
        if len(s) > 40:
            s = s[:40]
        if value is not id_last4 and is_mobile(s):
            m = normalize_mobile(s)
        elif value is not mobile and _LAST4.match(s):
            l4 = s
        else:
            raise ApiError(422, "verifier_invalid",
                           "验证信息格式不正确：请提供投保人的 11 位手机号，或身份证号码后四位（最后一位可以是 X）。")
    if m is None and l4 is None:
        return None
    return Verifier(mobile=m, id_last4=l4)


def header_identity(x_policy_number: str | None = Header(default=None, max_length=64),
                    x_verifier: str | None = Header(default=None, max_length=64)) -> tuple[str | None, Verifier | None]:
    """(policy number, verifier) from the X-Policy-Number / X-Verifier headers (either may be absent)."""
    return (x_policy_number.strip() or None) if x_policy_number else None, parse_verifier(x_verifier)
