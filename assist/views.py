"""Plain dicts for responses, from the knowledge, rules and ticket views."""
from __future__ import annotations

from typing import Any, Optional


def source_out(kb, src) -> Optional[dict]:
    """A knowledge.views.Source -> SourceOut (section looked up when the rules left it out)."""
    if src is None:
        return None
    section = getattr(src, "section", None)
    title = getattr(src, "manual_title", "") or ""
    if section is None and not src.insurer:  # from the rules: let the knowledge base add the section and title
        full = kb.source(src.manual_id, src.line_start, src.line_end, quote=src.quote or None)
        section, title = full.section, full.manual_title
        src = full
    return {"manual_id": src.manual_id, "manual_title": title, "section": section, "line_start": src.line_start,
            "line_end": src.line_end, "quote": src.quote, "cite": src.cite()}


def service_summary(kb, v) -> dict:
    return {"id": v.id, "key": v.key, "name": v.name, "aliases": list(v.aliases), "category": v.category,
            "insurer": v.insurer, "insurer_short": v.insurer_short, "product": v.product, "manual_id": v.manual_id,
            "coverage_scope": v.coverage_scope, "lead_time_hours": v.lead_time_hours,
            "source": source_out(kb, v.source)}


DETAIL_FIELDS = ("description", "beneficiary", "beneficiary_text", "waiting_kind", "waiting_days", "cooling_off_days",
                 "diagnosis_kind", "diagnosis_list", "diagnosis_hospital", "age_min", "age_max", "usage_limit",
                 "usage_period", "usage_text", "addon_required", "response_time", "how_to_apply", "documents", "fees",
                 "exclusions")


def service_detail(kb, v) -> dict:
    out = service_summary(kb, v)
    out.update({f: getattr(v, f) for f in DETAIL_FIELDS})
    out["facts"] = [{"attribute": f.attribute, "value": f.value, "source": source_out(kb, f.source)} for f in v.facts]
    return out


def city_out(city) -> Optional[dict]:
    if city is None:
        return None
    return {"name": city.name, "short": city.short, "code": city.code, "province": city.province}


def hospital_out(kb, h) -> dict:
    return {"id": h.id, "name": h.name, "aliases": list(h.aliases), "province": h.province, "city_code": h.city_code,
            "city_name": h.city_name, "grade": h.grade, "matched": getattr(h, "matched", "") or "",
            "source": source_out(kb, h.source)}


def coverage_reason_zh(svc, ans, short: bool = False) -> str:
    """The customer-facing reason for a CoverageAnswer (the store's reason is English); `short` names the
    city as customers say it in chat (上海 rather than 上海市)."""
    city = ((short and ans.city.short) or ans.city.name) if ans.city else "该城市"
    asked = ans.resolution.query if ans.resolution and ans.resolution.query else city
    places = "、".join(getattr(ans, "places", ()) or ())
    if ans.status == "covered":
        if svc.coverage_scope == "nationwide" and "nationwide" in ans.reason:
            return f"手册写明{svc.name}全国范围可用，包括{city}。"
        if ans.via == "own_row":  # a county-level place listed on its own (崇州市)
            count = f"，手册列出{places}有 {ans.hospitals_count} 家服务医院" if ans.hospitals_count else ""
            return f"{places}在{svc.name}的服务范围内（清单单独列出）{count}。"
        count = f"，手册列出{city}有 {ans.hospitals_count} 家服务医院" if ans.hospitals_count else ""
        if ans.via == "prefecture":  # a county-level place covered through its prefecture's row
            return f"{asked}属于{city}，{city}在{svc.name}的服务范围内{count}。"
        return f"{city}在{svc.name}的服务范围内{count}。"
    if ans.status == "partial":
        return f"{city}只有下辖的{places}在{svc.name}的服务清单里，{city}其他地方不在清单内。"
    if ans.status == "not_covered":
        if places:
            return f"{asked}不在{svc.name}的服务清单里，{city}只有下辖的{places}在清单内。"
        return f"{city}不在{svc.name}的服务范围内（依据手册所列城市/医院清单）。"
    if ans.evidence:
        return f"手册清单没有能确认{city}是否在{svc.name}的服务范围内，需由客服人员核实。"
    return f"手册没有给出{svc.name}的城市或医院清单，{city}能否安排需由客服人员核实。"


def ticket_out(t) -> dict:
    """A ticket as customers and operators see it: the contact phone masked, and any mobile or ID number
    typed into a note masked too (core.ids.redact)."""
    from core.ids import redact

    return {
        "number": t.number, "status": t.status, "status_label": t.status_label,
        "service": {"manual_id": t.service.manual_id, "key": t.service.key, "name": t.service.name},
        "insurer": t.insurer, "policy_number": t.policy_number, "person_name": t.person_name,
        "city": {"raw": t.city_raw, "code": t.city_code, "name": t.city_name}, "coverage": t.coverage,
        "hospital": t.hospital, "preferred_time": t.preferred_time, "contact_phone_masked": t.contact_phone_masked,
        "channel": t.channel, "conversation_id": t.conversation_id, "notes": redact(t.notes), "system_notes": redact(t.system_notes),
        "created_at": t.created_at, "updated_at": t.updated_at,
        "events": [{"at": e.at, "actor": e.actor, "from_status": e.from_status, "to_status": e.to_status,
                    "note": redact(e.note)} for e in t.events],
    }


def policy_out(p) -> dict[str, Any]:
    """What a verified customer sees of their policy (masked)."""
    return {"number": p.number, "insurer": p.insurer, "product": p.product, "edition": p.edition, "tier": p.tier,
            "effective_date": p.effective_date, "end_date": p.end_date, "status": p.status,
            "family_policy": p.family_policy, "holder_mobile_masked": p.holder_mobile_masked,
            "persons": [{"name": x.name, "role": x.role, "relation": x.relation} for x in p.persons()]}
