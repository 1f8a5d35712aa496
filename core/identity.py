"""Proof of identity for a policy (the holder's mobile or ID last four) and the errors of checking it.

Shared by policies (which verify), tickets (which need a verified caller) and the application layer.
Every failure looks the same (PolicyNotVerified), so an answer never reveals whether a policy exists.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Optional

from core.ids import ValidationError, halfwidth, normalize_mobile


class PolicyError(Exception):
    code = "policy_error"
    message = "保单信息暂时无法处理。"

    def __init__(self, message: str | None = None):
        if message:
            self.message = message
        super().__init__(self.message)


class PolicyNotVerified(PolicyError):
    code = "policy_verification_failed"
    message = "未能核实保单信息，请确认保单号，以及投保人手机号或身份证号后四位是否正确。"


class PolicySourceUnavailable(PolicyError):
    code = "policy_source_unavailable"
    message = "保单系统暂时无法访问，请稍后再试或联系人工客服。"


@dataclass(frozen=True)
class Verifier:
    """Proof of identity: the holder's mobile number or the last four characters of the holder's ID."""

    mobile: Optional[str] = None
    id_last4: Optional[str] = None

    def normalized(self) -> tuple[Optional[str], Optional[str]]:
        mobile = last4 = None
        if self.mobile:
            try:
                mobile = normalize_mobile(self.mobile)
            except ValidationError:
                mobile = None
        if self.id_last4:
            s = halfwidth(str(self.id_last4)).replace(" ", "").upper()
            last4 = s[-4:] if len(s) in (4, 18) else None
        return mobile, last4


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def verify_holder(verifier: Verifier | None, holder_mobile: str | None, holder_id_number: str | None) -> bool:
    """True when the verifier matches the holder's mobile or ID last four (constant-time compare)."""
    if verifier is None:
        return False
    mobile, last4 = verifier.normalized()
    ok = False
    if mobile and holder_mobile:
        ok |= _same(mobile, holder_mobile)
    if last4 and holder_id_number and len(holder_id_number) >= 4:
        ok |= _same(last4, holder_id_number[-4:].upper())
    return ok
