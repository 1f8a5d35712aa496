"""Date arithmetic behind the rules: day counting, policy years, ages."""
from datetime import date

import pytest

from rules.dates import add_years, age_on, as_date, day_n, first_day_after, policy_year_bounds


@pytest.mark.parametrize("start, days, last_waiting, first_ok", [
    # manual 000 line 27: 本合同生效日起 30 内（含第 30 天）为等待期
    (date(2026, 3, 1), 30, date(2026, 3, 30), date(2026, 3, 31)),
    (date(2024, 5, 1), 30, date(2024, 5, 30), date(2024, 5, 31)),
    (date(2024, 2, 1), 30, date(2024, 3, 1), date(2024, 3, 2)),   # leap February has 29 days
    (date(2023, 2, 1), 30, date(2023, 3, 2), date(2023, 3, 3)),
    (date(2025, 12, 15), 30, date(2026, 1, 13), date(2026, 1, 14)),  # across the new year
    (date(2026, 1, 1), 90, date(2026, 3, 31), date(2026, 4, 1)),  # manual 002: 90 天等待期
    (date(2024, 1, 1), 90, date(2024, 3, 30), date(2024, 3, 31)),  # leap year: one day earlier
])
def test_waiting_day_counting(start, days, last_waiting, first_ok):
    assert day_n(start, days) == last_waiting
    assert first_day_after(start, days) == first_ok


@pytest.mark.parametrize("effective, on, first, last, index", [
    (date(2025, 3, 1), date(2025, 3, 1), date(2025, 3, 1), date(2026, 2, 28), 1),
    (date(2025, 3, 1), date(2026, 2, 28), date(2025, 3, 1), date(2026, 2, 28), 1),
    (date(2025, 3, 1), date(2026, 3, 1), date(2026, 3, 1), date(2027, 2, 28), 2),
    (date(2025, 3, 1), date(2027, 12, 31), date(2027, 3, 1), date(2028, 2, 29), 3),  # 2028 is leap
    (date(2025, 7, 15), date(2026, 1, 1), date(2025, 7, 15), date(2026, 7, 14), 1),  # not the calendar year
    # 29 Feb effective: the anniversary in common years is 28 Feb (the month's last day)
    (date(2024, 2, 29), date(2025, 2, 27), date(2024, 2, 29), date(2025, 2, 27), 1),
    (date(2024, 2, 29), date(2025, 2, 28), date(2025, 2, 28), date(2026, 2, 27), 2),
    (date(2024, 2, 29), date(2028, 2, 29), date(2028, 2, 29), date(2029, 2, 27), 5),
    (date(2025, 3, 1), date(2025, 1, 1), date(2025, 3, 1), date(2026, 2, 28), 1),  # before effective
])
def test_policy_year_bounds(effective, on, first, last, index):
    assert policy_year_bounds(effective, on) == (first, last, index)


@pytest.mark.parametrize("birth, on, age", [
    (date(2008, 3, 2), date(2026, 3, 1), 17),
    (date(2008, 3, 2), date(2026, 3, 2), 18),
    (date(2008, 2, 29), date(2026, 2, 28), 17),
    (date(2008, 2, 29), date(2026, 3, 1), 18),
])
def test_age_in_full_years(birth, on, age):
    assert age_on(birth, on) == age


def test_add_years_and_parsing():
    assert add_years(date(2024, 2, 29), 1) == date(2025, 2, 28)
    assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)
    assert as_date("2026-03-01") == date(2026, 3, 1)
    assert as_date("not a date") is None and as_date(None) is None and as_date(20260301) is None
