"""Is a city (or a hospital) covered for a service, with the matching hospitals."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import answer_typed
from actions.base import AnswerAction
from actions.common import Answer, current_insurer, hotline, inform_payload, latest_entity, slot_text, stores

SHOW_HOSPITALS = 5


def hospital_list_text(hospitals, city: str) -> str:
    names = [h.name for h in hospitals[:SHOW_HOSPITALS]]
    more = f"等 {len(hospitals)} 家" if len(hospitals) > SHOW_HOSPITALS else f"共 {len(hospitals)} 家"
    return f"手册列出{city}的服务医院有{'、'.join(names)}{more}。"


def city_answer(svc, city_text: str, insurer) -> tuple[Answer, list]:
    """(answer, events) for a service in a city."""
    kb = stores().kb
    ans = kb.coverage(svc.id, city_text)
    res = ans.resolution
    if res.status == "ambiguous":
        opts = [(f"{c.province}{c.name}", inform_payload(city=c.name)) for c in res.candidates[:4]]
        return Answer("ask_city", f"“{city_text}”可能指好几个地方，请问是哪一个？", options=opts), [SlotSet("city", None)]
    if ans.city is None:
        return (Answer("ask_city", f"没有认出“{city_text}”这个城市，请告诉我地级市的名称，比如“苏州”或“杭州”。"),
                [SlotSet("city", None)])
    city = ans.city.short or ans.city.name
    events = [SlotSet("city", city), SlotSet("service", svc.name), SlotSet("hospital", None)]
    items: list = []
    if ans.status == "covered":
        hospitals = kb.hospitals(svc.id, ans.city.name)
        asked = ans.resolution.query or city
        if svc.coverage_scope == "nationwide" and "nationwide" in ans.reason:
            text = f"{svc.name}全国范围都可以使用，{city}当然也可以。"
        elif ans.via == "own_row":  # a county-level place listed on its own row (崇州市)
            text = f"可以的，{'、'.join(ans.places)}在{svc.name}的服务范围内，清单里单独列出了它。"
            if ans.hospitals_count:
                text += f"手册列出{'、'.join(ans.places)}有 {ans.hospitals_count} 家服务医院。"
            hospitals = []  # the city's hospitals are the prefecture's, not this row's
        elif ans.via == "prefecture":
            text = f"可以的，{asked}属于{city}，{city}在{svc.name}的服务范围内。"
        else:
            text = f"可以的，{city}在{svc.name}的服务范围内。"
        if hospitals:
            text += hospital_list_text(hospitals, city)
            items = [{"name": h.name, "grade": h.grade, "cite": h.source.cite() if h.source else None}
                     for h in hospitals]
        elif ans.hospitals_count and ans.via != "own_row":
            text += f"手册列出{city}有 {ans.hospitals_count} 家服务医院。"
        opts = [("怎么申请", '/ask_how_to_apply{"topic": "流程"}'), ("我能用吗", "/ask_eligibility"),
                ("帮我预约", "/open_ticket")]
        return Answer("coverage", text, items=items, options=opts,
                      sources=list(ans.evidence[:2]) + [h.source for h in hospitals[:1] if h.source]), events
    if ans.status == "partial":
        places = "、".join(ans.places)
        text = (f"{city}只有下辖的{places}在{svc.name}的服务清单里，{city}的其他地方不在清单内。"
                f"请问您具体在{city}的哪个区县就医？")
        return Answer("coverage", text, items=[{"city": p, "status": "covered"} for p in ans.places],
                      options=[(p, inform_payload(city=p)) for p in ans.places[:3]] + [("转人工", "/human_handoff")],
                      sources=list(ans.evidence[:2])), events
    if ans.status == "not_covered" and ans.places:
        asked = ans.resolution.query or city
        text = (f"很抱歉，{asked}不在{svc.name}的服务清单里，{city}只有下辖的{'、'.join(ans.places)}在清单内。")
        return Answer("coverage", text, items=[{"city": asked, "status": "not_covered"}],
                      options=[("换个城市", "/ask_coverage"), ("转人工", "/human_handoff")],
                      sources=list(ans.evidence[:1])), events
    if ans.status == "not_covered":
        text = f"很抱歉，手册所列的{svc.name}服务城市里没有{city}，目前在{city}暂时用不了这项服务。"
        return Answer("coverage", text, items=[{"city": city, "status": "not_covered"}],
                      options=[("换个城市", "/ask_coverage"), ("转人工", "/human_handoff")],
                      sources=list(ans.evidence[:1])), events
    line, srcs = hotline(insurer or kb.resolve_insurer(svc.insurer), svc.manual_id)
    why = "手册的清单里没能确认" if ans.evidence else "手册没有列出这项服务的城市清单，没法确认"
    text = f"{why}{svc.name}在{city}能不能用。"
    text += f"建议拨打{line}确认，或者转人工帮您查。" if line else "可以帮您转人工确认。"
    return Answer("coverage", text, items=[{"city": city, "status": "unknown"}],
                  options=[("转人工", "/human_handoff")], sources=list(ans.evidence[:1]) + srcs), events


def hospital_answer(svc, hospital_text: str, insurer) -> tuple[Answer, list]:
    kb = stores().kb
    hits = kb.find_hospital(hospital_text)
    if not hits:
        return (Answer("ask_city", f"手册里没有找到“{hospital_text}”这家医院。您在哪个城市就医？我帮您查城市范围。"),
                [SlotSet("hospital", None)])
    h = hits[0]
    if not h.city_name:
        return city_answer(svc, hospital_text, insurer)
    listed = kb.hospitals(svc.id, h.city_name)
    ids = set(h.ids or (h.id,))
    hit = next((x for x in listed if x.id in ids), None)
    events = [SlotSet("hospital", h.name), SlotSet("service", svc.name)]
    opts = [("怎么申请", '/ask_how_to_apply{"topic": "流程"}'), ("帮我预约", "/open_ticket")]
    if hit is not None:
        return Answer("coverage", f"可以的，{h.name}在{svc.name}的服务医院清单里。",
                      items=[{"name": h.name, "status": "covered"}], options=opts, sources=[hit.source]), events
    if listed:
        city = h.city_name
        text = f"{h.name}不在{svc.name}的服务医院清单里。" + hospital_list_text(listed, city)
        return Answer("coverage", text, items=[{"name": x.name} for x in listed],
                      options=[("转人工", "/human_handoff")], sources=[x.source for x in listed[:1]]), events
    ans, ev = city_answer(svc, h.city_name, insurer)
    if ans.kind == "coverage":
        ans.text = f"手册没有按医院列出{svc.name}的服务清单，按{h.city_name}来看：" + ans.text
    return ans, ev + [SlotSet("hospital", h.name)]


class ActionCoverage(AnswerAction):
    def name(self) -> str:
        return "action_coverage"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        typed = answer_typed(dispatcher, tracker)
        if typed is not None:
            return typed
        ins = current_insurer(tracker)
        svc = self.need_service(dispatcher, tracker, ins, prompt="您想查哪项服务的覆盖范围？")
        new_city, new_hosp = latest_entity(tracker, "city"), latest_entity(tracker, "hospital")
        if new_hosp:
            ans, events = hospital_answer(svc, new_hosp, ins)
        elif new_city or slot_text(tracker, "city"):
            ans, events = city_answer(svc, new_city or slot_text(tracker, "city"), ins)
        elif slot_text(tracker, "hospital"):
            ans, events = hospital_answer(svc, slot_text(tracker, "hospital"), ins)
        else:
            Answer("ask_city", f"您想查{svc.name}在哪个城市（或哪家医院）能不能用？").send(dispatcher)
            return [SlotSet("service", svc.name)]
        ans.send(dispatcher)
        return events
