"""Small key-value store behind the channel state (WeChat dedupe, remembered options, IVR turns).

MemoryStore for one process (default, tests); RedisStore for production (several gateway workers).
Values are strings; every key expires.
"""
from __future__ import annotations

import asyncio
import time
from typing import Protocol


class KeyValueStore(Protocol):
    async def add(self, key: str, value: str, ttl: float) -> bool:
        """Set only when absent; True when this call set it."""

    async def set(self, key: str, value: str, ttl: float) -> None: ...

    async def get(self, key: str) -> str | None: ...

    async def delete(self, key: str) -> None: ...


class MemoryStore:
    def __init__(self, max_keys: int = 100_000):
        self._data: dict[str, tuple[float, str]] = {}
        self._lock = asyncio.Lock()
        self.max_keys = max_keys

    def _live(self, key: str) -> str | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[0] < time.monotonic():
            self._data.pop(key, None)
            return None
        return item[1]

    def _trim(self) -> None:
        if len(self._data) < self.max_keys:
            return
        now = time.monotonic()
        for k in [k for k, (exp, _) in self._data.items() if exp < now]:
            del self._data[k]
        while len(self._data) >= self.max_keys:  # still full: drop the oldest insertions
            del self._data[next(iter(self._data))]

    async def add(self, key: str, value: str, ttl: float) -> bool:
        async with self._lock:
            if self._live(key) is not None:
                return False
            self._trim()
            self._data[key] = (time.monotonic() + ttl, value)
            return True

    async def set(self, key: str, value: str, ttl: float) -> None:
        async with self._lock:
            self._data.pop(key, None)
            self._trim()
            self._data[key] = (time.monotonic() + ttl, value)

    async def get(self, key: str) -> str | None:
        return self._live(key)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)


class RedisStore:
    """Same contract on Redis (SET NX EX), shared by every gateway process."""

    def __init__(self, url: str = "redis://127.0.0.1:6379/0", prefix: str = "channels:"):
        import redis.asyncio as aioredis

        self.url, self.prefix = url, prefix
        self._redis = aioredis.from_url(url, decode_responses=True, socket_timeout=2, socket_connect_timeout=2)

    async def add(self, key: str, value: str, ttl: float) -> bool:
        return bool(await self._redis.set(self.prefix + key, value, nx=True, px=max(1, int(ttl * 1000))))

    async def set(self, key: str, value: str, ttl: float) -> None:
        await self._redis.set(self.prefix + key, value, px=max(1, int(ttl * 1000)))

    async def get(self, key: str) -> str | None:
        return await self._redis.get(self.prefix + key)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self.prefix + key)

    async def close(self) -> None:
        await self._redis.aclose()


def make_store(redis_url: str | None) -> KeyValueStore:
    return RedisStore(redis_url) if redis_url else MemoryStore()
