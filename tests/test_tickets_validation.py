"""Pure input checks: mobiles, ID numbers (GB 11643), policy numbers, times, cities."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.geo import City, Resolution
from core import clock, ids
from tickets import validation as v

NOW = datetime(2025, 3, 18, 10, 0, tzinfo=clock.CHINA_TZ)


def codes(fn, *a, **kw):
    with pytest.raises(ids.ValidationError) as ei:
        fn(*a, **kw)
    return ei.value.codes


@pytest.mark.parametrize("raw,expected", [("13812345678", "13812345678"), ("138 1234 5678", "13812345678"),
                                          ("+86 138-1234-5678", "13812345678"), ("008613812345678", "13812345678"),
                                          ("１３８１２３４５６７８", "13812345678"), ("19912345678", "19912345678")])
def test_mobile_accepts_common_spellings(raw, expected):
    assert ids.normalize_mobile(raw) == expected


@pytest.mark.parametrize("raw,code", [("", "mobile_missing"), (None, "mobile_missing"), ("12812345678", "mobile_invalid"),
                                      ("1381234567", "mobile_invalid"), ("010-12345678", "mobile_invalid"),
                                      ("abc", "mobile_invalid"), ("1" * 10000, "mobile_invalid")])
def test_mobile_rejects(raw, code):
    assert codes(ids.normalize_mobile, raw) == [code]


def test_id_checksum_known_example():
    # the worked example of GB 11643-1999 (11010519491231002X)
    assert ids.id_check_char("11010519491231002") == "X"
    assert ids.normalize_id_number("11010519491231002x") == "11010519491231002X"
    assert codes(ids.normalize_id_number, "110105194912310021") == ["id_number_checksum"]


@pytest.mark.parametrize("raw,code", [("", "id_number_missing"), ("12345", "id_number_invalid"),
                                      ("110105194913310020", "id_number_invalid"),  # month 13
                                      ("110105209912310020", "id_number_invalid"),  # future birth date
                                      ("01010519491231002X", "id_number_invalid"), ("身份证" * 100, "id_number_invalid")])
def test_id_rejects(raw, code):
    assert codes(ids.normalize_id_number, raw) == [code]


@settings(max_examples=60, deadline=None)
@given(st.dates(min_value=date(1920, 1, 1), max_value=date(2020, 12, 31)), st.integers(0, 999),
       st.integers(0, 8))  # positions 8-16: the digits after the birth year (17 is the check character, maybe X)
def test_id_any_valid_number_roundtrips_and_any_single_digit_change_fails(born, seq, pos):
    first17 = f"320505{born:%Y%m%d}{seq:03d}"
    good = first17 + ids.id_check_char(first17)
    assert ids.normalize_id_number(good) == good
    i = 8 + pos  # change one digit inside the date/sequence part
    bad = good[:i] + str((int(good[i]) + 1) % 10) + good[i + 1:]
    assert not ids.is_id_number(bad)


@pytest.mark.parametrize("raw,ok", [("PAH2025000101", "PAH2025000101"), (" pah 2025 000101 ", "PAH2025000101"),
                                    ("ＰＡＨ２０２５０００１０１", "PAH2025000101")])
def test_policy_number_normalised(raw, ok):
    assert ids.normalize_policy_number(raw) == ok


@pytest.mark.parametrize("raw", ["12", "'; drop table pol_policies;--", "保单号", "A" * 33, "\x00\x01abcdef"])
def test_policy_number_garbage(raw):
    assert codes(ids.normalize_policy_number, raw) == ["policy_number_invalid"]


def test_time_rules():
    assert v.check_preferred_time("2025-03-21 09:30", now=NOW, lead_time_hours=48).hour == 9
    assert codes(v.check_preferred_time, "2025-03-17 09:00", now=NOW) == ["time_in_past"]
    assert codes(v.check_preferred_time, NOW + timedelta(hours=47), now=NOW, lead_time_hours=48) == ["time_too_soon"]
    # exactly the lead time is enough
    assert v.check_preferred_time(NOW + timedelta(hours=48), now=NOW, lead_time_hours=48)
    assert codes(v.check_preferred_time, "下周三", now=NOW) == ["time_invalid"]
    assert codes(v.check_preferred_time, "", now=NOW) == ["time_missing"]
    assert codes(v.check_preferred_time, "2027-01-01 09:00", now=NOW) == ["time_too_far"]
    msg = str(pytest.raises(ids.ValidationError, v.check_preferred_time, NOW + timedelta(hours=2), now=NOW,
                            lead_time_hours=48).value)
    assert "48 小时" in msg and "3 月 20 日 10:00" in msg


def test_naive_times_are_beijing_time():
    when = v.check_preferred_time(datetime(2025, 3, 21, 9, 30), now=NOW)
    assert when.utcoffset() == timedelta(hours=8)


SUZHOU = City("320500", "苏州市", "苏州", "江苏省")


def _resolver(text):
    if text in ("苏州", "苏州市"):
        return Resolution("ok", text, SUZHOU, [SUZHOU], "exact")
    if text == "朝阳":
        a, b = City("110105", "朝阳区", "朝阳", "北京市"), City("211300", "朝阳市", "朝阳", "辽宁省")
        return Resolution("ambiguous", text, None, [a, b], "short")
    return Resolution("unknown", text)


def test_city_coverage_outcomes():
    def cov(status):
        return lambda sid, city: SimpleNamespace(status=status, evidence=[])

    ok = v.check_city("苏州", service_id=1, coverage=cov("covered"), resolve=_resolver)
    assert (ok.code, ok.name, ok.coverage, ok.note) == ("320500", "苏州市", "covered", None)
    unknown = v.check_city("苏州", service_id=1, coverage=cov("unknown"), resolve=_resolver, service_name="就医陪诊")
    assert unknown.coverage == "unknown" and "就医陪诊" in unknown.note
    assert codes(v.check_city, "苏州", service_id=1, coverage=cov("not_covered"), resolve=_resolver) == \
        ["city_not_covered"]
    assert codes(v.check_city, "朝阳", service_id=1, coverage=cov("covered"), resolve=_resolver) == ["city_ambiguous"]
    assert codes(v.check_city, "火星", resolve=_resolver) == ["city_unknown"]
    assert codes(v.check_city, "  ", resolve=_resolver) == ["city_missing"]

    def broken(sid, city):
        raise RuntimeError("store down")

    assert v.check_city("苏州", service_id=1, coverage=broken, resolve=_resolver).coverage == "unknown"


def test_city_coverage_by_the_place_typed(kb_only):
    """众安 院外特药 lists only 宜城市 for 襄阳 (001 line 753): the county typed is checked on its own row."""
    from knowledge.query import KnowledgeBase
    kb = KnowledgeBase(kb_only("001"))
    (sv,) = [x for x in kb.services() if x.name.startswith("恶性肿瘤及罕见病院外特定药品直付")]
    assert v.check_city("宜城", service_id=sv.id, coverage=kb.coverage).coverage == "covered"
    assert codes(v.check_city, "枣阳", service_id=sv.id, coverage=kb.coverage) == ["city_not_covered"]
    part = v.check_city("襄阳", service_id=sv.id, coverage=kb.coverage, service_name="院外特药")
    assert part.coverage == "unknown" and "襄阳市只有下辖的宜城市有院外特药" in part.note


def test_city_with_real_geo():
    assert v.check_city("苏州").code == "320500"
    assert codes(v.check_city, "不存在的地方xyz") == ["city_unknown"]


def test_collect_reports_every_problem_at_once():
    with pytest.raises(ids.ValidationError) as ei:
        v.collect(lambda: ids.normalize_mobile("123"), lambda: ids.normalize_id_number("1"),
                  lambda: ids.normalize_policy_number("PAH2025000101"))
    assert ei.value.codes == ["mobile_invalid", "id_number_invalid"]
    assert "手机号" in ei.value.message and "身份证" in ei.value.message


def test_text_limits():
    assert v.clean_text("  备注\x00内容 ", "notes") == "备注内容"
    assert codes(v.clean_text, "长" * 501, "notes", label="备注") == ["text_too_long"]
    assert codes(v.clean_text, "", "person_name", required=True, label="姓名") == ["person_name_missing"]
