"""Customer time expressions (下周三上午, 3月20号, 后天下午两点) -> an aware Beijing datetime."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Optional

from core.clock import CHINA_TZ, now_china

DEFAULT_HOUR = 9  # a day without a time: 09:00
# a part of the day without a clock time (上午, 下午, 晚上): the hour people mean by it
PART_OF_DAY_HOUR = ((re.compile(r"晚上|夜里|傍晚"), 19), (re.compile(r"下午|午后"), 14), (re.compile(r"中午"), 12),
                    (re.compile(r"上午|早上|早晨|清早|白天"), 9))
_HAS_YEAR = re.compile(r"\d{4}\s*[年\-/.]|今年|明年|去年")
_WEEKDAY = re.compile(r"(?<![上下本这])(周|星期|礼拜)[一二三四五六日天1-7]")
_CLOCK = re.compile(r"\d\s*[点:：时]|[一二三四五六七八九十两]\s*[点时]")
# 三周后的周一: jionlp reads 下下下周一, not 'N weeks later' before a weekday
_WEEKS_AHEAD = re.compile(r"(\d|[一两二三四五六七八])\s*个?(?:周|星期|礼拜)(?:以|之)?后(?:的那个|的|那个|那)?\s*(?=(?:周|星期|礼拜)[一二三四五六日天1-7])")
_BOUNDS = re.compile(r"^(?:从|自)|(?:开始|起|左右|前后)$")  # words around a time that name no other time
_ZH_COUNT = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8}


def weeks_ahead(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The text with 'N周后的周X' said as jionlp reads it (下…下周X), and each (new, old) wording."""
    subs: list[tuple[str, str]] = []

    def put(m: re.Match) -> str:
        n = int(m.group(1)) if m.group(1).isdigit() else _ZH_COUNT[m.group(1)]
        new = "下" * max(n, 1)
        subs.append((new, m.group(0)))
        return new

    return _WEEKS_AHEAD.sub(put, text or ""), subs


def parse_when(text: str, now: datetime | None = None) -> Optional[datetime]:
    """The start of the time the words name; None when they name none. A date without a year that has
    already passed this year means next year."""
    s = weeks_ahead(_BOUNDS.sub("", (text or "").strip()[:60]))[0]  # 10天后早上8点开始: jionlp reads no 开始
    if not s:
        return None
    now = now or now_china()
    try:  # a value the form stored or offered (2026-12-09T10:00+08:00)
        iso = datetime.fromisoformat(s)
        return iso.replace(tzinfo=CHINA_TZ) if iso.tzinfo is None else iso.astimezone(CHINA_TZ)
    except ValueError:
        pass
    try:
        import jionlp as jio

        # Beijing wall-clock fields: a timestamp would be read in the server's local zone (UTC on our
        # machines), so between 16:00 and 24:00 UTC 明天 named the Beijing today
        res = jio.parse_time(s, time_base=now.astimezone(CHINA_TZ).replace(tzinfo=None))
    except Exception:
        return None
    if not res or res.get("type") not in ("time_point", "time_span"):
        return None
    try:
        start = datetime.strptime(res["time"][0], "%Y-%m-%d %H:%M:%S")
        end = datetime.strptime(res["time"][1], "%Y-%m-%d %H:%M:%S")
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    if (end - start) >= timedelta(hours=23) and start.hour == 0:  # a whole day
        start = start.replace(hour=DEFAULT_HOUR)
    elif (end - start) >= timedelta(hours=3) and not _CLOCK.search(s):  # 上午 is 07:00-11:59 to jionlp
        hour = next((h for rx, h in PART_OF_DAY_HOUR if rx.search(s)), None)
        if hour is not None and start.hour <= hour <= end.hour:
            start = start.replace(hour=hour, minute=0)
    when = start.replace(tzinfo=CHINA_TZ)
    if when < now and _WEEKDAY.search(s) and when > now - timedelta(days=7):  # 周五 said on a Sunday: the coming one
        when += timedelta(days=7)
    if when < now and not _HAS_YEAR.search(s) and when > now - timedelta(days=330) and re.search(r"月|号|日", s):
        try:
            when = when.replace(year=when.year + 1)
        except ValueError:
            pass
    return when


def zh_time(dt: datetime) -> str:
    local = dt.astimezone(CHINA_TZ)
    week = "一二三四五六日"[local.weekday()]
    return f"{local.month} 月 {local.day} 日（周{week}）{local:%H:%M}"
