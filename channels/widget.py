"""In-app help widget: GET /widget (the chat page an app embeds in a web view) and its JSON API.

The embedding app passes ?insurer=<name or alias> and, for a known customer, ?token=<signed token>
(HMAC-SHA256 with WIDGET_SECRET, made by sign_token). A bad or expired token is refused clearly.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import logging
import re
import time
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from channels import ChannelState, render, state_of
from channels.rasa_client import RasaUnavailable
from core.throttle import current_client

log = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])
STATIC = Path(__file__).parent / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; frame-ancestors *")
_SESSION = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class TokenError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_token(secret: str, customer_id: str, insurer: str | None = None, ttl: int = 3600,
               now: float | None = None) -> str:
    """Token for the embedding app's backend to put in the widget URL: v1.<claims>.<hmac>."""
    claims = {"sub": str(customer_id), "exp": int((now or time.time()) + ttl)}
    if insurer:
        claims["ins"] = insurer
    body = _b64(json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode())
    sig = _b64(hmac.new(secret.encode(), f"v1.{body}".encode(), hashlib.sha256).digest())
    return f"v1.{body}.{sig}"


def verify_token(secret: str, token: str, now: float | None = None) -> dict:
    parts = (token or "").split(".")
    if len(token or "") > 2048 or len(parts) != 3 or parts[0] != "v1":
        raise TokenError("widget_token_invalid", "身份凭证格式不正确，请退出后重新打开帮助页面。")
    expected = _b64(hmac.new(secret.encode(), f"v1.{parts[1]}".encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(expected, parts[2]):
        raise TokenError("widget_token_invalid", "身份凭证无效，请退出后重新打开帮助页面。")
    try:
        claims = json.loads(_unb64(parts[1]))
        sub, exp = str(claims["sub"]), int(claims["exp"])
    except (ValueError, KeyError, TypeError):
        raise TokenError("widget_token_invalid", "身份凭证内容有误，请退出后重新打开帮助页面。")
    if not sub or len(sub) > 128:
        raise TokenError("widget_token_invalid", "身份凭证内容有误，请退出后重新打开帮助页面。")
    if exp < (now or time.time()):
        raise TokenError("widget_token_expired", "身份凭证已过期，请退出后重新打开帮助页面。")
    return claims


class WidgetError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def resolve_insurer(st: ChannelState, request: Request, text: str | None) -> str | None:
    """The insurer's short name (via the knowledge store when there is one); unknown -> WidgetError 400."""
    text = (text or "").strip() or st.settings.widget_insurer
    if not text:
        return None
    kb = st.kb_or_none(request)
    if kb is None:
        return text[:40]
    ins = kb.resolve_insurer(text[:40])
    if ins is None:
        names = "、".join(i.short_name for i in kb.insurers())
        raise WidgetError(400, "unknown_insurer", f"没有找到保险公司“{text[:40]}”，目前支持：{names}。")
    return ins.short_name


def identify(st: ChannelState, request: Request, insurer: str | None, token: str | None,
             session: str | None) -> tuple[str, str | None]:
    """(Rasa sender id, insurer) for a widget request. Raises WidgetError."""
    claims = None
    if token:
        try:
            claims = verify_token(st.settings.widget_secret, token)
        except TokenError as exc:
            raise WidgetError(403, exc.code, exc.message)
    elif st.settings.widget_token_required:
        raise WidgetError(403, "widget_token_required", "请先登录 App，再打开帮助页面。")
    name = resolve_insurer(st, request, (claims or {}).get("ins") or insurer)
    if claims:
        return f"widget:{claims['sub']}", name
    if not session or not _SESSION.match(session):
        raise WidgetError(400, "widget_session_invalid", "会话标识无效，请刷新页面后重试。")
    return f"widget-anon:{session}", name


def _error_page(status: int, message: str) -> HTMLResponse:
    page = (STATIC / "error.html").read_text(encoding="utf-8").replace("{{MESSAGE}}", html.escape(message))
    return HTMLResponse(page, status_code=status, headers={"Content-Security-Policy": CSP})


@router.get("/widget", response_class=HTMLResponse, summary="The help widget page (embed in a web view)")
async def page(request: Request, insurer: str | None = None, token: str | None = None):
    st = state_of(request)
    try:
        if token:
            verify_token(st.settings.widget_secret, token)
        elif st.settings.widget_token_required:
            raise TokenError("widget_token_required", "请先登录 App，再打开帮助页面。")
        name = resolve_insurer(st, request, insurer)
    except TokenError as exc:
        return _error_page(403, exc.message)
    except WidgetError as exc:
        return _error_page(exc.status, exc.message)
    title = f"{name} 在线客服" if name else "在线客服"
    text = (STATIC / "widget.html").read_text(encoding="utf-8").replace("{{TITLE}}", html.escape(title))
    return HTMLResponse(text, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})


class MessageIn(BaseModel):
    text: str = Field("", max_length=1000)
    payload: str | None = Field(None, max_length=500)   # a quick reply's payload (sent instead of text)
    insurer: str | None = Field(None, max_length=60)
    token: str | None = Field(None, max_length=2048)
    session: str | None = Field(None, max_length=64)


@router.post("/widget/api/message", summary="One customer message -> the assistant's answer, rendered for the widget")
async def message(request: Request, body: MessageIn):
    st = state_of(request)
    try:
        sender, insurer = identify(st, request, body.insurer, body.token, body.session)
    except WidgetError as exc:
        return JSONResponse({"error": {"code": exc.code, "message": exc.message}}, status_code=exc.status)
    text = (body.payload or body.text or "").strip()
    if not text:
        return JSONResponse({"error": {"code": "message_empty", "message": "请输入您的问题。"}}, status_code=422)
    metadata = {"insurer": insurer} if insurer else {}
    client = current_client()  # the caller's address (api.app ClientKey), hashed: identity checks in the chat
    if client:                 # count against it too, however many anonymous sessions it opens
        metadata["client"] = "ip#" + hashlib.sha256(client.encode()).hexdigest()[:20]
    try:
        messages = await st.rasa.send(sender, text, metadata)
    except RasaUnavailable as exc:
        log.warning("widget: assistant unavailable for %s: %s", sender, exc.reason)
        return {"messages": [{"text": st.apology(insurer, st.kb_or_none(request)), "kind": "unavailable",
                              "items": [], "sources": []}],
                "options": [{"title": "重试", "payload": text}], "error": "assistant_unavailable"}
    if not messages:
        # Rasa 3.6 answers [] when an action failed (action server down or broken): the turn is recorded
        # but nothing was said. Apologise with the hotline and offer to retry.
        log.warning("widget: empty answer for %s (action server down?)", sender)
        return {"messages": [{"text": st.apology(insurer, st.kb_or_none(request)), "kind": "unavailable",
                              "items": [], "sources": []}],
                "options": [{"title": "重试", "payload": text}], "error": "assistant_empty"}
    out = render.widget(render.collect(messages))
    if not out["messages"] and not out["options"]:
        out["messages"] = [{"text": "抱歉，我暂时没有找到答案。您可以换个说法，或输入“转人工”。",
                            "kind": "empty", "items": [], "sources": []}]
    return out


def mount_static(app: FastAPI) -> None:
    app.mount("/widget/static", StaticFiles(directory=STATIC), name="widget-static")
