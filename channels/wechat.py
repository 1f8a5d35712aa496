"""WeChat official account: server verification (GET) and messages in plain or safe (AES) mode (POST).

WeChat waits 5 s for a passive reply and retries the same MsgId up to three times. Each message is
processed once (dedupe); when the answer is not ready in time we reply "success" and deliver it
through the customer-service message API (outbound). Replies over 2048 bytes: the first part is
the passive reply, the rest goes out through the API.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import unicodedata

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply
from wechatpy.utils import check_signature

from channels import ChannelState, render, state_of
from channels.config import WeChatAccount
from channels.dedupe import ASYNC
from channels.rasa_client import RasaUnavailable
from channels.xmlsafe import XmlRejected, parse_flat

log = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])

OPTIONS_TTL = 24 * 3600
CLOCK_SKEW = 300  # seconds a signed timestamp may differ from our clock (WeChat retries within ~15 s)
MAX_TEXT = 1000   # characters of one customer message passed on to the assistant

WELCOME = ("您好，欢迎关注{who}！我是智能客服助手，可以帮您：\n"
           "· 查询您有哪些健康管理服务，以及服务内容\n"
           "· 查询某个城市或医院是否在服务范围内\n"
           "· 判断您是否符合申请条件（等待期、剩余次数、家属能否使用）\n"
           "· 了解办理流程、所需材料、时效和费用\n"
           "· 预约服务、查询或取消预约进度\n"
           "· 随时回复“转人工”联系人工客服\n"
           "请直接输入您的问题，例如：“北京有没有就医陪诊服务？”")
UNSUPPORTED = "抱歉，我目前只能看懂文字和语音消息。请直接输入您的问题，或回复“转人工”联系人工客服。"
VOICE_UNCLEAR = "抱歉，没有听清您的语音，请再说一遍，或直接输入文字。"
EMPTY_ANSWER = "抱歉，我暂时没有找到答案。您可以换个说法，或回复“转人工”联系人工客服。"
EMPTY_TEXT = "您好，请直接输入您想咨询的问题。"


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _account(st: ChannelState, app_id: str | None) -> WeChatAccount | None:
    return st.settings.wechat_accounts.get(app_id or st.settings.wechat_default)


def _fresh(q, now: float | None = None) -> bool:
    """The signed timestamp is within CLOCK_SKEW of now (a captured push cannot be replayed later)."""
    try:
        ts = int(q.get("timestamp", ""))
    except ValueError:
        return False
    return abs((now if now is not None else time.time()) - ts) <= CLOCK_SKEW


async def _nonce_seen_with_other_body(st: ChannelState, acc: WeChatAccount, q, body: bytes) -> bool:
    """Remember each signed (timestamp, nonce) with the body it came with, for the whole clock window.
    WeChat's retries repeat the same query and body; the same signed query with another body is a replay
    (in plain mode the signature does not cover the body)."""
    digest = hashlib.sha256(body).hexdigest()
    key = f"wxnonce:{acc.app_id}:{q.get('timestamp', '')}:{q.get('nonce', '')}"
    if await st.store.add(key, digest, 2 * CLOCK_SKEW + 60):
        return False
    return (await st.store.get(key)) not in (None, digest)


def _signed(acc: WeChatAccount, q) -> bool:
    try:
        check_signature(acc.token, q.get("signature", ""), q.get("timestamp", ""), q.get("nonce", ""))
        return True
    except InvalidSignatureException:
        return False


@router.get("/wechat", response_class=PlainTextResponse, summary="WeChat server URL verification")
@router.get("/wechat/{app_id}", response_class=PlainTextResponse, include_in_schema=False)
async def verify(request: Request, app_id: str | None = None):
    acc = _account(state_of(request), app_id)
    if acc is None:
        return _error(404, "wechat_account_unknown", "unknown official account")
    if not _signed(acc, request.query_params):
        return _error(403, "wechat_signature_invalid", "invalid signature")
    return PlainTextResponse(request.query_params.get("echostr", ""))


@router.post("/wechat", summary="WeChat message push (plain or AES safe mode)")
@router.post("/wechat/{app_id}", include_in_schema=False)
async def receive(request: Request, app_id: str | None = None):
    started = time.monotonic()
    st = state_of(request)
    acc = _account(st, app_id)
    if acc is None:
        return _error(404, "wechat_account_unknown", "unknown official account")
    q = request.query_params
    if not _signed(acc, q):  # checked before reading anything else: nothing is processed
        return _error(403, "wechat_signature_invalid", "invalid signature")
    if not _fresh(q):
        return _error(403, "wechat_timestamp_stale", "timestamp outside the allowed window")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > st.settings.wechat_max_body:
        return _error(413, "payload_too_large", "body too large")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > st.settings.wechat_max_body:
            return _error(413, "payload_too_large", "body too large")
    if await _nonce_seen_with_other_body(st, acc, q, body):
        return _error(403, "wechat_replay", "nonce already used with another message")
    try:
        outer = parse_flat(body)
        text = body.decode("utf-8")
    except XmlRejected as exc:
        log.warning("wechat: rejected body: %s", exc.message)
        return _error(400, exc.code, exc.message)
    except UnicodeDecodeError:
        return _error(400, "xml_malformed", "body is not UTF-8")

    encrypted = q.get("encrypt_type", "raw").lower() == "aes"
    crypto = None
    if encrypted:
        if acc.mode == "plain":
            return _error(400, "wechat_mode_mismatch", "encrypted message but the account is in plain mode")
        if "Encrypt" not in outer:
            return _error(400, "xml_malformed", "no <Encrypt> element")
        crypto = WeChatCrypto(acc.token, acc.aes_key, acc.app_id)
        try:
            text = crypto.decrypt_message({"Encrypt": outer["Encrypt"]}, q.get("msg_signature", ""),
                                          q.get("timestamp", ""), q.get("nonce", ""))
        except InvalidSignatureException:
            return _error(403, "wechat_signature_invalid", "invalid message signature")
        except InvalidAppIdException:
            return _error(400, "wechat_appid_mismatch", "message encrypted for another app id")
        except Exception as exc:  # noqa: BLE001 - bad base64, bad padding, bad length
            return _error(400, "wechat_decrypt_failed", f"cannot decrypt: {exc.__class__.__name__}")
        try:
            fields = parse_flat(text)
        except XmlRejected as exc:
            return _error(400, exc.code, exc.message)
    else:
        if acc.mode == "safe":
            return _error(400, "wechat_mode_mismatch", "the account accepts encrypted messages only")
        fields = outer
    if not fields.get("MsgType") or not fields.get("FromUserName"):
        return _error(400, "xml_malformed", "MsgType and FromUserName are required")

    msg = parse_message(text)
    # (account, user, MsgId): another user sending the same MsgId is another message, never this reply
    key = f"wx:{acc.app_id}:{fields['FromUserName']}:" + (
        fields.get("MsgId") or f"{fields.get('CreateTime', '')}:{fields.get('Event', '')}")
    deadline = max(0.1, st.settings.wechat_reply_deadline - (time.monotonic() - started))
    content = await passive_reply(st, acc, msg, key, deadline)
    if content is None:
        return PlainTextResponse("success")
    xml = TextReply(message=msg, content=content).render()
    if crypto is not None:
        xml = crypto.encrypt_message(xml, q.get("nonce", ""), q.get("timestamp") or None)
    return Response(xml, media_type="application/xml")


async def passive_reply(st: ChannelState, acc: WeChatAccount, msg, key: str, deadline: float) -> str | None:
    """The text of the passive reply, or None for "success" (nothing now; maybe later via the API)."""
    if not await st.dedupe.claim(key):  # a retry: same reply as the first delivery
        stored = await st.dedupe.wait(key, deadline)
        return None if stored in (None, ASYNC) else stored
    task = asyncio.create_task(answer(st, acc, msg))
    try:
        chunks = await asyncio.wait_for(asyncio.shield(task), deadline)
    except asyncio.TimeoutError:
        await st.dedupe.mark_async(key)
        log.info("wechat: %s not ready in %.1fs, delivering through the API", key, deadline)
        _background(st, _deliver(st, acc, msg.source, task))
        return None
    except Exception:  # noqa: BLE001 - never a 500 to WeChat; the customer still hears from us
        log.exception("wechat: answering %s failed", key)
        chunks = [st.apology(acc.insurer, st.kb)]
    if not chunks:
        await st.dedupe.mark_async(key)
        return None
    await st.dedupe.reply(key, chunks[0])
    if len(chunks) > 1:
        _background(st, _send_all(st, acc, msg.source, chunks[1:]))
    return chunks[0]


def _background(st: ChannelState, coro) -> None:
    task = asyncio.create_task(coro)
    st.tasks.add(task)
    task.add_done_callback(st.tasks.discard)


async def _deliver(st: ChannelState, acc: WeChatAccount, openid: str, task: asyncio.Task) -> None:
    try:
        chunks = await task
    except Exception:  # noqa: BLE001
        log.exception("wechat: late answer for %s failed", openid)
        chunks = [st.apology(acc.insurer, st.kb)]
    await _send_all(st, acc, openid, chunks)


async def _send_all(st: ChannelState, acc: WeChatAccount, openid: str, chunks: list[str]) -> None:
    outbound = st.outbound_for(acc)
    for chunk in chunks:
        try:
            await outbound.send_text(openid, chunk)
        except Exception as exc:  # noqa: BLE001 - logged; WeChat offers no other way to reach the user
            log.error("wechat: customer-service message to %s failed: %s", openid, exc)
            return


def _digit(text: str) -> int | None:
    t = unicodedata.normalize("NFKC", text).strip().rstrip("。.")
    return int(t) if t.isdigit() and len(t) <= 2 else None


def sender_id(acc: WeChatAccount, openid: str) -> str:
    """The Rasa sender of a WeChat user: namespaced by channel and account (an OpenID is per account, and
    must never be taken for a widget or IVR sender)."""
    return f"wx:{acc.app_id}:{openid}"


async def answer(st: ChannelState, acc: WeChatAccount, msg) -> list[str]:
    """The reply texts for one message (already split for WeChat's limit)."""
    kind = msg.type
    if kind == "event":
        if msg.event in ("subscribe", "subscribe_scan"):
            who = f"{acc.insurer}健康服务" if acc.insurer else "健康服务助手"
            return [WELCOME.format(who=who)]
        return []  # unsubscribe, menu views, location reports: nothing to say
    if kind == "voice":
        content = (getattr(msg, "recognition", None) or "").strip()
        if not content:
            return [VOICE_UNCLEAR]
    elif kind == "text":
        content = (msg.content or "").strip()
    else:
        return [UNSUPPORTED]
    if not content:
        return [EMPTY_TEXT]
    openid = msg.source
    opt_key = f"wxopt:{acc.app_id}:{openid}"
    n = _digit(content)
    if n is not None:
        saved = await st.store.get(opt_key)
        options = json.loads(saved) if saved else []
        if 1 <= n <= len(options):
            content = options[n - 1]["payload"]
    metadata = {"insurer": acc.insurer} if acc.insurer else {}
    try:
        messages = await st.rasa.send(sender_id(acc, openid), content[:MAX_TEXT], metadata)
    except RasaUnavailable as exc:
        log.warning("wechat: assistant unavailable for %s: %s", openid, exc.reason)
        return [st.apology(acc.insurer, st.kb)]
    if not messages:  # Rasa said nothing: an action failed (action server down)
        log.warning("wechat: empty answer for %s (action server down?)", openid)
        return [st.apology(acc.insurer, st.kb)]
    ans = render.collect(messages)
    if ans.options:
        await st.store.set(opt_key, json.dumps([{"title": o.title, "payload": o.payload} for o in ans.options],
                                               ensure_ascii=False), OPTIONS_TTL)
    else:
        await st.store.delete(opt_key)
    if ans.empty and not ans.options:
        return [EMPTY_ANSWER]
    return render.wechat(ans)
