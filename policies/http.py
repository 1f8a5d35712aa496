"""PolicySource adapter for an insurer's policy system over HTTP (JSON contract in docs/tickets.md).

POST {base_url}/policies/lookup  {"policy_number", "mobile" | "id_last4"}
  200 {"policy": {...}}          -> PolicyView (the proof is checked again locally)
  401 / 403 / 404                -> PolicyNotVerified (one refusal for all)
  400 / 422                      -> ValidationError policy_number_invalid
  anything else, timeout, bad JSON or a policy that does not parse -> PolicySourceUnavailable
"""
from __future__ import annotations

import logging
from datetime import date
from typing import Any, Optional

import httpx
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from core.identity import PolicyNotVerified, PolicySourceUnavailable, Verifier, verify_holder
from core.ids import Issue, ServiceRef, ValidationError, mask_id, mask_mobile, normalize_policy_number
from policies.source import PersonView, PolicyView, UsageView, load_usage

log = logging.getLogger(__name__)


def _d(v: Any) -> date:
    if not isinstance(v, str):
        raise ValueError(f"date expected, got {v!r}")
    return date.fromisoformat(v[:10])


def _s(v: Any, default: str | None = None) -> Optional[str]:
    return default if v is None else str(v)


def parse_policy(data: dict, source: str = "http") -> tuple[PolicyView, str | None, str | None]:
    """The contract's policy object -> (view, holder mobile, holder ID). Raises ValueError/KeyError/TypeError."""
    holder = data["holder"]
    insured = tuple(PersonView("insured", str(i.get("relation") or "self"), str(i["name"]), _d(i["birth_date"]),
                               mask_id(_s(i.get("id_number")))) for i in data.get("insured") or [])
    if not insured:
        raise ValueError("policy without insured persons")
    family = tuple(PersonView("family", str(f.get("relation") or "other"), str(f["name"]), _d(f["birth_date"]),
                              mask_id(_s(f.get("id_number"))), _d(f["since"]) if f.get("since") else None)
                   for f in data.get("family_members") or [])
    usage = tuple(UsageView(ServiceRef(str(u["service"]["manual_id"]), str(u["service"]["key"]),
                                       str(u["service"].get("name") or "")),
                            str(u["person_name"]), _d(u["used_on"]), _s(u.get("ticket_number")),
                            bool(u.get("counts_as_used", True)), _s(u.get("note")))
                  for u in data.get("usage") or [])
    term = data.get("payment_term_years")
    view = PolicyView(
        number=normalize_policy_number(data["number"]), insurer=str(data["insurer"]),
        manual_id=_s(data.get("manual_id")), product=str(data["product"]), edition=_s(data.get("edition")),
        tier=_s(data.get("tier")), effective_date=_d(data["effective_date"]), end_date=_d(data["end_date"]),
        payment_term_years=int(term) if term is not None else None, is_transfer=bool(data.get("transfer", False)),
        is_renewal=bool(data.get("renewal", False)), addons=tuple(str(a) for a in data.get("addons") or ()),
        family_policy=bool(data.get("family_policy", False)), status=str(data.get("status") or "active"),
        holder_name=str(holder["name"]), holder_mobile_masked=mask_mobile(_s(holder.get("mobile"))),
        insured=insured, family=family, usage=usage, source=source,
        waiting_days=int(data["waiting_days"]) if data.get("waiting_days") is not None else None)
    return view, _s(holder.get("mobile")), _s(holder.get("id_number"))


class HttpPolicySource:
    def __init__(self, base_url: str, *, token: str | None = None, timeout: float = 5.0,
                 transport: httpx.BaseTransport | None = None, usage_engine: Engine | None = None):
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self.client = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout,
                                   transport=transport)
        self.usage_engine = usage_engine  # local pol_usage rows (tickets booked here) are merged in

    def close(self) -> None:
        self.client.close()

    def get(self, policy_number: str, verifier: Verifier | None) -> PolicyView:
        number = normalize_policy_number(policy_number)
        mobile, last4 = verifier.normalized() if verifier else (None, None)
        if not mobile and not last4:
            raise PolicyNotVerified()
        body = {"policy_number": number}
        if mobile:
            body["mobile"] = mobile
        if last4:
            body["id_last4"] = last4
        try:
            r = self.client.post("/policies/lookup", json=body)
        except httpx.HTTPError as exc:
            log.warning("policy system unreachable: %s", exc)
            raise PolicySourceUnavailable() from exc
        if r.status_code in (401, 403, 404):
            raise PolicyNotVerified()
        if r.status_code in (400, 422):
            raise ValidationError([Issue("policy_number_invalid", "policy_number",
                                         "保单号格式不正确，请对照保单或电子保单重新输入。")])
        if r.status_code != 200:
            log.warning("policy system answered %s", r.status_code)
            raise PolicySourceUnavailable()
        try:
            view, holder_mobile, holder_id = parse_policy(r.json()["policy"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("policy system returned an unreadable policy: %r", exc)
            raise PolicySourceUnavailable() from exc
        # defence in depth: the answer must be the asked policy and match the proof
        if view.number != number or ((holder_mobile or holder_id)
                                     and not verify_holder(verifier, holder_mobile, holder_id)):
            raise PolicyNotVerified()
        if self.usage_engine is not None:
            with Session(self.usage_engine) as s:
                local = load_usage(s, number)
            known = {u.ticket_number for u in view.usage if u.ticket_number}
            extra = tuple(u for u in local if not u.ticket_number or u.ticket_number not in known)
            if extra:
                from dataclasses import replace
                view = replace(view, usage=view.usage + extra)
        return view
