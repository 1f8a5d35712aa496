"""WeChat customer-service messages (客服消息): answers that were not ready within WeChat's 5 s window,
and the rest of a reply longer than one message.

The real client gets an access token (GET /cgi-bin/token) and posts to /cgi-bin/message/custom/send
on the configured API base URL. Tests point that base URL at a local fake server.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

import httpx

log = logging.getLogger(__name__)


class OutboundError(Exception):
    pass


class Outbound(Protocol):
    async def send_text(self, openid: str, text: str) -> None: ...


class LoggingOutbound:
    """Development stand-in: logs what would be sent."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    async def send_text(self, openid: str, text: str) -> None:
        self.sent.append((openid, text))
        log.info("wechat outbound to %s: %s", openid, text[:200])


class WeChatOutbound:
    TOKEN_EXPIRED = {40001, 40014, 42001}

    def __init__(self, app_id: str, app_secret: str, api_base: str = "https://api.weixin.qq.com",
                 timeout: float = 10.0):
        self.app_id, self.app_secret, self.api_base = app_id, app_secret, api_base.rstrip("/")
        self.timeout = timeout
        self._token: str | None = None
        self._token_expires = 0.0
        self._lock = asyncio.Lock()

    async def _access_token(self, client: httpx.AsyncClient, refresh: bool = False) -> str:
        async with self._lock:
            if self._token and not refresh and time.monotonic() < self._token_expires:
                return self._token
            resp = await client.get(f"{self.api_base}/cgi-bin/token", params={
                "grant_type": "client_credential", "appid": self.app_id, "secret": self.app_secret})
            data = resp.json()
            if "access_token" not in data:
                raise OutboundError(f"access token refused: {data.get('errcode')} {data.get('errmsg')}")
            self._token = data["access_token"]
            # refresh five minutes early
            self._token_expires = time.monotonic() + max(60, int(data.get("expires_in", 7200)) - 300)
            return self._token

    async def send_text(self, openid: str, text: str) -> None:
        body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
        async with httpx.AsyncClient(timeout=self.timeout, trust_env=False) as client:
            for attempt in range(2):
                token = await self._access_token(client, refresh=attempt > 0)
                # ensure_ascii=False: WeChat shows \uXXXX escapes literally
                resp = await client.post(f"{self.api_base}/cgi-bin/message/custom/send",
                                         params={"access_token": token},
                                         content=_json(body), headers={"Content-Type": "application/json"})
                data = resp.json()
                code = data.get("errcode", 0)
                if code == 0:
                    return
                if code in self.TOKEN_EXPIRED and attempt == 0:
                    continue
                raise OutboundError(f"custom message refused: {code} {data.get('errmsg')}")


def _json(body) -> bytes:
    import json

    return json.dumps(body, ensure_ascii=False).encode("utf-8")
