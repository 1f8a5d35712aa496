"""Beijing time: the clock customers, manuals and tickets count in."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

CHINA_TZ = ZoneInfo("Asia/Shanghai")


def now_china() -> datetime:
    return datetime.now(CHINA_TZ)


def today_china() -> date:
    return now_china().date()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def to_aware(value: datetime) -> datetime:
    """Naive datetimes are Beijing time."""
    return value.replace(tzinfo=CHINA_TZ) if value.tzinfo is None else value
