"""Date arithmetic the manuals rely on (pure)."""
from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import Any, Optional


def as_date(value: Any) -> Optional[date]:
    """date / datetime / 'YYYY-MM-DD' -> date; anything else -> None."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            return None
    return None


def add_years(d: date, years: int) -> date:
    """Same day `years` later; a 29 Feb with no match becomes 28 Feb (the month's last day)."""
    y = d.year + years
    last = calendar.monthrange(y, d.month)[1]
    return date(y, d.month, min(d.day, last))


def day_n(start: date, n: int) -> date:
    """Day n of a period whose day 1 is `start` (the start day counts: 含当天)."""
    return start + timedelta(days=n - 1)


def first_day_after(start: date, days: int) -> date:
    """First day after a period of `days` days that starts on (and includes) `start`.

    Manual 000: "本合同生效日起 30 内（含第 30 天）为等待期": effective 1 Mar -> day 30 is
    30 Mar (still waiting), usable from 31 Mar.
    """
    return start + timedelta(days=days)


def policy_year_bounds(effective: date, on: date) -> tuple[date, date, int]:
    """(first day, last day, 1-based index) of the policy year containing `on`.

    Policy years run from the effective date to the day before its anniversary. If `on`
    is before the effective date the first policy year is returned.
    """
    k = max(0, on.year - effective.year)
    while k > 0 and add_years(effective, k) > on:
        k -= 1
    start = add_years(effective, k)
    end = add_years(effective, k + 1) - timedelta(days=1)
    return start, end, k + 1


def calendar_year_bounds(on: date) -> tuple[date, date]:
    return date(on.year, 1, 1), date(on.year, 12, 31)


def age_on(birth: date, on: date) -> int:
    """Age in full years (周岁) on a day."""
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def zh(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"
