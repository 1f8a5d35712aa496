"""Manual 003 (众安 增值服务介绍汇编): facts checked by reading the manual text.

Counts were taken from the text independently of the adapter (commands in the comments, F = the manual).
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import make_engine
from knowledge import models as m
from knowledge.ingest import build
from knowledge.ingest.adapters import zhongan_service_intros as za

MANUAL = Path(__file__).resolve().parents[1] / "knowledge/manuals/003_e8b033acd9a55b94.txt"
LINES = MANUAL.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def s(kb_only):
    with Session(kb_only("003")) as session:
        yield session


@pytest.fixture(scope="module")
def kb(kb_only):
    from knowledge.query import KnowledgeBase
    return KnowledgeBase(kb_only("003"))


def svc(s: Session, name: str) -> m.Service:
    return s.scalars(select(m.Service).where(m.Service.name == name)).one()


def list_of(s: Session, service: m.Service, kind: str) -> m.CoverageList:
    return s.scalars(select(m.CoverageList).join(m.ServiceCoverage, m.ServiceCoverage.list_id == m.CoverageList.id)
                     .where(m.ServiceCoverage.service_id == service.id, m.CoverageList.kind == kind)).one()


def test_services_found(s):
    # 17 introductions (grep -n '服务介绍$\|介绍$\|服务$' F, minus numbered sub-headings, plus the untitled
    # one at line 2794); 重疾住院护工服务 (3532) repeats 重大疾病住院护工服务 (3296) -> 16 services.
    names = set(s.scalars(select(m.Service.name)))
    assert len(names) == 16
    for n in ("重疾绿通", "医疗垫付", "质子重离子就医协助", "术后家庭护理", "众安互联网医院·视频问诊", "癌症早筛服务",
              "二次诊疗意见", "众安互联网医院·图文咨询", "重疾多学科会诊服务", "药惠购", "肿瘤特药", "罕见病特药",
              "海南博鳌国际特药", "重大疾病住院护工服务", "门诊挂号协助", "药费直赔"):
        assert n in names, n
    assert "重疾住院护工服务" not in names


def test_untitled_intro_named_from_its_text(s):
    # line 2794 is a bare "服务介绍" after the MDT appendix; the text says “药惠购”服务入口
    yhg = svc(s, "药惠购")
    assert yhg.line_start == 2794 and yhg.category == "drug_service"


def test_repeated_intro_stored_once(s):
    hg = svc(s, "重大疾病住院护工服务")
    assert "重疾住院护工服务" in hg.aliases and "护工" in hg.aliases
    rep = s.scalars(select(m.ServiceFact).where(m.ServiceFact.service_id == hg.id,
                                                m.ServiceFact.attribute == "repeated_section")).one()
    assert rep.line_start == 3532
    # the repeated FAQ (Q1-Q4 at 3369-3386 and again at 3605-3622) is stored once
    qs = s.scalars(select(m.Faq.question).where(m.Faq.service_id == hg.id)).all()
    assert len(qs) == len(set(qs)) == 4
    # the repeated 服务期限 section (3332 and 3568) is stored once
    p = s.scalars(select(m.Passage).where(m.Passage.service_id == hg.id, m.Passage.section.like("%服务期限%"))).all()
    assert [x.line_start for x in p] == [3332]
    # the repeated coverage appendix (3413 and 3649) is stored once
    assert list_of(s, hg, "city").line_start == 3417


def test_aliases_and_categories(s):
    assert "绿通" in svc(s, "重疾绿通").aliases
    assert "重大疾病绿色就医通道服务" in svc(s, "重疾绿通").aliases  # line 9: 我司提供重大疾病绿色就医通道服务
    assert "二诊" in svc(s, "二次诊疗意见").aliases
    assert "MDT" in svc(s, "重疾多学科会诊服务").aliases
    assert "视频问诊" in svc(s, "众安互联网医院·视频问诊").aliases
    assert svc(s, "重疾绿通").category == "green_channel"
    assert svc(s, "医疗垫付").category == "advance_payment"
    assert svc(s, "术后家庭护理").category == "home_nursing"
    assert svc(s, "门诊挂号协助").category == "outpatient_booking"
    assert svc(s, "药费直赔").category == "direct_billing"


def test_green_channel_rules(s):
    g = svc(s, "重疾绿通")
    assert (g.waiting_kind, g.waiting_waivers) == ("same_as_policy", ["renewal"])  # lines 15, 53
    assert g.beneficiary == "insured"  # line 17: 仅限客户（被保险人）本人使用
    assert g.diagnosis_kind == "suspected_or_confirmed" and g.diagnosis_hospital == "二级或二级以上公立医院"
    assert (g.usage_limit, g.usage_period) == (1, "policy_year")  # line 44
    assert g.usage_rule.get("cancel_after_confirm_counts") is True  # line 55
    assert "自行承担" in g.fees
    assert g.coverage_scope == "list"
    updated = s.scalars(select(m.ServiceFact).where(m.ServiceFact.service_id == g.id,
                                                    m.ServiceFact.attribute == "updated")).one()
    assert updated.value == "2022年5月" and updated.line_start == 5


def test_other_rules(s):
    adv = svc(s, "医疗垫付")
    assert adv.waiting_kind == "same_as_policy" and adv.waiting_waivers == ["accident"]  # 意外无等待期, line 1013
    assert adv.beneficiary is None  # the manual does not say
    assert adv.usage_rule["max_amount_yuan_per_stay"] == 100000  # line 1037: 以 10 万为限
    mdt = svc(s, "重疾多学科会诊服务")
    assert mdt.diagnosis_kind == "confirmed"  # line 2590: 确诊罹患 (no 疑似)
    assert (svc(s, "门诊挂号协助").usage_limit, svc(s, "门诊挂号协助").usage_period) == (3, "policy_year")
    assert svc(s, "众安互联网医院·视频问诊").usage_period == "unlimited"
    hg = svc(s, "重大疾病住院护工服务")
    assert hg.usage_rule["max_days"] == 30 and hg.usage_period == "policy_year"
    assert hg.lead_time_hours == 72  # line 3386: 建议…提前 72 小时申请服务
    assert svc(s, "海南博鳌国际特药").diagnosis_hospital == "海南博鳌超级医院"
    # 肿瘤特药: 一年限一次 for two items, 不限次 for the third -> no single service-level count
    tumour = svc(s, "肿瘤特药")
    assert tumour.usage_limit is None and "不限次" in tumour.usage_text
    assert tumour.usage_rule["cancel_notice_workdays"] == 3
    # age: only for the 防癌体检 part of 癌症早筛 -> a fact, not a service-wide minimum
    cs = svc(s, "癌症早筛服务")
    assert cs.age_min is None
    age = s.scalars(select(m.ServiceFact).where(m.ServiceFact.service_id == cs.id, m.ServiceFact.attribute == "age")).one()
    assert age.data == {"age_min": 18} and age.line_start == 1378


def test_both_readings_kept(s):
    # 二次诊疗意见: 1次/年 for each of 国内 and 国外 (lines 1603, 1604) and 一个保单年度内使用一次 overall (1610)
    so = svc(s, "二次诊疗意见")
    lines = sorted(s.scalars(select(m.ServiceFact.line_start).where(
        m.ServiceFact.service_id == so.id, m.ServiceFact.attribute == "usage_limit")))
    assert lines == [1603, 1604, 1610]
    # 术后家庭护理: 2 times (一般住院手术) and 6 times (重大疾病住院手术), same line 1117
    hn = svc(s, "术后家庭护理")
    times = sorted(f.data["times"] for f in s.scalars(select(m.ServiceFact).where(
        m.ServiceFact.service_id == hn.id, m.ServiceFact.attribute == "usage_limit")))
    assert times == [2, 6] and hn.usage_rule["times_options"] == [2, 6]
    # 视频问诊 service hours are written three times (7x24 at 1343, 7*24 at 1349 and 1356)
    vid = svc(s, "众安互联网医院·视频问诊")
    assert sorted(s.scalars(select(m.ServiceFact.line_start).where(
        m.ServiceFact.service_id == vid.id, m.ServiceFact.attribute == "service_hours"))) == [1343, 1349, 1356]


def test_hospital_lists(s):
    # rows: awk -F'\t' 'NR>=75&&NR<=1001&&NF==3&&$2!="省份"' F | wc -l -> 903 (same for 3813-4739; for
    # 1625-2553 with $2!="" also 903, one name there is split over lines 2410-2411).
    # 3 pairs "X" / "X(别名)" name the same hospital (南京市儿童医院, 连云港市第四人民医院, 复旦大学附属华东医院) -> 900.
    def rows(a, z):
        return sum(1 for ln in LINES[a - 1:z] if ln.count("\t") == 2 and ln.split("\t")[1] not in ("", "省份"))

    assert rows(75, 1001) == rows(1625, 2553) == rows(3813, 4739) == 903
    for name in ("重疾绿通", "二次诊疗意见", "门诊挂号协助"):
        hl = list_of(s, svc(s, name), "hospital")
        assert len(hl.hospitals) == 900, name
    joined = s.scalars(select(m.CoverageHospital.raw_name).where(m.CoverageHospital.line == 2409)).one()
    assert joined == "上海交通大学医学院附属第九人民医院黄浦分院特需部"
    # municipality rows write 市辖区 as the city; the hospital lands in the municipality
    xh = s.scalars(select(m.Hospital).where(m.Hospital.name == "北京协和医院")).one()
    assert xh.city_name == "北京市" and "协和医院" in xh.aliases
    assert "温医二院" in s.scalars(select(m.Hospital).where(m.Hospital.name == "温州医学院附属第二医院")).one().aliases
    # campus in brackets stays in the name
    assert s.scalar(select(func.count()).select_from(m.Hospital).where(m.Hospital.name == "北京积水潭医院（回龙观院区）")) == 1
    # 肿瘤特药 定点医院: 38 hospital rows (3162-3201, third column non-empty minus the header), grade carried
    t = list_of(s, svc(s, "肿瘤特药"), "hospital")
    assert len(t.hospitals) == 38 and all(h.hospital.grade == "三甲" for h in t.hospitals)
    # MDT team table: 22 distinct names in the first column; 北京同仁医院眼科会诊中心 (2661) is a centre of
    # 北京同仁医院 (2648), 北京天坛医院 / 北京佑安医院 are written with their clinic: 21 hospitals, as the
    # heading says (附件二 21 家医院及团队擅长清单, line 2631)
    mdt = list_of(s, svc(s, "重疾多学科会诊服务"), "hospital")
    assert "21 家医院" in LINES[2630] and len(mdt.hospitals) == 21
    tr = next(h for h in mdt.hospitals if h.raw_name == "北京同仁医院")
    assert "北京同仁医院眼科会诊中心" in tr.hospital.aliases and "角膜门诊会诊中心" in tr.note
    hx = next(h for h in mdt.hospitals if h.raw_name == "四川大学华西医院")
    assert "多学科联合癫痫" in hx.note  # written in the hospital column at line 2702 (column drift)


def _cities(cl: m.CoverageList) -> set[str]:
    return {c.raw_name for c in cl.cities}


def test_city_lists(s):
    # 医疗垫付: inline list at 1017 continued at 1019; "、"-separated items
    text = LINES[1016].split("包括：", 1)[1] + LINES[1018]
    raw = [x for x in text.split("、") if x.strip()]
    assert len(raw) == 83
    adv = list_of(s, svc(s, "医疗垫付"), "city")
    assert len(adv.cities) == 83 and {"亳州市", "曲靖市", "杭州市", "重庆市"} <= _cities(adv)
    assert "拉萨市" not in _cities(adv) and "三亚市" not in _cities(adv)
    # 术后家庭护理: 序号 1..241 in a two-up table (1212-1335)
    hn = list_of(s, svc(s, "术后家庭护理"), "city")
    assert len(hn.cities) == 241 and "恩施土家族苗族自治州" in _cities(hn) and "三亚市" in _cities(hn)
    assert "拉萨市" not in _cities(hn)
    # 护工: 序号 1..220, short names (北京, 合肥 ...)
    hg = list_of(s, svc(s, "重大疾病住院护工服务"), "city")
    assert len(hg.cities) == 220 and {"北京", "襄阳", "巴中"} <= _cities(hg)
    assert "三沙" not in _cities(hg) and "拉萨" not in _cities(hg)
    resolved = {c.city_name for c in hg.cities if c.city_name}
    assert "襄阳市" in resolved and "北京市" in resolved


def test_headerless_fragment_linked_as_incomplete(s, kb):
    # the √/× table at 1494-1578 lost its header and its first rows: linked to 癌症早筛 as an incomplete list
    frag = s.scalars(select(m.CoverageList).where(m.CoverageList.name.like("癌症早筛%"))).one()
    assert frag.line_start == 1494 and "南京市" in _cities(frag) and "江门市" in _cities(frag)
    # every row there has at least one √: awk 'NR>=1494&&NR<=1578&&/√/' F | wc -l -> 84
    assert len(frag.cities) == 84 and "北京市" not in _cities(frag)  # B.. rows are missing from the text
    assert frag.complete is False
    cs = svc(s, "癌症早筛服务")
    assert [c.list.name for c in cs.coverage] == [frag.name] and cs.coverage_scope == "list"
    # a listed city is covered on its row; a city missing from the fragment is unknown, never "not covered"
    for city, line in (("湖州", 1495), ("舟山", 1578), ("南京", LINES.index(next(x for x in LINES if x.startswith("南京市\t"))) + 1)):
        ans = kb.coverage(cs.id, city)
        assert ans.status == "covered" and [e.line_start for e in ans.evidence] == [line], city
    for city in ("北京", "上海", "广州"):
        ans = kb.coverage(cs.id, city)
        assert ans.status == "unknown" and "incomplete" in ans.reason, city


def test_mdt_institutions_all_located(kb):
    """Each of the 21 institutions lies in a city (the list gives none): 北京 14, 上海 6, 成都 1."""
    (mdt,) = [x for x in kb.services() if x.name == "重疾多学科会诊服务"]
    counts = {c: kb.coverage(mdt.id, c).hospitals_count for c in ("北京", "上海", "成都")}
    assert counts == {"北京": 14, "上海": 6, "成都": 1}
    assert sum(len(kb.hospitals(mdt.id, c)) for c in counts) == 21
    assert kb.coverage(mdt.id, "广州").status == "not_covered"  # every institution located: no "unknown"


def test_drugs_and_diseases(s):
    # 药惠购 drug table: 序号 1..559 two-up (2815-3103); duplicates (same name and 分类) stored once
    drugs = s.scalars(select(m.Drug).where(m.Drug.list_name.like("药惠购%"))).all()
    assert 380 < len(drugs) < 559
    aml = [d for d in drugs if d.name == "苯磺酸氨氯地平片"]
    assert len(aml) == 1 and aml[0].indication == "慢病用药"
    # 药费直赔 疾病清单: 序号 1..182 five-up, last row on the file's last line
    dl = s.scalars(select(m.DiseaseList)).one()
    assert len(dl.diseases) == 182 and dl.line_start == 4779
    assert {"手足口病", "甲沟炎", "膀胱炎"} <= {d.name for d in dl.diseases}
    assert svc(s, "药费直赔").diagnosis_list == dl.name


def test_faq_and_contacts(s):
    g = svc(s, "重疾绿通")
    qs = {f.question for f in s.scalars(select(m.Faq).where(m.Faq.service_id == g.id))}
    assert "什么是重疾绿通服务?" in qs and "如何申请重疾绿通服务?" in qs
    # 医疗垫付 材料 answer runs past the "您需提供以下材料：" label
    mat = s.scalars(select(m.Faq).where(m.Faq.question == "医疗垫付申请需要提供哪些材料?")).one()
    assert "被保险人银行卡" in mat.answer
    # Q&A items under 六、常见 Q&A with numbered questions and "- (n)" answers
    cs = svc(s, "癌症早筛服务")
    q = s.scalars(select(m.Faq).where(m.Faq.service_id == cs.id, m.Faq.question == "修改预约时间")).one()
    assert "400-6762-960" in q.answer
    phones = {c.value for c in s.scalars(select(m.Contact).where(m.Contact.kind == "phone"))}
    assert phones == {"10109955", "400-6762-960"}
    hours = s.scalars(select(m.Contact).where(m.Contact.kind == "hours")).one()
    assert hours.value == "每天 9:00-21:00"


def test_passages(s):
    ps = s.scalars(select(m.Passage)).all()
    assert all(p.line_start <= p.line_end and p.text.strip() for p in ps)
    for service in s.scalars(select(m.Service)):
        assert any(p.service_id == service.id for p in ps), service.name
    # every fact has a valid range too
    assert s.scalar(select(func.count()).select_from(m.ServiceFact).where(
        m.ServiceFact.line_start > m.ServiceFact.line_end)) == 0


def test_split_hospital_name():
    assert za.split_hospital_name("北京大学第三医院(北医三院)") == ("北京大学第三医院", ["北医三院"])
    assert za.split_hospital_name("榆林市第一医院(绥德)") == ("榆林市第一医院(绥德)", [])
    assert za.split_hospital_name("武汉市中心医院(后湖院区)")[1] == []
    assert za.split_hospital_name("") == ("", [])


def test_bad_input(tmp_path):
    """Empty and garbage manuals give a clear result (a warning), never a crash."""
    from knowledge.ingest.builder import Builder
    from knowledge.ingest.text import ManualText
    from core.db import Base

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    Base.metadata.create_all(engine)
    for lines in (["只有一行"], ["\t\t", "医院名称\t省份\t城市", "", "x"], ["垃圾服务介绍", "", "1. 什么是？"]):
        with Session(engine) as session:
            ins = m.Insurer(name=f"i{len(lines)}{lines[0]}", short_name="i", aliases=[])
            session.add(ins)
            session.flush()
            man = m.Manual(id=f"t{len(lines)}", filename="t.txt", title="t", insurer_id=ins.id, product_line="p",
                           layout="zhongan_service_intros", sha256="", line_count=len(lines))
            session.add(man)
            session.flush()
            b = Builder(session, man, ManualText("t", lines))
            za.ingest(b)
            assert session.scalar(select(func.count()).select_from(m.Passage)) >= 1
            session.rollback()


def test_build_time(tmp_path):
    t = time.perf_counter()
    build(make_engine(f"sqlite:///{tmp_path / 'kb.db'}"), only={"003"})
    assert time.perf_counter() - t < 5.0


def test_response_times_keep_their_number_and_item(s):
    """Table cells that start with their time (5个工作日内…, lines 28-31, 1603-1604, 3791) keep the number,
    and a numbered row's item names the fact: 二次诊疗 国内 5 vs 国外 15 working days (lines 1603/1604)."""
    cn = {"一": 1, "两": 2, "二": 2, "三": 3}
    rts = s.scalars(select(m.ServiceFact).where(m.ServiceFact.manual_id.like("003%"),
                                                m.ServiceFact.attribute == "response_time")).all()
    assert len(rts) >= 15
    for f in rts:
        amount = f.data["amount"]
        said = [int(x) for x in re.findall(r"\d+", f.value)] + \
            [v for k, v in cn.items() if f"{k}个工作日" in f.value]
        assert amount in said, (f.line_start, f.value)
        assert not f.value.startswith("个"), f.value
    second = {f.line_start: f for f in rts if f.service.name == "二次诊疗意见"}
    assert re.match(r"国内二次诊疗意见[:：]5个工作日内", second[1603].value) and second[1603].data["amount"] == 5
    assert re.match(r"国外二次诊疗意见[:：]15个工作日内", second[1604].value) and second[1604].data["amount"] == 15
    assert "国外二次诊疗意见" in LINES[1603] and "15个工作日内" in LINES[1603]
