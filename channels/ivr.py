"""Hotline IVR text fallback: the telephony platform does speech recognition / DTMF and text-to-speech;
each turn is POST /ivr/turn {call_id, text | dtmf} -> {speak, options: [{digit, label}], action}.

Digits: 1-7 the options just read out, 8 = SMS the full list, 9 = repeat, 0 = agent.
Two misunderstandings in a row (nlu fallback, empty input, unknown digit) -> transfer to an agent.
"""
from __future__ import annotations

import hmac
import json
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from channels import ChannelState, render, state_of
from channels.rasa_client import RasaUnavailable

log = logging.getLogger(__name__)
router = APIRouter(tags=["channels"])

STATE_TTL = 2 * 3600
SMS_DIGIT, REPEAT_DIGIT, AGENT_DIGIT = "8", "9", "0"
AGENT_OPTION = {"digit": AGENT_DIGIT, "label": "人工客服"}

TRANSFER = "好的，正在为您转接人工客服，请稍候。"
TRANSFER_AFTER_MISSES = "抱歉，我还是没能听明白。正在为您转接人工客服，请稍候。"
NOT_UNDERSTOOD = "抱歉，我没有听明白。"
ASK_AGAIN = "请换个说法再说一遍，或按零转人工。"
UNAVAILABLE = "抱歉，系统暂时无法回答您的问题。正在为您转接人工客服，请稍候。"
SMS_SENT = "完整名单已经用短信发到您的手机上，请注意查收。还有什么可以帮您？"
SMS_NO_NUMBER = "抱歉，没有获取到您的手机号码，暂时无法发送短信。还有什么可以帮您？"
AGENT_HINT = "转人工请按零。"


class TurnIn(BaseModel):
    call_id: str = Field(..., min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:@-]+$")
    text: str | None = Field(None, max_length=500)
    dtmf: str | None = Field(None, max_length=16, pattern=r"^[0-9*#]*$")
    caller: str | None = Field(None, max_length=20, description="caller's number, for the SMS list")


class OptionOut(BaseModel):
    digit: str
    label: str


class TurnOut(BaseModel):
    speak: str
    options: list[OptionOut]
    action: str  # continue | transfer | hangup


async def _load(st: ChannelState, call_id: str) -> dict:
    raw = await st.store.get(f"ivr:{call_id}")
    return json.loads(raw) if raw else {"misses": 0, "options": [], "sms": None, "last": None}


async def _save(st: ChannelState, call_id: str, state: dict) -> None:
    await st.store.set(f"ivr:{call_id}", json.dumps(state, ensure_ascii=False), STATE_TTL)


def _out(speak: str, options: list[dict], action: str = "continue") -> dict:
    shown = [{"digit": o["digit"], "label": o["label"]} for o in options]
    if action == "continue" and not any(o["digit"] == AGENT_DIGIT for o in shown):
        shown.append(dict(AGENT_OPTION))
    return {"speak": speak, "options": shown if action == "continue" else [], "action": action}


def _authorized(st: ChannelState, request: Request) -> bool:
    """IVR_TOKEN set: the telephony platform must send `Authorization: Bearer <IVR_TOKEN>`. Without it
    anyone who knew or guessed a call_id could continue that caller's (verified) conversation."""
    token = st.settings.ivr_token
    if not token:
        return True
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


@router.post("/ivr/turn", response_model=TurnOut, summary="One IVR turn: recognised speech or DTMF -> what to say",
             responses={401: {"description": "IVR_TOKEN is set and the request does not carry it"}})
async def turn(request: Request, body: TurnIn):
    st = state_of(request)
    if not _authorized(st, request):
        return JSONResponse({"error": {"code": "ivr_token_required", "message": "unauthorized"}}, status_code=401)
    state = await _load(st, body.call_id)
    result = await _turn(st, state, body)
    if result["action"] == "continue":
        state["last"] = result
    await _save(st, body.call_id, state)
    return result


async def _missed(state: dict, bot_text: str | None = None) -> dict:
    state["misses"] = state.get("misses", 0) + 1
    if state["misses"] >= 2:
        state["misses"] = 0
        return _out(TRANSFER_AFTER_MISSES, [], "transfer")
    said = render.speakable(bot_text) if bot_text else NOT_UNDERSTOOD
    return _out(said + ASK_AGAIN, state.get("options") or [])


async def _turn(st: ChannelState, state: dict, body: TurnIn) -> dict:
    dtmf = (body.dtmf or "").strip("#")
    if dtmf:
        if dtmf == AGENT_DIGIT:
            return _out(TRANSFER, [], "transfer")
        if dtmf == REPEAT_DIGIT and state.get("last"):
            return state["last"]
        if dtmf == SMS_DIGIT and state.get("sms"):
            if not body.caller:
                return _out(SMS_NO_NUMBER, [])
            try:
                await st.sms.send(body.caller, state["sms"])
            except Exception as exc:  # noqa: BLE001
                log.error("ivr: sms to %s failed: %s", body.caller, exc)
                return _out("抱歉，短信暂时发送失败。" + AGENT_HINT, [])
            state["misses"] = 0
            return _out(SMS_SENT, [])
        chosen = next((o for o in state.get("options") or [] if o["digit"] == dtmf and o.get("payload")), None)
        if chosen is None:
            return await _missed(state)
        message = chosen["payload"]
    else:
        message = (body.text or "").strip()
        if not message:
            return await _missed(state)

    metadata = {"insurer": st.settings.ivr_insurer} if st.settings.ivr_insurer else {}
    try:
        messages = await st.rasa.send(f"ivr:{body.call_id}", message, metadata, timeout=st.settings.ivr_timeout)
    except RasaUnavailable as exc:
        log.warning("ivr: assistant unavailable for %s: %s", body.call_id, exc.reason)
        return _out(UNAVAILABLE, [], "transfer")
    if not messages:  # Rasa said nothing: an action failed (action server down); not the caller's fault
        log.warning("ivr: empty answer for %s (action server down?)", body.call_id)
        return _out(UNAVAILABLE, [], "transfer")
    ans = render.collect(messages)
    bot_text = " ".join(b.text for b in ans.blocks if b.text)
    if ans.is_(render.HANDOFF_KINDS):
        return _out(render.speakable(bot_text) if bot_text else TRANSFER, [], "transfer")
    if ans.is_(render.GOODBYE_KINDS):
        return _out(render.speakable(bot_text) if bot_text else "感谢您的来电，再见。", [], "hangup")
    if ans.empty or ans.is_(render.MISUNDERSTOOD_KINDS):
        return await _missed(state, bot_text or None)
    speech = render.ivr(ans, sms_digit=SMS_DIGIT)
    state["misses"] = 0
    state["options"] = [o for o in speech.options if o["digit"] not in (SMS_DIGIT,)]
    state["sms"] = speech.sms_text
    return _out(speech.speak + AGENT_HINT, speech.options)
