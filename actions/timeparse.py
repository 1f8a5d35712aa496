"""Customer time expressions (下周三上午, 3月20号, 后天下午两点) -> an aware Beijing datetime."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Optional

from core.clock import CHINA_TZ, now_china

DEFAULT_HOUR = 9  # a day without a time: 09:00
_HAS_YEAR = re.compile(r"\d{4}\s*[年\-/.]|今年|明年|去年")


def parse_when(text: str, now: datetime | None = None) -> Optional[datetime]:
    """The start of the time the words name; None when they name none. A date without a year that has
    already passed this year means next year."""
    s = (text or "").strip()[:60]
    if not s:
        return None
    now = now or now_china()
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
    elif start.hour < 7 and (end - start) >= timedelta(hours=4):  # blur like 上午 starting 07:00 stays
        start = start.replace(hour=DEFAULT_HOUR)
    when = start.replace(tzinfo=CHINA_TZ)
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
