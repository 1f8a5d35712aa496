"""Dedupe and channel state on the real Redis at 127.0.0.1:6379 (production store)."""
from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from channels.dedupe import ASYNC, Dedupe
from channels.store import MemoryStore, RedisStore

pytestmark = pytest.mark.redis
REDIS = "redis://127.0.0.1:6379/0"


@pytest.fixture
def prefix():
    return f"test-channels-{uuid.uuid4().hex[:8]}:"


def _redis_up() -> bool:
    import redis

    try:
        return redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001
        return False


if not _redis_up():
    pytest.skip("Redis is not running on 127.0.0.1:6379", allow_module_level=True)


@pytest.mark.parametrize("kind", ["memory", "redis"])
def test_store_contract(kind, prefix):
    async def run():
        store = RedisStore(REDIS, prefix=prefix) if kind == "redis" else MemoryStore()
        assert await store.add("k", "v1", 5) is True
        assert await store.add("k", "v2", 5) is False
        assert await store.get("k") == "v1"
        await store.set("k", "v3", 5)
        assert await store.get("k") == "v3"
        await store.delete("k")
        assert await store.get("k") is None
        assert await store.add("short", "x", 0.2)
        await asyncio.sleep(0.4)
        assert await store.get("short") is None and await store.add("short", "y", 1)
        if kind == "redis":
            await store.close()
    asyncio.run(run())


def test_dedupe_across_two_gateway_processes(prefix):
    """Two workers sharing Redis: only one claims the message; the other waits and gets the same reply."""
    async def run():
        a, b = Dedupe(RedisStore(REDIS, prefix=prefix)), Dedupe(RedisStore(REDIS, prefix=prefix))
        assert await a.claim("wx:app:1")
        assert not await b.claim("wx:app:1")
        assert await b.wait("wx:app:1", 0.2) is None  # still being processed

        async def answer_later():
            await asyncio.sleep(0.3)
            await a.reply("wx:app:1", "同一个回复")

        t = asyncio.create_task(answer_later())
        assert await b.wait("wx:app:1", 2.0) == "同一个回复"
        await t
        assert await a.claim("wx:app:2") and not await b.claim("wx:app:2")
        await a.mark_async("wx:app:2")
        assert await b.wait("wx:app:2", 0.5) == ASYNC
        await a.release("wx:app:2")
        assert await b.claim("wx:app:2")  # released: a retry may process it
    asyncio.run(run())


def test_wechat_duplicates_with_redis_store(prefix):
    import tests.test_channel_wechat as w
    from channels.testing import FakeRasa, FakeWeChatAPI, gateway

    with FakeRasa(w.echo_script()) as rasa, FakeWeChatAPI(w.APP_ID, w.SECRET) as api:
        settings = replace(w.settings(rasa.url, wechat_api_base=api.url), redis_url=REDIS)
        app = gateway(settings, store=RedisStore(REDIS, prefix=prefix))
        with TestClient(app) as c:
            xml = w.text_xml("redis 去重", w.new_id())
            first = w.reply_content(w.post_plain(c, xml))
            second = w.reply_content(w.post_plain(c, xml))
            # options remembered in Redis too
            w.reply_content(w.post_plain(c, w.text_xml("选项", w.new_id())))
            w.reply_content(w.post_plain(c, w.text_xml("1", w.new_id())))
        assert first == second == "收到：redis 去重（平安健康）"
        assert [c["message"] for c in rasa.calls] == ["redis 去重", "选项", "/ask_service_info{\"service\":\"就医陪诊\"}"]
    import redis

    r = redis.Redis.from_url(REDIS)
    keys = r.keys(prefix + "*")
    assert keys and all(0 < r.pttl(k) for k in keys)  # every key expires
    r.delete(*keys)
    time.sleep(0)
