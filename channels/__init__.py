"""Channels gateway: WeChat official account, in-app help widget and hotline IVR, in front of Rasa.

`include(app)` adds the routers to a FastAPI app (api.app does this on port 8000). Each channel talks
to Rasa through rasa_client and renders answers in render.py; actions never know the channel.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from fastapi import FastAPI, Request

from channels import config
from channels.dedupe import Dedupe
from channels.outbound import Outbound, WeChatOutbound
from channels.rasa_client import RasaClient
from channels.sms import LoggingSms, SmsSender
from channels.store import KeyValueStore, make_store

log = logging.getLogger(__name__)


@dataclass
class ChannelState:
    settings: config.Settings
    rasa: RasaClient
    store: KeyValueStore
    dedupe: Dedupe
    sms: SmsSender
    outbound_for: Callable[[config.WeChatAccount], Outbound]
    kb: object | None = None                # knowledge.query.KnowledgeBase when the API app has one
    tasks: set = field(default_factory=set)  # background deliveries, kept referenced

    def kb_or_none(self, request: Request | None = None):
        if self.kb is not None:
            return self.kb
        return getattr(request.app.state, "kb", None) if request is not None else None

    def hotline(self, insurer: str | None, kb=None) -> str | None:
        """SUPPORT_HOTLINE, else the insurer's phone contact from the knowledge store."""
        if self.settings.hotline:
            return self.settings.hotline
        kb = kb or self.kb
        if kb is None or not insurer:
            return None
        try:
            for c in kb.contacts(insurer):
                if c.kind == "phone" and c.value:
                    return c.value
        except Exception as exc:  # noqa: BLE001 - a missing store must not break the apology
            log.warning("no hotline for %s: %s", insurer, exc)
        return None

    def apology(self, insurer: str | None, kb=None) -> str:
        phone = self.hotline(insurer, kb)
        way = f"请稍后再试，或拨打客服热线 {phone}。" if phone else "请稍后再试，或联系人工客服。"
        return "抱歉，智能助手暂时无法回答。" + way


def make_state(settings: config.Settings | None = None, *, rasa: RasaClient | None = None,
               store: KeyValueStore | None = None, sms: SmsSender | None = None,
               outbound_for: Callable | None = None, kb=None) -> ChannelState:
    settings = settings or config.load()
    store = store or make_store(settings.redis_url)
    cache: dict[str, Outbound] = {}

    def default_outbound(acc: config.WeChatAccount) -> Outbound:
        if acc.app_id not in cache:
            cache[acc.app_id] = WeChatOutbound(acc.app_id, acc.app_secret, settings.wechat_api_base)
        return cache[acc.app_id]

    return ChannelState(settings=settings, rasa=rasa or RasaClient(settings.rasa_url, settings.rasa_timeout,
                                                                  token=settings.rasa_channel_token),
                        store=store, dedupe=Dedupe(store), sms=sms or LoggingSms(),
                        outbound_for=outbound_for or default_outbound, kb=kb)


def include(app: FastAPI, state: ChannelState | None = None) -> ChannelState:
    """Add /wechat, /widget and /ivr to the app; state defaults to the environment's configuration."""
    from channels import ivr, wechat, widget

    state = state or make_state()
    if state.kb is None:
        state.kb = getattr(app.state, "kb", None)
    app.state.channels = state
    app.include_router(wechat.router)
    app.include_router(widget.router)
    widget.mount_static(app)
    app.include_router(ivr.router)
    return state


def state_of(request: Request) -> ChannelState:
    return request.app.state.channels
