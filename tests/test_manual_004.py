"""太保蓝本健康管理服务手册 (manual 004, layout cpic_life_lanben).

Expected values were read from knowledge/manuals/004_d9a511e6ff112b92.txt by hand;
line numbers in comments refer to that file.
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from core.db import Base
from knowledge import models as m
from knowledge.ingest import readers
from knowledge.ingest.adapters import cpic_life_lanben as ad
from knowledge.ingest.builder import Builder
from knowledge.ingest.text import ManualText, squash

MANUAL = Path(__file__).resolve().parents[1] / "knowledge/manuals/004_d9a511e6ff112b92.txt"
LINES = MANUAL.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def s(kb_only):
    t = time.perf_counter()
    engine = kb_only("004")
    assert time.perf_counter() - t < 5  # build of this manual (cached for later tests)
    with Session(engine) as session:
        yield session


def svc(s, name):
    r = s.scalar(select(m.Service).where(m.Service.name == name))
    assert r is not None, name
    return r


def edition(s, name):
    r = s.scalar(select(m.Edition).where(m.Edition.name == name))
    assert r is not None, name
    return r


def ent(s, service, tier_name=None, edition_name=None):
    q = select(m.Entitlement).where(m.Entitlement.service_id == svc(s, service).id)
    if tier_name:
        q = q.where(m.Entitlement.tier_id == edition(s, tier_name).id)
    if edition_name:
        q = q.where(m.Entitlement.edition_id == edition(s, edition_name).id)
    rows = s.scalars(q).all()
    assert len(rows) == 1, (service, tier_name, edition_name, len(rows))
    return rows[0]


# -- services ---------------------------------------------------------------------
def front_list():
    """The bullet list at lines 11-46 (a blank page-break line inside), counted with a plain regex."""
    end = next(i for i, s in enumerate(LINES) if s.startswith("本服务手册旨在帮助"))
    return [s[2:].strip() for s in LINES[:end] if s.startswith("- ")]


def test_front_list_is_35_items():
    assert len(front_list()) == 35


def test_service_count_and_names(s):
    names = set(s.scalars(select(m.Service.name)))
    # 35 listed services; "视频医生" is described as three variants (专业版/优享版/尊享版, lines 273/413/417)
    assert len(names) == 37
    for n in ["健康咨询", "视频医生专业版", "视频医生优享版", "视频医生尊享版", "三甲医生视频问诊", "重疾三甲专家门诊预约",
              "重疾专家病房", "二次诊疗", "重疾二次诊疗", "多学科会诊", "海外就医协助", "120 急救补贴", "线上购药",
              "无忧管家全程服务", "特种检查预约加急", "专业医护上门安排"]:
        assert n in names


def test_every_listed_service_is_a_name_or_alias(s):
    known = set()
    for sv in s.scalars(select(m.Service)):
        known |= {squash(sv.name), *(squash(a) for a in sv.aliases)}
    missing = [n for n in front_list() if squash(n) not in known]
    assert missing == []


def test_aliases(s):
    two = svc(s, "二次诊疗")
    assert {"二诊", "二诊服务", "第二医疗意见"} <= set(two.aliases)  # list line 30, text line 388 "二次诊疗即第二医疗意见服务"
    assert "重疾二诊服务" in svc(s, "重疾二次诊疗").aliases  # list line 31
    assert "重疾二诊服务" not in svc(s, "重疾三甲专家二次诊疗").aliases
    for v in ["视频医生专业版", "视频医生优享版", "视频医生尊享版"]:
        assert "视频医生" in svc(s, v).aliases
    assert "视频医生" not in svc(s, "三甲医生视频问诊").aliases
    assert any("内镜穿刺类" in a for a in svc(s, "特种检查预约加急").aliases)


def test_categories(s):
    assert svc(s, "重疾多学科会诊").category == "mdt"
    assert svc(s, "重疾二次诊疗").category == "second_opinion"
    assert svc(s, "全程专业医学陪诊").category == "escort"
    assert svc(s, "专业医护上门安排").category == "home_nursing"
    assert svc(s, "重疾海外就医协助").category == "overseas"
    assert svc(s, "重疾三甲专家门诊预约").category == "outpatient_booking"


def test_diagnosis_and_response_times(s):
    a = svc(s, "重疾三甲专家预约")  # line 281
    assert a.diagnosis_kind == "suspected_or_confirmed"
    assert a.diagnosis_hospital == "二级及以上公立医院"
    assert a.response_time == "通常 7 个工作日内安排就诊"
    assert svc(s, "重疾专家预约").diagnosis_kind == "suspected"  # line 485 "如客户疑似罹患重疾"
    assert svc(s, "三甲专家预约").diagnosis_kind is None
    assert "2-5 个工作日" in svc(s, "特种检查预约加急").response_time  # line 469
    assert "2 个工作日" in svc(s, "异地就医协助安排").response_time  # line 473
    assert "10 个工作日" in svc(s, "重疾三甲病房手术安排").response_time  # line 465
    assert svc(s, "重疾陪诊服务").response_time is None  # no time given (line 315)
    # 海外就医协助 states its response time twice (lines 392 and 399): both kept
    facts = [f for f in svc(s, "海外就医协助").facts if f.attribute == "response_time"]
    assert sorted(f.line_start for f in facts) == [392, 399]


def test_fees_documents_coverage(s):
    e = svc(s, "120 急救补贴")
    assert "200 元" in e.fees
    assert [f.data["max_per_claim_cny"] for f in e.facts if f.attribute == "fees"] == [200]
    assert svc(s, "重疾专家病房").documents == "住院单"  # line 489
    cov = [f for f in svc(s, "重疾专家预约").facts if f.attribute == "coverage"]
    assert cov[0].data["cities"] == 357 and cov[0].data["hospitals"] == 2800
    cov = [f for f in svc(s, "陪诊服务").facts if f.attribute == "coverage"]
    assert cov[0].data["cities"] == 75 and cov[0].data["hospitals"] == 1500
    # the manual gives counts but no city or hospital list, and no 全国-without-list clause
    assert s.scalar(select(func.count()).select_from(m.CoverageList)) == 0
    assert {sv.coverage_scope for sv in s.scalars(select(m.Service))} == {"unspecified"}


def test_how_to_apply(s):
    a = svc(s, "重疾三甲专家病房")
    assert "95500" in a.how_to_apply and "会员福利" in a.how_to_apply  # line 263
    lines = sorted(f.line_start for f in a.facts if f.attribute == "how_to_apply")
    assert lines == [263, 265]  # 265: the 重疾绿通类 note
    assert [f.line_start for f in svc(s, "健康咨询").facts if f.attribute == "how_to_apply"] == [263]


# -- editions and validity rules ---------------------------------------------------
def test_editions(s):
    eds = {e.name: e for e in s.scalars(select(m.Edition))}
    versions = {n for n, e in eds.items() if e.kind == "version"}
    assert versions == {"太保蓝本（2023版）", "太保蓝本（2022版）", "太保蓝本（2021庆典版）", "太保蓝本（2020版）",
                        "太保蓝本（2019版）", "太保蓝本普惠版（2023版）"}
    assert eds["太保蓝本无忧管家（2023版）"].kind == "plan"
    # tiers: 2023 4, 2022 5, 2021 4, 2020 4, 2019 2, 无忧管家 2 + 2 (后续保单交费年度)
    assert sum(e.kind == "tier" for e in eds.values()) == 23


def test_validity_rules(s):
    r = edition(s, "太保蓝本（2019版）").rule  # line 66
    assert r == {"start": {"kind": "day_n_after_condition", "day": 19},
                 "end": {"kind": "years", "years": 3, "upgraded_years": 5}}
    assert edition(s, "太保蓝本（2020版）").rule == r
    assert edition(s, "太保蓝本普惠版（2023版）").rule == {"start": {"kind": "join_next_day"},
                                                     "end": {"kind": "calendar_year_end"}}  # line 70
    care = edition(s, "太保蓝本（2022版） 关爱版").rule  # lines 62, 126
    assert care["end"] == {"kind": "one_year"} and care["start"] == {"kind": "after_cooling_off", "days": 15}
    pro = edition(s, "太保蓝本（2022版） 专业版").rule  # line 60
    assert pro["end"] == {"kind": "payment_term"} and pro["start"]["kind"] == "after_cooling_off"
    assert edition(s, "太保蓝本（2022版）").rule == {}  # 关爱版 and 专业版 differ: no version-wide rule
    assert edition(s, "太保蓝本（2023版）").rule["end"] == {"kind": "payment_term"}


def test_family_rules_from_wrapped_rows(s):
    # lines 99-102: the 直系亲属 parts are on continuation rows
    t2 = edition(s, "太保蓝本（2023版） 尊享版2档").rule["family"]
    assert t2["end"] == {"kind": "years", "years": 3}
    assert t2["max_members"] == 3 and t2["usage_limit"] == 1 and t2["usage_period"] == "policy_year"
    assert t2["excluded_services"] == ["重疾三甲专家病房", "重疾三甲专家手术"]  # 注 1, line 104
    t3 = edition(s, "太保蓝本（2021庆典版） 尊享版3档").rule["family"]  # line 151 "直系亲属所有服务 不限次"
    assert t3["max_members"] == 5 and t3["usage_period"] == "unlimited" and "excluded_services" not in t3
    f20 = edition(s, "太保蓝本（2020版） 三档权益").rule["family"]  # lines 170-172
    assert f20["max_members"] == 3 and f20["unlimited_services"] == ["线上购药"] and "end" not in f20
    assert "family" not in edition(s, "太保蓝本（2023版） 尊享版1档").rule
    assert "family" not in edition(s, "太保蓝本（2020版） 二档权益").rule


def test_wuyou_phases(s):
    first = edition(s, "太保蓝本无忧管家（2023版）（前5个保单年度） 无忧管家尊享版").rule  # note line 209
    assert first == {"start": {"kind": "effective"}, "end": {"kind": "years", "years": 5}}
    later = [e for e in s.scalars(select(m.Edition)) if "后续保单交费年度" in e.name]
    assert len(later) == 2 and all(e.rule == {"end": {"kind": "payment_term"}} for e in later)  # line 222


def test_validity_stated_twice_kept_as_two_facts(s):
    facts = [f for f in svc(s, "重疾专家手术").facts if f.attribute == "validity"]
    by_line = {f.line_start: f.value for f in facts}
    assert set(by_line) == {70, 259}
    assert "成功加入次日" in by_line[70] and "服务获得起次日" in by_line[259]
    assert facts[0].data["rule"] == facts[1].data["rule"]


# -- entitlements -----------------------------------------------------------------
def test_entitlement_count(s):
    # service rows x tier columns, counted by hand in the tables:
    # 2023 10x4 (lines 88-98), 2022 10x5 (115-125), 2021 10x4 (138-147), 2020 12x4 (157-169),
    # 2019 9x2 (178-186), 无忧管家 11x2 (192-203), 后续 9x2 (213-221), 普惠版 4x1 (228-231)
    assert s.scalar(select(func.count()).select_from(m.Entitlement)) == 40 + 50 + 40 + 48 + 18 + 22 + 18 + 4


def test_entitlement_cells(s):
    e = ent(s, "重疾三甲专家病房", "太保蓝本（2023版） 尊享版3档")  # line 91, merged 尊享版 cell
    assert (e.included, e.usage_limit, e.usage_period) == (True, 5, "policy_year") and "仅限被保险人" in e.text
    e = ent(s, "重疾三甲专家预约", "太保蓝本（2023版） 专业版")
    assert (e.usage_limit, e.usage_period) == (1, "policy_year")
    assert not ent(s, "重疾陪诊服务", "太保蓝本（2022版） 关爱版").included  # line 121 "-"
    e = ent(s, "120 急救补贴", "太保蓝本（2022版） 关爱版")  # line 125 "1次"
    assert (e.included, e.usage_limit, e.usage_period) == (True, 1, "contract")
    assert not ent(s, "多学科会诊", "太保蓝本（2020版） 一档权益").included  # line 164 "无"
    assert ent(s, "视频医生尊享版", "太保蓝本（2020版） 四档权益").usage_period == "unlimited"  # line 169
    assert not ent(s, "视频医生优享版", "太保蓝本（2020版） 四档权益").included
    assert ent(s, "健康咨询", "太保蓝本（2019版） 一档权益").usage_limit == 5  # line 178
    assert ent(s, "三甲专家病房", "太保蓝本（2021庆典版） 尊享版2档").usage_period == "unlimited"  # line 141
    e = ent(s, "重疾专家病房", edition_name="太保蓝本普惠版（2023版）")  # line 229
    assert (e.tier_id, e.usage_limit, e.usage_period) == (None, 1, "contract")


def test_rows_split_or_missing_cells(s):
    # line 199 lost its first cell at a page break; still mapped to the right columns
    e = ent(s, "重疾三甲病房手术安排", "太保蓝本无忧管家（2023版）（前5个保单年度） 无忧管家尊享版")
    assert e.text == "1次/年 (可指定著名专家)"
    assert not ent(s, "特种检查预约加急", "太保蓝本无忧管家（2023版）（前5个保单年度） 无忧管家专业版").included
    # lines 166-167: "线上购药 / （2020 新达标客户）优惠券" is one row over two lines
    e = ent(s, "线上购药", "太保蓝本（2020版） 一档权益")
    assert "优惠券" in e.text and (e.line_start, e.line_end) == (166, 167)
    # line 87 is the 达标条件 row printed under 健康咨询: not an entitlement
    assert ent(s, "健康咨询", "太保蓝本（2023版） 专业版").text == "不限次/年"
    assert "仅重疾类险种" in edition(s, "太保蓝本（2023版） 专业版").validity


def test_beneficiary(s):
    assert svc(s, "重疾三甲专家病房").beneficiary == "insured"  # 注 1 + "仅限被保险人使用"
    a = svc(s, "重疾陪诊服务")
    assert a.beneficiary == "insured_and_family"
    assert a.family_rule["window_years"] == 3 and a.family_rule["shared_with"] == "immediate_relatives"
    assert a.family_rule["max_members"] == 5
    assert svc(s, "三甲专家病房").beneficiary == "insured_and_family"  # 2021 has no exclusion note
    assert svc(s, "三甲医生视频问诊").beneficiary is None  # 无忧管家 table states no 服务对象
    shared = [f.data["family_shared"] for f in svc(s, "重疾三甲专家手术").facts
              if f.attribute == "beneficiary" and f.data and "family_shared" in f.data]
    assert shared and not any(shared)


# -- contacts, passages -------------------------------------------------------------
def test_contacts(s):
    cs = s.scalars(select(m.Contact)).all()
    assert {("phone", "95500"), ("wechat", "太平洋寿险"), ("wechat", "会员福利-太保蓝本")} <= {(c.kind, c.value) for c in cs}
    hours = [c for c in cs if c.kind == "hours"]
    assert len(hours) == 1 and hours[0].value == "工作日 9:00-18:00" and hours[0].service_id == svc(s, "线上购药").id


def test_passages(s):
    ps = s.scalars(select(m.Passage)).all()
    assert all(p.line_start <= p.line_end and p.text.strip() for p in ps)
    with_passage = {p.service_id for p in ps}
    assert all(sv.id in with_passage for sv in s.scalars(select(m.Service)))
    # the 服务期限 block is printed twice (lines 58-72 and 247-259): stored once
    assert sum("太保蓝本普惠版" in p.text and "服务有效期" in p.text for p in ps) == 1
    a = svc(s, "重疾多学科会诊")
    assert "治疗方案" in a.description  # "治疗方" / "案。" joined across the page break (lines 352-354)


# -- robustness ---------------------------------------------------------------------
def _run(text: str) -> Builder:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine, tables=[t for n, t in Base.metadata.tables.items() if n.startswith("kb_")])
    session = Session(engine)
    ins = m.Insurer(name="x", short_name="x", aliases=[])
    session.add(ins)
    session.flush()
    man = m.Manual(id="t", filename="t.txt", title="t", insurer_id=ins.id, product_line="太保蓝本",
                   layout="cpic_life_lanben", sha256="", line_count=0)
    session.add(man)
    session.flush()
    b = Builder(session, man, ManualText("t", text.splitlines()))
    ad.ingest(b)
    return b


@pytest.mark.parametrize("text", ["", "\n\n", "随便写点\t\t东西\n- 健康咨询\n", "第一章 服务内容\n一、服务内容：\n\t\t\n",
                                  "第一章 x\n一、服务内容\n太保蓝本（2023 版）服务说明：\n服务项目\t专业版\n\t\n\t1次\n"])
def test_garbage_does_not_crash(text):
    b = _run(text)
    assert b.warnings


def test_cell_parsers():  # the adapter reads its cells with knowledge.ingest.readers
    assert readers.entitlement_cell("") == (False, None, None)
    assert readers.entitlement_cell("不限次仅 首年可用") == (True, None, "unlimited")
    assert readers.entitlement_cell("服务期内 1 次") == (True, 1, "contract")
    assert readers.validity_rule("乱码") == {}
    assert readers.family_share("仅被保险人") is None
