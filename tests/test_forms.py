"""The ticket and eligibility forms on whole customer messages: values in any order, times from the whole
message, spoken numbers, corrections, exits and resuming, and the way out of a failed verification.

Each turn runs the form's validation action the way Rasa calls it: the slot candidates Rasa extracted from
the message (its mappings in bot/domain.yml) are the slot events after the user event."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.eligibility import MAX_VERIFY_FAILURES, ValidateEligibilityForm
from actions.formread import correction, corrections, is_exit, is_resume, looks_like_policy_number, spoken_policy_number, \
    time_phrase
from actions.tickets import TICKET_SLOTS, ActionCreateTicket, ServiceHours, ValidateTicketForm, earliest_slot
from actions.timeparse import parse_when, zh_time
from core.clock import CHINA_TZ, now_china
from tests import test_actions
from tests.test_actions import run, ticket_slots

app = test_actions.app  # the app DB fixture: built store, migrated, demo policies seeded

SLOTS = [*TICKET_SLOTS, "insurer", "requested_slot", "verify_failures", "hospital_unlisted", "form_exit"]


def turn(slots: dict, text: str, *, requested: str, intent: str = "inform", entities=(), cands=None,
         form=None, loop="ticket_form", before=()):
    """One customer message inside the form -> (slot events, message texts, slots asked for, buttons)."""
    slots = {**slots, "requested_slot": requested}
    latest = {"intent": {"name": intent, "confidence": 0.9}, "entities": list(entities), "text": text,
              "message_id": "m-" + text, "metadata": {}}
    cands = dict(cands or {})
    events = list(before) + [{"event": "slot", "name": k, "value": v} for k, v in slots.items()] + \
        [{"event": "user", "text": text, "parse_data": latest}] + \
        [{"event": "slot", "name": k, "value": v} for k, v in cands.items()]
    t = Tracker.from_dict({"sender_id": "conv-forms", "slots": {**slots, **cands}, "latest_message": latest,
                           "events": events, "paused": False, "followup_action": None,
                           "active_loop": {"name": loop}, "latest_action_name": "action_listen"})
    form = form or ValidateTicketForm()
    required = TICKET_SLOTS if loop == "ticket_form" else ["service", "policy_number", "verifier", "person"]
    domain = {"forms": {loop: {"required_slots": required}}, "slots": {k: {} for k in SLOTS}}
    d = CollectingDispatcher()
    out = asyncio.run(form.run(d, t, domain))
    got = {e["name"]: e["value"] for e in out if e.get("event") == "slot"}
    texts = [m.get("text") or "" for m in d.messages]
    buttons = [b["title"] for m in d.messages for b in (m.get("buttons") or [])]
    return got, "\n".join(texts), [m.get("asks") for m in d.messages if m.get("asks")], buttons


def ent(name, value, text, start=None):
    start = text.find(value) if start is None else start
    return {"entity": name, "value": value, "start": start, "end": start + len(value)}


def without(slots, *names):
    return {k: v for k, v in slots.items() if k not in names}


# -- the message as a whole --------------------------------------------------------------------
def test_time_phrase_and_parse_from_the_whole_message():
    now = datetime(2026, 12, 6, 23, 50, tzinfo=CHINA_TZ)  # a Sunday night
    assert time_phrase("北京协和医院，下周三上午9点", now) == "下周三上午9点"
    assert time_phrase("北京协和医院", now) == "" and time_phrase("13912345678", now) == ""
    expect = {"下周四上午10点": (10, 10, 0), "下周五下午3点": (11, 15, 0), "下周四10点": (10, 10, 0),
              "12月15号上午10点": (15, 10, 0), "下周三上午": (9, 9, 0), "周五下午": (11, 14, 0),
              "明天下午两点": (7, 14, 0), "下周一9点半": (7, 9, 30)}
    for said, (day, hour, minute) in expect.items():
        when = parse_when(said, now)
        assert (when.month, when.day, when.hour, when.minute) == (12, day, hour, minute), said
    assert parse_when("2026-12-09T10:00+08:00", now).hour == 10  # a slot the form offered
    when = parse_when(time_phrase("手术要在上海住院，10天后早上8点开始，联系电话13600005678。", now), now)
    assert (when.day, when.hour) == (16, 8)  # 开始 after the time is no other time


def test_phrases_of_exit_resume_correction_and_numbers():
    assert all(is_exit(s) for s in ["算了", "算了不约了", "不约了", "先不弄了", "先不预约了", "先不办了"])
    assert not any(is_exit(s) for s in ["不是", "北京协和医院", "下周三上午9点", "约不了怎么办"])
    assert is_resume("好，继续吧") and is_resume("继续") and not is_resume("继续教育医院")
    assert correction("城市改成杭州") == ("city", "杭州")
    assert correction("时间改到周五下午") == ("date", "周五下午")
    assert correction("不是我妈，是我爸")[1] == "我爸"
    assert correction("住院的是我女儿，不是我老婆。她骨折了")[1] == "我女儿"  # the new value said first
    assert correction("是的，不是很急") == (None, "")
    assert correction("下周三上午9点") == (None, "")
    assert corrections("不是我老婆，是我女儿宋佳怡，医院改成北京儿童医院，时间电话不变") == [
        (None, "我女儿宋佳怡"), ("hospital", "北京儿童医院")]
    assert corrections("时间改到周五下午，医院改成华山医院") == [("date", "周五下午"), ("hospital", "华山医院")]
    assert not looks_like_policy_number("我本人") and not looks_like_policy_number("确认")
    assert spoken_policy_number("PAH 二零二五 零零零一 零幺") == "PAH2025000101"
    from actions.eligibility import parse_verifier_text

    assert parse_verifier_text("零七三叉").id_last4 == "073X"
    assert parse_verifier_text("幺三九 零零零零 零零零幺").mobile == "13900000001"
    assert looks_like_policy_number(spoken_policy_number("ｐａｈ２０２５０００１０１"))


# -- bookings answered out of order --------------------------------------------------------------
def test_hospital_and_time_in_one_message_fill_hospital_city_and_time(app):
    _, creds = app
    base = without(ticket_slots(creds), "city", "hospital", "phone")
    text = "北京协和医院，下周三上午9点"
    # the NLU reads it as a coverage question: Rasa's mappings extract nothing
    got, said, asks, _ = turn(base, text, requested="city", intent="ask_coverage",
                              entities=[ent("hospital", "北京协和医院", text), ent("date", "下周三", text)])
    assert got["hospital"] == "北京协和医院" and got["city"] == "北京"
    assert got["date"] == parse_when("下周三上午9点").isoformat(timespec="minutes")
    assert datetime.fromisoformat(got["date"]).hour == 9
    assert asks == ["phone"] or not asks  # the next question: the phone (a response of the domain)


def test_time_is_never_a_hospital(app):
    _, creds = app
    base = without(ticket_slots(creds), "hospital", "phone")
    text = "下周四上午10点"
    got, said, asks, _ = turn(base, text, requested="hospital", entities=[ent("date", "下周四", text)],
                              cands={"hospital": text, "date": "下周四"})
    assert got.get("hospital") is None
    assert datetime.fromisoformat(got["date"]).hour == 10
    assert asks == ["hospital"]


def test_side_question_is_left_to_the_rules(app):
    _, creds = app
    base = without(ticket_slots(creds), "hospital", "phone")
    got, said, asks, _ = turn(base, "北京协和医院能用吗？", requested="hospital", intent="ask_coverage",
                              entities=[ent("hospital", "北京协和医院", "北京协和医院能用吗？")])
    assert {k for k in got if k != "requested_slot"} == set()  # nothing validated: Rasa rejects the form


def test_unlisted_hospital_is_confirmed_not_stored(app):
    _, creds = app
    base = without(ticket_slots(creds), "hospital", "phone")
    got, said, asks, buttons = turn(base, "阳光口腔诊所", requested="hospital", cands={"hospital": "阳光口腔诊所"})
    assert got["hospital"] is None and got["hospital_unlisted"] == "阳光口腔诊所"
    assert "确认是这家医院吗" in said and "是这家" in buttons
    got, _, _, _ = turn({**base, "hospital_unlisted": "阳光口腔诊所"}, "是的", requested="hospital",
                        intent="affirm", cands={"hospital": "是的"})
    assert got["hospital"] == "阳光口腔诊所" and got["hospital_unlisted"] is None


def test_too_soon_offers_the_earliest_slot(app):
    _, creds = app
    base = without(ticket_slots(creds), "phone")
    got, said, asks, buttons = turn(base, "明天上午", requested="date", cands={"date": "明天上午"})
    assert got["date"] is None and "48 小时" in said and "最早可以约" in said
    assert buttons and buttons[0].startswith("就约")
    first = earliest_slot(now_china() + timedelta(hours=48), None)
    assert first >= now_china() + timedelta(hours=48) and first.minute in (0, 30)
    got, _, _, _ = turn(base, "", requested="date", cands={"date": first.isoformat(timespec="minutes")})
    assert got["date"] == first.isoformat(timespec="minutes")


def test_service_hours_from_the_manual(app):
    form = ValidateTicketForm()
    from tests.test_actions import tracker

    t = tracker({"service": "就医陪诊", "insurer": "太保健康"}, requested="date", loop="ticket_form")
    d = CollectingDispatcher()
    saturday = parse_when("下下周六上午10点")
    assert saturday.weekday() == 5
    out = form.validate_date(saturday.isoformat(), d, t, {})
    said = d.messages[0]["text"]
    assert out["date"] is None and "工作日 08:00-20:00" in said and "不在服务时间内" in said
    assert "来源" in said  # the manual's line is cited
    monday = saturday + timedelta(days=2)
    assert form.validate_date(monday.isoformat(), CollectingDispatcher(), t, {})["date"]
    hours = ServiceHours(datetime.min.time().replace(hour=8), datetime.min.time().replace(hour=20), True, None)
    fri_night = datetime(2026, 12, 11, 21, 10, tzinfo=CHINA_TZ)
    assert earliest_slot(fri_night, hours) == datetime(2026, 12, 14, 8, 0, tzinfo=CHINA_TZ)


# -- spoken numbers ------------------------------------------------------------------------------
def test_spoken_phone_verifier_and_policy_number(app):
    _, creds = app
    full = {**ticket_slots(creds), "date": "2030-01-01T09:00+08:00"}
    got, _, _, _ = turn(without(full, "phone"), "幺三九 一二三四 五六七八", requested="phone",
                        cands={"phone": "幺三九 一二三四 五六七八"})
    assert got["phone"] == "13912345678"
    c = creds["PAH2025000101"]
    spoken_id = "".join("零一二三四五六七八九"[int(x)] if x.isdigit() else x for x in c["id_last4"])
    got, said, _, _ = turn({"service": "就医陪诊", "insurer": "平安健康", "policy_number": c["number"]}, spoken_id,
                           requested="verifier", cands={"verifier": spoken_id})
    assert got["verifier"] == c["id_last4"] and "保单已核实" in said
    got, _, _, _ = turn({"service": "就医陪诊", "insurer": "平安健康"}, "PAH二零二五零零零幺零幺",
                        requested="policy_number", cands={"policy_number": "PAH二零二五零零零幺零幺"})
    assert got["policy_number"] == "PAH2025000101"


# -- corrections ---------------------------------------------------------------------------------
def test_corrections_change_that_slot_and_confirm_again(app):
    _, creds = app
    full = {**ticket_slots(creds), "date": (parse_when("下周三上午") + timedelta(days=7)).isoformat(timespec="minutes")}
    text = "城市改成杭州"
    got, said, asks, _ = turn(without(full, "phone"), text, requested="phone", entities=[ent("city", "杭州", text)],
                              cands={"city": "杭州", "phone": text})
    assert got["city"] == "杭州" and got.get("phone") is None and "手机号格式" not in said
    text = "不是我女儿，是我老婆"
    # 门诊协助: the family's one 就医陪诊 of the year is spent (刘芳 used it), which would stop the booking
    got, _, asks, _ = turn({**full, "service": "门诊协助", "person": "王小雨"}, text, requested="confirm",
                           entities=[ent("person", "子女", text, 2), ent("person", "配偶", text, 8)],
                           cands={"person": ["子女", "配偶"]})
    assert got["person"] == "刘芳" and asks == ["confirm"]
    text = "不对，不是我女儿，是刘芳要去，医院改成上海瑞金医院，其他都不变"  # a name and a second field at once
    got, _, asks, _ = turn({**full, "service": "门诊协助", "person": "王小雨"}, text, requested="confirm",
                           entities=[ent("person", "子女", text, 5)], cands={"person": ["子女"]})
    assert got["person"] == "刘芳" and "瑞金医院" in got["hospital"] and asks == ["confirm"]
    text = "不是我女儿，是刘芳，时间电话不变"  # the contact phone given before stays, not the proof's mobile
    got, _, _, _ = turn({**full, "service": "门诊协助", "person": "王小雨", "phone": "13912345678"}, text,
                        requested="confirm", entities=[ent("person", "子女", text, 2)], cands={"person": ["子女"]})
    assert got["person"] == "刘芳" and got.get("phone", "13912345678") == "13912345678", got
    text = "时间改到下下周五下午"
    got, said, asks, _ = turn(full, text, requested="confirm", entities=[ent("date", "下下周五", text)],
                              cands={"date": "下下周五"})
    when = datetime.fromisoformat(got["date"])
    assert when.weekday() == 4 and when.hour == 14
    assert asks == ["confirm"] and "请核对预约信息" in said


# -- exits and resuming --------------------------------------------------------------------------
def test_exit_ends_the_form_and_says_so(app):
    _, creds = app
    base = without(ticket_slots(creds), "hospital", "phone")
    got, said, _, _ = turn(base, "算了不约了", requested="hospital", intent="deny")
    assert got["form_exit"] == "exit" and got["requested_slot"] is None
    text, answers, _, slots, _ = run(ActionCreateTicket(), _after({**base, "form_exit": "exit"}))
    assert "先不约了" in text and slots["form_exit"] is None
    got, _, _, _ = turn(base, "先不弄了", requested="hospital", intent="nlu_fallback", cands={"hospital": "先不弄了"})
    assert got["form_exit"] == "exit" and got.get("hospital") is None


def test_resume_after_a_side_question_asks_again(app):
    _, creds = app
    base = without(ticket_slots(creds), "hospital", "phone")
    got, said, asks, _ = turn(base, "好，继续吧", requested="hospital", cands={"hospital": "好，继续吧"})
    assert got.get("hospital") is None and "接着来" in said and asks == ["hospital"]


def _after(slots):
    from tests.test_actions import tracker

    return tracker(slots, intent="deny", text="算了")


# -- verification --------------------------------------------------------------------------------
def test_failed_verification_offers_a_way_out_at_once_and_stops(app):
    _, creds = app
    c = creds["PAH2025000102"]
    base = {"service": "就医陪诊", "insurer": "平安健康", "policy_number": c["number"]}
    got, said, asks, buttons = turn(base, "13000000000", requested="verifier", form=ValidateEligibilityForm(),
                                    loop="eligibility_form", cands={"verifier": "13000000000"})
    assert got["policy_number"] is None and got["verify_failures"] == 1
    assert "转人工" in buttons and "先不办了" in buttons and asks == ["policy_number"]
    got, said, asks, _ = turn({"service": "就医陪诊", "insurer": "平安健康", "verify_failures": 1.0}, "我本人",
                              requested="policy_number", form=ValidateEligibilityForm(), loop="eligibility_form",
                              entities=[ent("person", "本人", "我本人")],
                              cands={"person": "本人", "policy_number": "我本人"})
    assert got.get("policy_number") is None and "保单号格式" not in said
    got, said, _, buttons = turn({**base, "verify_failures": float(MAX_VERIFY_FAILURES - 1)}, "13000000000",
                                 requested="verifier", form=ValidateEligibilityForm(), loop="eligibility_form",
                                 cands={"verifier": "13000000000"})
    assert got["form_exit"] == "verify_failed" and got["requested_slot"] is None and buttons == ["转人工"]


@pytest.mark.parametrize("text", ["确认", "好的"])
def test_yes_is_never_a_city(app, text):
    _, creds = app
    got, _, asks, _ = turn(without(ticket_slots(creds), "city", "hospital", "phone"), text, requested="city",
                           intent="affirm", cands={"city": text})
    assert got.get("city") is None and asks in ([], ["city"])


def test_a_message_is_read_for_the_slot_it_fits(app):
    _, creds = app
    base = without(ticket_slots(creds), "person", "city", "hospital", "phone")
    got, said, _, _ = turn(base, "上海", requested="person", cands={"person": "上海"})  # the city, not a person
    assert got["city"] == "上海" and got.get("person") is None and "保单上没有" not in said
    got, _, _, _ = turn(base, "本人", requested="person", cands={"person": "本人"})  # a family policy: the holder
    assert got["person"] == "王建国"
    c = creds["PAH2025000101"]
    got, said, _, _ = turn({"service": "就医陪诊", "insurer": "平安健康", "policy_number": c["number"]}, c["mobile"],
                           requested="verifier", entities=[ent("phone", c["mobile"], c["mobile"])],
                           cands={"phone": c["mobile"], "verifier": c["mobile"]})
    assert got["verifier"] == c["mobile"] and got.get("phone") is None  # a verifier is not the contact phone
    # the eligibility form has no phone slot: what Rasa set from the mobile is set back
    got, _, _, _ = turn({"service": "就医陪诊", "insurer": "平安健康", "policy_number": c["number"]}, c["mobile"],
                        requested="verifier", form=ValidateEligibilityForm(), loop="eligibility_form",
                        entities=[ent("phone", c["mobile"], c["mobile"])],
                        cands={"phone": c["mobile"], "verifier": c["mobile"]})
    assert got["verifier"] == c["mobile"] and "phone" in got and got["phone"] is None


def test_a_hospital_name_of_several_cities_is_asked(app):
    _, creds = app
    base = without(ticket_slots(creds), "hospital", "phone")  # city 上海
    got, said, _, buttons = turn(base, "协和医院", requested="hospital", cands={"hospital": "协和医院"})
    assert got["hospital"] is None and "好几家" in said and any("武汉" in b for b in buttons)
    got, _, _, _ = turn({**base, "city": "武汉"}, "协和医院", requested="hospital", cands={"hospital": "协和医院"})
    assert got["hospital"] == "华中科技大学同济医学院附属协和医院"


def test_correction_at_the_summary_is_not_a_no(app):
    _, creds = app
    full = {**ticket_slots(creds), "date": (parse_when("下周三上午") + timedelta(days=7)).isoformat(timespec="minutes")}
    text = "不是我，是我老婆"
    got, said, asks, _ = turn({**full, "service": "门诊协助", "person": "王建国"}, text, requested="confirm", intent="deny",
                              entities=[ent("person", "配偶", text, 5)], cands={"person": "配偶", "confirm": False})
    assert got["person"] == "刘芳" and "要改哪一项" not in said and asks == ["confirm"]


def test_continue_at_the_summary_shows_it_again_and_past_times_are_not_bookings(app):
    _, creds = app
    full = {**ticket_slots(creds), "date": (parse_when("下周三上午") + timedelta(days=7)).isoformat(timespec="minutes")}
    got, said, asks, _ = turn(full, "好，继续吧", requested="confirm", intent="affirm", cands={"confirm": True})
    assert got.get("confirm") is None and asks == ["confirm"] and "接着来" in said
    got, _, _, _ = turn(full, "好的", requested="confirm", intent="affirm", cands={"confirm": True})
    assert got["confirm"] is True
    for yes in ("好的。", "可以。"):  # a yes the NLU could not place (nlu_fallback) still confirms
        got, said, _, _ = turn(full, yes, requested="confirm", intent="nlu_fallback")
        assert got["confirm"] is True and "没看懂" not in said
    got, _, _, _ = turn(full, "我再想想。", requested="confirm", intent="nlu_fallback")
    assert got.get("confirm") is not True
    base = without(ticket_slots(creds), "hospital", "phone")
    got, _, _, _ = turn(base, "我昨天刚买的保险，北京协和医院", requested="hospital",
                        cands={"hospital": "我昨天刚买的保险，北京协和医院"},
                        entities=[ent("hospital", "北京协和医院", "我昨天刚买的保险，北京协和医院")])
    assert "date" not in got


def test_no_to_the_hospital_question_is_an_answer_not_a_stop(app):
    _, creds = app
    base = without(ticket_slots(creds), "hospital", "phone")
    got, _, _, _ = turn(base, "没有", requested="hospital", intent="deny")
    assert got["hospital"] == "不指定" and "form_exit" not in got
    got, said, asks, _ = turn({**base, "hospital_unlisted": "阳光口腔诊所"}, "不是", requested="hospital", intent="deny")
    assert got["hospital_unlisted"] is None and "哪家医院" in said and asks == ["hospital"]


def test_person_given_before_verification_is_checked_on_the_policy(app):
    _, creds = app
    c = creds["PAH2025000101"]
    base = {"service": "就医陪诊", "insurer": "平安健康", "policy_number": c["number"]}
    got, _, _, _ = turn({**base, "person": "本人"}, c["mobile"], requested="verifier",
                        cands={"verifier": c["mobile"]})
    assert got["verifier"] == c["mobile"] and got["person"] == "王建国"
    got, _, _, _ = turn({**base, "person": "我妈"}, c["mobile"], requested="verifier", cands={"verifier": c["mobile"]})
    assert got["person"] is None  # not on the policy: asked again


def test_what_still_applies_after_the_service_or_city_changes(app):
    _, creds = app
    soon = earliest_slot(now_china() + timedelta(hours=30), None).isoformat(timespec="minutes")
    full = {**ticket_slots(creds), "service": "7 天住院陪护", "date": soon, "hospital": "北京协和医院", "city": "北京"}
    text = "服务换成就医陪诊"
    got, said, asks, _ = turn(full, text, requested="confirm", entities=[ent("service", "就医陪诊", text)],
                              cands={"service": "就医陪诊"})
    assert got["service"] == "就医陪诊" and got["date"] is None and "48 小时" in said  # lead time of the new one
    assert got.get("hospital", "北京协和医院") == "北京协和医院" and asks == ["date"]
    text = "城市改成上海"
    got, said, asks, _ = turn({**full, "date": (parse_when("下周三上午") + timedelta(days=7)).isoformat()}, text,
                              requested="confirm", entities=[ent("city", "上海", text)], cands={"city": "上海"})
    assert got["city"] == "上海" and got["hospital"] is None and "重新选" in said and asks == ["hospital"]


def test_identity_with_its_cue_and_the_same_contact_in_one_message(app):
    """"保单…，手机…，联系也打这个": the policy, its proof and the contact phone at once; a mobile given to
    verify is not the contact phone unless the customer says so."""
    _, creds = app
    c = creds["PAH2025000101"]
    msg = f"我是本人，保单{c['number']}，投保人手机{c['mobile']}，联系也打这个"
    got, said, _, _ = turn({"service": "就医陪诊", "insurer": "平安健康"}, msg, requested="policy_number",
                           cands={"policy_number": c["number"]}, entities=[ent("policy_number", c["number"], msg)])
    assert got["policy_number"] == c["number"] and got["verifier"] == c["mobile"] and "保单已核实" in said, got
    assert got.get("phone") == c["mobile"]
    msg = f"保单{c['number']}，手机{c['mobile']}"
    got, said, _, _ = turn({"service": "就医陪诊", "insurer": "平安健康"}, msg, requested="policy_number",
                           cands={"policy_number": c["number"]}, entities=[ent("policy_number", c["number"], msg),
                                                                   ent("phone", c["mobile"], msg)])
    assert got["verifier"] == c["mobile"] and not got.get("phone")
    msg = f"保单{c['number']}，手机{c['mobile']}，北京协和医院，联系电话{c['mobile']}"  # said twice: both roles
    got, said, _, _ = turn({"service": "就医陪诊", "insurer": "平安健康"}, msg, requested="policy_number",
                           cands={"policy_number": c["number"]}, entities=[ent("policy_number", c["number"], msg),
                                                                   ent("phone", c["mobile"], msg)])
    assert got["verifier"] == c["mobile"] and got.get("phone") == c["mobile"]


def test_a_booking_that_describes_the_need_gets_the_service_it_fits(app):
    got, said, _, _ = turn({"insurer": "平安健康"}, "拿到住院单了，想请你们帮忙协调床位", requested=None,
                           intent="open_ticket")
    assert got.get("service") == "住院协助" and "按您说的情况，为您预约“住院协助”" in said
    got, said, asks, _ = turn({"insurer": "平安健康"}, "最好下个月能办好，麻烦你们了", requested="service",
                              cands={"service": "最好下个月能办好，麻烦你们了"})
    assert got.get("service") is None and "没有找到" not in said and "service" in asks, said


def test_a_need_asked_as_a_question_is_answered_not_booked(app):
    got, said, _, _ = turn({"insurer": "平安健康"}, "我妈下个月住院开刀，家里没人照顾，你们有什么服务？", requested=None,
                           intent="open_ticket")
    assert "为您预约" not in said and "陪护" in said, said


def test_a_service_at_home_asks_no_hospital(app):
    _, creds = app
    slots = without(ticket_slots(creds), "hospital", "phone", "city")
    got, said, asks, _ = turn(slots, "在杭州家里，上门换药就行", requested="city", cands={"city": "在杭州家里，上门换药就行"},
                              entities=[ent("city", "杭州", "在杭州家里，上门换药就行")])
    assert got.get("hospital") == "不指定" and "hospital" not in asks


def test_a_question_asked_for_a_number_is_answered_not_refused(app):
    _, creds = app
    q = "你们能保证一定安排到协和吗？"
    got, said, asks, _ = turn(without(ticket_slots(creds), "phone"), q, requested="phone", cands={"phone": q})
    assert "格式不正确" not in said and not got.get("phone") and said.strip()


# -- what the customer says before it is asked ------------------------------------------------------
def test_a_day_and_a_clock_time_said_apart_are_one_time():
    now = datetime(2026, 12, 6, 23, 50, tzinfo=CHINA_TZ)
    assert time_phrase("下周二要住院，护工下午2点到就行", now) == "下周二下午2点"
    assert time_phrase("今年查出来的，想约下周二上午9点", now) == "下周二上午9点"  # 今年 is no booking time
    when = parse_when(time_phrase("5天后入院，早上7点半到", now), now)
    assert (when.day, when.hour, when.minute) == (11, 7, 30)


def test_the_same_day_said_again_with_its_clock_time_is_the_time():
    now = datetime(2026, 12, 9, 12, 0, tzinfo=CHINA_TZ)
    phrase = time_phrase("下下周一在南京住院，想约院内陪护，从下下周一早上8点开始，电话13900000008", now)
    assert phrase == "下下周一早上8点" and parse_when(phrase, now).hour == 8


def test_a_weekday_some_weeks_ahead_is_that_weeks_day():
    now = datetime(2026, 12, 9, 12, 0, tzinfo=CHINA_TZ)  # a Wednesday: 周一 of this week is past
    phrase = time_phrase("那就三周后的周一上午9点入院，上海", now)
    assert phrase == "三周后的周一上午9点"  # as said, so that it can be taken out of the message
    when = parse_when(phrase, now)
    assert (when.month, when.day, when.hour) == (12, 28, 9)
    when = parse_when(time_phrase("2个星期后的周五下午3点半", now), now)
    assert (when.day, when.hour, when.minute) == (25, 15, 30)
    when = parse_when(time_phrase("想两个礼拜之后那个礼拜二下午四点过去", now), now)
    assert (when.day, when.hour) == (22, 16)


@pytest.mark.parametrize("text,same", [("有事就打我电话吧", True), ("电话就用刚才那个号", True),
                                       ("联系电话也是我这个", True), ("手机139…，联系电话也是它。", True),
                                       ("联系电话打我女儿的，13900000002", False)])
def test_the_contact_phone_said_to_be_the_number_given(text, same):
    from actions.formread import same_contact

    assert same_contact(text) is same


@pytest.mark.parametrize("msg,expect", [
    ("想去复旦大学附属中山医院，麻烦尽快", {"hospital": "复旦大学附属中山医院", "city": "上海"}),  # hospital gives city
    ("在广州天河那边，医院随便你们挑", {"city": "广州", "hospital": "不指定"}),
])
def test_a_hospital_or_city_the_nlu_did_not_tag_is_read_from_the_message(app, msg, expect):
    _, creds = app
    slots = without(ticket_slots(creds), "hospital", "city", "phone", "date")
    got, _, _, _ = turn(slots, msg, requested="city", cands={"city": msg})
    assert {k: got.get(k) for k in expect} == expect, got


def test_the_speaker_naming_themself_keeps_the_person_given(app):
    _, creds = app
    c = creds["PAH2025000101"]
    base = {"service": "就医陪诊", "insurer": "平安健康", "policy_number": c["number"], "person": "配偶"}
    msg = f"投保人是王建国，手机{c['mobile']}"
    got, _, _, _ = turn(base, msg, requested="verifier", cands={"verifier": c["mobile"], "person": "王建国"},
                        entities=[ent("person", "王建国", msg), ent("phone", c["mobile"], msg)])
    assert got["verifier"] == c["mobile"] and got.get("person") == "刘芳", got  # 配偶 on the policy


def test_someone_named_by_the_customer_is_the_person(app):
    _, creds = app
    slots = without(ticket_slots(creds), "person", "city", "hospital")
    got, _, _, _ = turn(slots, "她叫王小雨，在上海看", requested="person", cands={"person": "她叫王小雨，在上海看", "city": "上海"},
                        entities=[ent("city", "上海", "她叫王小雨，在上海看")])
    assert got.get("person") == "王小雨" and got.get("city") == "上海", got


def test_a_service_word_that_describes_the_need_does_not_switch_the_booking(app):
    _, creds = app
    slots = without(ticket_slots(creds), "phone")
    msg = "老人家腿脚不好，到时候挂号缴费都要人帮忙"
    got, _, _, _ = turn(slots, msg, requested="phone", cands={"service": "挂号"},
                        entities=[ent("service", "挂号", msg)])
    assert got.get("service", "就医陪诊") == "就医陪诊", got
    msg = "还是改约门诊协助吧"
    got, _, _, _ = turn(slots, msg, requested="phone", cands={"service": "门诊协助"},
                        entities=[ent("service", "门诊协助", msg)])
    assert got.get("service") == "门诊协助", got


def test_digits_the_nlu_took_for_a_time_do_not_undo_the_time_given(app):
    _, creds = app
    c = creds["PAH2025000101"]
    soon = earliest_slot(now_china() + timedelta(hours=60), None).isoformat(timespec="minutes")
    base = {"service": "就医陪诊", "insurer": "平安健康", "policy_number": c["number"], "date": soon}
    msg = f"身份证后四位{c['id_last4']}"
    got, said, _, _ = turn(base, msg, requested="verifier", cands={"verifier": c["id_last4"], "date": c["id_last4"]},
                           entities=[ent("date", c["id_last4"], msg)])
    assert got.get("date", soon) == soon and "没看懂这个时间" not in said, (got, said)


def test_a_booking_the_nlu_read_as_a_question_starts_the_form(app):
    from actions.coverage import ActionCoverage
    from tests.test_actions import tracker

    msg = "那就给我爸约个住院陪护吧，杭州邵逸夫医院"
    _, _, _, _, events = run(ActionCoverage(), tracker({"insurer": "平安健康"}, intent="ask_coverage", text=msg))
    assert any(e.get("event") == "followup" and e.get("name") == "ticket_form" for e in events), events
    q = "杭州能约住院陪护吗"
    _, _, _, _, events = run(ActionCoverage(), tracker({"insurer": "平安健康"}, intent="ask_coverage", text=q))
    assert not any(e.get("event") == "followup" for e in events)


def test_the_policy_number_inside_a_longer_message_and_the_city_an_unlisted_hospital_names(app):
    _, creds = app
    c = creds["PAH2025000101"]
    spoken = "保单 P A H 二 零 二 五 零 零 零 一 零 一，电话的话打这个 " + c["mobile"]
    got, said, _, _ = turn({"service": "就医陪诊", "insurer": "平安健康"}, spoken, requested="policy_number",
                           intent="ask_contact", cands={"phone": c["mobile"]})
    assert got.get("policy_number") == c["number"], (got, said)
    base = without(ticket_slots(creds), "hospital", "phone", "city")
    got, said, _, _ = turn(base, "温州市某某专科医院", requested="hospital", cands={"hospital": "温州市某某专科医院"})
    assert got["hospital_unlisted"] == "温州市某某专科医院" and got.get("city") == "温州", got


def test_asked_to_repeat_the_form_reads_back_and_words_are_not_a_hospital(app):
    _, creds = app
    soon = earliest_slot(now_china() + timedelta(hours=60), None)
    base = {**without(ticket_slots(creds), "hospital", "phone"), "date": soon.isoformat(timespec="minutes")}
    got, said, _, _ = turn(base, "麻烦再说一遍时间", requested="hospital", cands={"hospital": "麻烦再说一遍时间"})
    assert zh_time(soon) in said and "目前记下的是" in said and not got.get("hospital"), (got, said)
    got, said, _, _ = turn(base, "随便帮我找找看吧那个", requested="hospital", cands={"hospital": "随便帮我找找看吧那个"})
    assert not got.get("hospital_unlisted") and "确认是这家医院吗" not in said, (got, said)


def test_a_correction_that_names_its_field_changes_only_that_field(app):
    _, creds = app
    slots = without(ticket_slots(creds), "phone")
    msg = "刚才说错了，我爸住我哥家那边，城市改成杭州"
    got, _, _, _ = turn(slots, msg, requested="phone", cands={"city": "杭州", "person": "我爸"},
                        entities=[ent("city", "杭州", msg), ent("person", "我爸", msg)])
    assert got.get("city") == "杭州" and got.get("person", "刘芳") == "刘芳", got


def test_a_service_at_home_never_asks_a_hospital_and_a_contact_cue_gives_the_phone(app):
    import asyncio as aio

    from actions.formread import contact_mobile_in, served_at_home
    from actions.common import stores

    kb = stores().kb
    home = [s for s in kb.services() if served_at_home(s)]
    assert home and not any(served_at_home(s) for s in kb.services() if s.name in ("就医陪诊", "住院协助"))
    _, creds = app
    c = creds["ZAV2025000401"] if "ZAV2025000401" in creds else None
    svc = next(s for s in home if s.insurer_short == "众安")
    slots = {"service": svc.name, "insurer": "众安"}
    t = Tracker.from_dict({"sender_id": "x", "slots": slots, "events": [], "latest_message": {}, "paused": False,
                           "followup_action": None, "active_loop": {"name": "ticket_form"},
                           "latest_action_name": "action_listen"})
    required = aio.run(ValidateTicketForm().required_slots(TICKET_SLOTS, CollectingDispatcher(), t, {}))
    assert "hospital" not in required and "city" in required and c is not None
    assert contact_mobile_in("有事就打我电话 13800001111 吧") == "13800001111"
    assert contact_mobile_in("投保人手机13800001111") is None  # a proof of identity, not the contact


def test_a_correction_is_acknowledged_and_a_past_day_is_no_booking_time(app):
    _, creds = app
    now = datetime(2026, 12, 6, 23, 50, tzinfo=CHINA_TZ)
    assert time_phrase("上周五刚出院，想约下周二下午", now) == "下周二下午"
    slots = without(ticket_slots(creds), "phone")
    got, said, _, _ = turn(slots, "医院那个我弄错了，城市改成杭州", requested="phone", cands={"city": "杭州"},
                           entities=[ent("city", "杭州", "医院那个我弄错了，城市改成杭州")])
    assert got.get("city") == "杭州" and "已改为城市：杭州" in said, (got, said)


def test_a_clock_time_on_the_day_said_before(app):
    now = datetime(2026, 12, 6, 23, 50, tzinfo=CHINA_TZ)
    assert time_phrase("下周四做手术住院，想约护工，住院当天早上7点到", now) == "下周四早上7点"
    _, creds = app
    day = earliest_slot(now_china() + timedelta(hours=80), None).replace(hour=9, minute=0)
    slots = {**without(ticket_slots(creds), "phone"), "date": day.isoformat(timespec="minutes")}
    got, _, _, _ = turn(slots, "那天下午2点吧，电话13800001111", requested="phone",
                        cands={"phone": "13800001111"})
    when = datetime.fromisoformat(got["date"])
    assert (when.date(), when.hour) == (day.date(), 14), got


def test_after_a_failed_check_a_new_proof_retries_the_same_policy(app):
    _, creds = app
    c = creds["PAH2025000101"]
    failed = [{"event": "slot", "name": "policy_number", "value": c["number"]},
              {"event": "slot", "name": "policy_number", "value": None}]
    msg = f"不好意思刚才说错了，手机是{c['mobile']}"
    got, _, _, _ = turn({"service": "就医陪诊", "insurer": "平安健康", "verify_failures": 1.0}, msg,
                        requested="policy_number", entities=[ent("phone", c["mobile"], msg)],
                        cands={"phone": c["mobile"]}, before=failed)
    assert got.get("policy_number") == c["number"] and got.get("verifier") == c["mobile"], got
    assert not got.get("phone")  # the proof is not the contact phone


def test_someone_not_on_the_policy_hears_the_manuals_rule(app):
    _, creds = app
    c = creds["PAH2025000103"]

    base = {"service": "就医陪诊", "insurer": "平安健康", "policy_number": c["number"], "verifier": c["mobile"]}
    got, said, asks, _ = turn(base, "给我舅舅约", requested="person", cands={"person": "舅舅"},
                              entities=[ent("person", "舅舅", "给我舅舅约")])
    assert got["person"] is None and "服务对象是" in said and asks == ["person"], said


def test_the_person_served_from_a_one_person_policy_or_said_in_passing(app):
    _, creds = app
    one = next(c for c in creds.values() if c["number"] == "PAH2025000103")
    got, _, _, _ = turn({"service": "就医陪诊", "insurer": "平安健康", "policy_number": one["number"]}, one["mobile"],
                        requested="verifier", cands={"verifier": one["mobile"]})
    assert got.get("person") == "赵磊", got  # the only insured person
    slots = without(ticket_slots(creds), "person", "phone")
    got, _, _, _ = turn(slots, "杭州那边，是给我本人看的", requested="person", cands={"person": "杭州那边，是给我本人看的"})
    assert got.get("person") == "王建国", got


def test_a_correction_takes_its_new_time_not_the_old_one(app):
    _, creds = app
    old = parse_when("下下周三上午9点")
    slots = {**ticket_slots(creds), "date": old.isoformat(timespec="minutes")}
    msg = "下下周三那天有事，改成下下周五下午2点"
    got, _, _, _ = turn(slots, msg, requested="confirm", cands={"date": "下下周三"},
                        entities=[ent("date", "下下周三", msg)])
    when = datetime.fromisoformat(got["date"])
    assert when.weekday() == 4 and when.hour == 14, got


def test_after_a_failed_check_a_new_proof_retries_the_number_given_in_an_earlier_message(app):
    """The number was said in a longer message (never stored as a slot); "手机是…" retries it, and the
    insurer is not asked while a policy number is known."""
    _, creds = app
    c = creds["PAH2025000102"]
    earlier = [{"event": "user", "text": f"帮我约就医陪诊，保单{c['number']}，手机13000000000"}]
    text = f"不好意思，手机是{c['mobile']}"
    got, said, _, _ = turn({"service": "就医陪诊", "verify_failures": 1.0}, text, requested="policy_number",
                           form=ValidateEligibilityForm(), loop="eligibility_form", before=earlier,
                           cands={"policy_number": text})
    assert got["policy_number"] == c["number"] and got["verifier"] == c["mobile"] and "保单已核实" in said, (got, said)


def test_scene_setting_time_words_are_not_the_time_to_book():
    assert time_phrase("目前在杭州住院，下下周四下午3点想约个陪诊") == "下下周四下午3点"
    assert time_phrase("我现在就在医院") == ""


def test_a_booking_window_of_the_manual_refuses_a_time_too_far_ahead(app):
    from tests.test_actions import tracker

    t = tracker({"service": "术后上门护理服务", "insurer": "众安"}, requested="date", loop="ticket_form")
    d = CollectingDispatcher()
    far = (now_china() + timedelta(days=20)).replace(hour=10, minute=0, second=0, microsecond=0)
    out = ValidateTicketForm().validate_date(far.isoformat(), d, t, {})
    said = d.messages[0]["text"]
    assert out["date"] is None and "7天内" in said and "来源" in said


def test_while_the_city_is_asked_another_service_is_checked_and_a_question_answered(app):
    """"那门诊协助呢" checks that service instead; a question that names no city is answered and the city
    asked again (neither is a city name)."""
    _, creds = app
    c = creds["PAH2025000101"]
    base = {"service": "住院协助", "insurer": "平安健康", "policy_number": c["number"], "verifier": c["mobile"],
            "person": "王建国"}

    def asked_city(text):
        return turn(base, text, requested="city", form=ValidateEligibilityForm(), loop="eligibility_form",
                    cands={"city": text})

    got, _, _, _ = asked_city("那门诊协助呢？")
    assert got.get("service") == "门诊协助" and got.get("city") is None, got
    got, said, _, _ = asked_city("住院协助要提前多久申请啊？")
    assert got.get("city") is None and "没有识别出城市" not in said and said, (got, said)


def test_a_switch_of_service_in_the_booking_form_is_no_answer_to_the_question_asked(app):
    _, creds = app
    text = "那门诊协助呢，她还能用吗？"
    got, said, _, _ = turn(without(ticket_slots(creds), "city", "hospital", "date", "phone"), text,
                           requested="city", cands={"city": text})
    assert got.get("city") is None and "没有认出" not in said and "没有识别出城市" not in said, (got, said)


def test_a_mobile_said_in_groups_of_spoken_digits_verifies(app):
    _, creds = app
    c = creds["PAH2025000102"]
    spoken = " ".join("".join("零幺二三四五六七八九"[int(x)] for x in part)
                      for part in (c["mobile"][:3], c["mobile"][3:7], c["mobile"][7:]))
    msg = f"保单号 {c['number']} 手机号 {spoken}"
    got, said, _, _ = turn({"service": "就医陪诊", "insurer": "平安健康"}, msg, requested="policy_number",
                           cands={"policy_number": c["number"]}, entities=[ent("policy_number", c["number"], msg)])
    assert got["verifier"] == c["mobile"] and "保单已核实" in said, said


def test_a_question_asked_for_the_city_is_answered_and_the_city_asked_again(app):
    _, creds = app
    slots = {k: v for k, v in ticket_slots(creds).items() if k in ("service", "insurer", "policy_number", "verifier",
                                                                    "person")}
    text = "护工是男的女的可以自己挑吗？"
    got, said, asks, _ = turn(slots, text, requested="city", entities=[ent("date", "自己挑", text)],
                              cands={"city": text})
    assert got.get("city") is None and "没有认出" not in said and "男的女的" in said, said


def test_a_question_asked_for_the_mobile_is_answered_not_read_as_it(app):
    _, creds = app
    c = creds["ZAV2025000401"]
    got, said, _, _ = turn({"service": "门诊挂号协助", "insurer": "众安", "policy_number": c["number"]},
                           "能指定哪位医生吗？", requested="verifier")
    assert not got.get("verifier") and "指定" in said and "11 位手机号" not in said, said


@pytest.mark.parametrize("text, books", [
    ("在这边能直接帮我约平安的就医陪诊吗？", True),
    ("可以帮我预约众安的门诊挂号协助吗", True),
    ("平安的就医陪诊要提前几天约？", False),
    ("PAH2025000101 13900000001 就医陪诊 上海 下下周一上午9点", True),  # the details, unlabelled and unasked
    ("众安的，医生开了靶向药，医院里没有，只能去外面药店买", False),  # a situation told: which service fits
])
def test_asking_whether_it_can_be_booked_here_is_a_booking(app, text, books):
    from actions.answer import answer_typed
    from actions.tickets import question_not_booking, wants_booking

    t = Tracker("s", {}, {"text": text, "intent": {"name": "nlu_fallback"}, "entities": []}, [], False, None, {},
                "action_listen")
    assert wants_booking(text) == books and question_not_booking(t) == (not books)
    events = answer_typed(CollectingDispatcher(), t) or []
    assert any(e.get("name") == "ticket_form" for e in events) == books


@pytest.mark.parametrize("text, check", [
    ("我的保单是ZAP2025000203，手机13900000010，我能约门诊陪诊吗？", True),
    ("保单ZAP2025000201，手机13900000008，帮我约下下周三上午9点的门诊陪诊", False),
    ("我能约门诊陪诊吗？", False),  # no policy: the rules answer on stated facts
    ("保单号PAH2025000101，手机13900000001。我妈住院了，能申请住院协助吗？", True),  # 能申请…吗 with a policy
    ("我的保单ZAP2025000201，手机13900000008，我本人现在能用重疾绿通吗", True),
])
def test_may_i_still_book_with_a_policy_is_checked_first(app, text, check):
    from actions.tickets import check_before_booking

    t = Tracker("s", {}, {"text": text, "intent": {"name": "open_ticket"}, "entities": []}, [], False, None, {},
                "action_listen")
    assert check_before_booking(t) == check


def test_an_answer_with_a_question_after_it_fills_the_slot_and_answers(app):
    """"手机…。对了，约好以后还能改时间吗？": the proof is taken and the question answered from the manual."""
    _, creds = app
    c = creds["ZAP2025000201"]
    msg = f"手机{c['mobile']}。对了，约好以后还能改时间吗？"
    got, said, _, _ = turn({"service": "重疾绿通服务", "insurer": "众安", "policy_number": c["number"]}, msg,
                           requested="verifier", cands={"verifier": msg})
    assert got.get("verifier") == c["mobile"] and "不允许改期" in said, said
    text = "对了，那个急救补贴最多能报多少？"  # asked for the time: answered, the time is asked again
    got, said, _, _ = turn({"service": "陪诊服务", "insurer": "太保寿险"}, text, requested="date", cands={"date": "120"},
                           entities=[ent("date", "120", "对了，我叫过一次120")])
    assert not got.get("date") and "200" in said, said


def test_whether_they_can_asked_with_the_proof_is_left_to_the_check(app):
    """"手机…。我刚确诊了，现在能用吗？" in the eligibility form: the check answers it from the policy, so no
    answer on the stated facts goes out before it."""
    from actions.eligibility import ValidateEligibilityForm

    _, creds = app
    c = creds["ZAP2025000201"]
    msg = f"手机{c['mobile']}。我上周刚确诊了，重疾绿通现在能用吗？"
    got, said, _, _ = turn({"service": "重疾绿通服务", "insurer": "众安", "policy_number": c["number"]}, msg,
                           requested="verifier", cands={"verifier": msg}, form=ValidateEligibilityForm(),
                           loop="eligibility_form")
    assert got.get("verifier") == c["mobile"] and "按您说的情况" not in said, said


def test_the_person_served_said_apart_from_the_contact_phone_is_kept(app):
    # "…，我自己，…，电话139…": the contact phone's own part names no one, so 我自己 is the person served
    text = "保单PAH2025000101，手机13900000001，我自己，上海仁济医院，电话13900000001"
    ents = [{**ent("person", "本人", text, text.find("我自己")), "end": text.find("我自己") + 3},
            ent("hospital", "上海仁济医院", text), ent("phone", "13900000001", text),
            ent("phone", "13900000001", text, text.rfind("139")), ent("policy_number", "PAH2025000101", text)]
    got, texts, _, _ = turn({"service": "门诊协助", "insurer": "平安健康"}, text, requested="policy_number",
                            intent="open_ticket", entities=ents,
                            cands={"person": "本人", "hospital": "上海仁济医院", "phone": "13900000001",
                                   "policy_number": "PAH2025000101"})
    assert got["person"] == "王建国" and got["phone"] == "13900000001" and got["city"] == "上海"
    assert "给谁用" not in texts


def test_a_question_after_the_answer_is_about_the_service_in_hand_not_a_word_tagged_in_it(app):
    # "挂号费" holds a service word: the question is still about the 门诊陪诊服务 being booked
    _, creds = app
    c = creds["ZAP2025000201"]
    text = "上海瑞金医院，下下周三上午9点。对了，陪诊时候的挂号费谁出？"
    got, said, _, _ = turn({"service": "门诊陪诊服务", "insurer": "众安", "policy_number": c["number"],
                            "verifier": c["mobile"], "person": "李明"}, text, requested="city", intent="nlu_fallback",
                           entities=[ent("city", "上海", text), ent("hospital", "瑞金医院", text),
                                     ent("service", "挂号", text)],
                           cands={"city": "上海", "hospital": "瑞金医院", "service": "挂号"})
    assert got.get("city") == "上海" and "自行承担" in said and "可能帮得上" not in said, said


def test_a_contact_phone_said_in_spoken_groups_is_the_contact_and_its_owner_is_not_the_person():
    from actions.formread import contact_mobile_in

    assert contact_mobile_in("联系电话换一个 打我老婆的 幺八六 零零零零 一二三四") == "18600001234"
    assert contact_mobile_in("保单ZAP2025000201 手机 139 0000 0008") is None  # a proof of identity, no contact cue


@pytest.mark.parametrize("text", ["医院不用指定，电话就打这个手机", "体检机构你们安排就行"])
def test_no_hospital_wanted_said_in_other_words(text):
    from actions.formread import any_hospital

    assert any_hospital(text)


def test_can_i_yet_on_stated_facts_is_a_question_even_with_a_booking_word(app):
    text = "平安健康的门诊协助，保单才生效10天，想让你们帮我约一下，现在可以申请了吗？"
    got, said, _, _ = turn({"insurer": "平安健康"}, text, requested=None, intent="open_ticket",
                           entities=[ent("service", "门诊协助", text)])
    assert "保单号" not in said and "30" in said, said
    got, said, _, _ = turn({"insurer": "平安健康"}, "帮我约一下门诊协助", requested=None, intent="open_ticket",
                           entities=[ent("service", "门诊协助", "帮我约一下门诊协助")])
    assert "预约" in said and "30" not in said, said  # a booking, not answered as a question


def test_a_span_after_an_event_is_a_stated_fact_for_the_eligibility_form(app):
    from assist.qa import since_event

    assert since_event("术后家庭护理，我出院已经二十天了，还能约吗")
    assert since_event("手术后一个半月了")
    assert not since_event("术后家庭护理下周能约吗")


def test_a_policy_carries_its_products_waiting_period_where_the_manual_defers_to_it(app):
    """001 and 003 give their services "the product's waiting period": the policy holds it (30 days in the demo
    data), so the own-policy check decides instead of asking for it."""
    from actions.common import stores
    from assist.eligibility import EligibilityRequest, check

    st = stores()
    old = check(st.kb, st.kb.engine, st.policies, EligibilityRequest(
        service="门诊陪诊服务", policy_number="ZAP2025000201", verifier="13900000008"))  # 100 days, add-on bought
    assert old.decision.status == "eligible", [r.message for r in old.decision.reasons]
    new = check(st.kb, st.kb.engine, st.policies, EligibilityRequest(
        service="门诊挂号协助", policy_number="ZAV2025000402", verifier="13900000014"))  # 15 days
    assert new.decision.status == "not_eligible" and any(r.code == "waiting" and r.passed is False
                                                         for r in new.decision.reasons)


def test_another_service_named_in_the_eligibility_check_is_checked(app):
    """"那住院协助呢？" after the own-policy check of 门诊协助: the check is about the service now named."""
    from actions.eligibility import ValidateEligibilityForm

    _, creds = app
    c = creds["PAH2025000101"]
    msg = "那住院协助是不是要住院单才能用"
    got, _, _, _ = turn({"service": "门诊协助", "insurer": "平安健康", "policy_number": c["number"],
                         "verifier": c["mobile"], "person": "王建国"}, msg, requested="",
                        cands={"service": "住院协助"}, entities=[ent("service", "住院协助", msg)],
                        form=ValidateEligibilityForm(), loop="eligibility_form")
    assert got.get("service", "住院协助") == "住院协助", got


def test_a_hospital_said_with_its_city_is_that_citys(app):
    _, creds = app
    base = without(ticket_slots(creds), "hospital", "phone", "city")
    got, said, _, _ = turn(base, "上海复旦中山医院", requested="hospital", cands={"hospital": "上海复旦中山医院"})
    assert got["hospital"] == "复旦大学附属中山医院" and "好几家" not in said, said


def test_the_holder_who_is_not_insured_is_the_person_they_name(app):
    from actions.eligibility import ValidateEligibilityForm

    _, creds = app
    c = creds["PAH2025000104"]  # insured: her son only
    base = {"service": "住院探视", "insurer": "平安健康", "policy_number": c["number"], "verifier": c["mobile"]}
    text = "我是孙丽，给我自己用"
    got, said, _, _ = turn(base, text, requested="person", cands={"person": "本人"}, form=ValidateEligibilityForm(),
                           loop="eligibility_form")
    assert got["person"] == "孙丽", said
