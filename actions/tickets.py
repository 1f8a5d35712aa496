"""ticket_form (book a service), ticket status and cancellation, through tickets.service.

The form asks one thing at a time and checks each answer (person on the verified policy, city
resolved and covered, hospital in the service's list, time after the service's lead time, mobile
number), then shows a summary the customer confirms before the ticket is created. The
idempotency key comes from the conversation id and the confirming message, so a retried
submission never books twice.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import AnswerAction
from actions.common import (Answer, ask, clip, context_value, current_insurer, inform_payload, person_on_policy,
                            pick_service, relation_code, slot_text, stores)
from actions.eligibility import (ValidateEligibilityForm, _once_per_call, fitting_service, form_left,
                                 given_policy_number, parse_verifier_text, prior_value, verified_policy)
from actions.formread import NO_HOSPITAL, hospital_phrase, no_hospital, time_phrase
from actions.timeparse import parse_when, zh_time
from core.clock import CHINA_TZ, now_china
from core.text import plain

log = logging.getLogger(__name__)

TICKET_SLOTS = ["service", "policy_number", "verifier", "person", "city", "hospital", "date", "phone", "confirm"]


def current_service(tracker: Tracker):
    policy = verified_policy(tracker)
    ins = stores().kb.resolve_insurer(policy.insurer) if policy else current_insurer(tracker)
    svc, _ = pick_service(slot_text(tracker, "service"), ins, policy.manual_id if policy else None)
    return svc


def idempotency_key(tracker: Tracker) -> str:
    """Conversation id + the confirming message: the same confirmation always maps to the same ticket."""
    msg = (tracker.latest_message or {}).get("message_id") or ""
    if not msg:
        users = [e for e in tracker.events or [] if e.get("event") == "user"]
        msg = f"{len(users)}:{users[-1].get('timestamp') if users else ''}"
    raw = f"{tracker.sender_id}\x1f{msg}".encode("utf-8", "surrogatepass")  # a JSON sender id may hold \ud800
    return "rasa-" + hashlib.sha256(raw).hexdigest()[:40]


_ASKS = re.compile(r"[?？]|吗|么|呢$|多久|多少|几天|几次|怎么|什么|哪些|哪里|规定|能不能|可不可以|是否")


def question_not_booking(tracker: Tracker) -> bool:
    """The message that started the booking form is a question about the manual's rules, not a request to
    book (no 帮我约 / 我想预约 ...): answer it instead of asking for the policy."""
    if tracker.get_slot("requested_slot") or slot_text(tracker, "policy_number"):
        return False
    from actions.answer import typed_text
    from assist.understand import cues

    text = typed_text(tracker)
    if not text:
        return False
    from assist.qa import _without_service
    from assist.understand import CATEGORY, read

    kb = stores().kb
    r = _once_per_call(tracker, ("read", text), lambda: read(kb, text))  # extraction and validation both ask
    bare = text
    for svc, _score in r.services[:3]:
        bare = _without_service(bare, svc)  # 线上康复 names a service, it is not "book it online"
    said = cues(kb, bare)
    if "own_policy" in said:
        return False
    if said & {"book", "book_here"}:
        # "…帮我约个门诊协助…，现在可以申请了吗？": whether they can yet, on facts they state
        return bool(_CAN_I.search(text)) and r.facts.about_case()
    if _ASKS.search(text):
        return True
    # a situation told, no service named: which one fits
    return bool(r.situation) and not any(score > CATEGORY for _s, score in r.services) \
        and not tracker.get_slot("service")


_CAN_I = re.compile(r"(现在|目前)?(还)?(可以|能|能不能|可不可以)(申请|用|约|使用|预约|安排|办)(了)?(吗|么|不)[？?]?$")


def city_in_name(name: str) -> str | None:
    """The city a hospital's name begins with (温州市中心医院, 温州医科大学附属…), or None. A university named
    after its city (北京大学深圳医院) says nothing of where the hospital is."""
    from knowledge import geo

    for n in (4, 3, 2):
        head, rest = name[:n], name[n:]
        res = geo.resolve_city(head)
        if res.status == "ok" and res.city is not None and head in (res.city.name, res.city.short) \
                and not rest.startswith("大学"):
            return res.city.short
    return None


def wants_booking(text: str) -> bool:
    """A request to book (帮我约, 给我爸约个…吧) that is not a question, or that asks whether it can be booked here
    (这边能直接帮我约吗), or the details of a booking given unasked (a policy number and a time to book), whatever
    intent the NLU gave it."""
    from actions.formread import policy_number_in, time_phrase
    from assist.understand import cues

    said = cues(stores().kb, text) if text else set()
    return bool(text) and ("book_here" in said or not _ASKS.search(text) and (
        "book" in said or bool(policy_number_in(text) and time_phrase(text))))


def check_before_booking(tracker: Tracker) -> bool:
    """The message that started the booking form asks, with a policy, whether the customer may still book
    (保单…手机…，我能约门诊陪诊吗): their own case is checked first, no booking details are asked."""
    if tracker.get_slot("requested_slot"):
        return False
    from actions.answer import typed_text
    from actions.formread import policy_number_in, time_phrase
    from assist.understand import cues

    text = typed_text(tracker)
    if not text or not (slot_text(tracker, "policy_number") or policy_number_in(text)) or time_phrase(text):
        return False
    said = cues(stores().kb, text)
    return "check_own" in said and "book_here" not in said


# what rules a person out for good at booking time (a city, a date or a diagnosis is asked or checked later)
_RULED_OUT = {"usage", "beneficiary", "waiting", "addon", "entitlement", "age"}


class ValidateTicketForm(ValidateEligibilityForm):
    def name(self) -> str:
        return "validate_ticket_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        from actions.formread import served_at_home

        slots = []
        if current_insurer(tracker) is None and not slot_text(tracker, "policy_number") \
                and not given_policy_number(tracker):  # a number that failed its check is asked again
            slots.append("insurer")
        at_home = not slot_text(tracker, "hospital") and served_at_home(current_service(tracker))
        return slots + [s for s in TICKET_SLOTS if not (s == "hospital" and at_home)]  # 上门: no hospital

    async def extract_service(self, dispatcher, tracker, domain) -> dict:
        """The message that starts a booking describes the need rather than naming the service (拿到住院单，
        想请帮忙协调床位): the one service it fits at the customer's insurer. (Once the form asks for the
        service, validate_service reads the answer the same way.)"""
        from actions.formread import raw_text

        if tracker.get_slot("service") or tracker.get_slot("requested_slot") or \
                any(e.get("entity") == "service" for e in (tracker.latest_message or {}).get("entities") or []):
            return {}
        text, ins, policy = raw_text(tracker), current_insurer(tracker), verified_policy(tracker)
        if _ASKS.search(text or "") and question_not_booking(tracker):  # "…没人照顾，你们有什么服务？": answered
            return {}
        if not text or not (ins or (policy and policy.manual_id)):
            return {}
        _fits, one = fitting_service(text, ins, policy)
        if one is None:
            return {}
        dispatcher.utter_message(text=f"按您说的情况，为您预约“{one.name}”。")
        return {"service": one.name}

    async def get_validation_events(self, dispatcher, tracker, domain) -> list:
        if check_before_booking(tracker):  # the eligibility form reads the policy from this message
            tracker.__dict__["_hi_stop"] = "check"
            return [SlotSet("form_exit", "check")]
        if question_not_booking(tracker):  # "约好了想改时间，有什么规定？": the manual's rule, no booking
            from actions.answer import answer_typed

            events = answer_typed(dispatcher, tracker) or []
            tracker.__dict__["_hi_stop"] = "question"
            return events + [SlotSet("form_exit", "question")]
        before = {s: prior_value(tracker, s) for s in ("service", "city")}  # before this message
        events = await super().get_validation_events(dispatcher, tracker, domain)
        if not tracker.__dict__.get("_hi_stop"):
            events += self.recheck(dispatcher, tracker, domain, events, before)
        changed = {e["name"] for e in events if e.get("event") == "slot"} - {"confirm", "requested_slot",
                                                                             "verify_failures"}
        if changed and tracker.get_slot("confirm") is not None and "confirm" not in tracker.slots_to_validate():
            events.append(SlotSet("confirm", None))  # an answer changed after the summary: confirm again
        if not tracker.get_slot("insurer") and not any(e.get("name") == "insurer" for e in events):
            from actions.common import named_insurer

            named = named_insurer(str((tracker.latest_message or {}).get("text") or "")[:200])
            if named is not None:  # 众安的保单，… the NLU did not tag: kept for the turns to come
                events.append(SlotSet("insurer", named.short_name))
        if not tracker.__dict__.get("_hi_stop"):
            events += self.refuse_if_ineligible(dispatcher, tracker, events)
        fixed = tracker.__dict__.get("_hi_corrected")
        if fixed and tracker.get_slot("requested_slot") != "confirm":  # the summary shows it there
            value = next((e.get("value") for e in reversed(events) if e.get("event") == "slot"
                          and e.get("name") == fixed), None)
            tracker.slots.update({e["name"]: e.get("value") for e in events if e.get("event") == "slot"})
            line = next((x for x in summary_lines(tracker) if value and x.startswith(CORRECTED.get(fixed, "-"))), "")
            if line:
                dispatcher.utter_message(text=f"好的，已改为{line}。")
        return events

    def refuse_if_ineligible(self, dispatcher, tracker, events: list) -> list:
        """Once the service, the verified policy and the person are known (or one of them changes), the rules
        on the policy: a person the manual rules out (uses spent, not insured, in the waiting period, an
        edition without the service) is told why and the booking stops, before any more is asked."""
        now = {e["name"]: e.get("value") for e in events if e.get("event") == "slot"}
        if not now.keys() & {"service", "policy_number", "verifier", "person"}:
            return []
        tracker.slots.update(now)
        if not (slot_text(tracker, "service") and slot_text(tracker, "person") and verified_policy(tracker)):
            return []
        from actions.eligibility import eligibility_result

        res = eligibility_result(tracker)
        if isinstance(res, Answer) or res.get("decision") != "not_eligible":
            return []
        failed = [r for r in res["reasons"] if r["passed"] is False and r["code"] in _RULED_OUT]
        if not failed:
            return []
        who = slot_text(tracker, "person")
        who = "您" if who in ("本人", "自己") else who
        text = f"根据手册，{who}目前还不能使用{res['service']['name']}，这次先不预约：\n" + \
            "\n".join(f"· {clip(r['message'], 120)}" for r in failed[:3])
        Answer("eligibility", text, options=[("转人工", "/human_handoff"), ("看看其他服务", "/ask_services")],
               sources=[r["source"] for r in failed[:3] if r["source"]]).send(dispatcher)
        tracker.__dict__["_hi_stop"] = "ineligible"
        return [SlotSet("form_exit", "ineligible")]

    def recheck(self, dispatcher, tracker, domain, events: list, before: dict) -> list:
        """What still applies after the service or the city changed: the stored city, hospital and time are
        checked again for the new service (coverage, hospital list, lead time, hours); a hospital of another
        city is asked again."""
        now = {e["name"]: e.get("value") for e in events if e.get("event") == "slot"}
        service_changed = "service" in now and now["service"] and now["service"] != before["service"]
        city_changed = "city" in now and now["city"] and now["city"] != before["city"]
        if not (service_changed or city_changed) or verified_policy(tracker) is None:
            return []
        out: list = []
        checks = (["city"] if service_changed else []) + ["hospital"] + (["date"] if service_changed else [])
        for slot in checks:
            value = tracker.get_slot(slot)
            if slot in now or value in (None, "", NO_HOSPITAL):
                continue
            if slot == "hospital" and city_changed and not service_changed:
                hits = stores().kb.find_hospital(str(value))
                if not hits or _same_city(hits[0], slot_text(tracker, "city")):
                    continue
                dispatcher.utter_message(text=f"{value}不在{slot_text(tracker, 'city')}，医院需要重新选一下。")
                res: dict = {"hospital": None}
            else:
                res = getattr(self, f"validate_{slot}")(value, dispatcher, tracker, domain)
            tracker.slots.update(res)
            out += [SlotSet(k, v) for k, v in res.items()]
        return out

    def validate_person(self, value: Any, dispatcher, tracker, domain) -> dict:
        text = str(value or "").strip()[:40]
        policy = verified_policy(tracker)
        if policy is None:
            return {"person": text or None}
        p, candidates = _person_on(policy, text)
        if p is not None:
            return {"person": p.name}
        people = candidates or list(policy.persons())
        svc = current_service(tracker)
        rule = [f for f in (svc.facts if svc else ()) if f.attribute == "beneficiary"][:1]
        who = f"手册写明，{svc.name}的服务对象是：{rule[0].value.rstrip('。')}。" if rule and svc else ""
        Answer("ask_person",
               (f"保单上没有找到“{clip(text, 20)}”，预约需要服务对象在保单上。{who}" if not candidates
                else "保单上有几位符合的。") + f"请问是哪一位：{'、'.join(x.name for x in people)}？",
               options=[(x.name, inform_payload(person=x.name)) for x in people],
               sources=[rule[0].source] if rule and not candidates else [], asks="person").send(dispatcher)
        return {"person": None}

    def validate_city(self, value: Any, dispatcher, tracker, domain) -> dict:
        from core.ids import ValidationError
        from tickets.validation import check_city

        base = super().validate_city(value, dispatcher, tracker, domain)
        if not base["city"]:
            return base
        svc = current_service(tracker)
        if svc is None:
            return base
        try:
            chk = check_city(base["city"], service_id=svc.id, coverage=stores().kb.coverage, service_name=svc.name)
        except ValidationError as e:
            ask(dispatcher, "ask_city", e.message + "请换一个城市，或者输入“转人工”。", [("转人工", "/human_handoff")])
            return {"city": None}
        if chk.coverage == "unknown" and chk.note:
            dispatcher.utter_message(text=chk.note)
        return {"city": base["city"]}

    def known_lines(self, tracker: Tracker) -> list[str]:
        return [line for line in summary_lines(tracker)
                if not line.endswith("：") and not (line.startswith("医院") and not slot_text(tracker, "hospital"))]

    def _verify(self, number: str, value: Any, dispatcher, tracker) -> dict:
        out = super()._verify(number, value, dispatcher, tracker)
        person = slot_text(tracker, "person")
        if out.get("verifier") and number and person:  # a person given before the policy was verified
            p, _ = _person_on(_load_policy_for(number, out["verifier"]), person)
            out["person"] = p.name if p is not None else None
        return out

    def validate_hospital(self, value: Any, dispatcher, tracker, domain) -> dict:
        text = str(value or "").strip()[:100]
        if not text or no_hospital(text):
            return {"hospital": NO_HOSPITAL, "hospital_unlisted": None}
        if time_phrase(text) and not stores().kb.find_hospital(text):  # a time is never a hospital
            return {"hospital": None}
        kb = stores().kb
        svc, city = current_service(tracker), slot_text(tracker, "city")
        from assist.names import find_hospital_heard

        hits, text = find_hospital_heard(kb, text)  # 香雅医院 on a hotline transcript: 湘雅医院
        if not hits and not hospital_phrase(text):  # "你再说一遍…" is no hospital's name
            ask(dispatcher, "ask_hospital", "请问是哪家医院？说医院的名称就行，没有指定的话选“不指定”。",
                [(NO_HOSPITAL, inform_payload(hospital=NO_HOSPITAL))])
            return {"hospital": None}
        if not hits:
            named: dict[str, Any] = {}
            place = None if city else city_in_name(text)
            if place:  # 温州医科大学附属第二医院: the city its name begins with
                named = {"city": self.validate_city(place, dispatcher, tracker, domain).get("city")}
                if named["city"]:
                    tracker.slots["city"] = named["city"]
            if text == slot_text(tracker, "hospital_unlisted"):  # confirmed by the customer
                return {"hospital": text, "hospital_unlisted": None, **named}
            ask(dispatcher, "ask_hospital", f"服务手册的医院清单里没有找到“{clip(text, 30)}”。确认是这家医院吗？"
                "确认的话我按您说的记下，由服务人员跟您核实；也可以换一家，或者选“不指定”。",
                [("是这家", inform_payload(hospital=text)), (NO_HOSPITAL, inform_payload(hospital=NO_HOSPITAL))])
            return {"hospital": None, "hospital_unlisted": text, **named}
        out: dict[str, Any] = {"hospital_unlisted": None}
        given_city = "city" in tracker.slots_to_validate()
        if city:
            in_city = [h for h in hits if _same_city(h, city)]
            if in_city:
                hits = in_city
            elif given_city:  # the customer named both, and they disagree
                ask(dispatcher, "ask_hospital", f"{hits[0].name}在{_city_of(hits[0]) or '别的城市'}，不在{city}。"
                    f"请问是{city}的哪家医院？没有指定的话选“不指定”。",
                    [(NO_HOSPITAL, inform_payload(hospital=NO_HOSPITAL))])
                return {**out, "hospital": None}
        top = [x for x in hits if x.score >= hits[0].score - 5]  # 协和医院: Beijing, Fuzhou, Wuhan
        place = None if city else city_in_name(text)
        if place and any(_same_city(x, place) for x in top):  # 上海复旦中山医院: the one in 上海
            hits = top = [x for x in top if _same_city(x, place)]
        if len({_city_of(x) for x in top}) > 1 and not (city and _same_city(top[0], city)):
            ask(dispatcher, "ask_hospital", f"叫“{clip(text, 20)}”的医院有好几家，请问是哪一家？",
                [(f"{x.name}（{_city_of(x)}）", inform_payload(hospital=x.name)) for x in top[:4]])
            return {**out, "hospital": None}
        h = hits[0]
        hcity = _city_of(h)
        if hcity and hcity != city:  # a hospital implies its city
            checked = self.validate_city(hcity, dispatcher, tracker, domain)
            if not checked.get("city"):
                return {**out, "hospital": None, "city": city or None}
            if city:
                dispatcher.utter_message(text=f"{h.name}在{hcity}，城市改为{hcity}。")
            out["city"] = city = checked["city"]
            tracker.slots["city"] = city
        if svc is not None and city:
            listed = kb.hospitals(svc.id, city)
            ids = {x.id for x in listed}

            def on_list(x) -> bool:  # any of the store rows of the hospital is on the service's list
                return bool(ids & set(x.ids or (x.id,)))

            alike = [x for x in hits if x.score >= 80 and _city_of(x) == hcity]
            h = next((x for x in alike if on_list(x)), h)  # 北京天坛医院 is listed as 首都医科大学附属北京天坛医院
            if listed and not on_list(h):
                names = "、".join(x.name for x in listed[:5])
                ask(dispatcher, "ask_hospital", f"{h.name}不在{svc.name}的{city}服务医院清单里。清单里有：{names}"
                    f"{' 等' if len(listed) > 5 else ''}。请选一家，或者选“不指定”。",
                    [(x.name, inform_payload(hospital=x.name)) for x in listed[:4]]
                    + [(NO_HOSPITAL, inform_payload(hospital=NO_HOSPITAL))])
                return {**out, "hospital": None}
        return {**out, "hospital": h.name}

    def validate_date(self, value: Any, dispatcher, tracker, domain) -> dict:
        from core.ids import ValidationError
        from tickets.validation import check_preferred_time

        when = parse_when(str(value or ""))
        if when is None:
            ask(dispatcher, "ask_date", "没看懂这个时间，可以说“下周三上午9点”或者“12月15号上午10点”。")
            return {"date": None}
        svc = current_service(tracker)
        lead = svc.lead_time_hours if svc else None
        hours = service_hours(svc) if svc else None
        try:
            when = check_preferred_time(when, lead_time_hours=lead)
        except ValidationError as e:
            if "time_too_soon" in e.codes:
                first = earliest_slot(now_china() + timedelta(hours=lead or 0), hours or OFFER_HOURS)
                Answer("ask_date", f"{e.message}最早可以约 {zh_time(first)}，要约这个时间吗？也可以说一个更晚的时间。",
                       options=[(f"就约 {zh_time(first)}", inform_payload(date=first.isoformat(timespec="minutes")))],
                       sources=[f.source for f in svc.facts if f.attribute == "lead_time"][:1] if svc else [],
                       asks="date").send(dispatcher)
            else:
                ask(dispatcher, "ask_date", e.message)
            return {"date": None}
        window = next((f for f in (svc.facts if svc else ()) if f.attribute == "booking_window"
                       and (f.data or {}).get("days")), None)
        if window is not None and when.date() > (now_china() + timedelta(days=int(window.data["days"]))).date():
            Answer("ask_date", f"{svc.name}只能预约{window.data['days']}天内的服务，{zh_time(when)}太远了。"
                   f"请说一个{window.data['days']}天内的时间。", sources=[window.source], asks="date").send(dispatcher)
            return {"date": None}  # 仅可预约7日内的服务
        if hours is not None and not hours.covers(when):
            first = earliest_slot(when, hours)
            Answer("ask_date", f"{svc.name}的服务时间是{hours.label}，{zh_time(when)}不在服务时间内。"
                   f"最近可以约 {zh_time(first)}，要约这个时间吗？",
                   options=[(f"就约 {zh_time(first)}", inform_payload(date=first.isoformat(timespec="minutes")))],
                   sources=[hours.source], asks="date").send(dispatcher)
            return {"date": None}
        return {"date": when.isoformat(timespec="minutes")}

    def validate_phone(self, value: Any, dispatcher, tracker, domain) -> dict:
        from assist.text import digits_only
        from core.ids import ValidationError, normalize_mobile

        raw = str(value or "")[:60]
        digits = ("+" if raw.strip().startswith("+") else "") + digits_only(raw)
        try:
            return {"phone": normalize_mobile(digits[:20])}
        except ValidationError as e:
            ask(dispatcher, "ask_phone", e.message + "说数字或者打字都可以。")
            return {"phone": None}

    def validate_confirm(self, value: Any, dispatcher, tracker, domain) -> dict:
        if value is True:
            return {"confirm": True}
        dispatcher.utter_message(text="好的，请告诉我要改哪一项，比如“城市改成杭州”或“改成下周三”；不办了可以说“算了”。")
        return {"confirm": None}


def _person_on(policy, text: str):
    """(person, candidates) on the policy; 本人 on a family policy is the holder."""
    p, candidates = person_on_policy(policy, text)
    if p is None and policy is not None and relation_code(text) == "self":
        p = next((x for x in candidates if x.name == policy.holder_name), None)
    return p, candidates


def _load_policy_for(number: str, verifier: str):
    from actions.eligibility import _load_policy

    return _load_policy(number, verifier)


def _city_of(h) -> str:
    from assist.names import hospital_city

    return hospital_city(h)


def _same_city(h, city: str) -> bool:
    c = _city_of(h)
    return bool(c) and (c == city or c in city or city in c)


_HOURS = re.compile(r"(工作日|周一至周五|周一到周五|每天|每日)?\s*(\d{1,2})[:：](\d{2})\s*[-–—~至到]\s*(\d{1,2})[:：](\d{2})")
_NOT_SERVICE_HOURS = re.compile(r"电话|接听|人工服务|客服")  # a hotline's hours, not when the service is given


@dataclass(frozen=True)
class ServiceHours:
    start: time
    end: time
    workdays: bool
    source: Any

    @property
    def label(self) -> str:
        return f"{'工作日 ' if self.workdays else '每天 '}{self.start:%H:%M}-{self.end:%H:%M}"

    def covers(self, when: datetime) -> bool:
        local = when.astimezone(CHINA_TZ)
        return not (self.workdays and local.weekday() >= 5) and self.start <= local.time() < self.end


# the earliest slot offered when the manual gives no hours: daytime, so that nobody is offered 00:00 (an offer
# the customer accepts or not, never a reason to refuse a time)
OFFER_HOURS = ServiceHours(time(9, 0), time(17, 0), False, None)


def service_hours(svc) -> Optional[ServiceHours]:
    """When the manual says the service is given (工作日 08:00-20:00), or None (not said, or round the clock)."""
    for f in svc.facts:
        if f.attribute != "service_hours" or _NOT_SERVICE_HOURS.search(f.value):
            continue
        m = _HOURS.search(f.value)
        if m:
            a, b = time(int(m.group(2)) % 24, int(m.group(3))), time(min(int(m.group(4)), 23), int(m.group(5)))
            if a < b:
                return ServiceHours(a, b, (m.group(1) or "").startswith(("工作日", "周一")), f.source)
    return None


def earliest_slot(after: datetime, hours: ServiceHours | None) -> datetime:
    """The first whole half hour at or after `after` inside the service's hours."""
    t = after.astimezone(CHINA_TZ)
    if t.second or t.microsecond:
        t = t.replace(second=0, microsecond=0) + timedelta(minutes=1)
    if t.minute not in (0, 30):
        t = t.replace(minute=30) if t.minute < 30 else t.replace(minute=0) + timedelta(hours=1)
    if hours is None:
        return t
    for _ in range(15):
        if hours.workdays and t.weekday() >= 5 or t.time() >= hours.end:
            t = (t + timedelta(days=1)).replace(hour=hours.start.hour, minute=hours.start.minute)
            continue
        if t.time() < hours.start:
            t = t.replace(hour=hours.start.hour, minute=hours.start.minute)
        return t
    return t


CORRECTED = {"person": "服务对象", "city": "城市", "hospital": "医院", "date": "时间", "phone": "联系电话"}


def summary_lines(tracker: Tracker) -> list[str]:
    when = slot_text(tracker, "date")
    try:
        when = zh_time(datetime.fromisoformat(when)) if when else ""
    except ValueError:
        pass
    phone = slot_text(tracker, "phone")
    return [f"服务：{slot_text(tracker, 'service')}", f"服务对象：{slot_text(tracker, 'person')}",
            f"城市：{slot_text(tracker, 'city')}", f"医院：{slot_text(tracker, 'hospital') or NO_HOSPITAL}",
            f"时间：{when}", f"联系电话：{phone[:3]}****{phone[-4:]}" if len(phone) == 11 else f"联系电话：{phone}"]


class ActionAskConfirm(AnswerAction):
    remember = False
    asks_for = "confirm"

    def name(self) -> str:
        return "action_ask_confirm"

    def answer(self, dispatcher, tracker, domain) -> list:
        lines = summary_lines(tracker)
        Answer("ticket_summary", "请核对预约信息：\n" + "\n".join(lines) + "\n确认提交吗？", items=lines,
               options=[("确认提交", "/affirm"), ("修改", "/deny")], asks=self.asks_for).send(dispatcher)
        return []


class ActionAskHospital(AnswerAction):
    remember = False
    asks_for = "hospital"

    def name(self) -> str:
        return "action_ask_hospital"

    def answer(self, dispatcher, tracker, domain) -> list:
        svc, city = current_service(tracker), slot_text(tracker, "city")
        listed = stores().kb.hospitals(svc.id, city) if svc and city else []
        opts = [(h.name, inform_payload(hospital=h.name)) for h in listed[:4]]
        ask(dispatcher, "ask_hospital", "有想去的医院吗？没有的话选“不指定”就好。",
            opts + [(NO_HOSPITAL, inform_payload(hospital=NO_HOSPITAL))])
        return []


class ActionAskDate(AnswerAction):
    remember = False
    asks_for = "date"

    def name(self) -> str:
        return "action_ask_date"

    def answer(self, dispatcher, tracker, domain) -> list:
        svc = current_service(tracker)
        lead = f"（这项服务需至少提前 {svc.lead_time_hours} 小时预约）" if svc and svc.lead_time_hours else ""
        srcs = [f.source for f in svc.facts if f.attribute == "lead_time"][:1] if lead else []
        Answer("ask_date", f"希望安排在什么时间？{lead}可以说“下周三上午”这样的时间。", sources=srcs,
               asks=self.asks_for).send(dispatcher)
        return []


class ActionCreateTicket(AnswerAction):
    """Submit of ticket_form."""

    def name(self) -> str:
        return "action_create_ticket"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        from core.identity import PolicyError
        from tickets.service import TicketError
        from core.ids import ValidationError

        reset = [SlotSet("confirm", None), SlotSet("requested_slot", None)]
        if slot_text(tracker, "form_exit") == "check":  # 我能约…吗 with a policy: the check, then a booking
            return [SlotSet("form_exit", None), SlotSet("requested_slot", None), FollowupAction("eligibility_form")]
        left = form_left(dispatcher, tracker, "好的，这次先不约了。之前说的信息我先记着，想约的时候跟我说“预约”就行。")
        if left is not None:
            return left
        if tracker.get_slot("confirm") is not True:
            Answer("ticket_cancelled", "好的，这次先不预约了。还有什么可以帮您？").send(dispatcher)
            return reset
        svc = current_service(tracker)
        if svc is None:
            Answer("error", "没能确认要预约的服务，请重新说一下服务名称。").send(dispatcher)
            return reset + [SlotSet("service", None)]
        hospital = slot_text(tracker, "hospital")
        try:
            res = stores().tickets.create_ticket(
                service=svc.id, policy_number=slot_text(tracker, "policy_number"),
                person_name=slot_text(tracker, "person"), city=slot_text(tracker, "city"),
                preferred_time=slot_text(tracker, "date"), contact_phone=slot_text(tracker, "phone"),
                hospital=None if hospital in ("", NO_HOSPITAL) else hospital,
                channel=(tracker.get_latest_input_channel() or "rasa")[:32],
                conversation_id=plain(tracker.sender_id)[:128],
                verifier=parse_verifier_text(slot_text(tracker, "verifier")), idempotency_key=idempotency_key(tracker))
        except (ValidationError, PolicyError, TicketError) as e:
            Answer("ticket_error", f"预约没有提交成功：{e.message}", options=[("转人工", "/human_handoff")]).send(dispatcher)
            return reset
        t = res.ticket
        text = (f"预约已提交，工单号 {t.number}。\n{svc.name}，{t.person_name}，{t.city_name or t.city_raw}"
                f"{'，' + t.hospital if t.hospital else ''}，{zh_time(t.preferred_time)}。")
        srcs = [f.source for f in svc.facts if f.attribute == "response_time"][:1]
        if srcs:
            text += f"\n手册写明：{clip(next(f.value for f in svc.facts if f.attribute == 'response_time'), 90)}"
        if t.system_notes:
            text += f"\n{t.system_notes}"
        text += f"\n想查进度，随时跟我说“查一下工单 {t.number}”。"
        Answer("ticket_created", text, items=[{"number": t.number, "status": t.status_label}],
               sources=srcs).send(dispatcher)
        return reset + [SlotSet("ticket_number", t.number), SlotSet("date", None), SlotSet("hospital", None)]


def _ticket_inputs(dispatcher, tracker) -> tuple[str, object]:
    from actions.base import NeedAsk

    number = context_value(tracker, "ticket_number")
    if not number:
        from actions.answer import answer_rule_question

        rule = answer_rule_question(dispatcher, tracker)  # "约好了不想去了，次数还保留吗": the manual's rule
        if rule is not None:
            raise NeedAsk(rule)
        ask(dispatcher, "ask_ticket_number", "请告诉我工单号，比如 T20250318-000123。")
        raise NeedAsk()
    proof = context_value(tracker, "phone") or slot_text(tracker, "verifier")
    v = parse_verifier_text(proof) if proof else None
    if v is None:
        ask(dispatcher, "ask_phone", "为了保护您的信息，请提供预约时留的手机号。")
        raise NeedAsk([SlotSet("ticket_number", number)])
    return number, v


class ActionTicketStatus(AnswerAction):
    def name(self) -> str:
        return "action_ticket_status"

    def answer(self, dispatcher, tracker, domain) -> list:
        from tickets.service import TicketError
        from core.ids import ValidationError

        number, v = _ticket_inputs(dispatcher, tracker)
        try:
            t = stores().tickets.get_ticket(number, v)
        except (TicketError, ValidationError) as e:
            Answer("ticket_status", e.message, options=[("转人工", "/human_handoff")]).send(dispatcher)
            return [SlotSet("ticket_number", None)]
        text = (f"工单 {t.number} 目前{t.status_label}。\n{t.service.name}，{t.person_name}，"
                f"{t.city_name or t.city_raw}{'，' + t.hospital if t.hospital else ''}，{zh_time(t.preferred_time)}。")
        opts = [("取消这个预约", "/cancel_ticket")] if t.status in ("submitted", "accepted", "scheduled") else []
        Answer("ticket_status", text, items=[{"number": t.number, "status": t.status, "label": t.status_label}],
               options=opts).send(dispatcher)
        return [SlotSet("ticket_number", t.number)]


class ActionCancelTicket(AnswerAction):
    def name(self) -> str:
        return "action_cancel_ticket"

    def answer(self, dispatcher, tracker, domain) -> list:
        from tickets.service import TicketError
        from core.ids import ValidationError

        number, v = _ticket_inputs(dispatcher, tracker)
        st = stores()
        try:
            before = st.tickets.get_ticket(number, v)
            t = st.tickets.cancel_ticket(number, v, reason="客户在对话中取消")
        except (TicketError, ValidationError) as e:
            Answer("ticket_cancel", e.message, options=[("转人工", "/human_handoff")]).send(dispatcher)
            return []
        text = f"工单 {t.number} 已取消。"
        srcs = []
        if before.status == "scheduled":  # the manual may count a cancellation after confirmation as a use
            from tickets.catalog import cancel_counts_rule

            info = st.tickets.catalog.get(before.service)
            counts, _why = cancel_counts_rule(info) if info else (None, "")
            if counts:
                fact = next((f for f in info.facts if f.attribute == "cancellation"), None)
                if fact is not None:
                    text += f"注意，手册写明：{clip(fact.value, 80)}"
                    srcs.append(st.kb.source(fact.manual_id, fact.line_start, fact.line_end))
        Answer("ticket_cancel", text, items=[{"number": t.number, "status": t.status}], sources=srcs).send(dispatcher)
        return [SlotSet("ticket_number", None)]
