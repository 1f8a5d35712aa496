"""Pure input checks for service tickets (no database access); identifiers are checked in core.ids.

Every check returns normalised values or raises ValidationError carrying one or
more Issue(code, field, message). Codes are stable (the API and the bot map on
them); messages are Chinese and say what to fix.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, Optional

from core.clock import CHINA_TZ, now_china, to_aware
from core.ids import ValidationError, _fail, halfwidth
from core.text import plain

MAX_TEXT = {"notes": 500, "hospital": 100, "person_name": 40, "channel": 32, "conversation_id": 128, "reason": 300}


# -- time --------------------------------------------------------------------


def parse_time(value: Any, field_name: str = "preferred_time") -> datetime:
    """datetime, date (09:00 that day) or ISO-8601 text -> aware datetime."""
    if value is None or (isinstance(value, str) and not value.strip()):
        _fail("time_missing", field_name, "请提供希望的服务时间（日期和大致时间）。")
    if isinstance(value, datetime):
        return to_aware(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, 9, 0, tzinfo=CHINA_TZ)
    if isinstance(value, str) and len(value) <= 64:
        s = halfwidth(value).replace("/", "-")
        try:
            return to_aware(datetime.fromisoformat(s))
        except ValueError:
            pass
    _fail("time_invalid", field_name, "没有看懂服务时间，请按“2025-03-18 09:30”的格式提供。")


def _fmt(dt: datetime) -> str:
    local = dt.astimezone(CHINA_TZ)
    return f"{local.month} 月 {local.day} 日 {local:%H:%M}"


def check_preferred_time(value: Any, *, now: datetime | None = None, lead_time_hours: int | None = None,
                         field_name: str = "preferred_time", max_days_ahead: int = 366) -> datetime:
    """Not in the past, at least `lead_time_hours` ahead (the service's rule), not absurdly far."""
    when = parse_time(value, field_name)
    now = to_aware(now) if now else now_china()
    if when <= now:
        _fail("time_in_past", field_name, "服务时间已经过去了，请提供一个将来的时间。")
    if lead_time_hours and when < now + timedelta(hours=lead_time_hours):
        earliest = now + timedelta(hours=lead_time_hours)
        _fail("time_too_soon", field_name,
              f"该服务需至少提前 {lead_time_hours} 小时申请，请选择 {_fmt(earliest)} 之后的时间。")
    if when > now + timedelta(days=max_days_ahead):
        _fail("time_too_far", field_name, "服务时间太远了，请提供一年以内的时间。")
    return when


# -- city and coverage -------------------------------------------------------
@dataclass
class CityCheck:
    code: Optional[str]
    name: Optional[str]
    raw: str
    coverage: str  # covered | unknown | unchecked (partial, only places inside the city listed, is unknown with a note)
    note: Optional[str] = None
    evidence: list = field(default_factory=list)


CoverageChecker = Callable[[Any, str], Any]  # (service_id, city_text) -> object with .status


def check_city(text: Any, *, service_id: Any = None, coverage: CoverageChecker | None = None,
               resolve: Callable | None = None, service_name: str = "该服务",
               field_name: str = "city") -> CityCheck:
    """Resolve the city to a prefecture and check the service covers it.

    Coverage "unknown" (the manual gives no list) is allowed with a note; a
    checker that fails is treated like unknown.
    """
    if text is None or not str(text).strip():
        _fail("city_missing", field_name, "请告诉我需要服务的城市，例如“苏州”。")
    raw = plain(halfwidth(str(text))).strip()  # stored as typed: no NUL, control characters, lone surrogates
    if len(raw) > 40:
        _fail("city_unknown", field_name, "城市名称太长了，请只提供城市名，例如“苏州”。")
    if resolve is None:
        from knowledge.geo import resolve_city as resolve
    res = resolve(raw)
    if res.status == "ambiguous":
        names = "、".join(f"{c.province}{c.name}" for c in res.candidates[:4])
        _fail("city_ambiguous", field_name, f"“{raw}”可能指{names}，请说明是哪一个城市。")
    if res.status != "ok" or res.city is None:
        _fail("city_unknown", field_name, f"没有识别出城市“{raw}”，请提供地级市名称，例如“苏州”或“杭州”。")
    city = res.city
    if coverage is None or service_id is None:
        return CityCheck(city.code, city.name, raw, "unchecked")
    try:
        from knowledge.geo import is_county_level

        # a county-level place is checked as typed (宜城 has its own row; 襄阳 only partly listed)
        ans = coverage(service_id, raw if is_county_level(raw) else city.name)
        status = getattr(ans, "status", None) or "unknown"
    except Exception:  # a broken checker must not block a booking: staff confirm coverage
        ans, status = None, "unknown"
    evidence = list(getattr(ans, "evidence", None) or [])
    if status == "not_covered":
        _fail("city_not_covered", field_name,
              f"很抱歉，{service_name}目前在{city.name}暂未开通，您可以选择服务覆盖的其他城市。")
    note = None
    places = "、".join(getattr(ans, "places", None) or ()) if status == "partial" else ""
    if status != "covered":
        status = "unknown"
        note = (f"手册清单里{city.name}只有下辖的{places}有{service_name}，受理后由服务人员确认具体地点。" if places
                else f"{city.name}的{service_name}由服务人员受理时确认具体安排。")  # no city list to check
    return CityCheck(city.code, city.name, raw, status, note, evidence)


# -- free text ----------------------------------------------------------------


def clean_text(value: Any, field_name: str, *, required: bool = False, label: str = "") -> Optional[str]:
    """Strip, drop control characters and lone surrogates, enforce the length limit of MAX_TEXT."""
    s = plain(value).strip() if value is not None else ""
    if not s:
        if required:
            _fail(f"{field_name}_missing", field_name, f"请提供{label or field_name}。")
        return None
    limit = MAX_TEXT.get(field_name, 200)
    if len(s) > limit:
        _fail("text_too_long", field_name, f"{label or field_name}太长了，请控制在 {limit} 个字以内。")
    return s


def collect(*checks: Callable[[], Any]) -> list[Any]:
    """Run several checks, gather every issue, raise once."""
    out, issues = [], []
    for fn in checks:
        try:
            out.append(fn())
        except ValidationError as exc:
            issues.extend(exc.issues)
            out.append(None)
    if issues:
        raise ValidationError(issues)
    return out

