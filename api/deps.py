"""Shared dependencies: the knowledge base, ticket service, identity proof and operator auth.

Everything the routes need lives on app.state (set by api.app.create_app), so an app
made for a test database never touches the default one.
"""
from __future__ import annotations

import hmac
import os

from fastapi import Header, Request

from api.errors import ApiError
from core.identity import Verifier

from core.secrets import DEV_OPERATOR_KEY  # noqa: E402 - public; refused with APP_ENV=production


def knowledge_base(request: Request):
    return request.app.state.kb


def ticket_service(request: Request):
    return request.app.state.tickets


def policy_source(request: Request):
    return request.app.state.policies


def operator_key() -> str:
    return os.environ.get("OPERATOR_API_KEY", DEV_OPERATOR_KEY)


def operator_keys() -> dict[str, str]:
    """name -> key. OPERATOR_API_KEYS="wangmin:<key>,lilei:<key>" gives each operator a key of their own
    (the audit trail then names them); otherwise the one OPERATOR_API_KEY, named "default"."""
    named = {}
    for pair in filter(None, (p.strip() for p in os.environ.get("OPERATOR_API_KEYS", "").split(","))):
        name, _, key = pair.partition(":")
        if name.strip() and key.strip():
            named[name.strip()[:40]] = key.strip()
    return named or {"default": operator_key()}


def require_operator(x_api_key: str | None = Header(default=None, max_length=256)) -> str:
    """Operator endpoints need an X-API-Key of OPERATOR_API_KEYS / OPERATOR_API_KEY; returns its name, the
    operator every audit entry of this request is written under."""
    given = (x_api_key or "").encode()
    found = None
    for name, key in operator_keys().items():  # compare with every key: time does not tell which matched
        if given and hmac.compare_digest(given, key.encode()):
            found = name
    if found is None:
        raise ApiError(401, "operator_key_required", "需要有效的运营人员密钥（X-API-Key）。")
    return found


# Names and identity proofs are resolved by the application layer (one error type, shared with the chat).
from assist.resolve import parse_verifier, resolve_insurer, resolve_scope, resolve_service  # noqa: E402,F401


def header_identity(x_policy_number: str | None = Header(default=None, max_length=64),
                    x_verifier: str | None = Header(default=None, max_length=64)) -> tuple[str | None, Verifier | None]:
    """(policy number, verifier) from the X-Policy-Number / X-Verifier headers (either may be absent)."""
    return (x_policy_number.strip() or None) if x_policy_number else None, parse_verifier(x_verifier)
