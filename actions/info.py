"""Answers about services: what an insurer offers, what a service is, how to apply, whom to call."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import answer_typed
from actions.base import AnswerAction
from actions.common import Answer, clip, context_value, current_insurer, hotline, inform_payload, not_in_manual, stores

# topic entity value -> (ServiceView field, fact attribute, what the customer asked about)
TOPICS = {
    "流程": ("how_to_apply", "how_to_apply", "申请流程"),
    "材料": ("documents", "documents", "需要准备的材料"),
    "时效": ("response_time", "response_time", "办理时效"),
    "费用": ("fees", "fees", "费用"),
}


def fact_sources(svc, attribute: str, limit: int = 2) -> list:
    srcs = [f.source for f in svc.facts if f.attribute == attribute][:limit]
    return srcs or [svc.source]


class ActionListServices(AnswerAction):
    def name(self) -> str:
        return "action_list_services"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        typed = answer_typed(dispatcher, tracker)
        if typed is not None:
            return typed
        kb = stores().kb
        ins = self.need_insurer(dispatcher, tracker)
        product = context_value(tracker, "product")
        services = kb.services(ins.id, product=product or None) if product else []
        if not services:
            services, product = kb.services(ins.id), ""
        if not services:
            not_in_manual(ins, f"{ins.short_name}提供哪些服务").send(dispatcher)
            return []
        by_product: dict[str, list] = {}
        for s in services:
            by_product.setdefault(s.product or ins.short_name, []).append(s)
        parts = []
        for prod, svcs in by_product.items():
            names = list(dict.fromkeys(s.name for s in svcs))
            shown = "、".join(names) + (f"（共 {len(names)} 项）" if len(names) > 12 else "")
            parts.append(f"【{prod}】{shown}")
        text = f"{ins.short_name}的服务手册里列了这些健康服务：\n" + "\n".join(parts) + "\n想了解哪一项，直接告诉我服务名称就可以。"
        items = [{"name": s.name, "product": s.product, "cite": s.source.cite()} for s in services]
        first = [s.source for s in services[:1]]
        options = [(s.name, inform_payload(service=s.name)) for s in services[:6]]
        Answer("services", text, items=items, options=options,
               sources=first + [svcs[0].source for svcs in list(by_product.values())[1:]]).send(dispatcher)
        return [SlotSet("insurer", ins.short_name)]


class ActionServiceInfo(AnswerAction):
    def name(self) -> str:
        return "action_service_info"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        typed = answer_typed(dispatcher, tracker)
        if typed is not None:
            return typed
        ins = current_insurer(tracker)
        svc = self.need_service(dispatcher, tracker, ins)
        desc = clip(svc.description, 180)
        if not desc:
            not_in_manual(ins or stores().kb.resolve_insurer(svc.insurer), f"{svc.name}的具体服务内容").send(dispatcher)
            return [SlotSet("service", svc.name)]
        lines = [f"{svc.name}（{svc.insurer_short}）：{desc}"]
        srcs = fact_sources(svc, "content", 1)
        if svc.usage_text:
            lines.append(f"使用次数：{clip(svc.usage_text, 80)}")
            srcs += fact_sources(svc, "usage_limit", 1)
        options = [("覆盖哪些城市", "/ask_coverage"), ("怎么申请", '/ask_how_to_apply{"topic": "流程"}'),
                   ("我能用吗", "/ask_eligibility")]
        Answer("service_info", "\n".join(lines), items=[{"name": svc.name, "insurer": svc.insurer_short}],
               options=options, sources=srcs).send(dispatcher)
        return [SlotSet("service", svc.name), SlotSet("insurer", svc.insurer_short)]


class ActionHowToApply(AnswerAction):
    def name(self) -> str:
        return "action_how_to_apply"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        typed = answer_typed(dispatcher, tracker)
        if typed is not None:
            return typed
        ins = current_insurer(tracker)
        svc = self.need_service(dispatcher, tracker, ins, prompt="您想申请哪项服务？")
        topic = context_value(tracker, "topic")
        topic = topic if topic in TOPICS else "流程"
        field, attribute, label = TOPICS[topic]
        value = getattr(svc, field)
        ins = ins or stores().kb.resolve_insurer(svc.insurer)
        if not value:
            not_in_manual(ins, f"{svc.name}的{label}").send(dispatcher)
            return [SlotSet("service", svc.name)]
        text = f"{svc.name}的{label}，手册是这样写的：\n{clip(value, 260)}"
        if topic == "流程" and svc.lead_time_hours:
            text += f"\n注意：需至少提前 {svc.lead_time_hours} 小时申请。"
        others = [(f"{TOPICS[t][2]}", f'/ask_how_to_apply{{"topic": "{t}"}}') for t in TOPICS if t != topic]
        Answer("how_to_apply", text, items=[{"topic": topic, "service": svc.name}],
               options=others + [("帮我预约", "/open_ticket")],
               sources=fact_sources(svc, attribute) + (fact_sources(svc, "lead_time", 1)
                                                       if topic == "流程" and svc.lead_time_hours else [])
               ).send(dispatcher)
        return [SlotSet("service", svc.name), SlotSet("insurer", svc.insurer_short)]


class ActionContact(AnswerAction):
    def name(self) -> str:
        return "action_contact"

    def answer(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict) -> list:
        typed = answer_typed(dispatcher, tracker)
        if typed is not None:
            return typed
        kb = stores().kb
        ins = self.need_insurer(dispatcher, tracker)
        contacts = kb.contacts(ins.id)
        line, srcs = hotline(ins)
        svc_name = context_value(tracker, "service")
        svc_hours = []
        if svc_name:
            from actions.common import pick_service

            svc, _ = pick_service(svc_name, ins)
            if svc is not None:
                svc_hours = [c for c in contacts if c.service_id == svc.id and c.kind in ("hours", "phone")]
        if not line and not svc_hours:
            others = [c for c in contacts if c.kind in ("app", "wechat", "email", "online")][:2]
            if not others:
                Answer("contact", f"手册里没有写{ins.short_name}的客服电话。可以帮您转人工客服。",
                       options=[("转人工", "/human_handoff")]).send(dispatcher)
                return []
            text = ("手册里没有写客服电话，可以通过这些渠道联系：" + "；".join(f"{c.label}：{c.value}" for c in others)
                    + "。也可以转人工客服。")
            Answer("contact", text, items=[{"kind": c.kind, "label": c.label, "value": c.value} for c in others],
                   options=[("转人工", "/human_handoff")], sources=[c.source for c in others]).send(dispatcher)
            return []
        # the label usually names the insurer already (平安健康保险全国客服电话 …)
        parts = [(line if ins.short_name[:2] in line else f"{ins.short_name}{line}") + "。"] if line else []
        for c in svc_hours[:2]:
            parts.append(f"{c.label}：{c.value}。")
            srcs.append(c.source)
        items = [{"kind": c.kind, "label": c.label, "value": c.value} for c in contacts if c.kind in ("phone", "hours")]
        Answer("contact", "".join(parts), items=items[:8], options=[("转人工", "/human_handoff")],
               sources=srcs).send(dispatcher)
        return [SlotSet("insurer", ins.short_name)]
