"""Channel gateway configuration, read from the environment with embedded dev defaults.

Every value is read when a router is built (channels.include), so tests can set the environment first.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

# Dev defaults: public, refused with APP_ENV=production (core/secrets.py, docs/security.md).
from core.secrets import (DEV_WECHAT_AES_KEY, DEV_WECHAT_APP_ID, DEV_WECHAT_SECRET,  # noqa: E402,F401
                          DEV_WECHAT_TOKEN, DEV_WIDGET_SECRET)


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _float(name: str, default: float) -> float:
    try:
        return float(_env(name, str(default)))
    except ValueError:
        return default


@dataclass(frozen=True)
class WeChatAccount:
    app_id: str
    token: str
    aes_key: str
    app_secret: str
    insurer: str | None
    mode: str = "compat"  # plain | safe | compat (both accepted)


@dataclass(frozen=True)
class Settings:
    rasa_url: str
    rasa_timeout: float           # seconds for one Rasa call (background WeChat answers may take this long)
    hotline: str | None           # offered when the assistant is unavailable (else the insurer's, from the store)
    wechat_accounts: dict[str, WeChatAccount] = field(default_factory=dict)
    wechat_default: str = ""      # app_id served on /wechat
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_reply_deadline: float = 4.5
    wechat_max_body: int = 32 * 1024
    widget_secret: str = DEV_WIDGET_SECRET
    widget_token_required: bool = False
    widget_insurer: str | None = None
    ivr_insurer: str | None = None
    ivr_timeout: float = 6.0
    redis_url: str | None = None
    rasa_channel_token: str | None = None  # bearer token for Rasa's REST channel (bot/rest_channel.py)
    ivr_token: str | None = None           # bearer token the telephony platform sends to /ivr/turn


def _accounts() -> tuple[dict[str, WeChatAccount], str]:
    """One account from WECHAT_* variables, or several from WECHAT_ACCOUNTS (JSON text or a file path):
    [{"app_id", "token", "encoding_aes_key", "app_secret", "insurer", "mode"}, ...]; the first is the default."""
    raw = os.environ.get("WECHAT_ACCOUNTS", "").strip()
    mode = _env("WECHAT_MODE", "compat").lower()
    if raw:
        text = Path(raw).read_text(encoding="utf-8") if not raw.startswith("[") else raw
        items = json.loads(text)
        accounts = {}
        for it in items:
            acc = WeChatAccount(app_id=it["app_id"], token=it["token"], aes_key=it.get("encoding_aes_key", ""),
                                app_secret=it.get("app_secret", ""), insurer=it.get("insurer"),
                                mode=str(it.get("mode", mode)).lower())
            accounts[acc.app_id] = acc
        return accounts, items[0]["app_id"]
    app_id = _env("WECHAT_APP_ID", DEV_WECHAT_APP_ID)
    insurer = os.environ.get("WECHAT_INSURER") or None
    imap = os.environ.get("WECHAT_INSURER_MAP", "")  # "wx123=平安健康,wx456=众安"
    for pair in filter(None, (p.strip() for p in imap.split(","))):
        k, _, v = pair.partition("=")
        if k.strip() == app_id and v.strip():
            insurer = v.strip()
    acc = WeChatAccount(app_id=app_id, token=_env("WECHAT_TOKEN", DEV_WECHAT_TOKEN),
                        aes_key=_env("WECHAT_ENCODING_AES_KEY", DEV_WECHAT_AES_KEY),
                        app_secret=_env("WECHAT_APP_SECRET", DEV_WECHAT_SECRET), insurer=insurer, mode=mode)
    return {app_id: acc}, app_id


def load() -> Settings:
    accounts, default = _accounts()
    return Settings(
        rasa_url=_env("RASA_URL", "http://127.0.0.1:5005").rstrip("/"),
        rasa_timeout=_float("RASA_TIMEOUT", 20.0),
        hotline=os.environ.get("SUPPORT_HOTLINE") or None,
        wechat_accounts=accounts, wechat_default=default,
        wechat_api_base=_env("WECHAT_API_BASE", "https://api.weixin.qq.com").rstrip("/"),
        wechat_reply_deadline=_float("WECHAT_REPLY_DEADLINE", 4.5),
        widget_secret=_env("WIDGET_SECRET", DEV_WIDGET_SECRET),
        widget_token_required=_env("WIDGET_TOKEN_REQUIRED", "0") == "1",
        widget_insurer=os.environ.get("WIDGET_INSURER") or None,
        ivr_insurer=os.environ.get("IVR_INSURER") or None,
        ivr_timeout=_float("IVR_RASA_TIMEOUT", 6.0),
        redis_url=os.environ.get("CHANNELS_REDIS_URL") or None,
        rasa_channel_token=os.environ.get("RASA_CHANNEL_TOKEN") or None,
        ivr_token=os.environ.get("IVR_TOKEN") or None,
    )
