"""Custom actions on Tracker.from_dict fixtures with CollectingDispatcher, against a temp SQLite copy of the
full knowledge store with the policy/ticket tables migrated and the demo policies seeded."""
from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.common as common
from actions.coverage import ActionCoverage
from actions.dialogue import ActionClarify, ActionFollowup, ActionHandoff
from actions.eligibility import ActionCheckEligibility, ValidateEligibilityForm
from actions.info import ActionContact, ActionHowToApply, ActionListServices, ActionServiceInfo
from actions.tickets import TICKET_SLOTS, ActionCreateTicket, ActionTicketStatus, ValidateTicketForm, idempotency_key
from actions.timeparse import parse_when
from core.db import make_engine


@pytest.fixture(scope="module")
def app(kb_engine, tmp_path_factory):
    """A private app DB: the built store copied, pol_/tkt_ migrated, demo policies seeded."""
    from migrations import upgrade_head
    from policies.seed import credentials, seed

    src_path = kb_engine.url.database
    path = tmp_path_factory.mktemp("app") / "app.db"
    with sqlite3.connect(src_path) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    engine = make_engine(f"sqlite:///{path}")
    upgrade_head(engine)
    seed(engine)
    common.configure(engine=engine)
    creds = {c["number"]: c for c in credentials(engine)}
    yield engine, creds
    common.configure()


def tracker(slots=None, intent="inform", entities=(), text="", metadata=None, loop=None, requested=None,
            events=None, ranking=None, sender="conv-1") -> Tracker:
    slots = dict(slots or {})
    if requested:
        slots["requested_slot"] = requested
    latest = {"intent": {"name": intent, "confidence": 0.9}, "entities": list(entities), "text": text,
              "message_id": "m-" + text, "metadata": metadata or {},
              "intent_ranking": ranking or [{"name": intent, "confidence": 0.9}]}
    return Tracker.from_dict({"sender_id": sender, "slots": slots, "latest_message": latest,
                              "events": events or [{"event": "user", "text": text, "parse_data": latest}],
                              "paused": False, "followup_action": None,
                              "active_loop": {"name": loop} if loop else {}, "latest_action_name": "action_listen"})


def run(action, t, domain=None):
    d = CollectingDispatcher()
    events = asyncio.run(action.run(d, t, domain or {}))
    texts = [m["text"] for m in d.messages if m.get("text")]
    answers = [m["custom"]["answer"] for m in d.messages if m.get("custom")]
    buttons = [b["title"] for m in d.messages for b in (m.get("buttons") or [])]
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    return "\n".join(texts), answers, buttons, slots, events


def ent(name, value):
    return {"entity": name, "value": value}


# -- answers --------------------------------------------------------------------------------
def test_services_of_channel_insurer(app):
    text, answers, buttons, slots, _ = run(ActionListServices(), tracker(metadata={"insurer": "平安"}))
    assert "就医陪诊" in text and "国内第二诊疗" in text
    assert "众安" not in text
    assert slots["insurer"] == "平安健康"
    a = answers[0]
    assert a["kind"] == "services" and a["sources"][0]["manual_id"].startswith("000_")
    assert "《平安健康保险 服务手册》" in text  # the source is named


def test_unknown_insurer_is_asked(app):
    text, answers, buttons, slots, _ = run(ActionListServices(), tracker())
    assert "哪家保险公司" in text
    assert set(buttons) >= {"平安健康", "众安", "太保健康", "太保寿险"}
    assert answers[0]["options"][0]["payload"].startswith("/inform{")


def test_ambiguous_service_asks_insurer_then_answers(app):
    text, _, buttons, _, _ = run(ActionServiceInfo(), tracker({"service": "二诊"}))
    assert "哪家" in text and "平安健康" in buttons and "众安" in buttons
    text, answers, _, slots, _ = run(ActionServiceInfo(), tracker({"service": "二诊", "insurer": "众安"}))
    assert "二次诊疗意见" in text and "限客户一个保单年度内使用一次" in text
    assert slots["service"] == "二次诊疗意见"
    assert all(s["manual_id"].startswith("003_") for s in answers[0]["sources"])


def test_coverage_city_covered_and_not(app):
    text, answers, _, slots, _ = run(ActionCoverage(), tracker({"service": "重疾绿通", "insurer": "众安"},
                                                               entities=[ent("city", "成都")]))
    assert "成都在重疾绿通的服务范围内" in text and "等 19 家" in text
    assert any(i["name"] == "四川大学华西医院" for i in answers[0]["items"])
    assert answers[0]["items"] and slots["city"] == "成都"
    text, answers, _, _, _ = run(ActionCoverage(), tracker({"service": "就医陪诊", "insurer": "平安健康"},
                                                           entities=[ent("city", "拉萨")]))
    assert "没有拉萨" in text
    assert answers[0]["sources"][0]["section"] == "陪诊服务覆盖城市清单"


def test_coverage_partial_and_county_rows(app):
    """Only 宜城市 of 襄阳 is listed for 众安 院外特药 (001 line 753); 崇州市 has its own row (000 line 2710)."""
    text, answers, _, _, _ = run(ActionCoverage(), tracker({"service": "院外特药", "insurer": "众安"},
                                                           entities=[ent("city", "襄阳")]))
    assert "襄阳只有下辖的宜城市在" in text and "服务范围内" not in text
    assert answers[0]["sources"][0]["line_start"] == 753
    text, _, _, _, _ = run(ActionCoverage(), tracker({"service": "门诊协助", "insurer": "平安健康"},
                                                     entities=[ent("city", "崇州")]))
    assert "崇州市在门诊协助的服务范围内" in text and "1 家" in text and "83" not in text


def test_coverage_long_list_is_summarised(app):
    kb = common.stores().kb
    svc = kb.resolve_service("重疾绿通", insurer="众安")[0]
    n = len(kb.hospitals(svc.id, "北京"))
    assert n > 5
    text, answers, _, _, _ = run(ActionCoverage(), tracker({"service": "重疾绿通", "insurer": "众安"},
                                                           entities=[ent("city", "北京")]))
    assert f"等 {n} 家" in text
    assert len(answers[0]["items"]) == n


def test_coverage_hospital(app):
    text, _, _, slots, _ = run(ActionCoverage(), tracker({"service": "重疾绿通", "insurer": "众安"},
                                                        entities=[ent("hospital", "华西医院")]))
    assert "四川大学华西医院在重疾绿通的服务医院清单里" in text
    assert slots["hospital"] == "四川大学华西医院"


def test_coverage_unrecognised_city(app):
    # Rasa's from_entity mapping has put the text in the slot before the action runs; the action clears it
    text, _, _, slots, _ = run(ActionCoverage(), tracker({"service": "就医陪诊", "insurer": "平安健康", "city": "火星城"},
                                                        entities=[ent("city", "火星城")]))
    assert "没有认出" in text and slots["city"] is None


def test_answers_drop_slot_sets_that_change_nothing(app):
    s = {"service": "就医陪诊", "insurer": "平安健康", "city": "上海"}
    _, _, _, slots, events = run(ActionCoverage(), tracker({**s, "last_answer": "action_coverage"}))
    assert slots == {}, events  # insurer, service, city and last_answer hold these values already
    _, _, _, slots, _ = run(ActionCoverage(), tracker({**s, "last_answer": "action_service_info"}))
    assert slots == {"last_answer": "action_coverage"}


def test_how_to_apply_topics_and_missing(app):
    s = {"service": "就医陪诊", "insurer": "平安健康"}
    text, answers, _, _, _ = run(ActionHowToApply(), tracker({**s, "topic": "时效"}))
    assert "4 工作小时内响应" in text and answers[0]["sources"][0]["line_start"] == 275
    text, _, _, _, _ = run(ActionHowToApply(), tracker({**s, "topic": "流程"}))
    assert "提前 48 小时" in text
    text, answers, buttons, _, _ = run(ActionHowToApply(), tracker({**s, "topic": "材料"}))
    assert "手册里没有写" in text and "95511-7" in text and "转人工" in buttons


def test_contact(app):
    text, answers, _, _, _ = run(ActionContact(), tracker({"insurer": "平安健康"}))
    assert "95511-7" in text and "7*24" in text and answers[0]["sources"]


def test_side_question_in_form_keeps_form_slots(app):
    t = tracker({"service": "就医陪诊", "insurer": "平安健康", "city": "上海"}, intent="ask_service_info",
                entities=[ent("service", "住院垫付")], loop="ticket_form", requested="date")
    text, _, _, slots, _ = run(ActionServiceInfo(), t)
    assert "住院垫付" in text
    assert "service" not in slots and "city" not in slots


# -- eligibility ----------------------------------------------------------------------------
def validate(form, t, slot, value):
    d = CollectingDispatcher()
    fn = getattr(form, f"validate_{slot}")
    out = fn(value, d, t, {})
    return out, " ".join(m.get("text") or "" for m in d.messages)


def test_eligibility_required_slots_follow_the_rules(app):
    _, creds = app
    c = creds["PAH2025000101"]
    form = ValidateEligibilityForm()
    base = {"service": "国内第二诊疗", "policy_number": c["number"], "verifier": c["mobile"], "person": "王建国"}
    slots = asyncio.run(form.required_slots([], CollectingDispatcher(), tracker(base), {}))
    assert slots[:4] == ["service", "policy_number", "verifier", "person"]
    assert "diagnosis" in slots or "disease" in slots  # 二诊 needs a diagnosis the manual names
    slots = asyncio.run(form.required_slots([], CollectingDispatcher(), tracker({}), {}))
    assert slots[0] == "insurer"


def test_verifier_checked_against_policy(app):
    _, creds = app
    c = creds["PAH2025000102"]
    form = ValidateEligibilityForm()
    t = tracker({"policy_number": c["number"], "service": "就医陪诊"}, requested="verifier")
    out, said = validate(form, t, "verifier", "13000000000")
    assert out["verifier"] is None and out["policy_number"] is None and "未能核实" in said
    d = CollectingDispatcher()
    form.validate_verifier("13000000000", d, t, {})
    assert [m.get("asks") for m in d.messages] == ["policy_number"]  # Rasa does not ask for the number again
    out, said = validate(form, t, "verifier", c["id_last4"])
    assert out["verifier"] == c["id_last4"] and out["insurer"] == "平安健康" and "保单已核实" in said
    out, said = validate(form, t, "verifier", "hello")
    assert out["verifier"] is None and "手机号" in said


def test_eligibility_waiting_period_not_eligible(app):
    _, creds = app
    c = creds["PAH2025000102"]  # inside the 30-day waiting period
    t = tracker({"service": "就医陪诊", "insurer": "平安健康", "policy_number": c["number"],
                 "verifier": c["mobile"], "person": "陈静", "city": "上海"})
    text, answers, buttons, _, _ = run(ActionCheckEligibility(), t)
    assert "还不能使用就医陪诊" in text and "等待期" in text
    assert answers[0]["sources"] and "转人工" in buttons


def test_eligibility_transfer_policy_eligible(app):
    _, creds = app
    c = creds["PAH2025000103"]  # 转保: no waiting period
    t = tracker({"service": "就医陪诊", "insurer": "平安健康", "policy_number": c["number"],
                 "verifier": c["mobile"], "person": "本人", "city": "上海"})
    text, answers, buttons, _, _ = run(ActionCheckEligibility(), t)
    assert "可以使用就医陪诊" in text and "帮我预约" in buttons
    assert any("转保" in (s["quote"] or "") for s in answers[0]["sources"]) or "转保" in text


def test_eligibility_without_a_city_is_answered_with_where_it_is_offered(app):
    _, creds = app
    c = creds["PAH2025000103"]  # 转保: no waiting period; 就医陪诊 has a city list
    t = tracker({"service": "就医陪诊", "insurer": "平安健康", "policy_number": c["number"],
                 "verifier": c["mobile"], "person": "本人"})
    text, _, buttons, _, _ = run(ActionCheckEligibility(), t)
    assert "可以使用就医陪诊" in text and "城市" in text and "帮我预约" in buttons, text


def test_person_not_on_policy_is_refused(app):
    _, creds = app
    c = creds["PAH2025000103"]
    t = tracker({"policy_number": c["number"], "verifier": c["mobile"], "service": "就医陪诊"})
    out, said = validate(ValidateEligibilityForm(), t, "person", "张三丰")
    assert out["person"] is None and "赵磊" in said
    out, _ = validate(ValidateEligibilityForm(), t, "person", "本人")
    assert out["person"] == "赵磊"


# -- tickets --------------------------------------------------------------------------------
def ticket_slots(creds):
    c = creds["PAH2025000101"]
    return {"service": "就医陪诊", "insurer": "平安健康", "policy_number": c["number"], "verifier": c["mobile"],
            "person": "刘芳", "city": "上海", "hospital": "不指定", "phone": "13912345678"}


def test_ticket_city_and_time_validation(app):
    _, creds = app
    form = ValidateTicketForm()
    t = tracker(ticket_slots(creds), requested="city", loop="ticket_form")
    out, said = validate(form, t, "city", "拉萨")
    assert out["city"] is None and "暂未开通" in said
    out, _ = validate(form, t, "city", "杭州")
    assert out["city"] == "杭州"
    out, said = validate(form, t, "date", "明天上午")  # 就医陪诊 needs 48 hours
    assert out["date"] is None and "48 小时" in said
    out, _ = validate(form, t, "date", "下周三上午")
    assert out["date"]
    out, said = validate(form, t, "date", "随便吧")
    assert out["date"] is None
    out, said = validate(form, t, "phone", "12345")
    assert out["phone"] is None


def test_ticket_person_must_be_on_policy(app):
    _, creds = app
    t = tracker(ticket_slots(creds), requested="person", loop="ticket_form")
    out, _ = validate(ValidateTicketForm(), t, "person", "配偶")
    assert out["person"] == "刘芳"
    out, said = validate(ValidateTicketForm(), t, "person", "母亲")
    assert out["person"] is None and "王建国" in said


def test_correction_after_summary_resets_confirm(app):
    _, creds = app
    slots = {**ticket_slots(creds), "date": "2030-01-01T09:00+08:00", "confirm": True}
    t = tracker(slots, entities=[ent("city", "杭州")], loop="ticket_form", requested="confirm",
                events=[{"event": "user", "text": "城市改成杭州"}, {"event": "slot", "name": "city", "value": "杭州"}])
    domain = {"forms": {"ticket_form": {"required_slots": []}}, "slots": {k: {} for k in slots}}
    events = asyncio.run(ValidateTicketForm().get_validation_events(CollectingDispatcher(), t, domain))
    got = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
    assert got.get("city") == "杭州" and "confirm" in got and got["confirm"] is None


def form_turn(slots, slot, value):
    """The ticket form's validation action after the customer answered `slot` with `value`: the slots it
    asks for (message metadata "asks") and the messages."""
    t = tracker(slots, text=str(value), entities=[ent(slot, value)], loop="ticket_form", requested=slot,
                events=[{"event": "user", "text": str(value)}, {"event": "slot", "name": slot, "value": value}])
    t.slots[slot] = value
    domain = {"forms": {"ticket_form": {"required_slots": TICKET_SLOTS}},
              "slots": {k: {} for k in [*TICKET_SLOTS, "insurer", "requested_slot", "verify_failures"]}}
    d = CollectingDispatcher()
    asyncio.run(ValidateTicketForm().run(d, t, domain))
    return [m.get("asks") for m in d.messages], d.messages


def test_validation_action_asks_the_next_slot_itself(app):
    """The question for the next slot comes with the validation (one action server call, not two), marked
    with the slot so that Rasa does not ask again; a rejected answer is asked again once; slots Rasa asks
    with a response of the domain are left to Rasa."""
    _, creds = app
    slots = {k: v for k, v in ticket_slots(creds).items() if k not in ("city", "hospital", "phone")}
    asks, messages = form_turn(slots, "city", "上海")
    assert asks == ["hospital"] and "不指定" in [b["title"] for b in messages[0]["buttons"]]
    asks, messages = form_turn(slots, "city", "拉萨")  # not covered: asked again, once
    assert asks == ["city"] and "暂未开通" in messages[0]["text"]
    full = {**ticket_slots(creds), "date": "2030-01-01T09:00+08:00"}
    asks, messages = form_turn({k: v for k, v in full.items() if k != "phone"}, "phone", "13912345678")
    assert asks == ["confirm"] and "请核对预约信息" in messages[0]["text"]
    asks, messages = form_turn({k: v for k, v in slots.items() if k != "person"} | {"service": "门诊协助"}, "person", "刘芳")
    assert asks == [] and not messages  # next is the city: utter_ask_city, Rasa's own response
    asks, messages = form_turn({k: v for k, v in slots.items() if k != "person"}, "person", "刘芳")
    assert "不能使用" in messages[0]["text"]  # 就医陪诊: the family's one of the year is spent (刘芳 used it)


def test_create_ticket_idempotent_and_status(app):
    _, creds = app
    when = parse_when("下周三上午") + timedelta(days=7)
    slots = {**ticket_slots(creds), "date": when.isoformat(), "confirm": True}
    t = tracker(slots, intent="affirm", text="确认", loop="ticket_form")
    text, answers, _, got, _ = run(ActionCreateTicket(), t)
    assert "预约已提交" in text and got["ticket_number"].startswith("T")
    number = got["ticket_number"]
    text2, _, _, got2, _ = run(ActionCreateTicket(), t)  # the same confirmation again
    assert got2["ticket_number"] == number
    assert idempotency_key(t) == idempotency_key(tracker(slots, intent="affirm", text="确认"))
    text, answers, _, _, _ = run(ActionTicketStatus(), tracker({"ticket_number": number, "phone": "13912345678"}))
    assert number in text and "已提交" in text
    text, _, _, _, _ = run(ActionTicketStatus(), tracker({"ticket_number": number, "phone": "13800000000"}))
    assert "没有找到这张工单" in text


def test_deny_at_confirm_creates_nothing(app):
    _, creds = app
    text, answers, _, _, _ = run(ActionCreateTicket(), tracker({**ticket_slots(creds), "confirm": False}))
    assert "先不预约" in text and answers[0]["kind"] == "ticket_cancelled"


# -- dialogue glue --------------------------------------------------------------------------
def test_followup_reuses_last_answer(app):
    s = {"service": "就医陪诊", "insurer": "平安健康", "city": "上海", "last_answer": "action_coverage"}
    text, _, _, slots, _ = run(ActionFollowup(), tracker(s, entities=[ent("city", "拉萨")], text="那拉萨呢？"))
    assert "就医陪诊" in text and "拉萨" in text and slots["city"].startswith("拉萨")
    _, _, _, _, events = run(ActionFollowup(), tracker({**s, "last_answer": "action_check_eligibility"},
                                                       entities=[ent("person", "母亲")]))
    assert events[0] == {"event": "followup", "timestamp": None, "name": "eligibility_form"}


def test_short_unclear_follow_up_is_answered_as_follow_up(app):
    s = {"service": "就医陪诊", "insurer": "平安健康", "city": "上海", "last_answer": "action_coverage"}
    text, _, _, _, _ = run(ActionClarify(), tracker(s, intent="nlu_fallback", entities=[ent("city", "拉萨")],
                                                    text="那拉萨呢？"))
    assert "拉萨" in text and "就医陪诊" in text and "没太明白" not in text


def test_clarify_then_handoff(app):
    engine, _ = app
    ranking = [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "ask_coverage", "confidence": 0.3},
               {"name": "ask_contact", "confidence": 0.1}]
    t = tracker(intent="nlu_fallback", entities=[ent("city", "上海")], ranking=ranking, text="上海那个")
    text, answers, buttons, _, _ = run(ActionClarify(), t)
    assert buttons == ["查服务城市/医院", "客服电话", "转人工"]
    assert answers[0]["options"][0]["payload"] == '/ask_coverage{"city": "上海"}'
    first = {"event": "user", "text": "嗯嗯那个", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    second = {"event": "user", "text": "就那个啊", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    t = tracker({"insurer": "平安健康"}, intent="nlu_fallback", text="就那个啊", sender="conv-fb",
                events=[first, {"event": "bot", "text": "抱歉，我没太明白。"}, second])
    text, answers, _, _, _ = run(ActionClarify(), t)
    assert "转接人工客服" in text and "95511-7" in text
    from handoff import list_handoffs

    h = [x for x in list_handoffs("open", engine=engine) if x.conversation_id == "conv-fb"][0]
    assert h.reason == "fallback" and [x["text"] for x in h.transcript][0] == "嗯嗯那个"


def test_a_second_fallback_that_qa_answers_is_answered_not_handed_over(app):
    first = {"event": "user", "text": "嗯嗯那个", "parse_data": {"intent": {"name": "nlu_fallback"}}}
    second = {"event": "user", "text": "平安健康的就医陪诊要提前几天约",
              "parse_data": {"intent": {"name": "nlu_fallback"}}}
    t = tracker({}, intent="nlu_fallback", text=second["text"], sender="conv-fb2",
                events=[first, {"event": "bot", "text": "抱歉，我没太明白。"}, second])
    text, _, _, _, _ = run(ActionClarify(), t)
    assert "转接人工客服" not in text and "就医陪诊" in text, text


def test_out_of_scope_follow_up_after_an_answer_is_answered(app):
    from actions.dialogue import ActionOutOfScope

    s = {"service": "COC 肿瘤随访服务", "insurer": "太保健康", "product": "太保互联网特定妇科癌症复发医疗保险",
         "last_answer": "qa:eligibility::"}
    earlier = {"event": "user", "text": "太保的妇科癌症复发险，买了一周，COC肿瘤随访能用吗",
               "parse_data": {"intent": {"name": "ask_eligibility"}}}
    now = {"event": "user", "text": "要是买了一个月了呢", "parse_data": {"intent": {"name": "out_of_scope"}}}
    t = tracker(s, intent="out_of_scope", text=now["text"], events=[earlier, {"event": "bot", "text": "…"}, now])
    text, _, _, _, _ = run(ActionOutOfScope(), t)
    assert "可以使用" in text and "COC" in text, text
    text, _, _, _, _ = run(ActionOutOfScope(), tracker({}, intent="out_of_scope", text="今天天气怎么样"))
    assert text == "" or "回答不了" in text  # the domain's out-of-scope reply (a response, not text here)


def test_a_complaint_that_follows_up_with_a_service_is_answered(app):
    s = {"service": "门诊绿通", "insurer": "太保健康", "product": "太保互联网特定妇科癌症复发医疗保险",
         "last_answer": "qa:fact::"}
    text, _, _, _, _ = run(ActionHandoff(), tracker(s, intent="complaint", text="那肿瘤心理咨询呢？她心情很糟"))
    assert "转接人工客服" not in text and "心理咨询" in text, text
    text, _, _, _, _ = run(ActionHandoff(), tracker(s, intent="complaint", text="你们的服务太差了，我要投诉"))
    assert "转接人工客服" in text


def test_handoff_keeps_state_without_verifier_and_is_listed(app):
    engine, creds = app
    t = tracker({"policy_number": "PAH2025000101", "verifier": "13900000000", "service": "就医陪诊"},
                intent="human_handoff", text="转人工", loop="ticket_form", sender="conv-ho")
    text, _, _, slots, events = run(ActionHandoff(), t)
    assert "转接人工客服" in text
    from handoff import claim_handoff, list_handoffs

    h = [x for x in list_handoffs("open", engine=engine) if x.conversation_id == "conv-ho"][0]
    assert "verifier" not in h.slots and h.slots["service"] == "就医陪诊"
    again, _, _, _, _ = run(ActionHandoff(), t)
    assert h.number in again  # asking again updates the same record
    assert claim_handoff(h.number, "agent-1", engine=engine).status == "claimed"


def test_channel_insurer_metadata_wins_over_the_conversation(app):
    """A channel that belongs to one insurer says so in the metadata: it wins over the slot; an unknown
    name in the metadata is ignored and the conversation's insurer stays."""
    text, _, _, slots, _ = run(ActionListServices(), tracker({"insurer": "平安健康"}, metadata={"insurer": "太平洋人寿"}))
    assert slots["insurer"] == "太保寿险" and "平安" not in text
    text, _, _, slots, _ = run(ActionListServices(), tracker({"insurer": "平安健康"},
                                                             metadata={"insurer": "不存在的公司"}))
    assert slots.get("insurer", "平安健康") == "平安健康" and "就医陪诊" in text  # still 平安健康's services


@pytest.mark.parametrize("junk", ["", "   ", "x" * 5000, "🙂🙂", "'; drop table kb_services; --"])
def test_garbage_never_crashes(app, junk):
    for action in (ActionServiceInfo(), ActionCoverage(), ActionHowToApply(), ActionFollowup()):
        text, answers, _, _, _ = run(action, tracker({"service": junk, "city": junk, "insurer": junk}, text=junk,
                                                     entities=[ent("city", junk)] if junk.strip() else []))
        assert text and answers


def test_hotline_prefers_the_services_own_manual(app):
    """众安 has two manuals: 001's PLUS hotline (021-38139960) and 003's 10109955. An answer about a 003
    service offers 003's number."""
    za = common.stores().kb.resolve_insurer("众安")
    line_003, srcs = common.hotline(za, "003_e8b033acd9a55b94")
    assert "10109955" in line_003.replace("-", "") and srcs[0].manual_id.startswith("003")
    line_001, srcs = common.hotline(za, "001_01c07bc6b9f80855")
    assert "38139960" in line_001 and srcs[0].manual_id.startswith("001")


def test_relative_days_count_from_the_beijing_date():
    from datetime import datetime

    from core.clock import CHINA_TZ

    # 07:10 on 2 December in Beijing is still 1 December in UTC, the servers' zone
    now = datetime(2026, 12, 2, 7, 10, tzinfo=CHINA_TZ)
    assert parse_when("明天上午", now=now).date().isoformat() == "2026-12-03"
    assert parse_when("今天下午三点", now=now) == datetime(2026, 12, 2, 15, 0, tzinfo=CHINA_TZ)
    late = datetime(2026, 12, 2, 23, 30, tzinfo=CHINA_TZ)  # same day in both zones
    assert parse_when("后天", now=late).date().isoformat() == "2026-12-04"


def test_a_follow_up_heard_as_goodbye_is_answered_and_a_farewell_is_not(app):
    from actions.dialogue import ActionGoodbye

    s = {"service": "门诊挂号协助", "insurer": "众安", "product": "众安健康险增值服务", "last_answer": "qa:fact:excluded:"}
    earlier = {"event": "user", "text": "众安的门诊挂号协助能挂产科吗", "parse_data": {"intent": {"name": "ask_rule"}}}
    now = {"event": "user", "text": "那挂皮肤科呢？", "parse_data": {"intent": {"name": "goodbye"}}}
    t = tracker(s, intent="goodbye", text=now["text"], events=[earlier, {"event": "bot", "text": "…"}, now])
    text, _, _, _, _ = run(ActionGoodbye(), t)
    assert "皮肤科" in text, text
    text, _, _, _, _ = run(ActionGoodbye(), tracker(s, intent="goodbye", text="好的先挂了"))
    assert "皮肤科" not in text and "可以使用" not in text
