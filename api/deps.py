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


def require_operator(x_api_key: str | None = Header(default=None, max_length=256)) -> str:
    """Operator endpoints need the X-API-Key header to match OPERATOR_API_KEY."""
    if not x_api_key or not hmac.compare_digest(x_api_key.encode(), operator_key().encode()):
        raise ApiError(401, "operator_key_required", "需要有效的运营人员密钥（X-API-Key）。")
    return "operator"


# Names and identity proofs are resolved by the application layer (one error type, shared with the chat).
from assist.resolve import parse_verifier, resolve_insurer, resolve_scope, resolve_service  # noqa: E402,F401


def header_identity(x_policy_number: str | None = Header(default=None, max_length=64),
                    x_verifier: str | None = Header(default=None, max_length=64)) -> tuple[str | None, Verifier | None]:
    """(policy number, verifier) from the X-Policy-Number / X-Verifier headers (either may be absent)."""
    return (x_policy_number.strip() or None) if x_policy_number else None, parse_verifier(x_verifier)
