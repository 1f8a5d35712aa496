"""Question answering in the chat: the conversation's context in, assist.qa's reply out.

The question actions (coverage, service info, how to apply, contact, services, follow-ups, the first
fallback) answer typed questions here; a button payload ("/ask_coverage{...}") has no words to read
and keeps the action's own answer.
"""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Answer, channel_insurer, context_value, slot_text, stores

LAST = "last_answer"  # slot: "qa:<kind>:<aspect>:<question waiting for a product>" after assist.qa


def typed_text(tracker: Tracker) -> str:
    """The customer's words of the latest message ('' for a button payload)."""
    text = str((tracker.latest_message or {}).get("text") or "").strip()
    return "" if text.startswith("/") else text


def context(tracker: Tracker):
    from assist.qa import Context

    last = slot_text(tracker, LAST)
    kind, aspect, pending = "", "", ""
    if last.startswith("qa:"):
        _, kind, aspect, pending = (last.split(":", 3) + ["", "", ""])[:4]
    elif last == "action_check_eligibility":
        kind = "eligibility"  # the own-policy check: "如果她转进ICU了呢？" changes its case
    return Context(insurer=slot_text(tracker, "insurer") or None,
                   product=slot_text(tracker, "product") or _policy_product(tracker),
                   service=slot_text(tracker, "service") or None, city=slot_text(tracker, "city") or None,
                   channel_insurer=channel_insurer(tracker) or None, in_form=bool(tracker.active_loop_name),
                   last_kind=kind or None, last_aspect=aspect or None, pending=pending or None,
                   edition_said=_edition_said(tracker),
                   earlier=(_earlier(tracker) if kind == "eligibility" else None))


def _policy_product(tracker: Tracker) -> str | None:
    """The product of the policy verified in this conversation: questions are about it."""
    if not slot_text(tracker, "policy_number") or not slot_text(tracker, "verifier"):
        return None
    from actions.eligibility import verified_policy
    from assist.qa import _product_name

    policy = verified_policy(tracker)
    return _product_name(stores().kb, policy.manual_id) if policy is not None and policy.manual_id else None


def _earlier(tracker: Tracker) -> str | None:
    """The customer's message before this one (its stated facts carry into a follow-up)."""
    from actions.common import user_texts

    texts = user_texts(tracker, 2)
    return texts[1] if len(texts) > 1 and texts[1] and not texts[1].startswith("/") else None


def _edition_said(tracker: Tracker) -> str | None:
    """The latest earlier message of the customer that names a product's edition (蓝本2023专业版)."""
    from actions.common import user_texts
    from assist.names import index_for

    ix = index_for(stores().kb)
    for text in user_texts(tracker, 6)[1:]:
        found = ix.products_in(text) if text and not text.startswith("/") else []
        if found and found[0].edition:
            return text
    return None


def answer_typed(dispatcher: CollectingDispatcher, tracker: Tracker, text: str | None = None) -> list | None:
    """Answer the typed question (or `text`, a part of it) with assist.qa; None for a button payload (the
    caller answers)."""
    text = text or typed_text(tracker)
    if not text:
        return None
    from actions.tickets import wants_booking

    if not tracker.active_loop_name and wants_booking(text):  # a booking the NLU read as a question
        return [FollowupAction("ticket_form")]
    from assist.qa import answer

    st = stores()
    rep = answer(st.kb, text, context(tracker), engine=st.kb.engine, policies=st.policies)
    Answer(rep.kind, rep.text, items=rep.items, options=rep.options, sources=rep.sources).send(dispatcher)
    events: list = [SlotSet(k, v) for k, v in rep.remember.items() if v]
    events.append(SlotSet(LAST, f"qa:{rep.kind}:{rep.aspect or ''}:{(rep.pending or '')[:200]}"))
    if rep.check_policy and not tracker.active_loop_name:
        events.append(FollowupAction("eligibility_form"))
    return events


def answer_rule_question(dispatcher: CollectingDispatcher, tracker: Tracker) -> list | None:
    """A ticket intent without a ticket number that names a service or a product is a question about the
    manual's rule (cancelling, rescheduling): answered like any question; None otherwise."""
    text = typed_text(tracker)
    if not text:
        return None
    from assist.understand import read

    r = read(stores().kb, text)
    if not (r.services or r.products or r.insurer):
        from actions.formread import is_question

        if not (is_question(text) and context_value(tracker, "service")):
            return None  # "最晚什么时候得取消？" about the service just discussed: its rule, answered
    return answer_typed(dispatcher, tracker)
