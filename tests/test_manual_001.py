"""众安 尊享e生·中高端医疗保险PLUS 服务手册 (001, layout zhongan_highend).

Expected values were read off the manual by hand; list sizes were counted with shell
tools independently of the parser (commands in the comments).
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.config import MANUALS_DIR
from knowledge import models as m
from knowledge.ingest.text import ManualText

MID = "001_01c07bc6b9f80855"


@pytest.fixture(scope="module")
def s(kb_only):
    with Session(kb_only("001")) as session:
        yield session


def svc(s, name) -> m.Service:
    x = s.scalar(select(m.Service).where(m.Service.manual_id == MID, m.Service.name == name))
    assert x is not None, name
    return x


def facts(x, attribute):
    return [f for f in x.facts if f.attribute == attribute]


def city_list(x: m.Service) -> m.CoverageList:
    (cl,) = [c.list for c in x.coverage if c.list.kind == "city"]
    return cl


def test_services(s):
    # 3 sections under 我们的服务 (直付 / 垫付 / 预授权) + 18 numbered 增值服务 (grep -nE '^ ?[0-9]+\. ' after line 228),
    # of which 17. 住院垫付服务 and 18. 直付医疗服务 repeat the first two -> 19 services
    names = s.scalars(select(m.Service.name).where(m.Service.manual_id == MID)).all()
    assert len(names) == 19
    for n in ("直付医疗服务", "垫付医疗服务", "预授权申请", "健康档案建立", "门诊陪诊服务", "重疾绿通服务",
              "重疾多学科会诊MDT服务", "重疾全球第二诊疗意见", "国际进口特药服务", "质子重离子服务", "院内陪护服务",
              "海外就诊服务", "术后上门护理服务", "线上康复", "院后随访"):
        assert n in names


def test_repeated_service_stored_once_with_both_readings(s):
    adv = svc(s, "垫付医疗服务")
    assert "住院垫付服务" in adv.aliases and adv.category == "advance_payment"
    assert s.scalar(select(func.count()).select_from(m.Service).where(
        m.Service.manual_id == MID, m.Service.name == "住院垫付服务")) == 0
    # response time: 48 小时 (lines 146-147 and 1959) vs 5 个工作日内反馈审核意见 (lines 1971-1972): both kept
    resp = facts(adv, "response_time")
    assert any("48个小时内反馈" in f.value and f.line_start == 1959 for f in resp)
    assert any("48个小" in f.value and f.line_start <= 146 <= f.line_end for f in resp)
    assert any("5个工作日内反馈具体审核意见" in f.value for f in resp)
    direct = svc(s, "直付医疗服务")
    assert direct.category == "direct_billing" and direct.lead_time_hours == 24  # 就诊前提前1个工作日 (line 118)
    assert any(f.line_start == 1999 for f in facts(direct, "response_time"))


def test_aliases_and_categories(s):
    assert "重疾全球二诊" in svc(s, "重疾全球第二诊疗意见").aliases
    assert svc(s, "重疾全球第二诊疗意见").category == "second_opinion"
    assert "重疾绿通" in svc(s, "重疾绿通服务").aliases
    assert svc(s, "重疾绿通服务").category == "green_channel"
    assert svc(s, "重疾多学科会诊MDT服务").category == "mdt"
    assert svc(s, "术后上门护理服务").category == "home_nursing"
    assert svc(s, "院内陪护服务").category == "inpatient_care"
    assert svc(s, "海外就诊服务").category == "overseas"
    assert "院外特药直付服务" in svc(s, "恶性肿瘤及罕见病院外特定药品直付(包含CAR-T)服务").aliases


def test_limits_waiting_beneficiary(s):
    esc = svc(s, "门诊陪诊服务")
    assert (esc.usage_limit, esc.usage_period) == (3, "policy_year")
    assert esc.addon_required == "门急诊医疗补充加油包"
    assert esc.waiting_kind == "same_as_policy" and esc.waiting_waivers == ["renewal"]  # line 320
    assert esc.beneficiary == "insured"
    nurse = svc(s, "术后上门护理服务")
    assert nurse.usage_limit == 10 and nurse.lead_time_hours == 48  # 提前2个工作日递交医疗资料 (line 1493)
    assert any(f.data == {"days": 7} for f in facts(nurse, "booking_window"))
    gc = svc(s, "重疾绿通服务")
    assert gc.usage_limit is None and gc.usage_period == "unlimited"
    assert gc.diagnosis_kind == "confirmed" and gc.diagnosis_hospital == "保险合同约定的医院"
    assert gc.usage_rule.get("no_cancel") is True  # 申请成功后不允许改期、取消 (line 402)
    assert svc(s, "重疾多学科会诊MDT服务").usage_rule == {"cancel_notice_workdays": 1, "no_show_counts": True}
    assert svc(s, "预授权申请").lead_time_hours == 48


def test_green_channel_cities(s):
    # sed -n 405,566p | tr -s ' ' '\n' -> 376 tokens; 22 lone tails of wrapped 自治州 names join their heads (354);
    # 26 province-only headers dropped; 北京/上海/天津/重庆/吉林 written twice -> 323
    cl = city_list(svc(s, "重疾绿通服务"))
    assert len(cl.cities) == 323
    raw = {c.raw_name for c in cl.cities}
    assert {"巴音郭楞蒙古自治州", "湘西土家族苗族自治州", "延边朝鲜族自治州", "甘孜藏族自治州", "安庆", "奎屯", "北京"} <= raw
    assert not raw & {"安徽", "湖南", "新疆", "古自治州", "自治州"}
    names = {c.city_name for c in cl.cities}
    assert {"安庆市", "拉萨市", "吉林市", "北京市"} <= names
    assert "三沙市" not in names and "海东市" not in names  # 海南/青海 groups list neither


def test_drug_direct_pay_cities_and_same_as_above(s):
    # sed -n 729,1009p | grep -v 省/直辖市 | tr -s ' ' '\n' | grep -v '^—$' -> 238 tokens; 26 province headers
    # (25 ending in 省 + 内蒙古); 北京/上海/天津/重庆 twice -> 208, the "覆盖全国 208个城市" of line 665
    drug = svc(s, "恶性肿瘤及罕见病院外特定药品直付(包含CAR-T)服务")
    cl = city_list(drug)
    assert len(cl.cities) == 208
    raw = {c.raw_name for c in cl.cities}
    assert {"沈阳市", "克拉玛依市", "漳平市", "中卫市", "天津"} <= raw and "新疆省" not in raw and "—" not in raw
    gene = svc(s, "恶性肿瘤及罕见病特定药品基因检测服务")  # "城市列表：同上" (line 1074)
    assert city_list(gene).id == cl.id


def test_province_regions_and_hospitals(s):
    care = svc(s, "院内陪护服务")
    cl = city_list(care)
    # lines 1245-1249: 7 + 7 + 6 province names
    assert len(cl.cities) == 20 and all(c.note == "province" for c in cl.cities)
    assert {c.province for c in cl.cities} >= {"广西壮族自治区", "北京市", "四川省"}
    assert "贵州省" not in {c.province for c in cl.cities}
    drug = svc(s, "国际进口特药服务")
    (hl,) = [c.list for c in drug.coverage if c.list.kind == "hospital"]
    assert len(hl.hospitals) == 13  # 序号 1-13, lines 1141-1165
    assert "博鳌超级医院" in {h.raw_name for h in hl.hospitals}
    mdt = svc(s, "重疾多学科会诊MDT服务")
    assert mdt.coverage_scope == "unspecified"
    assert any("北上广" in f.value for f in facts(mdt, "coverage"))


def test_contacts(s):
    c = {(x.kind, x.value) for x in s.scalars(select(m.Contact).where(m.Contact.manual_id == MID))}
    assert ("phone", "021-38139960") in c
    assert ("hours", "周一至周日8:00—22:00") in c and ("hours", "周一至周日8:30—20:30") in c
    assert ("wechat", "众安健康微信公众号") in c and ("wechat", "众安健康微信小程序") in c


def test_passages(s):
    text = ManualText.load(MANUALS_DIR / f"{MID}.txt")
    ps = s.scalars(select(m.Passage).where(m.Passage.manual_id == MID)).all()
    assert len(ps) > 100
    assert all(p.line_start <= p.line_end and p.text.strip() == text.span(p.line_start, p.line_end).strip() for p in ps)
    for x in s.scalars(select(m.Service).where(m.Service.manual_id == MID)):
        assert s.scalar(select(func.count()).select_from(m.Passage).where(m.Passage.service_id == x.id)) >= 1, x.name
    fs = s.scalars(select(m.ServiceFact).where(m.ServiceFact.manual_id == MID)).all()
    assert all(1 <= f.line_start <= f.line_end <= len(text) and f.value for f in fs)


@pytest.fixture(scope="module")
def kb(kb_only):
    from knowledge.query import KnowledgeBase
    return KnowledgeBase(kb_only("001"))


def test_special_drug_county_rows_are_partial(kb):
    """院外特药 lists county-level cities only for these prefectures (grep -n 宜城 -> line 753 …):
    the prefecture is `partial`, naming the listed place; the county itself is covered on its row."""
    (sv,) = [x for x in kb.services() if x.name.startswith("恶性肿瘤及罕见病院外特定药品直付")]
    for pref, county, line in (("襄阳", "宜城市", 753), ("恩施", "利川市", 751), ("汕尾", "陆丰市", 896),
                               ("伊犁", "奎屯市", 851)):
        ans = kb.coverage(sv.id, pref)
        assert (ans.status, ans.places) == ("partial", (county,)), pref
        assert [e.line_start for e in ans.evidence] == [line], pref
        own = kb.coverage(sv.id, county[:-1])
        assert (own.status, own.places, own.via) == ("covered", (county,), "own_row"), county
    # another county of 襄阳 is not listed: not covered, and the answer names what is
    other = kb.coverage(sv.id, "枣阳")
    assert (other.status, other.places) == ("not_covered", ("宜城市",))
    # a prefecture listed on its own row stays covered
    assert kb.coverage(sv.id, "武汉").status == "covered"
