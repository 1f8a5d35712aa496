"""WeChat retries a message (same MsgId) up to three times when it has no answer within 5 s.

Each message is processed once: the first delivery claims the key; retries wait for the stored
reply and get exactly the same one. When the answer went out through the customer-service API
instead, retries get "success" (nothing more to show).
"""
from __future__ import annotations

import asyncio
import time

from channels.store import KeyValueStore

PENDING = "\x00pending"
ASYNC = "\x00async"      # the answer is (or will be) delivered through the outbound API
TTL = 900.0              # WeChat retries within ~15 s; keys outlive the +/-5 min timestamp window (wechat.py)


class Dedupe:
    def __init__(self, store: KeyValueStore, ttl: float = TTL, poll: float = 0.1):
        self.store, self.ttl, self.poll = store, ttl, poll

    async def claim(self, key: str) -> bool:
        """True for the first delivery of this message (the caller processes it)."""
        return await self.store.add("dedupe:" + key, PENDING, self.ttl)

    async def reply(self, key: str, reply: str) -> None:
        await self.store.set("dedupe:" + key, reply, self.ttl)

    async def mark_async(self, key: str) -> None:
        await self.store.set("dedupe:" + key, ASYNC, self.ttl)

    async def release(self, key: str) -> None:
        """Processing failed before any answer: let a retry try again."""
        await self.store.delete("dedupe:" + key)

    async def wait(self, key: str, timeout: float) -> str | None:
        """The stored reply of a message processed elsewhere; ASYNC when it goes out via the API;
        None when nothing arrived in time."""
        deadline = time.monotonic() + timeout
        while True:
            value = await self.store.get("dedupe:" + key)
            if value is not None and value != PENDING:
                return value
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(self.poll)
