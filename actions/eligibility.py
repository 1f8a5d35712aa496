"""eligibility_form: one question at a time, each answer checked; then rules.decide through the API's
eligibility check (the same glue the service API uses: verified policy, person, coverage, usage).

The form asks only what is still needed: the insurer when unknown, the service, the policy
(number + the holder's mobile or ID last four, verified by the PolicySource), the person, and
then only the facts decide() reports missing that a customer can tell (diagnosis, disease, city).
"""
from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.base import AnswerAction, ask_next_slot
from actions.common import (Answer, ask, clip, current_insurer, insurer_buttons, person_on_policy, pick_service,
                            product_scope, relation_code, slot_text, stores, user_texts)

log = logging.getLogger(__name__)

# decide() facts the customer can answer in this form -> slot
# (the city is not asked: "can I use it" is answered, with where it is offered as a note)
FACT_SLOTS = {"case.diagnosis": "diagnosis", "case.disease": "disease"}
DIAGNOSIS = [("none", re.compile(r"没有|未|还没|不是|没")),
             ("suspected", re.compile(r"疑似|怀疑|可能")),
             ("confirmed", re.compile(r"确诊|已诊断|诊断为|确定|是的|^是$"))]
DIAGNOSIS_ZH = {"confirmed": "已确诊", "suspected": "疑似", "none": "尚未诊断"}
MAX_VERIFY_FAILURES = 3


def fitting_service(text: str, ins, policy) -> tuple[list, Any]:
    """(the services a described situation fits at the customer's policy or insurer, the one to book when
    they are all the same service, else None)."""
    from assist.qa import fitting_services

    manuals = {policy.manual_id} if policy and policy.manual_id else (set(ins.manuals) if ins else None)
    fits = fitting_services(stores().kb, text[:200], manuals)
    names = {f.name for f in fits}
    return fits, (fits[0] if len(names) == 1 and (manuals or len(fits) == 1) else None)


def _names_owner(raw: str, contact: str, person: str) -> bool:
    """The part of the message that gives the contact phone also names a person ("电话留我女儿的159…"):
    that person is whose phone it is. "…，我自己，…，电话139…" names the person served elsewhere."""
    from assist.facts import relation_in
    from assist.text import normalise

    text = normalise(raw)
    for part in re.split(r"[，,。;；\s]+", text):
        if contact in re.sub(r"\D", "", part):
            return person in part or relation_in(part)[0] is not None
    return True


def parse_verifier_text(text: str):
    """Verifier from free text (mobile or ID last four / a full ID), or None."""
    from assist.errors import AssistError
    from assist.resolve import parse_verifier
    from assist.text import digits_only

    from actions.formread import spoken_x

    s = digits_only(spoken_x(str(text or "")[:80]))[:40]
    if len(s) == 18:
        s = s[-4:]
    try:
        return parse_verifier(s) if s else None
    except AssistError:
        return None


def _once_per_call(tracker: Tracker, key: tuple, compute):
    """Memo on the Tracker object, which lives for one action call: rasa-sdk asks a form's required_slots
    three times per call (extraction, validation, next question), and each would reload the policy and
    rerun the eligibility rules. The key holds every input, so a slot changed in between is recomputed."""
    memo = tracker.__dict__.setdefault("_hi_memo", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def verified_policy(tracker: Tracker):
    """The policy when the number and verifier slots verify, else None (never raises)."""
    number, verifier = slot_text(tracker, "policy_number"), slot_text(tracker, "verifier")
    if not number or not verifier:
        return None
    return _once_per_call(tracker, ("policy", number, verifier), lambda: _load_policy(number, verifier))


def _load_policy(number: str, verifier: str):
    v = parse_verifier_text(verifier)
    if v is None:
        return None
    try:
        return stores().policies.get(number, v)
    except Exception:
        return None


class _AlreadyVerified:
    """A PolicySource that hands back the policy verified_policy() loaded in this call (same number and
    verifier slots) instead of loading and verifying it a second time."""

    def __init__(self, policy, source):
        self.policy, self.source = policy, source

    def get(self, policy_number, verifier):
        from core.ids import ValidationError, normalize_policy_number

        try:
            same = normalize_policy_number(policy_number) == self.policy.number
        except ValidationError:
            same = False
        return self.policy if same else self.source.get(policy_number, verifier)


def stated_diagnosis(tracker: Tracker) -> str | None:
    """The diagnosis the customer stated in their recent messages (最近复发了 -> confirmed), or None."""
    from assist.facts import read_facts

    return next((d for d in (read_facts(t).diagnosis for t in user_texts(tracker, 8) if t) if d), None)


def eligibility_result(tracker: Tracker) -> dict | Answer:
    """The API eligibility check on what the conversation knows; an Answer when it cannot run."""
    key = ("eligibility", json.dumps(tracker.slots, sort_keys=True, default=str, ensure_ascii=False))
    return _once_per_call(tracker, key, lambda: _eligibility_result(tracker))


def _eligibility_result(tracker: Tracker) -> dict | Answer:
    from assist.eligibility import Case, EligibilityRequest, Person, check
    from assist.errors import AssistError

    st = stores()
    policy = verified_policy(tracker)
    person_text = slot_text(tracker, "person")
    person = Person()
    if person_text:
        p, _ = person_on_policy(policy, person_text)
        if p is not None:
            person = Person(name=p.name)
        else:
            code = relation_code(person_text)
            person = Person(relation=code) if code else Person(name=person_text[:40])
    diagnosis = slot_text(tracker, "diagnosis") or stated_diagnosis(tracker)
    when = None
    if slot_text(tracker, "date"):
        from actions.timeparse import parse_when

        from core.clock import today_china

        dt = parse_when(slot_text(tracker, "date"))
        when = dt.date() if dt and dt.date() >= today_china() else None  # 去年买的: when bought, not when used
    ins = current_insurer(tracker)
    try:
        v = parse_verifier_text(slot_text(tracker, "verifier")) if policy else None
        req = EligibilityRequest(
            insurer=ins.short_name if ins and not policy else None, service=slot_text(tracker, "service")[:100],
            policy_number=policy.number if policy else None,
            verifier=(v.mobile or v.id_last4) if v else None, person=person,
            case=Case(diagnosis=diagnosis if diagnosis in DIAGNOSIS_ZH else None,
                      disease=slot_text(tracker, "disease")[:100] or None, pregnancy=_stay_for_childbirth(tracker),
                      city=slot_text(tracker, "city")[:40] or None, date=when))
        return check(st.kb, st.kb.engine, _AlreadyVerified(policy, st.policies) if policy else st.policies,
                     req).payload
    except AssistError as e:
        return Answer("eligibility", e.message, options=[("转人工", "/human_handoff")])
    except Exception as e:  # odd slot values, store problems
        log.warning("eligibility check failed: %s", e)
        return Answer("eligibility", "抱歉，暂时没能完成资格判断，可以转人工客服帮您确认。",
                      options=[("转人工", "/human_handoff")])


def _names_a_service(text: str, value: str) -> bool:
    """The message names the service by a name of four characters or more (那重疾绿通呢), not by a word of its
    kind (挂号缴费都要人帮忙)."""
    from assist.qa import _strong
    from assist.understand import services_in

    kb, text = stores().kb, text or ""
    if len(value) >= 4 and value in text and _strong(services_in(kb, value)):
        return True
    # the NLU cut the name short (陪诊 of 那一档还能用陪诊服务吗): a service's whole name is in the message
    return bool(value) and any(len(n) >= 4 and value in n and n in text
                               for s in kb.services() for n in (s.name, *s.aliases))


def _stay_for_childbirth(tracker: Tracker) -> bool | None:
    """Whether the care is for pregnancy or childbirth, from the customer's last messages: True when they say
    so, False when the latest names an illness (因为肺炎住院), None when they say neither."""
    from assist.facts import pregnancy_said
    from assist.understand import _disease

    texts = [t[:300] for t in user_texts(tracker, 3) if t and not t.startswith("/")]
    if any(pregnancy_said(t) for t in texts):
        return True
    return False if slot_text(tracker, "disease") or (texts and _disease(stores().kb, texts[0])) else None


def stated_facts_question(tracker: Tracker) -> bool:
    """The form's first message is a rule question on facts the customer states ("保单刚生效20天能用住院协助吗",
    "给我父亲用可以吗"): answered from the rules without a policy, unless they ask for their own policy."""
    if slot_text(tracker, "policy_number") or tracker.get_slot("requested_slot"):
        return False
    msg = tracker.latest_message or {}
    if (msg.get("intent") or {}).get("name") != "ask_eligibility":
        return False
    from actions.answer import typed_text
    from assist.understand import read

    text = typed_text(tracker)
    if not text:
        return False
    from assist.qa import since_event

    r = _once_per_call(tracker, ("read", text), lambda: read(stores().kb, text))
    if "own_policy" in r.cues:
        return False
    if r.facts.any() or r.aspects or (r.services and (r.products or r.insurer)) or since_event(text):
        return True
    # a follow-up on the service just discussed ("这个服务还能用吗"): the manual's rule, then an offer to check
    return bool(slot_text(tracker, "service") and tracker.get_slot("last_answer"))


def _candidates(tracker: Tracker) -> tuple[int, dict]:
    """(index where the slot candidates start, the candidates): the slot events at the end of the events."""
    events = tracker.events or []
    i = len(events)
    while i > 0 and events[i - 1].get("event") == "slot":
        i -= 1
    return i, {e["name"]: e.get("value") for e in events[i:]}


def last_given(tracker: Tracker, slot: str):
    """The slot's last non-empty value in the conversation, even if it was cleared since (a policy number
    that failed its check)."""
    for e in reversed(tracker.events or []):
        if e.get("event") == "slot" and e.get("name") == slot and e.get("value"):
            return e.get("value")
    return None


def given_policy_number(tracker: Tracker):
    """The policy number the customer gave last, even if its check failed and the slot was cleared."""
    from actions.formread import policy_number_in

    for e in reversed(tracker.events or []):  # a slot value, or a message, holding a policy number
        said = e.get("value") if e.get("event") == "slot" and e.get("name") == "policy_number" else (
            e.get("text") if e.get("event") == "user" else None)
        number = policy_number_in(str(said)) if said else ""
        if number:
            return number
    return None


def prior_value(tracker: Tracker, slot: str):
    """The slot's value before the latest user message."""
    events = tracker.events or []
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    for e in reversed(events[:last_user if last_user >= 0 else len(events)]):
        if e.get("event") == "slot" and e.get("name") == slot:
            return e.get("value")
    return None


def _entities(tracker: Tracker, slots: list[str]) -> dict[str, list]:
    """Entity values of the latest message for the given slots (entity name = slot name), with their spans."""
    out: dict[str, list] = {}
    for e in (tracker.latest_message or {}).get("entities") or []:
        if e.get("entity") in slots and e.get("value"):
            out.setdefault(e["entity"], []).append(e)
    return out


def _person_like(text: str, tracker: Tracker) -> bool:
    """A relation word, 本人, or a name on the verified policy (or any short name before verification)."""
    from assist.people import relation_code

    if relation_code(text):
        return True
    policy = verified_policy(tracker)
    if policy is None:
        return len(text) <= 4
    return any(p.name in text for p in policy.persons())


def _take_nothing(tracker: Tracker, start: int, drop: set) -> dict:
    """The message fills no slot: its slot candidates are removed and each slot gets back its value from
    before the message (returned, for the events)."""
    del tracker.events[start:]
    reverts = {s: prior_value(tracker, s) for s in drop}
    tracker.slots.update(reverts)
    return reverts


def _said_in(raw: str, e: dict, said: str) -> bool:
    """The entity (its value, or the words it was read from) is part of what a correction says."""
    a, b = e.get("start"), e.get("end")
    words = raw[a:b] if isinstance(a, int) and isinstance(b, int) and 0 <= a < b <= len(raw) else e.get("text")
    return str(e.get("value")) in said or bool(words) and str(words) in said


def _blank_spans(raw: str, ents: list[dict]) -> str:
    chars = list(raw)
    for e in ents:
        a, b = e.get("start"), e.get("end")
        if isinstance(a, int) and isinstance(b, int) and 0 <= a < b <= len(chars):
            chars[a:b] = [" "] * (b - a)
    return "".join(chars)


def _asked_aside(raw: str) -> str | None:
    """The part of a message that answers the form and also asks a fact (…。对了，约好以后还能改时间吗？):
    that question, or None. A part with a number, a time, a place or a hospital is an answer, not a question."""
    from actions.formread import city_in_text, hospital_phrase, is_question, time_phrase
    from assist.understand import read

    for part in reversed([p.strip() for p in re.split(r"[。！!；;\n]|[，,](?=对了|顺便|另外|还有)", raw or "")]):
        if len(part) < 5 or not is_question(part) or re.search(r"\d{4,}", part) or time_phrase(part) \
                or city_in_text(part) or hospital_phrase(part):
            continue
        r = read(stores().kb, part)
        asked = {a.key for a in r.aspects} - {"content"}
        if "eligibility" in r.cues and asked <= _CASE_ASPECTS:
            continue  # "我刚查出来复发了，门诊绿通现在能约吗？": whether they can, which the form answers itself
        if asked:
            return part
    return None


_CASE_ASPECTS = {"diagnosis", "who", "age", "waiting", "conditions"}  # facts of the case, asked as "can I use it"


class ValidateEligibilityForm(FormValidationAction):
    def name(self) -> str:
        return "validate_eligibility_form"

    # -- the whole message ----------------------------------------------------------------
    async def get_validation_events(self, dispatcher, tracker, domain) -> list:
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        events_before, slots_before = list(tracker.events), dict(tracker.slots)
        try:
            stop, reverts = self.read_message(dispatcher, tracker, required)
        except Exception:  # never lose the turn: validate what Rasa extracted
            log.exception("reading the message failed")
            tracker.events[:], tracker.slots = events_before, slots_before
            stop, reverts = None, {}
        if stop:
            tracker.__dict__["_hi_stop"] = stop
            return [SlotSet(s, v) for s, v in reverts.items()] + [SlotSet("form_exit", stop)]
        events = await super().get_validation_events(dispatcher, tracker, domain)
        set_now = {e["name"] for e in events if e.get("event") == "slot"}
        return events + [SlotSet(s, v) for s, v in reverts.items() if s not in set_now]

    def read_message(self, dispatcher, tracker: Tracker, required: list[str]) -> tuple[str | None, dict]:
        """Rewrites the slot candidates Rasa extracted from the latest message by reading the message as a whole
        (actions/formread.py). Returns (why the form stops or None, {slot: value to restore}) for candidates Rasa
        had already set that the message does not give."""
        from actions.formread import (NO_HOSPITAL, any_hospital, city_in_text, clock_only, correction, corrections, for_self,
                                      hospital_phrase, intent_of, is_exit, is_question, is_recap, is_resume, is_yes,
                                      no_hospital, other_named, policy_number_in, raw_text, self_named,
                                      switches_service, time_phrase, user_text, verifier_in, without)
        from assist.text import digits_only, normalise
        from core.ids import is_mobile

        raw, text = raw_text(tracker), user_text(tracker)
        if not text:
            return None, {}
        start, cands = _candidates(tracker)
        requested = tracker.get_slot("requested_slot")
        intent = intent_of(tracker)
        drop = set(cands)  # every candidate not kept below is restored to its value before this message
        if requested == "verifier":  # a mobile given to verify the policy is not the contact phone
            cands.pop("phone", None)
        free = {s for s, v in cands.items() if isinstance(v, str) and v.strip() == raw.strip()}  # from_text
        if is_exit(text):
            return "exit", {s: prior_value(tracker, s) for s in drop}
        if is_recap(raw) and not correction(raw)[1]:  # "麻烦重复一下时间": read back, then ask again
            lines = self.known_lines(tracker)
            dispatcher.utter_message(text=("目前记下的是：\n" + "\n".join(lines)) if lines else "还没有记下预约信息。")
            return None, _take_nothing(tracker, start, drop)
        switched = self.other_service(text, tracker) if requested not in (None, "service") else None
        side = is_question(text) and (
            # "能保证安排到协和吗？", "一年能用几次？" asked for the policy, the mobile, the phone or the person
            requested in ("phone", "verifier", "policy_number", "person")
            and (cands or not re.search(r"\d{4,}|[零一二三四五六七八九幺]{4,}", text))
            and (requested == "person" or not re.search(r"\d{5,}", text))
            # "那明年续保以后还要再等等待期吗？" asked for the city
            or requested == "city" and len(text) > 6 and not city_in_text(raw) and not hospital_phrase(raw)
            and switched is None and not time_phrase(raw) and not re.search(r"\d{5,}", text)
            # "对了，那个急救补贴最多能报多少？" asked for the time
            or requested == "date" and len(text) > 6 and not time_phrase(raw) and switched is None
            and not re.search(r"\d{5,}", text))
        if side:
            from actions.answer import answer_typed

            tracker.slots["service"] = prior_value(tracker, "service")  # not a service word tagged in the question
            answer_typed(dispatcher, tracker)
            return None, _take_nothing(tracker, start, drop)
        ents = _entities(tracker, [s for s in required if s not in ("verifier", "confirm", "date")
                                   and not (s == "phone" and requested == "verifier")])
        new: dict[str, Any] = {s: v for s, v in cands.items() if s not in free}
        if not cands and intent.startswith("ask_"):
            if is_question(text):
                return None, {}  # a side question: the rules answer it and the form asks again
            new.update({s: es[0]["value"] for s, es in ents.items()})  # form answers the NLU took for a question
        pending = slot_text(tracker, "hospital_unlisted")
        if requested == "hospital" and intent == "deny" and not cands:  # Rasa maps no text of a "no"
            if pending:  # "不是" to "确认是这家医院吗": ask again, the form goes on
                ask(dispatcher, "ask_hospital", "好的，那请问是哪家医院？没有指定的话选“不指定”。",
                    [("不指定", '/inform{"hospital": "不指定"}')])
                return None, {"hospital_unlisted": None}
            if no_hospital(text):  # "没有" to "有想去的医院吗"
                new["hospital"] = text
        if requested == "hospital" and pending and is_yes(text) and "hospital" in free:
            new["hospital"] = pending
            free.discard("hospital")
        elif requested not in ("confirm", "diagnosis") and (is_resume(text) or is_yes(text)) and not ents:
            self.resumed(dispatcher)
            free = set()
        aside = _asked_aside(raw) if is_question(raw) else None
        answered = raw.replace(aside, " " * len(aside)) if aside else raw  # the answer without the question after it
        phrase = time_phrase(raw) if "date" in required else ""  # jionlp reads 下周四, not normalise()'s 下周4
        field, said = correction(answered)
        also = corrections(answered)[1:]  # "…，医院改成北京儿童医院": more fields changed in the same message
        if phrase and said and field in (None, "date"):  # "下周三不行，改成下周四下午2点": the new time only
            phrase = time_phrase(said) or phrase
        before = str(prior_value(tracker, "date") or "")
        if phrase and clock_only(phrase) and re.match(r"\d{4}-\d\d-\d\dT", before):
            day = datetime.fromisoformat(before)  # "手术那天早上7点" after the day was given: that day
            phrase = f"{day.year}年{day.month}月{day.day}日{clock_only(phrase)}"
        if phrase and requested != "date" and field != "date":
            from actions.timeparse import parse_when
            from core.clock import now_china

            when = parse_when(phrase)
            if when is None or when < now_china():  # 我今天才买的保险: not the time to book
                phrase = ""
        if phrase:
            new["date"] = phrase
        if requested == "confirm" and re.search(r"继续|接着", text) and not said:
            new.pop("confirm", None)  # "好，继续吧" after a side question at the summary is not a yes to it
            self.resumed(dispatcher)
        elif requested == "confirm" and "confirm" not in new and not said and is_yes(text):
            new["confirm"] = True  # "好的。" the NLU could not place is still a yes to the summary
        if said:
            target = field or ("date" if phrase and phrase in said else None) \
                or next((s for s, es in ents.items() if any(_said_in(raw, e, said) for e in es)), None) \
                or (requested if requested in free else None) \
                or ("person" if "person" in required and person_on_policy(verified_policy(tracker), said)[0] else None)
            if target and target != "date" and target in required:
                new[target] = said
                free.discard(target)
            if target and target in required:
                tracker.__dict__["_hi_corrected"] = target
            if field:  # "我爸住我哥家那边，城市改成杭州": the correction changes that field only
                for s in [s for s in new if s in cands and s != field and s not in ("policy_number", "verifier")]:
                    if not any(_said_in(raw, e, said) for e in ents.get(s, [])) \
                            or (field == "phone" and s == "person"):  # 电话换成我老婆的: whose phone, not who is served
                        new.pop(s)
        elif ents.get("person") and len(ents["person"]) > 1 and "person" in new:
            new["person"] = ents["person"][-1]["value"]
        for slot, value in also:
            if slot in required and slot != "date":
                new[slot] = value
                free.discard(slot)
        if said and requested == "confirm":  # a correction at the summary is not its answer
            new.pop("confirm", None)
        spans: list[dict] = []  # what this reading takes from the message, blanked for the free text below
        prior_person, prior_service = prior_value(tracker, "person"), prior_value(tracker, "service")
        if "person" in new and requested != "person" and field != "person" and prior_person \
                and ents.get("person") and all(self_named(raw, e.get("start")) for e in ents["person"]):
            new.pop("person")  # "我叫张伟，手机…": the speaker, the person served was given before
        named = other_named(raw) if "person" in required and field != "person" else None
        if named:  # "她叫李娜", "孩子名叫王乐乐"
            new["person"] = named[0]
            free.discard("person")
            spans.append({"start": named[1], "end": named[2]})
        if "service" in new and requested != "service" and field != "service" and prior_service \
                and new["service"] != prior_service and not switches_service(text) \
                and not (tracker.active_loop_name == "eligibility_form" and _names_a_service(raw, str(new["service"]))):
            new.pop("service")  # "…排队缴费需要人搭把手" describes the need for the service being booked
        if "hospital" in required and "hospital" not in new and not ents.get("hospital") and field != "hospital" \
                and (requested == "hospital" or not slot_text(tracker, "hospital")):
            found = hospital_phrase(raw)  # a hospital the NLU did not tag
            if found:
                new["hospital"] = found[0]
                free.discard("hospital")
                spans.append({"start": found[1], "end": found[2]})
        if "hospital" in new and ents.get("hospital") and field != "hospital":
            found = hospital_phrase(raw)  # the NLU cut the name short (省人民医院 of 南京江苏省人民医院)
            value = str(new["hospital"])
            if found and value in found[0] and len(found[0]) > len(value) and stores().kb.find_hospital(found[0]):
                new["hospital"] = found[0]
        if "city" in required and "city" not in new and not ents.get("city") and field != "city" \
                and (requested == "city" or not slot_text(tracker, "city")):
            place = city_in_text(raw)  # a city the NLU did not tag (在广州天河那边)
            if place and not (new.get("hospital") and requested != "city"):
                new["city"] = place[0]
                free.discard("city")
                spans.append({"start": place[1], "end": place[2]})
        if "person" in required and not new.get("person") and not prior_person and for_self(raw) \
                and field != "person":
            new["person"] = "本人"  # "…是给我本人看…"
            free.discard("person")
        if "hospital" in required and "hospital" not in new and any_hospital(raw):
            new["hospital"] = NO_HOSPITAL  # "医院随便你们挑"
            free.discard("hospital")
        number_said = policy_number_in(raw) if "policy_number" in required else ""
        if requested == "policy_number" and tracker.get_slot("verify_failures") and not new.get("policy_number") \
                and not number_said:
            proof = verifier_in(raw) or (digits_only(text) if is_mobile(digits_only(text)) else None)
            number = given_policy_number(tracker)
            if proof and number:  # "刚才说错了，手机是139…" after a failed check: the same policy, the new proof
                new.update(policy_number=number, verifier=proof)
                free.discard("policy_number")
        if "date" in new and "date" not in free and not phrase and requested != "date":
            new.pop("date")  # the NLU's date with no time expression in the message (身份证后四位1234)
        others = [e for s, es in ents.items() if s not in free for e in es] + spans
        if not others and not phrase and not said:
            for s in list(free):  # the whole message is the value of another slot (上海 asked for the person)
                other = self.typed_slot(text, required, tracker)
                if other and other != s and not slot_text(tracker, other):
                    new[other] = text
                    free.discard(s)
        if not cands and not ents and not phrase and "phone" in required and requested not in ("verifier", "phone"):
            from core.ids import is_mobile
            from assist.text import digits_only

            if is_mobile(digits_only(text)):  # a mobile number at the summary: the contact phone
                new["phone"] = text
        if switched is not None:
            free = set()  # "那门诊协助呢，她还能用吗": a switch of service, no answer to the question asked
            if self.name() == "validate_eligibility_form":  # while a fact is asked: check that one now
                new = {"service": switched.name}
        for s in free:
            if s == "date":
                if not phrase and not (said and field and field != "date"):
                    new["date"] = cands[s]
                continue
            rest = normalise(without(_blank_spans(answered, others), phrase)) if (others or phrase or said or aside) \
                else cands[s]
            if said and field and field != s:
                rest = ""
            if s == "city" and new.get("hospital") and self.typed_slot(rest, ["city"], tracker) != "city":
                rest = ""  # "温州医科大学附属第二医院，…，电话…" asked for the city: the hospital gives it
            if s == "person" and rest and (others or phrase) and not _person_like(rest, tracker):
                rest = ""  # what is left of a message full of other answers is not a name (看妇科，电话打这个)
            if rest:
                new[s] = rest
        if number_said and not new.get("policy_number") and not slot_text(tracker, "policy_number"):
            new["policy_number"] = number_said  # the NLU gave the message another intent (…电话打这个)
        self.identity_and_contact(raw, required, requested, new, tracker)
        if aside and new:  # "手机139…。对了，约好以后还能改时间吗？": the answer is taken, the question answered
            from actions.answer import answer_typed

            # the question is about the service in hand, not a service word the NLU tagged in it (挂号费)
            tracker.slots["service"] = new.get("service") or prior_value(tracker, "service")
            answer_typed(dispatcher, tracker, aside)
        order = [s for s in required if s in new] + [s for s in new if s not in required]
        del tracker.events[start:]
        for s in order:
            tracker.events.append({"event": "slot", "timestamp": None, "name": s, "value": new[s]})
            tracker.slots[s] = new[s]
        reverts = {}
        for s in drop - set(new):
            reverts[s] = tracker.slots[s] = prior_value(tracker, s)
        if requested == "verifier" and "phone" not in new and tracker.get_slot("phone") != prior_value(tracker, "phone"):
            reverts["phone"] = tracker.slots["phone"] = prior_value(tracker, "phone")  # set by Rasa outside the form
        return None, reverts

    @staticmethod
    def other_service(text: str, tracker: Tracker):
        """The service a message switches to ("那门诊协助呢") when it is not the one in hand, else None."""
        from actions.formread import switches_service

        if not switches_service(text):
            return None
        policy = verified_policy(tracker)
        ins = stores().kb.resolve_insurer(policy.insurer) if policy else current_insurer(tracker)
        other, _ = pick_service(text, ins, policy.manual_id if policy else None)
        return other if other is not None and other.name != prior_value(tracker, "service") else None

    @staticmethod
    def identity_and_contact(raw: str, required: list[str], requested, new: dict, tracker: Tracker) -> None:
        """A message that gives more than was asked: the proof of identity it states with its cue
        ("保单…，手机13900000001") fills the verifier, and "联系也打这个" makes that mobile the contact
        phone (a mobile given to verify is otherwise not the contact phone); a service at home has no
        hospital to ask for."""
        from actions.formread import (NO_HOSPITAL, at_home, bare_mobile_in, keeps_contact, policy_number_in,
                                      same_contact, verifier_in)
        from assist.text import digits_only, normalise
        from core.ids import is_mobile

        said = verifier_in(raw)
        if not said and "verifier" in required and policy_number_in(raw):
            said = bare_mobile_in(raw)  # "保单ZAP…，李明，139…": a policy number and one mobile with it
        if said and "verifier" in required and requested != "verifier" and not slot_text(tracker, "verifier") \
                and (slot_text(tracker, "policy_number") or new.get("policy_number") or requested == "policy_number"):
            new["verifier"] = said
            if new.get("phone") and digits_only(str(new["phone"])) == said and not same_contact(raw):
                new.pop("phone")
        if "hospital" in required and not slot_text(tracker, "hospital") and not new.get("hospital") and at_home(raw):
            new["hospital"] = NO_HOSPITAL  # served at home: no hospital to choose
        if "phone" in required and requested != "verifier" and not same_contact(raw):
            from actions.formread import contact_mobile_in

            contact = contact_mobile_in(raw)  # "联系人电话留159…" whatever the form asked
            if contact and (contact != said or normalise(raw).count(contact) > 1):  # "手机139…，电话139…"
                new["phone"] = contact
                if requested != "person" and "person" in new and slot_text(tracker, "person") \
                        and _names_owner(raw, contact, str(new["person"])):
                    new.pop("person")  # "联系电话留我女儿的": whose phone it is, not who is served
        kept = slot_text(tracker, "phone") and keeps_contact(raw)
        if "phone" in required and same_contact(raw) and not kept:  # "…，时间电话不变": the phone held stays
            mobile = said or slot_text(tracker, "verifier")
            if mobile and is_mobile(mobile):
                new["phone"] = mobile

    def known_lines(self, tracker: Tracker) -> list[str]:
        """What the form has taken down so far, one line each (no proof of identity)."""
        return [f"{label}：{slot_text(tracker, s)}" for s, label in (("service", "服务"), ("person", "服务对象"))
                if slot_text(tracker, s)]

    @staticmethod
    def typed_slot(text: str, required: list[str], tracker: Tracker) -> str | None:
        """The slot a whole message is an exact value of (a city, a listed hospital), or None."""
        if len(text) > 20:
            return None
        if "city" in required:
            from knowledge import geo

            res = geo.resolve_city(text)
            if res.city is not None and res.status != "ambiguous" and text in (res.city.name, res.city.short):
                return "city"
        if "hospital" in required:
            hits = stores().kb.find_hospital(text)
            if hits and hits[0].score >= 100:
                return "hospital"
        return None

    def resumed(self, dispatcher) -> None:
        dispatcher.utter_message(text="好的，我们接着来。")

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> list[str]:
        if stated_facts_question(tracker):
            return []  # action_check_eligibility answers on the stated facts
        slots = []
        if current_insurer(tracker) is None and not slot_text(tracker, "policy_number") \
                and not given_policy_number(tracker):  # a number that failed its check is asked again
            slots.append("insurer")
        slots += ["service", "policy_number", "verifier", "person"]
        if all(tracker.get_slot(s) for s in slots):
            res = eligibility_result(tracker)
            if isinstance(res, dict) and res["decision"] == "need_info" and \
                    not any(r["passed"] is False for r in res["reasons"]):
                for m in res["missing"]:
                    slot = FACT_SLOTS.get(m["fact"])
                    if slot and slot not in slots:
                        slots.append(slot)
        return slots

    async def next_requested_slot(self, dispatcher, tracker, domain):
        if tracker.__dict__.get("_hi_stop"):  # the customer left, or verification failed too often
            return SlotSet("requested_slot", None)
        event = await super().next_requested_slot(dispatcher, tracker, domain)
        if event is None and stated_facts_question(tracker):
            return None
        if event is not None:
            slot = event.get("value")
        else:  # rasa-sdk leaves it to Rasa when the required slots are the domain's: the first empty one
            slot = next((s for s in self.domain_slots(domain) if tracker.get_slot(s) is None), None)
        ask_next_slot(slot, dispatcher, tracker, domain)
        return event

    # -- one validator per slot ---------------------------------------------------------
    def validate_insurer(self, value: Any, dispatcher, tracker, domain) -> dict:
        ins = stores().kb.resolve_insurer(str(value or "")[:40])
        if ins is None:
            ask(dispatcher, "ask_insurer", "没有认出这家保险公司，请从下面选一家：", insurer_buttons())
            return {"insurer": None}
        return {"insurer": ins.short_name}

    def validate_service(self, value: Any, dispatcher, tracker, domain) -> dict:
        from actions.common import named_insurer
        from actions.formread import policy_number_in, raw_text

        policy = verified_policy(tracker)
        ins = stores().kb.resolve_insurer(policy.insurer) if policy else (
            current_insurer(tracker) or named_insurer(raw_text(tracker)[:200]))  # 众安的…护工帮我约一下
        ins, manual_id = product_scope(tracker, ins, policy.manual_id if policy else None)  # 尊享e生PLUS的门诊陪诊
        svc, insurers = pick_service(str(value or ""), ins, manual_id)
        if svc is None:
            if insurers and not policy and (slot_text(tracker, "policy_number") or policy_number_in(raw_text(tracker))):
                return {"service": value}  # a policy number is given: once verified, its insurer decides
            if insurers:
                ask(dispatcher, "ask_insurer", f"好几家保险公司都有“{value}”，请问您的保单是哪家的？",
                    insurer_buttons(insurers))
                return {"service": value, "insurer": None}
            return self._service_from_situation(str(value or ""), ins, policy, dispatcher)
        return {"service": svc.name, "insurer": svc.insurer_short}

    @staticmethod
    def _service_from_situation(text: str, ins, policy, dispatcher) -> dict:
        """No service named: the one the described situation fits (拿到住院单想协调床位 -> 住院协助), the
        fitting ones to choose from, or the insurer's services; a sentence is never echoed as a name."""
        from actions.common import inform_payload

        fits, one = fitting_service(text, ins, policy)
        if one is not None:
            dispatcher.utter_message(text=f"按您说的情况，为您预约“{one.name}”。")
            return {"service": one.name, "insurer": one.insurer_short}
        if fits:
            ask(dispatcher, "ask_service", "按您说的情况，这几项服务可能合适，请选一项：",
                [(f.name, inform_payload(service=f.name)) for f in fits[:4]])
            return {"service": None}
        said = clip(text, 20)
        head = f"没有找到“{said}”这项服务，" if len(text) <= 12 and not re.search(r"[，,。？?\s]", text) else ""
        ask(dispatcher, "ask_service", f"{head}请问您想预约哪项服务？可以直接选，或者说服务名称，比如“就医陪诊”“二诊”。",
            AnswerAction.service_buttons(ins))
        return {"service": None}

    def validate_policy_number(self, value: Any, dispatcher, tracker, domain) -> dict:
        from actions.formread import is_retry, looks_like_policy_number, policy_number_in, spoken_policy_number
        from core.ids import ValidationError, normalize_policy_number

        said = spoken_policy_number(str(value or "")[:80])
        if not looks_like_policy_number(said):
            said = policy_number_in(str(value or "")[:120]) or said  # the number inside a longer message
        if not looks_like_policy_number(said):  # '我本人', '确认', '再试一次' are not policy numbers
            text = "好的，请再说一下保单号。" if is_retry(str(value or "")) else \
                "这一步需要保单号（在保单或电子保单上，比如 PAH2025000101），说数字或者打字都可以。"
            ask(dispatcher, "ask_policy_number", text, WAY_OUT if tracker.get_slot("verify_failures") else ())
            return {"policy_number": None}
        try:
            number = normalize_policy_number(said)
        except ValidationError as e:
            ask(dispatcher, "ask_policy_number", e.message)
            return {"policy_number": None}
        out: dict[str, Any] = {"policy_number": number}
        if "verifier" not in tracker.slots_to_validate():
            out["verifier"] = None  # a new number needs its own proof (validate_verifier checks a new one)
        return out

    def validate_verifier(self, value: Any, dispatcher, tracker, domain) -> dict:
        number = slot_text(tracker, "policy_number")
        return self._verify(number, value, dispatcher, tracker)

    def _verify(self, number: str, value: Any, dispatcher, tracker) -> dict:
        v = parse_verifier_text(str(value or ""))
        if v is None:
            ask(dispatcher, "ask_verifier", "请提供投保人的 11 位手机号，或者身份证号码后四位（最后一位可以是 X）。")
            return {"verifier": None}
        if not number:
            return {"verifier": v.mobile or v.id_last4}
        from core.identity import PolicyError
        from core.throttle import VerificationLocked

        try:
            policy = stores().policies.get(number, v)  # behind the identity-check throttle (assist.guard)
        except VerificationLocked as e:
            ask(dispatcher, "verify_locked", e.message, [("转人工", "/human_handoff")])
            return {"verifier": None, "policy_number": None}
        except PolicyError as e:
            fails = int(tracker.get_slot("verify_failures") or 0) + 1
            if fails >= MAX_VERIFY_FAILURES:  # no further tries in this form: a human, or leave
                ask(dispatcher, "verify_failed", f"{e.message}已经核实失败 {fails} 次，为了保护保单信息，这次先停在这里。"
                    "可以转人工客服帮您核实。", [("转人工", "/human_handoff")])
                tracker.__dict__["_hi_stop"] = "verify_failed"
                return {"verifier": None, "policy_number": None, "verify_failures": 0.0, "form_exit": "verify_failed"}
            ask(dispatcher, "verify_failed", e.message + "您可以重新说一下保单号再试一次，也可以转人工客服帮您核实，"
                "或者先不办了。", WAY_OUT, asks="policy_number")
            return {"verifier": None, "policy_number": None, "verify_failures": float(fails)}
        except Exception as e:  # ValidationError of a malformed number
            ask(dispatcher, "verify_failed", getattr(e, "message", "保单号格式不正确，请重新输入。"))
            return {"verifier": None, "policy_number": None}
        out = {"verifier": v.mobile or v.id_last4, "verify_failures": 0.0}
        if not slot_text(tracker, "person") and len(policy.insured) == 1:
            out["person"] = policy.insured[0].name  # one insured person: the service can only be for them
        ins = stores().kb.resolve_insurer(policy.insurer)
        if ins is not None:
            out["insurer"] = ins.short_name
        svc_text = slot_text(tracker, "service")
        if svc_text:  # the policy decides the insurer: re-resolve the service in its manual
            svc, _ = pick_service(svc_text, ins, policy.manual_id)
            if svc is not None and svc.insurer_id != (ins.id if ins else svc.insurer_id):
                svc = None
            if svc is None:
                ask(dispatcher, "ask_service", f"您的保单是{ins.short_name if ins else policy.insurer}的，"
                    f"手册里没有“{svc_text}”。请问要查哪项服务？", AnswerAction.service_buttons(ins))
                out["service"] = None
            else:
                out["service"] = svc.name
        dispatcher.utter_message(text=f"保单已核实：{policy.product}，被保险人 {'、'.join(p.name for p in policy.insured)}。")
        return out

    def validate_person(self, value: Any, dispatcher, tracker, domain) -> dict:
        text = str(value or "").strip()[:40]
        if not text:
            return {"person": None}
        policy = verified_policy(tracker)
        code = relation_code(text)
        raw, named = "", []
        if policy is not None and code:  # the people on the policy the whole message names (被保的是我妈冯雪)
            from actions.formread import raw_text

            raw = raw_text(tracker)
            named = [x for x in policy.persons() if x.name and x.name in raw]
        if policy is not None and code == "self":  # "我是孙丽，我自己…": the speaker the name says
            if len(named) == 1:
                return {"person": named[0].name}
            holder = getattr(policy, "holder_name", "")
            if not named and holder and holder in raw:  # the holder, who is not insured on this policy
                return {"person": holder}
        p, candidates = person_on_policy(policy, text)
        if p is not None:
            return {"person": p.name}
        if policy is not None and code:  # the name, or the insured she is said to be
            from assist.facts import read_facts

            if len(named) == 1:
                return {"person": named[0].name}
            if read_facts(raw).relation == "self" and len(policy.insured) == 1:
                return {"person": policy.insured[0].name}
        if code:
            return {"person": text}  # a relative not on the policy: the rules decide what that means
        if policy is not None:
            names = "、".join(x.name for x in policy.persons())
            ask(dispatcher, "ask_person", f"保单上没有“{text}”。保单上的人有：{names}。请问是给谁用？",
                [(x.name, '/inform{"person": "%s"}' % x.name) for x in policy.persons()])
            return {"person": None}
        return {"person": text}

    def validate_diagnosis(self, value: Any, dispatcher, tracker, domain) -> dict:
        text = str(value or "")[:60]
        if text in DIAGNOSIS_ZH:
            return {"diagnosis": text}
        for code, rx in DIAGNOSIS:
            if rx.search(text):
                return {"diagnosis": code}
        ask(dispatcher, "ask_diagnosis", "请问目前是已经确诊、疑似，还是还没有诊断？", DIAGNOSIS_BUTTONS)
        return {"diagnosis": None}

    def validate_disease(self, value: Any, dispatcher, tracker, domain) -> dict:
        text = str(value or "").strip()[:60]
        if not text:
            return {"disease": None}
        hits = stores().kb.find_disease(text)
        return {"disease": hits[0].name if hits and hits[0].score >= 90 else text}

    def validate_city(self, value: Any, dispatcher, tracker, domain) -> dict:
        from knowledge import geo

        res = geo.resolve_city(str(value or "")[:40])
        if res.status == "ambiguous":
            from actions.common import inform_payload

            ask(dispatcher, "ask_city", f"“{value}”可能指好几个地方，请问是哪一个？",
                [(f"{c.province}{c.name}", inform_payload(city=c.name)) for c in res.candidates[:4]])
            return {"city": None}
        if res.city is None:
            ask(dispatcher, "ask_city", f"没有认出“{clip(str(value), 20)}”这个城市，请告诉我地级市名称，比如“苏州”。")
            return {"city": None}
        return {"city": res.city.short or res.city.name}


DIAGNOSIS_BUTTONS = [("已确诊", "已确诊"), ("疑似", "疑似"), ("还没有诊断", "还没有诊断")]
WAY_OUT = [("转人工", "/human_handoff"), ("先不办了", "先不办了")]  # after a failed verification


class ActionAskDiagnosis(AnswerAction):
    remember = False
    asks_for = "diagnosis"

    def name(self) -> str:
        return "action_ask_diagnosis"

    def answer(self, dispatcher, tracker, domain) -> list:
        ask(dispatcher, "ask_diagnosis", "请问目前是已经确诊、疑似，还是还没有到医院诊断？", DIAGNOSIS_BUTTONS)
        return []


class ActionAskPerson(AnswerAction):
    remember = False
    asks_for = "person"

    def name(self) -> str:
        return "action_ask_person"

    def answer(self, dispatcher, tracker, domain) -> list:
        policy = verified_policy(tracker)
        opts = [(p.name, '/inform{"person": "%s"}' % p.name) for p in policy.persons()] if policy else \
            [("本人", '/inform{"person": "本人"}')]
        ask(dispatcher, "ask_person", "请问这次是给谁用？本人还是家人？", opts)
        return []


def form_left(dispatcher, tracker: Tracker, said: str) -> list | None:
    """In a form's submit action: the events that close a form the customer left (or that stopped after failed
    verifications, which said so already); None when the form was completed."""
    why = slot_text(tracker, "form_exit")
    if not why:
        return None
    if why == "exit":
        Answer("form_exit", said).send(dispatcher)
    return [SlotSet("form_exit", None), SlotSet("requested_slot", None), SlotSet("confirm", None)]


class ActionCheckEligibility(AnswerAction):
    """Submit of eligibility_form: the decision with its reasons, each citing the manual."""

    def name(self) -> str:
        return "action_check_eligibility"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        left = form_left(dispatcher, tracker, "好的，先不查了。之前说的信息我先记着，需要的时候再找我。")
        if left is not None:
            return left
        from actions.answer import answer_typed, typed_text
        from assist.qa import fact_question

        if not slot_text(tracker, "policy_number") or fact_question(stores().kb, typed_text(tracker)):
            # a rule question on stated facts, or a question about the service after the check (一年能用几次)
            typed = answer_typed(dispatcher, tracker)
            if typed is not None:
                return typed + [SlotSet("requested_slot", None)]
        res = eligibility_result(tracker)
        if isinstance(res, Answer):
            res.send(dispatcher)
            return []
        svc = res["service"]["name"]
        who = slot_text(tracker, "person") or "您"
        who = "您" if who in ("本人", "自己") else who
        reasons = res["reasons"]
        failed = [r for r in reasons if r["passed"] is False]
        notes = [r for r in reasons if r["passed"] is None and r["code"] != "policy"]
        passed = [r for r in reasons if r["passed"] is True]
        only_place = res["decision"] == "need_info" and not failed and bool(res["missing"]) and all(
            m["fact"] == "case.city" for m in res["missing"])
        if res["decision"] == "eligible" or only_place:  # only the city open: yes, and where it is offered
            head = f"根据手册，{who}可以使用{svc}。"
            said = [r for r in notes if r["code"] == "coverage"][:1] if only_place else notes[:2]
            body = [r["message"] for r in passed[:3]] + (
                ["这项服务只在手册列出的城市/医院提供，告诉我就医城市可以帮您查是否覆盖。"] if only_place
                else [r["message"] for r in said])
            opts = [("帮我预约", "/open_ticket"), ("怎么申请", '/ask_how_to_apply{"topic": "流程"}')]
            shown = passed[:3] + said
        elif res["decision"] == "not_eligible":
            head = f"根据手册，{who}目前还不能使用{svc}："
            body = [r["message"] for r in failed[:3]]
            opts = [("转人工", "/human_handoff")]
            shown = failed[:3]
        else:
            head = f"{who}能否使用{svc}，还需要确认一些信息。"
            body = [r["message"] for r in notes[:3]] + ([res["ask"]] if res["ask"] else [])
            opts = [("转人工", "/human_handoff")]
            shown = notes[:3]
        text = head + "\n" + "\n".join(f"· {clip(b, 120)}" for b in body if b)
        Answer("eligibility", text.strip(),
               items=[{"code": r["code"], "passed": r["passed"], "message": r["message"],
                       "cite": (r["source"] or {}).get("cite")} for r in reasons],
               options=opts, sources=[r["source"] for r in shown if r["source"]]).send(dispatcher)
        return [SlotSet("requested_slot", None)]


class ActionAskInsurer(AnswerAction):
    remember = False
    asks_for = "insurer"

    def name(self) -> str:
        return "action_ask_insurer"

    def answer(self, dispatcher, tracker, domain) -> list:
        ask(dispatcher, "ask_insurer", "请问您的保单是哪家保险公司的？", insurer_buttons())
        return []


class ActionAskService(AnswerAction):
    remember = False
    asks_for = "service"

    def name(self) -> str:
        return "action_ask_service"

    def answer(self, dispatcher, tracker, domain) -> list:
        ins = current_insurer(tracker)
        what = "预约" if tracker.active_loop_name == "ticket_form" else "了解"
        ask(dispatcher, "ask_service", f"请问您想{what}哪项服务？", AnswerAction.service_buttons(ins))
        return []
