"""Conversation glue: greeting, follow-ups that reuse the last answer, fallback, human handoff.
(The channel's insurer needs no action of its own: every action reads it from the message metadata
through common.current_insurer, which puts the channel first.)"""
from __future__ import annotations

import json
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.base import AnswerAction
from actions.common import Answer, current_insurer, hotline, slot_text, stores, transcript

log = logging.getLogger(__name__)

INTENT_ZH = {
    "ask_services": "看看有哪些服务", "ask_service_info": "了解某项服务", "ask_coverage": "查服务城市/医院",
    "ask_eligibility": "看看我能不能用", "ask_how_to_apply": "怎么申请", "ask_contact": "客服电话",
    "open_ticket": "预约服务", "ticket_status": "查工单进度", "cancel_ticket": "取消预约",
    "human_handoff": "转人工", "complaint": "投诉建议", "greet": "打招呼", "goodbye": "结束对话",
    "thanks": "不用了，谢谢", "inform": "补充信息", "affirm": "是的", "deny": "不是", "bot_challenge": "你是机器人吗",
    "out_of_scope": "其他问题",
}


class ActionGreet(AnswerAction):
    remember = False

    def name(self) -> str:
        return "action_greet"

    def answer(self, dispatcher, tracker, domain) -> list:
        ins = current_insurer(tracker)
        who = f"{ins.short_name}健康服务助手" if ins else "健康服务助手"
        Answer("greet", f"您好，我是{who}。可以帮您查服务内容、覆盖城市和医院、能不能用，也可以帮您预约。",
               options=[("有哪些服务", "/ask_services"), ("查覆盖城市", "/ask_coverage"),
                        ("我能用吗", "/ask_eligibility"), ("预约服务", "/open_ticket")]).send(dispatcher)
        return []


def _answer_actions() -> dict:
    from actions.coverage import ActionCoverage
    from actions.info import ActionContact, ActionHowToApply, ActionListServices, ActionServiceInfo
    from actions.tickets import ActionCancelTicket, ActionTicketStatus

    return {a().name(): a for a in (ActionCoverage, ActionContact, ActionHowToApply, ActionListServices,
                                    ActionServiceInfo, ActionTicketStatus, ActionCancelTicket)}


def _qa(dispatcher, tracker, unless: tuple = ()) -> list | None:
    """assist.qa's answer to the typed message (None: a payload, or a reply of a kind in `unless`)."""
    from actions.answer import answer_typed

    probe = CollectingDispatcher()
    try:
        events = answer_typed(probe, tracker)
    except Exception:  # the caller's own answer still goes out
        log.exception("qa failed")
        return None
    if events is None or any((m.get("custom") or {}).get("answer", {}).get("kind") in unless for m in probe.messages):
        return None
    dispatcher.messages.extend(probe.messages)
    return events


class ActionFollowup(Action):
    """A bare answer outside a form ("那上海呢？", "我妈妈呢？", "众安的"): answer the last question again
    with what changed. Eligibility goes back through its form (the new person may need new facts)."""

    def name(self) -> str:
        return "action_followup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        last = slot_text(tracker, "last_answer")
        if last == "action_check_eligibility":
            return [FollowupAction("eligibility_form")]
        typed = _qa(dispatcher, tracker)
        if typed is not None:
            return typed
        actions = _answer_actions()
        if last in actions:
            return await actions[last]().run(dispatcher, tracker, domain)
        entities = {e.get("entity") for e in (tracker.latest_message or {}).get("entities") or []}
        if "hospital" in entities or "city" in entities:
            return await actions["action_coverage"]().run(dispatcher, tracker, domain)
        if "service" in entities:
            return await actions["action_service_info"]().run(dispatcher, tracker, domain)
        if "insurer" in entities or "product" in entities:
            return await actions["action_list_services"]().run(dispatcher, tracker, domain)
        if "ticket_number" in entities:
            return await actions["action_ticket_status"]().run(dispatcher, tracker, domain)
        Answer("clarify", "收到。请问您想了解什么？",
               options=[("有哪些服务", "/ask_services"), ("查覆盖城市", "/ask_coverage"),
                        ("我能用吗", "/ask_eligibility"), ("预约服务", "/open_ticket")]).send(dispatcher)
        return []


def _previous_user_intent(tracker: Tracker) -> str:
    users = [e for e in tracker.events or [] if e.get("event") == "user"]
    if len(users) < 2:
        return ""
    return ((users[-2].get("parse_data") or {}).get("intent") or {}).get("name") or ""


FOLLOWUP_ENTITIES = {"city", "hospital", "person", "service", "insurer", "product", "topic"}


def question_in_disguise(tracker: Tracker, followup_only: bool = False) -> bool:
    """A message the NLU put outside the services (out_of_scope, a complaint) that is a question about them:
    it names a service, product or insurer, or follows up the last answer ("那买了20天的话呢？",
    "要是出院20天了呢？"). With followup_only, only a follow-up that names a service ("那肿瘤心理咨询呢？")."""
    from actions.answer import typed_text
    from assist.qa import HYPOTHETICAL
    from assist.understand import read

    text = typed_text(tracker)
    if not text:
        return False
    r = read(stores().kb, text)
    follows = "followup" in r.cues or bool(HYPOTHETICAL.search(text))
    if followup_only:
        return follows and bool(r.services) and bool(slot_text(tracker, "last_answer"))
    return bool(r.services or r.products or r.insurer) or (follows and bool(slot_text(tracker, "last_answer")))


class ActionOutOfScope(Action):
    """out_of_scope: a question about the services that the NLU did not place is answered like any question;
    anything else gets the out-of-scope reply."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        if question_in_disguise(tracker):
            typed = _qa(dispatcher, tracker, unless=UNANSWERED)
            if typed is not None:
                return typed
        dispatcher.utter_message(response="utter_out_of_scope")
        return []


UNANSWERED = ("clarify", "ask_service", "ask_product")  # qa kinds that answer nothing by themselves


class ActionGoodbye(Action):
    """goodbye: a follow-up question the NLU heard as a farewell ("那挂消化内科呢？": 挂 as in 挂了) is
    answered; a real farewell gets the goodbye."""

    def name(self) -> str:
        return "action_goodbye"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        if question_in_disguise(tracker) and _asks(tracker):
            typed = _qa(dispatcher, tracker, unless=UNANSWERED)
            if typed is not None:
                return typed
        dispatcher.utter_message(response="utter_goodbye")
        return []


def _asks(tracker: Tracker) -> bool:
    """The message is put as a question (呢 / 吗 / ？ / 能…), not a statement."""
    from actions.answer import typed_text

    return bool(re.search(r"[呢吗嘛么?？]\s*$|能不能|可不可以|行不行|怎么|多少|几", typed_text(tracker) or ""))


class ActionClarify(Action):
    """nlu_fallback: offer the two likeliest intents as buttons; a second fallback in a row hands over."""

    def name(self) -> str:
        return "action_clarify"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        msg = tracker.latest_message or {}
        ents = {e.get("entity") for e in msg.get("entities") or []}
        if slot_text(tracker, "last_answer") and ents & FOLLOWUP_ENTITIES and len(msg.get("text") or "") <= 12:
            # a short unclear message naming a city/person/... right after an answer: "那拉萨呢？"
            return await ActionFollowup().run(dispatcher, tracker, domain)
        typed = _qa(dispatcher, tracker, unless=UNANSWERED)
        if typed is not None:  # answered even after an earlier fallback: a handoff is for what qa cannot read
            return typed
        if _previous_user_intent(tracker) == "nlu_fallback":
            return await ActionHandoff().run(dispatcher, tracker, domain, reason="fallback")
        ranking = [r for r in msg.get("intent_ranking") or []
                   if r.get("name") not in ("nlu_fallback", None) and r.get("name") in INTENT_ZH]
        ents = {e["entity"]: e["value"] for e in msg.get("entities") or [] if e.get("entity") and e.get("value")}
        suffix = json.dumps(ents, ensure_ascii=False) if ents else ""
        options = [(INTENT_ZH[r["name"]], f"/{r['name']}{suffix}") for r in ranking[:2]]
        options.append(("转人工", "/human_handoff"))
        Answer("clarify", "抱歉，我没太明白。您是想：", items=[o[0] for o in options], options=options).send(dispatcher)
        return []


class ActionHandoff(Action):
    """转人工: a handoff record with the conversation so far, for an agent to pick up."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any],
                  reason: str | None = None) -> list:
        from handoff import create_handoff

        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if intent == "complaint" and reason is None and question_in_disguise(tracker, followup_only=True):
            typed = _qa(dispatcher, tracker, unless=UNANSWERED)  # "那肿瘤心理咨询呢？她情绪很差。"
            if typed is not None:
                return typed
        reason = reason or {"complaint": "complaint", "nlu_fallback": "fallback"}.get(intent, "customer_request")
        ins = current_insurer(tracker)
        turns = transcript(tracker)
        asked = [t["text"] for t in turns if t["who"] == "user"]
        slots = {k: v for k, v in (tracker.current_slot_values() or {}).items()
                 if k in ("insurer", "service", "city", "hospital", "person", "policy_number", "ticket_number")}
        events: list = []
        try:
            h, _created = create_handoff(tracker.sender_id, transcript=turns, reason=reason,
                                         channel=tracker.get_latest_input_channel(),
                                         insurer=ins.name if ins else None,
                                         summary=asked[-2] if len(asked) >= 2 else (asked[-1] if asked else None),
                                         slots=slots, engine=stores().engine)
            text = f"好的，已为您转接人工客服（编号 {h.number}），客服会带着刚才的对话记录尽快回复您。"
            if reason == "complaint":
                text = "非常抱歉给您带来不好的体验。" + text
            elif reason == "fallback":
                text = "抱歉，我还是没能理解您的问题。" + text
            items = [{"handoff": h.number}]
        except Exception:
            log.exception("handoff failed")
            text, items = "抱歉，人工客服暂时无法接入。", []
        line, srcs = hotline(ins)
        if line:
            text += f"着急的话也可以直接拨打{line}。"
        Answer("handoff", text, items=items, sources=srcs).send(dispatcher)
        return events  # inside a form the rules deactivate it first
