"""AnswerAction: the run() wrapper every answering action shares.

It remembers which answer the customer last got (slot last_answer, so a bare follow-up
like "那上海呢？" can be answered the same way), keeps the channel's insurer in the
conversation, and turns an unexpected error into an apology plus a handoff offer.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import (Answer, context_value, current_insurer, insurer_buttons, pick_service, product_scope,
                            slot_text, stores)

log = logging.getLogger(__name__)

FORM_SLOTS = {"service", "insurer", "person", "city", "hospital", "date", "phone", "policy_number", "verifier",
              "disease", "diagnosis", "confirm"}


def unchanged_slots_dropped(events: list, tracker: Tracker) -> list:
    """Events without the SlotSets that would not change a slot (same value as it has by then).

    Each event is stored, replayed and sent to the action server with every later call, so a no-op costs
    on every turn that follows (bench/chat_load.py).
    """
    current: dict = {}
    out = []
    for e in events:
        if e.get("event") == "slot":
            name, value = e.get("name"), e.get("value")
            if current.get(name, tracker.get_slot(name)) == value:
                continue
            current[name] = value
        out.append(e)
    return out


def ask_next_slot(slot: str | None, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> None:
    """From a form's validation action: ask for the slot the form requests next, unless a message of this call
    already did, or Rasa asks it with a response of the domain (no action server call). Rasa skips its own
    action_ask_<slot> call when it sees the message (bot/rasa_speedups.py); where the validation action does
    not run (a form starting empty, a form resumed after a side question) Rasa calls action_ask_<slot>."""
    cls = ASK_ACTIONS.get(slot or "")
    if cls is None or any(m.get("asks") == slot for m in dispatcher.messages):
        return
    try:
        cls().answer(dispatcher, tracker, domain)
    except Exception:  # Rasa's own call of action_ask_<slot> will ask (or apologise)
        log.exception("asking for %s failed", slot)


class NeedAsk(Exception):
    """Raised inside answer() when a question was asked instead of an answer."""

    def __init__(self, events: list | None = None):
        super().__init__("asked")
        self.events = events or []


ASK_ACTIONS: dict[str, type] = {}  # form slot -> the AnswerAction that asks for it (action_ask_<slot>)


class AnswerAction(Action, ABC):
    remember = True  # set last_answer to this action
    asks_for: str | None = None  # action_ask_<slot>: the slot it asks for

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.asks_for:
            ASK_ACTIONS[cls.asks_for] = cls

    @abstractmethod
    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        """Send the answer (or ask and raise NeedAsk); return slot events."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> list:
        events: list = []
        try:
            ins = current_insurer(tracker)  # channel, then what was just said, then the conversation
            if ins is not None and slot_text(tracker, "insurer") != ins.short_name:
                events.append(SlotSet("insurer", ins.short_name))
            if self.remember:
                events.append(SlotSet("last_answer", self.name()))
            try:
                events += self.answer(dispatcher, tracker, domain) or []
            except NeedAsk as q:
                events += q.events
        except Exception:  # never leave the customer without a reply
            log.exception("%s failed", self.name())
            Answer("error", "抱歉，系统暂时没能查到结果。您可以稍后再试，或者输入“转人工”由客服帮您处理。",
                   options=[("转人工", "/human_handoff")]).send(dispatcher)
        if tracker.active_loop_name:  # a side question inside a form: leave the form's answers alone
            events = [e for e in events if not (e.get("event") == "slot" and e.get("name") in FORM_SLOTS)]
        return unchanged_slots_dropped(events, tracker)

    # -- helpers for subclasses ---------------------------------------------------
    def need_insurer(self, dispatcher, tracker, names=None):
        ins = current_insurer(tracker)
        if ins is None:
            Answer("ask_insurer", "请问您的保单是哪家保险公司的？", options=insurer_buttons(names)).send(dispatcher)
            raise NeedAsk()
        return ins

    def need_service(self, dispatcher, tracker, insurer=None, manual_id=None, prompt="您想了解哪项服务？"):
        """The service the conversation is about; asks (and raises NeedAsk) when unknown or unclear."""
        insurer, manual_id = product_scope(tracker, insurer or current_insurer(tracker), manual_id)
        text = context_value(tracker, "service")
        if text:
            svc, insurers = pick_service(text, insurer, manual_id)
            if svc is not None:
                return svc
            if insurers:
                Answer("ask_insurer", f"好几家保险公司都有“{text}”，请问您的保单是哪家的？",
                       options=insurer_buttons(insurers)).send(dispatcher)
                raise NeedAsk()
            options = self.service_buttons(insurer)
            Answer("ask_service", f"没有找到“{text}”这项服务。{prompt}", options=options).send(dispatcher)
            raise NeedAsk([SlotSet("service", None)])
        Answer("ask_service", prompt, options=self.service_buttons(insurer)).send(dispatcher)
        raise NeedAsk()

    @staticmethod
    def service_buttons(insurer, limit: int = 8) -> list:
        from actions.common import inform_payload

        if insurer is None:
            return []
        names = list(dict.fromkeys(s.name for s in stores().kb.services(insurer.id)))
        return [(n, inform_payload(service=n)) for n in names[:limit]]
