"""太保互联网特定妇科癌症复发医疗保险 健康管理服务手册 (002, layout cpic_health_gyn).

Expected values were read off the manual text by hand; counts were made with shell
tools independently of the parser (commands in the comments).
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge import models as m
from knowledge.ingest.text import ManualText
from core.config import MANUALS_DIR

MID = "002_7863e0c3ac0521b1"


@pytest.fixture(scope="module")
def s(kb_only):
    with Session(kb_only("002")) as session:
        yield session


def svc(s, name) -> m.Service:
    return s.scalar(select(m.Service).where(m.Service.manual_id == MID, m.Service.name == name))


def facts(s, service, attribute):
    return [f for f in service.facts if f.attribute == attribute]


def test_all_eleven_services(s):
    # grep -nE '^[一二三四五六七八九十]+、' lines 64-389 -> 11 service headings
    names = s.scalars(select(m.Service.name).where(m.Service.manual_id == MID)).all()
    assert len(names) == 11
    for n in ("COC 肿瘤随访服务", "门诊绿通", "影像检查绿通", "住院/手术绿通", "专家线上/书面诊疗意见服务",
              "肿瘤多学科会诊(MDT)", "病理专家会诊", "就医陪诊", "复发术后康复服务", "肿瘤心理咨询", "复发肿瘤基因检测"):
        assert n in names, n


def test_categories_and_aliases(s):
    mdt = svc(s, "肿瘤多学科会诊(MDT)")
    assert mdt.category == "mdt" and "MDT" in mdt.aliases
    green = svc(s, "住院/手术绿通")
    assert green.category == "green_channel"
    assert {"住院绿通", "手术绿通", "住院/手术绿色通道"} <= set(green.aliases)
    # the summary table calls it 专家线上/书面诊疗意见 (no 服务)
    second = svc(s, "专家线上/书面诊疗意见服务")
    assert "专家线上/书面诊疗意见" in second.aliases and second.category == "second_opinion"
    assert svc(s, "就医陪诊").category == "escort"
    assert svc(s, "肿瘤心理咨询").category == "psychology"


def test_waiting_and_cooling_off(s):
    coc = svc(s, "COC 肿瘤随访服务")  # 简表: 15 天犹豫期后
    assert coc.waiting_kind == "after_cooling_off" and coc.cooling_off_days == 15 and coc.waiting_days is None
    for name in ("门诊绿通", "就医陪诊", "复发肿瘤基因检测"):  # 简表: 90 天等待期后
        x = svc(s, name)
        assert (x.waiting_kind, x.waiting_days) == ("days", 90), name
        assert any(f.line_start == f.line_end and f.data.get("waiting_days") == 90 for f in facts(s, x, "waiting_period"))


def test_usage_limits_and_beneficiary(s):
    assert (svc(s, "门诊绿通").usage_limit, svc(s, "门诊绿通").usage_period) == (3, "contract")
    assert svc(s, "就医陪诊").usage_limit == 4
    assert svc(s, "住院/手术绿通").usage_limit == 1
    coc = svc(s, "COC 肿瘤随访服务")
    assert coc.usage_limit is None and coc.usage_period == "unlimited"
    for x in s.scalars(select(m.Service).where(m.Service.manual_id == MID)):
        assert x.beneficiary == "insured" and x.beneficiary_text == "被保险人本人"
    # 心理咨询 content also serves family members: that reading is kept as a fact (line 342)
    psy = svc(s, "肿瘤心理咨询")
    fam = [f for f in facts(s, psy, "beneficiary") if (f.data or {}).get("beneficiary") == "insured_and_family"]
    assert fam and fam[0].line_start == 342


def test_summary_and_detail_disagree_both_kept(s):
    # 就医陪诊: 简表 (line 37) says 因特定妇科癌症就医, detail (line 292) says 确诊特定妇科癌症复发
    esc = svc(s, "就医陪诊")
    trig = {f.line_start: f.value for f in facts(s, esc, "trigger")}
    assert "因特定妇科癌症就医" in trig[37]
    assert "确诊特定妇科癌症复发" in trig[292]
    assert esc.diagnosis_kind == "confirmed"


def test_two_response_times_kept(s):
    mdt = svc(s, "肿瘤多学科会诊(MDT)")
    vals = [f.value for f in facts(s, mdt, "response_time")]
    assert any("7 个工作日内响应" in v for v in vals)
    assert any("1 个工作日内主动致电" in v for v in vals)
    coc = svc(s, "COC 肿瘤随访服务")
    assert "30 分钟内响应" in coc.response_time


def test_cancellation_rules(s):
    assert svc(s, "门诊绿通").usage_rule == {"cancel_notice_workdays": 1, "no_show_counts": True}
    assert svc(s, "住院/手术绿通").usage_rule["cancel_notice_workdays"] == 3
    gene = svc(s, "复发肿瘤基因检测")  # item split over lines 381-383
    f = facts(s, gene, "cancellation")[0]
    assert (f.line_start, f.line_end) == (381, 383) and gene.usage_rule.get("sampled_counts") is True
    assert "自理" in svc(s, "病理专家会诊").fees


def test_hospital_list(s):
    # sed -n 420,528p | grep -c $'\t' -> 107 rows; | cut -f3 | sort -u | wc -l -> 106 (青岛大学附属医院 twice)
    hl = s.scalar(select(m.CoverageList).where(m.CoverageList.manual_id == MID, m.CoverageList.kind == "hospital"))
    assert hl.name == "绿通覆盖医院列表" and len(hl.hospitals) == 106
    linked = {link.service.name for link in s.scalars(select(m.ServiceCoverage).where(m.ServiceCoverage.list_id == hl.id))}
    assert linked == {"门诊绿通", "影像检查绿通", "住院/手术绿通"}
    h301 = next(ch for ch in hl.hospitals if ch.raw_name == "中国人民解放军总医院")
    assert "301医院" in h301.hospital.aliases and h301.hospital.city_name == "北京市"
    # cut -f2 | sort -u | wc -l -> 59 cities in the hospital table; each hospital row is located in its city
    assert len({ch.hospital.city_code for ch in hl.hospitals}) == 59 and all(ch.hospital.city_code for ch in hl.hospitals)
    # the hospital list is the green channels' only list (a derived city list linked as well doubled the counts)
    for name in ("门诊绿通", "影像检查绿通", "住院/手术绿通"):
        assert [c.list.name for c in svc(s, name).coverage] == ["绿通覆盖医院列表"], name


def test_green_channel_counts_per_city(kb_only):
    """hospitals_count is the number of hospitals the table lists in the city, for all 59 cities.

    Counted from the text alone: rows 'province<TAB>city<TAB>hospital' of lines 420-528, distinct
    hospital cells per city (北京 6, 上海 5; was twice that)."""
    from knowledge.query import KnowledgeBase
    kb = KnowledgeBase(kb_only("002"))
    lines = (MANUALS_DIR / f"{MID}.txt").read_text(encoding="utf-8").splitlines()
    per_city: dict[str, set[str]] = {}
    for s in lines[419:528]:
        cells = s.split("\t")
        if len(cells) == 3 and all(c.strip() for c in cells):
            per_city.setdefault(cells[1].strip(), set()).add(cells[2].strip())
    assert len(per_city) == 59 and len(per_city["北京市"]) == 6 and len(per_city["上海市"]) == 5
    for name in ("门诊绿通", "影像检查绿通", "住院/手术绿通"):
        (sv,) = [x for x in kb.services() if x.name == name]
        for city, hospitals in per_city.items():
            ans = kb.coverage(sv.id, city)
            assert (ans.status, ans.hospitals_count) == ("covered", len(hospitals)), (name, city)
            assert len(kb.hospitals(sv.id, city)) == len(hospitals), (name, city)


def test_escort_city_list(s):
    # sed -n 535,751p | tr '\t' '\n' | grep -v '^$' | wc -l -> 444 cells, of which 29 are province headers
    cl = s.scalar(select(m.CoverageList).where(m.CoverageList.manual_id == MID, m.CoverageList.name == "就医陪诊覆盖城市列表"))
    # one of the 415 cells is the 直辖县 group label in the 海南 group (line 718): not a city
    assert len(cl.cities) == 414 and all(c.city_code for c in cl.cities)
    raw = {c.raw_name for c in cl.cities}
    assert {"乐山市", "亳州市", "东营市", "襄樊市", "邓煌市", "拉萨市", "西宁市", "凉山彝族自治州"} <= raw
    assert "四川" not in raw and "山东" not in raw  # province headers are not cities
    names = {c.city_name for c in cl.cities if c.city_name}
    assert {"成都市", "上海市", "西安市", "昆明市"} <= names
    assert "唐山市" in names and "保定市" in names
    assert not ({"拉萨市", "西宁市"} - names)
    # not covered: the 青海 group (lines 745-751) has no 果洛, the 新疆 group no 和田
    assert "果洛藏族自治州" not in names and "和田地区" not in names
    # drifted province header (line 557: '\t\t山东\t\t东营市') still attributes 东营 to 山东
    dy = next(c for c in cl.cities if c.raw_name == "东营市")
    assert dy.province == "山东省"
    esc = svc(s, "就医陪诊")
    assert esc.coverage_scope == "list" and [c.list.name for c in esc.coverage] == ["就医陪诊覆盖城市列表"]


def test_mdt_inline_region(s):
    mdt = svc(s, "肿瘤多学科会诊(MDT)")
    lists = [c.list for c in mdt.coverage]
    assert len(lists) == 1 and {c.raw_name for c in lists[0].cities} == {"北京", "上海", "广州"}
    assert lists[0].line_start == 239
    # online services with no region stay unspecified
    assert svc(s, "COC 肿瘤随访服务").coverage_scope == "unspecified"


def test_passages_and_contacts(s):
    text = ManualText.load(MANUALS_DIR / f"{MID}.txt")
    ps = s.scalars(select(m.Passage).where(m.Passage.manual_id == MID)).all()
    assert all(p.line_start <= p.line_end and p.text.strip() for p in ps)
    for p in ps:
        assert p.text.strip() == text.span(p.line_start, p.line_end).strip() or p.section.startswith("健康管理服务简表 >")
    for x in s.scalars(select(m.Service).where(m.Service.manual_id == MID)):
        assert s.scalar(select(func.count()).select_from(m.Passage).where(m.Passage.service_id == x.id)) >= 1, x.name
    assert any(p.section.startswith("第三章 附件 > 附表 2") for p in ps)
    c = s.scalars(select(m.Contact).where(m.Contact.manual_id == MID)).all()
    assert [(x.kind, x.value) for x in c] == [("wechat", "太平洋健康险")]


def test_every_fact_has_lines_in_range(s):
    n = len(ManualText.load(MANUALS_DIR / f"{MID}.txt"))
    fs = s.scalars(select(m.ServiceFact).where(m.ServiceFact.manual_id == MID)).all()
    assert len(fs) > 100
    assert all(1 <= f.line_start <= f.line_end <= n and f.value for f in fs)


@pytest.mark.parametrize("lines", [[], [""], ["garbage"] * 5, ["第一章 服务概要", "一、X", "3、服务说明", "(1) 使用次数：",
                                                               "第三章 附件", "附表 2：y", "省份\t城市\t省份\t城市", "\t\t\t"]])
def test_adapters_survive_bad_text(lines):
    from core.db import Base, make_engine
    from knowledge.ingest.adapters import cpic_health_gyn, zhongan_highend
    from knowledge.ingest.builder import Builder

    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    for mod in (cpic_health_gyn, zhongan_highend):
        with Session(engine) as s:
            ins = m.Insurer(name="x", short_name="x", aliases=[])
            s.add(ins)
            s.flush()
            man = m.Manual(id="t", filename="t.txt", title="t", insurer_id=ins.id, product_line="p", layout="l",
                           sha256="0", line_count=len(lines))
            s.add(man)
            s.flush()
            b = Builder(s, man, ManualText("t", lines))
            mod.ingest(b)  # no exception
            assert s.scalar(select(func.count()).select_from(m.Service)) <= 1
            s.rollback()


def test_escort_not_covered_in_sansha(kb_only):
    """三沙 is not in the escort table; with the 直辖县 label skipped nothing unresolved hides it."""
    from knowledge.query import KnowledgeBase
    kb = KnowledgeBase(kb_only("002"))
    (esc,) = [x for x in kb.services() if x.name == "就医陪诊"]
    assert kb.coverage(esc.id, "三沙").status == "not_covered"
    assert kb.coverage(esc.id, "果洛").status == "not_covered"
