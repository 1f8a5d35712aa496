"""Talks to the Rasa server over its REST channel: POST {RASA_URL}/webhooks/rest/webhook."""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    """Rasa could not answer (down, slow, broken reply). `reason` is short English for logs."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class RasaClient:
    def __init__(self, url: str = "http://127.0.0.1:5005", timeout: float = 20.0,
                 transport: httpx.AsyncBaseTransport | None = None, finish_timeout: float = 120.0,
                 token: str | None = None):
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}  # bot/rest_channel.py checks it
        self.timeout = timeout
        # A turn the channel stopped waiting for keeps its connection open up to this long: Rasa (Sanic)
        # cancels a turn whose client disconnects, which would drop the customer's message half-processed.
        self.finish_timeout = max(finish_timeout, timeout)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._background: set[asyncio.Task] = set()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            self._client = httpx.AsyncClient(transport=self._transport, trust_env=False,
                                             timeout=httpx.Timeout(self.timeout, connect=min(3.0, self.timeout)))
        return self._client

    async def send(self, sender: str, message: str, metadata: dict | None = None,
                   timeout: float | None = None) -> list[dict[str, Any]]:
        """The bot messages for one user message, in order. Raises RasaUnavailable."""
        body = {"sender": sender, "message": message, "metadata": metadata or {}}
        endpoint = f"{self.url}/webhooks/rest/webhook"
        wait = timeout if timeout is not None else self.timeout
        task = asyncio.ensure_future(self._http().post(
            endpoint, json=body, headers=self.headers, timeout=httpx.Timeout(self.finish_timeout, connect=min(3.0, wait))))
        try:
            resp = await asyncio.wait_for(asyncio.shield(task), wait)
        except asyncio.TimeoutError:
            # Let Rasa finish the turn (it is recorded and its actions run once); the customer gets an apology.
            self._background.add(task)
            task.add_done_callback(self._finished)
            raise RasaUnavailable(f"timeout after {wait:.1f}s at {endpoint} (turn left to finish)")
        except httpx.TimeoutException:
            raise RasaUnavailable(f"timeout after {self.finish_timeout:.1f}s at {endpoint}")
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"{exc.__class__.__name__} at {endpoint}: {exc}")
        if resp.status_code != 200:
            raise RasaUnavailable(f"HTTP {resp.status_code} from {endpoint}: {resp.text[:200]}")
        try:
            data = resp.json()
        except ValueError:
            raise RasaUnavailable(f"non-JSON reply from {endpoint}: {resp.text[:200]}")
        if not isinstance(data, list) or not all(isinstance(m, dict) for m in data):
            raise RasaUnavailable(f"unexpected reply shape from {endpoint}: {str(data)[:200]}")
        return data

    def _finished(self, task: asyncio.Task) -> None:
        self._background.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.warning("a turn left to finish failed: %s", exc.__class__.__name__)

    async def reachable(self, timeout: float = 1.0) -> bool:
        try:
            resp = await self._http().get(f"{self.url}/", timeout=timeout)
            return resp.status_code < 500
        except httpx.HTTPError:
            return False

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
