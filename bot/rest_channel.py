"""Rasa's REST channel (same URL, POST /webhooks/rest/webhook) that needs a bearer token.

The channels gateway is the only client: it namespaces every sender (wx:<appid>:<openid>, widget:<sub>,
ivr:<call>) and sends `Authorization: Bearer $RASA_CHANNEL_TOKEN`. Without the token anyone who can reach
Rasa (even on 127.0.0.1) could post as any sender and continue that customer's verified conversation.

RASA_CHANNEL_TOKEN unset: the channel is open, for local tools and tests only (scripts/run.sh always sets
a token; APP_ENV=production refuses to start without one, see core/secrets.py).
"""
from __future__ import annotations

import hmac
import logging
import os

from rasa.core.channels.rest import RestInput
from sanic import response

log = logging.getLogger(__name__)


def authorized(header: str | None, token: str | None) -> bool:
    """True when no token is configured, or the Authorization header carries it (constant-time)."""
    if not token:
        return True
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


class TokenRestInput(RestInput):
    def __init__(self, token: str | None = None):
        self.token = token if token is not None else (os.environ.get("RASA_CHANNEL_TOKEN") or None)
        if not self.token:
            log.warning("REST channel without RASA_CHANNEL_TOKEN: open to anyone who can reach this port "
                        "(local tools and tests only)")

    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials):
        return cls((credentials or {}).get("token") or None)

    def blueprint(self, on_new_message):
        bp = super().blueprint(on_new_message)

        @bp.on_request
        async def _auth(request):
            if request.method == "POST" and not authorized(request.headers.get("authorization"), self.token):
                return response.json({"error": "unauthorized"}, status=401)
            return None

        return bp
